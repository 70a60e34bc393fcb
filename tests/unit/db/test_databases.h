// The databases the repository tests run on: SQLite (in memory) always, and PostgreSQL when
// $SCORIA_TEST_POSTGRES names a server ("postgresql://postgres@127.0.0.1:PORT/postgres";
// `make test` starts one with tests/support/pg_server.py and sets it). Each PostgreSQL test gets
// a database of its own, created here and left to the throw-away server.
#pragma once

#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "db/database.h"

namespace scoria::db::testing {

inline const char* PostgresServer() {
  const char* url = std::getenv("SCORIA_TEST_POSTGRES");
  return url && *url ? url : nullptr;
}

inline std::vector<std::string> TestDatabaseKinds() {
  std::vector<std::string> kinds = {"sqlite"};
  if (PostgresServer()) kinds.push_back("postgresql");
  return kinds;
}

// Runs one statement outside any transaction (CREATE DATABASE refuses to run in one).
inline bool PostgresAdmin(const std::string& sql, std::string* error) {
  PGconn* c = PQconnectdb(PostgresServer());
  bool ok = PQstatus(c) == CONNECTION_OK;
  if (ok) {
    PGresult* r = PQexec(c, sql.c_str());
    ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok && error) *error = PQresultErrorMessage(r);
    PQclear(r);
  } else if (error) {
    *error = PQerrorMessage(c);
  }
  PQfinish(c);
  return ok;
}

// A URL of a new, empty database on the test server.
inline std::string FreshPostgresUrl() {
  static std::atomic<int> counter{0};
  std::string name = "scoria_unit_" + std::to_string(getpid()) + "_" + std::to_string(++counter);
  std::string error;
  EXPECT_TRUE(PostgresAdmin("CREATE DATABASE " + name, &error)) << error;
  std::string server = PostgresServer();
  size_t slash = server.find('/', server.find("://") + 3);
  return server.substr(0, slash) + "/" + name;
}

// A fresh, migrated database of `kind`.
inline std::unique_ptr<Database> OpenTestDatabase(const std::string& kind) {
  auto db = OpenDatabase(kind == "postgresql" ? FreshPostgresUrl() : "sqlite://");
  EXPECT_TRUE(db.ok()) << db.status().ToString();
  if (!db.ok()) return nullptr;
  Status st = (*db)->Migrate();
  EXPECT_TRUE(st.ok()) << st.ToString();
  return std::move(*db);
}

inline std::string KindName(const ::testing::TestParamInfo<std::string>& info) {
  return info.param;
}

}  // namespace scoria::db::testing

// Runs a value-parameterised suite on every available database.
#define SCORIA_ON_EVERY_DATABASE(Suite)                                                       \
  INSTANTIATE_TEST_SUITE_P(Databases, Suite,                                                  \
                           ::testing::ValuesIn(::scoria::db::testing::TestDatabaseKinds()), \
                           ::scoria::db::testing::KindName)
