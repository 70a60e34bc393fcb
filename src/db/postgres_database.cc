#include "db/postgres_database.h"

#include <libpq-events.h>
#include <libpq-fe.h>
#include <poll.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <charconv>
#include <stdexcept>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <span>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/config.h"
#include "common/ids.h"
#include "db/migrations.h"
#include "db/task_signal.h"

namespace scoria::db {
namespace {

constexpr size_t kMaxConnections = 16;
// The advisory lock every kAllWriters transaction holds to commit: one number for the whole
// cluster ("SCORIA" on a phone keypad).
constexpr const char* kWriteLockSql = "SELECT pg_advisory_xact_lock(726742)";
constexpr const char* kChannel = "scoria_tasks";
// libpq parameters added to the configured URL unless it sets them itself. A server that
// stops answering without closing the connection (a network partition, a host that lost power)
// must cost seconds, not the kernel's TCP timeouts (15 minutes of retransmissions):
// - connect_timeout: a new connection to an unreachable host;
// - tcp_user_timeout (ms): a request sent on an open connection that the server never
//   acknowledges (a query's run time does not count: the server's kernel acknowledges it);
// - keepalives: an idle connection (the pool's, the LISTEN one) whose server is gone.
constexpr std::pair<const char*, const char*> kConnectionDefaults[] = {
    {"connect_timeout", "5"},      {"tcp_user_timeout", "10000"}, {"keepalives", "1"},
    {"keepalives_idle", "10"},     {"keepalives_interval", "3"},  {"keepalives_count", "3"},
};

// Builds a libpq connection URI from the configured URL: the SQLAlchemy driver suffix
// ("postgresql+psycopg2://") is dropped, and kConnectionDefaults are added.
std::string ConnInfo(const std::string& url) {
  std::string u = url;
  if (u.rfind("postgresql+", 0) == 0) {
    size_t scheme_end = u.find("://");
    if (scheme_end != std::string::npos) u = "postgresql" + u.substr(scheme_end);
  }
  for (const auto& [key, value] : kConnectionDefaults) {
    if (u.find(std::string(key) + "=") != std::string::npos) continue;
    u += u.find('?') == std::string::npos ? '?' : '&';
    u += std::string(key) + "=" + value;
  }
  return u;
}

// `?` -> `$1`, `$2`, ... outside quoted literals and identifiers.
std::string NumberPlaceholders(std::string_view sql) {
  std::string out;
  out.reserve(sql.size() + 16);
  int n = 0;
  char quote = 0;
  for (char c : sql) {
    if (quote) {
      if (c == quote) quote = 0;
      out.push_back(c);
    } else if (c == '\'' || c == '"') {
      quote = c;
      out.push_back(c);
    } else if (c == '?') {
      out += "$" + std::to_string(++n);
    } else {
      out.push_back(c);
    }
  }
  return out;
}

// The one DDL difference in the migrations: SQLite's rowid alias becomes a bigserial.
std::string PostgresDdl(const std::string& stmt) {
  std::string s = stmt;
  const std::string kAuto = "INTEGER PRIMARY KEY AUTOINCREMENT";
  for (size_t p = s.find(kAuto); p != std::string::npos; p = s.find(kAuto, p)) {
    s.replace(p, kAuto.size(), "BIGSERIAL PRIMARY KEY");
  }
  return s;
}

// libpq's messages span lines ("...failed: Connection refused\n\tIs the server running...");
// Scoria's errors are one line each.
std::string OneLine(const char* msg) {
  std::string s;
  for (const char* p = msg ? msg : ""; *p; ++p) {
    const bool blank = *p == '\n' || *p == '\t' || *p == ' ';
    if (!blank) {
      s.push_back(*p);
    } else if (!s.empty() && s.back() != ' ') {
      s.push_back(' ');
    }
  }
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

// Maps a failed result (or a lost connection) to Scoria's status codes by SQLSTATE class.
Status PgError(PGconn* conn, const PGresult* res, std::string_view what) {
  std::string msg = std::string(what) + ": " +
                    OneLine(res ? PQresultErrorMessage(res) : PQerrorMessage(conn));
  if (PQstatus(conn) == CONNECTION_BAD) return Unavailable("database unavailable: " + msg);
  const char* state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
  std::string code = state ? state : "";
  if (code.rfind("08", 0) == 0 || code.rfind("57P", 0) == 0 || code == "40001" ||
      code == "40P01" || code == "55P03" || code == "53300") {
    return Unavailable("database unavailable: " + msg);
  }
  if (code.rfind("23", 0) == 0) return Conflict("constraint violated: " + msg);
  if (code == "53100") return ResourceExhausted("database disk full: " + msg);
  return Internal("postgresql: " + msg);
}

using ResultPtr = std::unique_ptr<PGresult, decltype(&PQclear)>;

// The targets named in a NOTIFY payload after its token (`space` is where the token ends):
// none (wake everyone) when there are none, or from a scoriad that sends only its token.
std::vector<std::string> TargetsOf(std::string_view payload, size_t space) {
  std::vector<std::string> out;
  if (space == std::string_view::npos) return out;
  std::string_view rest = payload.substr(space + 1);
  while (!rest.empty()) {
    const size_t comma = rest.find(',');
    if (comma != 0) out.emplace_back(rest.substr(0, comma));
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return out;
}

// Runs parameter-free SQL (transaction control, LISTEN, NOTIFY).
Status Simple(PGconn* c, const char* sql) {
  ResultPtr r(PQexec(c, sql), &PQclear);
  ExecStatusType s = r ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
  if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK) return PgError(c, r.get(), sql);
  return Status::Ok();
}

// A PGresult read in place (CellSource, database.h). Column kinds by type: integers (and
// booleans, as 0/1) read as int64, floating and numeric (SUM over BIGINT is numeric) as double,
// everything else as text; each converts as a Value of that kind would in Row.
class PgCells : public CellSource {
 public:
  explicit PgCells(PGresult* r) : r_(r), kinds_(PQnfields(r)) {
    for (size_t c = 0; c < kinds_.size(); ++c) {
      switch (PQftype(r, static_cast<int>(c))) {
        case 20: case 21: case 23: case 26:  // int8, int2, int4, oid
          kinds_[c] = Kind::kInt;
          break;
        case 16:  // bool
          kinds_[c] = Kind::kBool;
          break;
        case 700: case 701: case 1700:  // float4, float8, numeric
          kinds_[c] = Kind::kReal;
          break;
        default:
          kinds_[c] = Kind::kText;
      }
    }
  }
  ~PgCells() override { PQclear(r_); }
  PgCells(const PgCells&) = delete;
  PgCells& operator=(const PgCells&) = delete;

  size_t Columns() const override { return kinds_.size(); }
  bool IsNull(int row, size_t col) const override {
    return PQgetisnull(r_, row, Checked(col)) != 0;
  }
  int64_t Int(int row, size_t col) const override {
    const int c = Checked(col);
    if (PQgetisnull(r_, row, c)) return 0;
    const char* v = PQgetvalue(r_, row, c);
    switch (kinds_[col]) {
      case Kind::kBool:
        return v[0] == 't';
      case Kind::kReal:
        return static_cast<int64_t>(std::strtod(v, nullptr));
      case Kind::kInt: {
        int64_t n = 0;
        std::from_chars(v, v + PQgetlength(r_, row, c), n);
        return n;
      }
      case Kind::kText:
        break;
    }
    return std::strtoll(v, nullptr, 10);
  }
  double Real(int row, size_t col) const override {
    const int c = Checked(col);
    if (PQgetisnull(r_, row, c)) return 0;
    if (kinds_[col] == Kind::kBool || kinds_[col] == Kind::kInt) {
      return static_cast<double>(Int(row, col));
    }
    return std::strtod(PQgetvalue(r_, row, c), nullptr);
  }
  std::string Str(int row, size_t col) const override {
    const int c = Checked(col);
    if (PQgetisnull(r_, row, c)) return "";
    switch (kinds_[col]) {
      case Kind::kBool:
        return Int(row, col) ? "1" : "0";
      case Kind::kReal:
        return std::to_string(Real(row, col));
      case Kind::kInt:  // PostgreSQL writes integers as std::to_string does
      case Kind::kText:
        break;
    }
    return std::string(PQgetvalue(r_, row, c), PQgetlength(r_, row, c));
  }

 private:
  enum class Kind : uint8_t { kInt, kBool, kReal, kText };
  int Checked(size_t col) const {
    if (col >= kinds_.size()) throw std::out_of_range("column " + std::to_string(col));
    return static_cast<int>(col);
  }
  PGresult* const r_;
  std::vector<Kind> kinds_;
};

// The statements a connection has prepared, SQL text -> statement name: a repository's
// statement is parsed and planned by the server once per connection, not on every call (on
// this kind of machine parse + plan cost more than running most of them). Attached to the
// PGconn as libpq instance data, so it is freed with the connection (PGEVT_CONNDESTROY) and a
// new connection starts empty. Capped: SQL built with a variable number of placeholders (IN
// lists) would otherwise grow it without end; past the cap statements run unprepared.
struct PreparedStatements {
  static constexpr size_t kMax = 256;
  std::unordered_map<std::string, std::string> names;
  // A read transaction's COMMIT was sent and its answer not read yet (DrainCommit).
  bool commit_unread = false;

  static int Events(PGEventId event, void* info, void*) {
    if (event == PGEVT_CONNDESTROY) {
      PGconn* conn = static_cast<PGEventConnDestroy*>(info)->conn;
      delete static_cast<PreparedStatements*>(PQinstanceData(conn, &Events));
    }
    return 1;
  }
  static void AttachTo(PGconn* conn) {
    if (PQregisterEventProc(conn, &Events, "scoria-prepared", nullptr)) {
      PQsetInstanceData(conn, &Events, new PreparedStatements);
    }
  }
  static PreparedStatements* Of(PGconn* conn) {
    return static_cast<PreparedStatements*>(PQinstanceData(conn, &Events));
  }
};

class PostgresDatabase;

// BEGIN (and the statements that go with it) is not sent on its own: it waits for the
// transaction's first statement and goes in the same pipeline (libpq's pipeline mode, one round
// trip for both). A transaction that runs no statement costs no round trip at all.
class PostgresTransaction : public Transaction {
 public:
  PostgresTransaction(PostgresDatabase* db, PGconn* conn, bool write,
                      std::vector<const char*> begin)
      : db_(db), conn_(conn), write_(write), begin_(std::move(begin)) {}
  ~PostgresTransaction() override;
  Dialect dialect() const override { return Dialect::kPostgres; }

  Result<int64_t> Exec(std::string_view sql, const std::vector<Value>& params) override {
    ASSIGN_OR_RETURN(ResultPtr r, Run(sql, params));
    const char* n = PQcmdTuples(r.get());
    return static_cast<int64_t>(n && *n ? std::strtoll(n, nullptr, 10) : 0);
  }

  Result<std::vector<Row>> Query(std::string_view sql, const std::vector<Value>& params) override {
    ASSIGN_OR_RETURN(ResultPtr r, Run(sql, params));
    return Rows(std::move(r));
  }

  // All of them in one pipeline: one round trip.
  Result<std::vector<std::vector<Row>>> QueryAll(const std::vector<Statement>& stmts) override {
    RETURN_IF_ERROR(Usable());
    std::vector<Bound> bound;
    bound.reserve(stmts.size());
    for (const Statement& st : stmts) bound.push_back(Bind(st.sql, st.params));
    ASSIGN_OR_RETURN(std::vector<ResultPtr> results, Pipeline(bound));
    std::vector<std::vector<Row>> out;
    out.reserve(results.size());
    for (ResultPtr& r : results) out.push_back(Rows(std::move(r)));
    return out;
  }

  Status Commit() override;

 private:
  // A statement ready to send: `?` numbered as `$n`, parameters as text (null: SQL NULL).
  // Text parameters point into the caller's values, which outlive the statement's sending;
  // only numbers are formatted into `numbers`.
  struct Bound {
    std::string sql;
    std::vector<const char*> values;
    std::vector<std::string> numbers;
    const std::vector<const char*>& Values() const { return values; }
    int count() const { return static_cast<int>(values.size()); }
  };

  static Bound Bind(std::string_view sql, const std::vector<Value>& params) {
    Bound b{NumberPlaceholders(sql), std::vector<const char*>(params.size(), nullptr), {}};
    size_t numbers = 0;
    for (const Value& v : params) {
      numbers += std::holds_alternative<int64_t>(v) || std::holds_alternative<double>(v);
    }
    b.numbers.reserve(numbers);  // no reallocation: values point into these strings
    for (size_t i = 0; i < params.size(); ++i) {
      const Value& v = params[i];
      if (std::holds_alternative<std::nullptr_t>(v)) continue;  // SQL NULL
      if (auto* n = std::get_if<int64_t>(&v)) {
        b.values[i] = b.numbers.emplace_back(std::to_string(*n)).c_str();
      } else if (auto* d = std::get_if<double>(&v)) {
        char buf[32];
        std::snprintf(buf, sizeof(buf), "%.17g", *d);
        b.values[i] = b.numbers.emplace_back(buf).c_str();
      } else {
        b.values[i] = std::get<std::string>(v).c_str();
      }
    }
    return b;
  }

  static std::vector<Row> Rows(ResultPtr r) {
    const int rows = PQntuples(r.get());
    auto cells = std::make_shared<const PgCells>(r.release());
    std::vector<Row> out;
    out.reserve(rows);
    for (int i = 0; i < rows; ++i) out.emplace_back(cells, i);
    return out;
  }

  Status Usable() const {
    if (done_) return Internal("statement on a finished transaction");
    if (conn_ == nullptr) return Unavailable("database unavailable: the connection was lost");
    return Status::Ok();
  }

  Result<ResultPtr> Run(std::string_view sql, const std::vector<Value>& params) {
    RETURN_IF_ERROR(Usable());
    Bound b = Bind(sql, params);
    if (!begin_.empty()) {
      ASSIGN_OR_RETURN(std::vector<ResultPtr> results, Pipeline(std::span<const Bound>(&b, 1)));
      return std::move(results[0]);
    }
    ASSIGN_OR_RETURN(const std::string* name, Prepared(b.sql, b.count()));
    const std::vector<const char*>& values = b.Values();
    ResultPtr r(name ? PQexecPrepared(conn_, name->c_str(), b.count(), values.data(), nullptr,
                                      nullptr, 0)
                     : PQexecParams(conn_, b.sql.c_str(), b.count(), nullptr, values.data(),
                                    nullptr, nullptr, 0),
                &PQclear);
    ExecStatusType s = r ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
    if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK) {
      // The transaction is aborted on the server: further statements would fail anyway, and
      // the destructor rolls it back.
      return PgError(conn_, r.get(), b.sql.substr(0, 120));
    }
    return r;
  }

  // Sends the pending BEGIN statements, then each statement (with its PREPARE when it is new
  // on this connection), as one pipeline: one round trip. Returns the statements' results, or
  // the first error (the server skips what follows a failed statement).
  Result<std::vector<ResultPtr>> Pipeline(std::span<const Bound> stmts) {
    std::vector<const char*> begin;
    begin.swap(begin_);
    if (!PQenterPipelineMode(conn_)) return PgError(conn_, nullptr, "pipeline mode");
    PreparedStatements* cache = PreparedStatements::Of(conn_);
    // What each result read back is: a BEGIN statement, a PREPARE of a new statement, or the
    // result of stmts[i].
    struct Expected {
      enum { kBegin, kPrepare, kStatement } kind;
      size_t index;
    };
    std::vector<Expected> expected;
    std::unordered_map<std::string, std::string> preparing;  // SQL -> its new name
    bool sent = true;
    for (size_t i = 0; i < begin.size(); ++i) {
      sent = sent && PQsendQueryParams(conn_, begin[i], 0, nullptr, nullptr, nullptr, nullptr, 0);
      expected.push_back({Expected::kBegin, i});
    }
    for (size_t i = 0; i < stmts.size(); ++i) {
      const Bound& b = stmts[i];
      const std::string* name = nullptr;
      if (cache != nullptr) {
        if (auto it = cache->names.find(b.sql); it != cache->names.end()) {
          name = &it->second;
        } else if (auto p = preparing.find(b.sql); p != preparing.end()) {
          name = &p->second;
        } else if (cache->names.size() + preparing.size() < PreparedStatements::kMax) {
          std::string fresh = "scoria_" + std::to_string(cache->names.size() + preparing.size());
          name = &preparing.emplace(b.sql, std::move(fresh)).first->second;
          sent = sent && PQsendPrepare(conn_, name->c_str(), b.sql.c_str(), b.count(), nullptr);
          expected.push_back({Expected::kPrepare, i});
        }
      }
      const std::vector<const char*>& values = b.Values();
      sent = sent && (name ? PQsendQueryPrepared(conn_, name->c_str(), b.count(), values.data(),
                                                 nullptr, nullptr, 0)
                           : PQsendQueryParams(conn_, b.sql.c_str(), b.count(), nullptr,
                                               values.data(), nullptr, nullptr, 0));
      expected.push_back({Expected::kStatement, i});
    }
    sent = sent && PQpipelineSync(conn_);
    Status error;
    std::vector<ResultPtr> results;
    results.reserve(stmts.size());
    std::vector<std::string> prepared;  // SQL whose PREPARE succeeded
    for (size_t k = 0; sent && k < expected.size(); ++k) {
      ResultPtr r(PQgetResult(conn_), &PQclear);
      if (!r) {
        sent = false;  // the connection broke
        break;
      }
      const ExecStatusType st = PQresultStatus(r.get());
      const bool good = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
      const Expected& e = expected[k];
      if (!good && error.ok()) {
        error = PgError(conn_, r.get(), e.kind == Expected::kBegin
                                            ? std::string_view(begin[e.index])
                                            : std::string_view(stmts[e.index].sql).substr(0, 120));
      }
      if (good && e.kind == Expected::kPrepare) prepared.push_back(stmts[e.index].sql);
      if (e.kind == Expected::kStatement) results.push_back(std::move(r));
      while (PGresult* end = PQgetResult(conn_)) PQclear(end);  // the NULL after each result
    }
    if (sent) {
      ResultPtr sync(PQgetResult(conn_), &PQclear);
      if (!sync || PQresultStatus(sync.get()) != PGRES_PIPELINE_SYNC) sent = false;
    }
    if (!sent || !PQexitPipelineMode(conn_)) {
      // Out of step with the server: the connection cannot be trusted with another statement.
      Status lost = PgError(conn_, nullptr, "pipeline");
      PQfinish(conn_);
      conn_ = nullptr;
      if (!error.ok()) return error;
      return lost.code() == StatusCode::kUnavailable
                 ? lost
                 : Unavailable("database unavailable: " + lost.message());
    }
    for (std::string& sql : prepared) {
      auto p = preparing.find(sql);
      cache->names.emplace(std::move(sql), std::move(p->second));
    }
    if (!error.ok()) return error;
    return results;
  }

  // The name of `sql` prepared on this connection (preparing it now if need be), or nullptr
  // to run it unprepared (the cache is full).
  Result<const std::string*> Prepared(const std::string& sql, int params) {
    PreparedStatements* cache = PreparedStatements::Of(conn_);
    if (cache == nullptr) return nullptr;
    auto it = cache->names.find(sql);
    if (it != cache->names.end()) return &it->second;
    if (cache->names.size() >= PreparedStatements::kMax) return nullptr;
    std::string name = "scoria_" + std::to_string(cache->names.size());
    ResultPtr r(PQprepare(conn_, name.c_str(), sql.c_str(), params, nullptr), &PQclear);
    if (!r || PQresultStatus(r.get()) != PGRES_COMMAND_OK) {
      return PgError(conn_, r.get(), sql.substr(0, 120));
    }
    return &cache->names.emplace(sql, std::move(name)).first->second;
  }

  PostgresDatabase* db_;
  PGconn* conn_;  // nullptr once a pipeline went wrong and it was closed
  const bool write_;
  std::vector<const char*> begin_;  // BEGIN and its companions, until the first statement
  bool done_ = false;
};

class PostgresDatabase : public Database {
 public:
  explicit PostgresDatabase(std::string url)
      : conninfo_(ConnInfo(url)),
        shown_(RedactUrl(url)),
        token_(NewUuid()) {}

  ~PostgresDatabase() override {
    stopping_ = true;
    if (listener_.joinable()) listener_.join();
    for (PGconn* c : idle_) PQfinish(c);
  }

  Status Init() {
    ASSIGN_OR_RETURN(PGconn * c, Connect());
    Release(c);
    listener_ = std::thread([this] { ListenLoop(); });
    return Status::Ok();
  }

  Result<std::unique_ptr<Transaction>> Begin(bool write, Durability d,
                                             WriteScope scope) override {
    ASSIGN_OR_RETURN(PGconn * c, Acquire());
    std::vector<const char*> begin = {write ? "BEGIN" : "BEGIN ISOLATION LEVEL REPEATABLE READ"};
    if (write && d == Durability::kRelaxed) begin.push_back("SET LOCAL synchronous_commit = off");
    if (write && scope == WriteScope::kAllWriters) begin.push_back(kWriteLockSql);
    return std::unique_ptr<Transaction>(new PostgresTransaction(this, c, write, std::move(begin)));
  }

  Status Migrate() override {
    ASSIGN_OR_RETURN(auto tx, Begin(true, Durability::kDurable, WriteScope::kAllWriters));
    RETURN_IF_ERROR(ApplyMigrations(*tx, PostgresDdl));
    return tx->Commit();
  }

  int SchemaVersion() override {
    auto tx = Begin(false, Durability::kDurable, WriteScope::kAllWriters);
    if (!tx.ok()) return -1;
    auto v = ReadSchemaVersion(**tx);
    return v.ok() ? *v : 0;
  }

  // Wakes this process's workers at once, and every other process through the server. A lost
  // NOTIFY is harmless: workers poll as well.
  void NotifyTasks(const std::vector<std::string>& targets) override {
    signal_.Bump(targets);
    auto c = Acquire();
    if (!c.ok()) return;
    Status st = Simple(*c, NotifySql(targets).c_str());
    if (!st.ok()) spdlog::debug("database: NOTIFY failed: {}", st.ToString());
    Release(*c);
  }
  uint64_t TaskSequence(const std::vector<std::string>& targets) override {
    return signal_.Sequence(targets);
  }
  void WaitForTasks(const std::vector<std::string>& targets, uint64_t seen,
                    std::chrono::milliseconds timeout) override {
    signal_.Wait(targets, seen, timeout);
  }

  // `NOTIFY scoria_tasks, '<token> <target>,<target>...'`: the token lets this handle's
  // listener skip its own echo (the local bump is done already); no targets wakes everyone.
  std::string NotifySql(const std::vector<std::string>& targets) const {
    std::string payload = token_ + " ";
    for (size_t i = 0; i < targets.size(); ++i) {
      if (i) payload += ",";
      payload += targets[i];
    }
    std::string sql = std::string("NOTIFY ") + kChannel + ", '";
    for (char ch : payload) {
      if (ch == '\'') sql += '\'';  // a quote in a target name must not end the literal
      sql += ch;
    }
    return sql + "'";
  }
  void BumpLocal(const std::vector<std::string>& targets) { signal_.Bump(targets); }

  // A pooled connection, reset first if the server dropped it; Unavailable when the server
  // cannot be reached.
  Result<PGconn*> Acquire() {
    PGconn* c = nullptr;
    {
      std::unique_lock lock(pool_mu_);
      pool_cv_.wait(lock, [&] { return !idle_.empty() || open_ < kMaxConnections; });
      if (!idle_.empty()) {
        c = idle_.back();
        idle_.pop_back();
      } else {
        ++open_;
      }
    }
    if (c != nullptr && PQstatus(c) == CONNECTION_OK && DrainCommit(c)) return c;
    if (c != nullptr) PQfinish(c);
    // A server that cannot be reached costs each connect attempt connect_timeout (5 s): for a
    // moment after one failed (here or in the listener, which retries every second) new
    // connections fail at once, so a request's retries (InWriteTransaction tries five times)
    // answer 503 after one timeout, not five. A server that restarted is reached on the first
    // try and never opens this window.
    const int64_t failed_at = connect_failed_at_us_.load();
    Result<PGconn*> fresh = Unavailable("database unavailable: cannot connect to " + shown_ +
                                        ": the previous attempt failed less than " +
                                        std::to_string(kConnectFailureWindowUs / 1000) +
                                        " ms ago");
    if (failed_at == 0 || NowMicros() - failed_at >= kConnectFailureWindowUs) fresh = Connect();
    if (!fresh.ok()) {
      std::lock_guard lock(pool_mu_);
      --open_;
      pool_cv_.notify_one();
    }
    return fresh;
  }

  // Reads the answer to a read transaction's COMMIT sent before the connection went back to
  // the pool, and leaves pipeline mode. false: the connection is not fit for use.
  static bool DrainCommit(PGconn* c) {
    PreparedStatements* state = PreparedStatements::Of(c);
    if (state == nullptr || !state->commit_unread) return true;
    state->commit_unread = false;
    ResultPtr commit(PQgetResult(c), &PQclear);
    if (!commit || PQresultStatus(commit.get()) != PGRES_COMMAND_OK) return false;
    while (PGresult* end = PQgetResult(c)) PQclear(end);
    ResultPtr sync(PQgetResult(c), &PQclear);
    if (!sync || PQresultStatus(sync.get()) != PGRES_PIPELINE_SYNC) return false;
    return PQexitPipelineMode(c) == 1;
  }

  // A connection that broke (the server went away or stopped answering) takes the idle ones
  // with it: they lead to the same server, and each would cost the next request a timeout of
  // its own (tcp_user_timeout) before it found out. The next Acquire connects afresh.
  void Release(PGconn* c) {
    std::vector<PGconn*> broken;
    {
      std::lock_guard lock(pool_mu_);
      // c == nullptr: its transaction closed it when a pipeline broke, as broken as BAD.
      if (c != nullptr && PQstatus(c) != CONNECTION_BAD) {
        idle_.push_back(c);
        pool_cv_.notify_one();
        return;
      }
      broken.swap(idle_);
      open_ -= c == nullptr ? 1 : 0;
      if (c != nullptr) broken.push_back(c);
      open_ -= broken.size();
      pool_cv_.notify_all();
    }
    for (PGconn* b : broken) PQfinish(b);
  }

 private:
  Result<PGconn*> Connect() {
    PGconn* c = PQconnectdb(conninfo_.c_str());
    if (c == nullptr || PQstatus(c) != CONNECTION_OK) {
      connect_failed_at_us_.store(NowMicros());
      std::string why = c ? OneLine(PQerrorMessage(c)) : "out of memory";
      PQfinish(c);
      return Unavailable("database unavailable: cannot connect to " + shown_ + ": " + why);
    }
    connect_failed_at_us_.store(0);
    // Notices ("relation already exists, skipping") would go to stderr: not for operators.
    PQsetNoticeProcessor(c, [](void*, const char*) {}, nullptr);
    PreparedStatements::AttachTo(c);
    // A lock held by a hung peer must not stall a thread for ever. Generic plans: the
    // repositories' statements are prepared once per connection, but PostgreSQL would still
    // plan a custom plan on each execution while it judges that cheaper, and an IN list of a
    // page's 200 ids took 0.7-0.85 ms to plan against 0.03 ms to run (EXPLAIN ANALYZE). The
    // statements are plain key and index lookups: one plan for all values is right for them.
    Status st = Simple(c, "SET statement_timeout = '60s'; SET plan_cache_mode = force_generic_plan");
    if (!st.ok()) {
      PQfinish(c);
      return st;
    }
    return c;
  }

  // The listener: one connection that LISTENs; reconnects every second while the server is
  // away, and bumps the sequence after each (re)connect since notifications were missed.
  void ListenLoop() {
    PGconn* c = nullptr;
    while (!stopping_) {
      if (c == nullptr || PQstatus(c) != CONNECTION_OK) {
        if (c != nullptr) PQfinish(c);
        c = nullptr;
        auto fresh = Connect();
        if (!fresh.ok() || !Simple(*fresh, (std::string("LISTEN ") + kChannel).c_str()).ok()) {
          if (fresh.ok()) PQfinish(*fresh);
          for (int i = 0; i < 10 && !stopping_; ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
          }
          continue;
        }
        c = *fresh;
        signal_.Bump();
      }
      pollfd p{PQsocket(c), POLLIN, 0};
      if (poll(&p, 1, 200) <= 0) continue;
      if (!PQconsumeInput(c)) continue;  // connection lost: reconnect on the next turn
      while (PGnotify* n = PQnotifies(c)) {
        // Our own NOTIFY comes back too: NotifyTasks bumped already, a second bump would
        // only make the workers look twice.
        std::string_view payload = n->extra ? n->extra : "";
        const size_t space = payload.find(' ');
        if (payload.substr(0, space) != token_) signal_.Bump(TargetsOf(payload, space));
        PQfreemem(n);
      }
    }
    if (c != nullptr) PQfinish(c);
  }

  const std::string conninfo_;
  const std::string shown_;       // the URL without its password
  const std::string token_;       // this handle's NOTIFY payload

  std::mutex pool_mu_;
  std::condition_variable pool_cv_;
  std::vector<PGconn*> idle_;  // GUARDED_BY(pool_mu_)
  size_t open_ = 1;            // GUARDED_BY(pool_mu_); the connection Init opens

  TaskSignal signal_;
  static constexpr int64_t kConnectFailureWindowUs = 1'000'000;
  std::atomic<int64_t> connect_failed_at_us_{0};  // 0: the last connect worked
  std::atomic<bool> stopping_{false};
  std::thread listener_;
};

// A NOTIFY inside the transaction is delivered at its commit, by the server: one round trip
// for both, and no wake-up for a transaction that failed to commit.
Status PostgresTransaction::Commit() {
  if (done_) return Internal("transaction already finished");
  done_ = true;
  if (!begin_.empty()) {  // nothing was sent: nothing to commit, nobody to wake
    begin_.clear();
    return Status::Ok();
  }
  if (conn_ == nullptr) return Unavailable("database unavailable: the connection was lost");
  if (!write_) {
    // A read-only transaction has nothing to confirm: its COMMIT is sent and its answer read
    // when the connection is next taken from the pool (DrainCommit), not waited for here.
    PreparedStatements* state = PreparedStatements::Of(conn_);
    if (state != nullptr && PQenterPipelineMode(conn_)) {
      // Set first: if the send fails, the drain fails too and the pool drops the connection
      // instead of handing it out still in pipeline mode.
      state->commit_unread = true;
      if (PQsendQueryParams(conn_, "COMMIT", 0, nullptr, nullptr, nullptr, nullptr, 0) &&
          PQpipelineSync(conn_)) {
        return Status::Ok();
      }
      return PgError(conn_, nullptr, "COMMIT");
    }
  }
  if (wake_targets().empty()) return Simple(conn_, "COMMIT");
  RETURN_IF_ERROR(Simple(conn_, (db_->NotifySql(wake_targets()) + "; COMMIT").c_str()));
  db_->BumpLocal(wake_targets());
  return Status::Ok();
}

PostgresTransaction::~PostgresTransaction() {
  if (!done_ && begin_.empty() && conn_ != nullptr) (void)Simple(conn_, "ROLLBACK");
  db_->Release(conn_);
}

}  // namespace

Result<std::unique_ptr<Database>> OpenPostgres(const std::string& url) {
  auto db = std::make_unique<PostgresDatabase>(url);
  RETURN_IF_ERROR(db->Init());
  return std::unique_ptr<Database>(std::move(db));
}

}  // namespace scoria::db
