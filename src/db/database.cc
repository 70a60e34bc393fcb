#include "db/database.h"

#include <thread>

#include "db/postgres_database.h"
#include "db/sqlite_database.h"

namespace scoria::db {

int64_t Row::Int(size_t i) const {
  if (source_) return source_->Int(row_, i);
  const Value& v = cols_.at(i);
  if (auto* n = std::get_if<int64_t>(&v)) return *n;
  if (auto* d = std::get_if<double>(&v)) return static_cast<int64_t>(*d);
  if (auto* s = std::get_if<std::string>(&v)) return std::strtoll(s->c_str(), nullptr, 10);
  return 0;
}

double Row::Real(size_t i) const {
  if (source_) return source_->Real(row_, i);
  const Value& v = cols_.at(i);
  if (auto* d = std::get_if<double>(&v)) return *d;
  if (auto* n = std::get_if<int64_t>(&v)) return static_cast<double>(*n);
  if (auto* s = std::get_if<std::string>(&v)) return std::strtod(s->c_str(), nullptr);
  return 0;
}

std::string Row::Str(size_t i) const {
  if (source_) return source_->Str(row_, i);
  const Value& v = cols_.at(i);
  if (auto* s = std::get_if<std::string>(&v)) return *s;
  if (auto* n = std::get_if<int64_t>(&v)) return std::to_string(*n);
  if (auto* d = std::get_if<double>(&v)) return std::to_string(*d);
  return "";
}

std::optional<std::string> Row::OptStr(size_t i) const {
  if (IsNull(i)) return std::nullopt;
  return Str(i);
}

std::optional<int64_t> Row::OptInt(size_t i) const {
  if (IsNull(i)) return std::nullopt;
  return Int(i);
}

Result<std::vector<std::vector<Row>>> Transaction::QueryAll(const std::vector<Statement>& stmts) {
  std::vector<std::vector<Row>> out;
  out.reserve(stmts.size());
  for (const Statement& st : stmts) {
    ASSIGN_OR_RETURN(auto rows, Query(st.sql, st.params));
    out.push_back(std::move(rows));
  }
  return out;
}

Result<std::unique_ptr<Database>> OpenDatabase(const std::string& connection) {
  // SQLAlchemy spelling: sqlite:////abs/path (three slashes, then the absolute path).
  if (connection == "sqlite://") return OpenSqlite(":memory:");
  const std::string kSqlite = "sqlite:///";
  if (connection.rfind(kSqlite, 0) == 0) {
    std::string path = connection.substr(kSqlite.size());
    if (path.empty() || path[0] != '/') {
      return InvalidArgument("sqlite path must be absolute (sqlite:////abs/path): " + connection);
    }
    return OpenSqlite(path);
  }
  if (connection.rfind("postgresql://", 0) == 0 || connection.rfind("postgresql+", 0) == 0) {
    return OpenPostgres(connection);
  }
  return InvalidArgument("unknown database connection scheme: " + connection);
}

namespace {

Status InTransaction(Database& db, bool write, const std::function<Status(Transaction&)>& fn,
                     Durability d = Durability::kDurable,
                     WriteScope scope = WriteScope::kAllWriters) {
  constexpr int kAttempts = 5;
  Status last;
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    auto tx = db.Begin(write, d, scope);
    if (!tx.ok()) {
      last = tx.status();
    } else {
      Status st = fn(**tx);
      if (st.ok()) st = (*tx)->Commit();
      if (st.ok() || st.code() != StatusCode::kUnavailable) return st;
      last = st;
    }
    if (last.code() != StatusCode::kUnavailable) return last;
    std::this_thread::sleep_for(std::chrono::milliseconds(20 << attempt));
  }
  return last;
}

}  // namespace

Status InWriteTransaction(Database& db, const std::function<Status(Transaction&)>& fn,
                          Durability d, WriteScope scope) {
  return InTransaction(db, true, fn, d, scope);
}

Status InReadTransaction(Database& db, const std::function<Status(Transaction&)>& fn) {
  return InTransaction(db, false, fn);
}

}  // namespace scoria::db
