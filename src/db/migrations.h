// The schema, as a list of migrations with unique versions. Migrate() applies, in version
// order, every migration a database has not recorded (so an entry added to the list in any
// order still runs). Migrations are append-only: a released migration is never edited, a
// change is a new one.
// The SQL is the common subset of SQLite and PostgreSQL (TEXT/BIGINT/DOUBLE PRECISION; times
// are BIGINT microseconds since the epoch, UTC).
#pragma once

#include <string>
#include <vector>

namespace scoria::db {

struct Migration {
  int version;
  std::string description;
  std::vector<std::string> statements;
};

const std::vector<Migration>& Migrations();

}  // namespace scoria::db
