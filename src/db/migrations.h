// The schema, as a list of migrations with unique versions. Migrate() applies, in version
// order, every migration a database has not recorded (so an entry added to the list in any
// order still runs). Migrations are append-only: a released migration is never edited, a
// change is a new one.
// The SQL is the common subset of SQLite and PostgreSQL (TEXT/BIGINT/DOUBLE PRECISION; times
// are BIGINT microseconds since the epoch, UTC).
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "db/database.h"

namespace scoria::db {

struct Migration {
  int version;
  std::string description;
  std::vector<std::string> statements;
};

const std::vector<Migration>& Migrations();

// Applies, inside `tx` (a write transaction the caller commits), every migration the database
// has not recorded in its schema_version table, creating that table first. `ddl` rewrites a
// statement for the database's dialect (identity for SQLite). FailedPrecondition when the
// database records a version newer than this build knows: an older scoriad refuses a newer
// schema rather than run on it.
Status ApplyMigrations(Transaction& tx,
                       const std::function<std::string(const std::string&)>& ddl);
// The newest applied version; 0 for an empty database.
Result<int> ReadSchemaVersion(Transaction& tx);

}  // namespace scoria::db
