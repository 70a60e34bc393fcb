// PostgreSQL implementation of Database (libpq): the cluster database, shared by every
// scoriad on every host (DESIGN.md "Services").
//
// Model: a pool of connections, each used by one transaction at a time. The repositories' SQL
// (`?` placeholders, the subset both databases accept) is rewritten to `$n` and sent with
// PQexecParams, parameters as text. Write transactions take a cluster-wide advisory lock held
// to commit (WriteScope::kAllWriters), so writers are serialised exactly as on SQLite and the
// repositories' read-then-write logic needs no second version; task claims
// (WriteScope::kRowsItLocks) skip that lock and rely on `FOR UPDATE SKIP LOCKED`, so claims
// on many hosts run at once. Read transactions are REPEATABLE READ: one snapshot.
//
// Wake-ups: a commit that enqueued tasks sends `NOTIFY scoria_tasks, '<token> <targets>'` in
// the same round trip as its COMMIT (NotifyTasks() sends one on its own); a listener thread per
// process holds a connection that LISTENs and advances TaskSequence() of the named targets on
// every notification from another handle, and everyone's once after each reconnect
// (notifications sent while it was away are lost, so workers look again).
//
// Failures: a lost server makes calls fail with Unavailable (the api answers 503); each pooled
// connection is reset when next used, so service resumes by itself when the server returns.
// Serialisation failures and deadlocks are Unavailable too (InWriteTransaction retries them);
// constraint violations are Conflict; a full disk is ResourceExhausted.
#pragma once

#include <memory>
#include <string>

#include "db/database.h"

namespace scoria::db {

// url: "postgresql://user:password@host:port/dbname" (or "postgresql+driver://..."). Connects
// once to check the server is reachable: Unavailable (naming host and port, never the
// password) when it is not.
Result<std::unique_ptr<Database>> OpenPostgres(const std::string& url);

}  // namespace scoria::db
