// The schema, as an ordered list of migrations. Version N is the state after migration N.
// Migrations are append-only: a released migration is never edited, a change is a new one.
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
