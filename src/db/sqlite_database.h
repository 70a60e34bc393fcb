// SQLite implementation of Database: the embedded, zero-set-up default.
//
// WAL mode with synchronous=FULL: a committed transaction survives a process kill and a power
// cut. A small pool of connections serves concurrent readers (WAL lets them read while one
// writer writes); writers take BEGIN IMMEDIATE and wait up to busy_timeout for each other.
// Checkpoints run on a background thread, never inside a commit.
// Task wake-ups are in-process (a condition variable): with SQLite every service runs in the
// one process that owns the file.
#pragma once

#include <memory>
#include <string>

#include "db/database.h"

namespace scoria::db {

// path: a file path, or ":memory:" (a shared in-memory database, tests only).
Result<std::unique_ptr<Database>> OpenSqlite(const std::string& path);

}  // namespace scoria::db
