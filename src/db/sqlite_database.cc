#include "db/sqlite_database.h"

#include <spdlog/spdlog.h>
#include <sqlite3.h>

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "db/migrations.h"
#include "db/task_signal.h"

namespace scoria::db {
namespace {

constexpr int kBusyTimeoutMs = 10000;
constexpr size_t kMaxConnections = 16;

Status SqliteError(sqlite3* h, int rc, std::string_view what) {
  std::string msg = std::string(what) + ": " + (h ? sqlite3_errmsg(h) : sqlite3_errstr(rc));
  int primary = rc & 0xff;
  if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED) return Unavailable("database busy: " + msg);
  if (primary == SQLITE_CONSTRAINT) return Conflict("constraint violated: " + msg);
  if (primary == SQLITE_FULL) return ResourceExhausted("database disk full: " + msg);
  return Internal("sqlite: " + msg);
}

// A pooled connection and the statements prepared on it, by SQL text: the repositories send
// the same few hundred statements over and over, and preparing one (parsing, planning) cost
// as much as running it (a page of 200 volumes and their metadata: 15% of the request).
// Owned by the pool; used by one transaction at a time, so no lock.
struct Connection {
  static constexpr size_t kMaxStatements = 256;  // past it the cache starts over

  sqlite3* db = nullptr;
  std::unordered_map<std::string, sqlite3_stmt*> statements;

  ~Connection() {
    Forget();
    sqlite3_close_v2(db);
  }
  void Forget() {
    for (auto& [sql, stmt] : statements) sqlite3_finalize(stmt);
    statements.clear();
  }
  // The statement for `sql`, prepared once; the caller resets it after use.
  Result<sqlite3_stmt*> Prepare(std::string_view sql);
};

class SqliteDatabase;

class SqliteTransaction : public Transaction {
 public:
  SqliteTransaction(SqliteDatabase* db, Connection* conn) : db_(db), conn_(conn->db), pooled_(conn) {}
  ~SqliteTransaction() override;
  Dialect dialect() const override { return Dialect::kSqlite; }

  Result<int64_t> Exec(std::string_view sql, const std::vector<Value>& params) override {
    ASSIGN_OR_RETURN(auto rows, Run(sql, params, /*collect=*/false));
    (void)rows;
    return static_cast<int64_t>(sqlite3_changes(conn_));
  }
  Result<std::vector<Row>> Query(std::string_view sql, const std::vector<Value>& params) override {
    return Run(sql, params, /*collect=*/true);
  }
  Status Commit() override;

 private:
  Result<std::vector<Row>> Run(std::string_view sql, const std::vector<Value>& params,
                               bool collect);

  SqliteDatabase* db_;
  sqlite3* conn_;
  Connection* pooled_;
  bool done_ = false;
};

Result<sqlite3_stmt*> Connection::Prepare(std::string_view sql) {
  std::string key(sql);
  if (auto it = statements.find(key); it != statements.end()) return it->second;
  if (statements.size() >= kMaxStatements) Forget();
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()),
                              SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) return SqliteError(db, rc, "prepare");
  statements.emplace(std::move(key), stmt);
  return stmt;
}

class SqliteDatabase : public Database {
 public:
  explicit SqliteDatabase(std::string path) : path_(std::move(path)) {}
  ~SqliteDatabase() override {
    {
      std::lock_guard lock(ckpt_mu_);
      ckpt_stop_ = true;
    }
    ckpt_cv_.notify_all();
    if (checkpointer_.joinable()) checkpointer_.join();
    idle_.clear();
    if (keepalive_) sqlite3_close_v2(keepalive_);
  }

  Status Init() {
    if (path_ == ":memory:") {
      // A named shared-cache memory database lives as long as one connection is open.
      path_ = "file:scoria-mem-" + std::to_string(reinterpret_cast<uintptr_t>(this)) +
              "?mode=memory&cache=shared";
      memory_ = true;
      ASSIGN_OR_RETURN(keepalive_, OpenConnection());
    }
    ASSIGN_OR_RETURN(sqlite3 * c, OpenConnection());
    Release(Pooled(c));
    if (!memory_) checkpointer_ = std::thread([this] { CheckpointLoop(); });
    return Status::Ok();
  }

  Result<std::unique_ptr<Transaction>> Begin(bool write, Durability d, WriteScope) override {
    ASSIGN_OR_RETURN(Connection * conn, Acquire());
    sqlite3* c = conn->db;
    // synchronous is per connection and may change between transactions. In WAL mode OFF
    // skips the commit's fsync; the next FULL commit's fsync covers these frames too.
    const char* sql = !write                        ? "BEGIN"
                      : d == Durability::kDurable || memory_ ? "PRAGMA synchronous=FULL; BEGIN IMMEDIATE"
                                                    : "PRAGMA synchronous=OFF; BEGIN IMMEDIATE";
    int rc = sqlite3_exec(c, sql, nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) {
      Status st = SqliteError(c, rc, sql);
      Release(conn);
      return st;
    }
    return std::unique_ptr<Transaction>(new SqliteTransaction(this, conn));
  }

  Status Migrate() override;
  int SchemaVersion() override;

  void NotifyTasks(const std::vector<std::string>& targets) override { signal_.Bump(targets); }
  uint64_t TaskSequence(const std::vector<std::string>& targets) override {
    return signal_.Sequence(targets);
  }
  void WaitForTasks(const std::vector<std::string>& targets, uint64_t seen,
                    std::chrono::milliseconds timeout) override {
    signal_.Wait(targets, seen, timeout);
  }

  Result<Connection*> Acquire() {
    std::unique_lock lock(pool_mu_);
    if (!idle_.empty()) return TakeIdle();
    if (open_ < kMaxConnections) {
      ++open_;
      lock.unlock();
      auto c = OpenConnection();
      if (!c.ok()) {
        std::lock_guard relock(pool_mu_);
        --open_;
        return c.status();
      }
      return Pooled(*c);
    }
    pool_cv_.wait(lock, [&] { return !idle_.empty(); });
    return TakeIdle();
  }

  void Release(Connection* c) {
    std::lock_guard lock(pool_mu_);
    idle_.emplace_back(c);
    pool_cv_.notify_one();
  }

 private:
  static Connection* Pooled(sqlite3* c) {
    auto* conn = new Connection;
    conn->db = c;
    return conn;
  }
  Connection* TakeIdle() {  // pool_mu_ held
    Connection* c = idle_.back().release();
    idle_.pop_back();
    return c;
  }

  Result<sqlite3*> OpenConnection() {
    sqlite3* c = nullptr;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_URI |
                SQLITE_OPEN_NOMUTEX;
    int rc = sqlite3_open_v2(path_.c_str(), &c, flags, nullptr);
    if (rc != SQLITE_OK) {
      Status st = SqliteError(c, rc, "cannot open database " + path_);
      sqlite3_close_v2(c);
      return st;
    }
    sqlite3_busy_timeout(c, kBusyTimeoutMs);
    const bool memory = path_.rfind("file:scoria-mem-", 0) == 0;
    const char* pragmas = memory ? "PRAGMA foreign_keys=ON;"
                                 : "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; "
                                   "PRAGMA foreign_keys=ON; PRAGMA wal_autocheckpoint=0;";
    rc = sqlite3_exec(c, pragmas, nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) {
      Status st = SqliteError(c, rc, "cannot configure database " + path_);
      sqlite3_close_v2(c);
      return st;
    }
    if (!memory) sqlite3_wal_hook(c, &SqliteDatabase::WalHook, this);
    return c;
  }

  // Checkpoints run on their own thread: SQLite's automatic checkpoint would run (and fsync
  // the database file) inside whichever commit crosses the threshold, a latency spike in the
  // middle of an API request.
  static int WalHook(void* self, sqlite3*, const char*, int pages) {
    auto* db = static_cast<SqliteDatabase*>(self);
    if (pages >= kCheckpointPages) {
      std::lock_guard lock(db->ckpt_mu_);
      db->ckpt_wanted_ = true;
      db->ckpt_cv_.notify_one();
    }
    return SQLITE_OK;
  }

  void CheckpointLoop() {
    auto conn = OpenConnection();
    if (!conn.ok()) {
      spdlog::error("database: checkpointer cannot open a connection: {}", conn.status().ToString());
      return;
    }
    std::unique_lock lock(ckpt_mu_);
    while (!ckpt_stop_) {
      ckpt_cv_.wait_for(lock, std::chrono::seconds(5), [&] { return ckpt_stop_ || ckpt_wanted_; });
      if (ckpt_stop_) break;
      ckpt_wanted_ = false;
      lock.unlock();
      int rc = sqlite3_wal_checkpoint_v2(*conn, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr,
                                         nullptr);
      if (rc != SQLITE_OK && rc != SQLITE_BUSY) {
        spdlog::warn("database: checkpoint failed: {}", sqlite3_errmsg(*conn));
      }
      lock.lock();
    }
    lock.unlock();
    sqlite3_close_v2(*conn);
  }

  static constexpr int kCheckpointPages = 1000;
  std::mutex ckpt_mu_;
  std::condition_variable ckpt_cv_;
  bool ckpt_wanted_ = false;  // GUARDED_BY(ckpt_mu_)
  bool ckpt_stop_ = false;    // GUARDED_BY(ckpt_mu_)
  std::thread checkpointer_;

  std::string path_;
  bool memory_ = false;
  sqlite3* keepalive_ = nullptr;
  std::mutex pool_mu_;
  std::condition_variable pool_cv_;
  std::vector<std::unique_ptr<Connection>> idle_;
  size_t open_ = 1;  // the connection Init opens
  TaskSignal signal_;
};

SqliteTransaction::~SqliteTransaction() {
  if (!done_) sqlite3_exec(conn_, "ROLLBACK", nullptr, nullptr, nullptr);
  db_->Release(pooled_);
}

Status SqliteTransaction::Commit() {
  if (done_) return Internal("transaction already finished");
  int rc = sqlite3_exec(conn_, "COMMIT", nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return SqliteError(conn_, rc, "COMMIT");
  done_ = true;
  if (!wake_targets().empty()) db_->NotifyTasks(wake_targets());
  return Status::Ok();
}

Result<std::vector<Row>> SqliteTransaction::Run(std::string_view sql,
                                                const std::vector<Value>& params, bool collect) {
  if (done_) return Internal("statement on a finished transaction");
  ASSIGN_OR_RETURN(sqlite3_stmt * stmt, pooled_->Prepare(sql));
  // Back to its initial state, bindings cleared, however this returns: a statement left
  // mid-step would hold its read snapshot past the transaction.
  struct Reset {
    sqlite3_stmt* s;
    ~Reset() {
      sqlite3_reset(s);
      sqlite3_clear_bindings(s);
    }
  } reset{stmt};
  int rc;
  if (static_cast<int>(params.size()) != sqlite3_bind_parameter_count(stmt)) {
    return Internal("parameter count mismatch for: " + std::string(sql));
  }
  for (size_t i = 0; i < params.size(); ++i) {
    int idx = static_cast<int>(i + 1);
    const Value& v = params[i];
    if (std::holds_alternative<std::nullptr_t>(v)) {
      rc = sqlite3_bind_null(stmt, idx);
    } else if (auto* n = std::get_if<int64_t>(&v)) {
      rc = sqlite3_bind_int64(stmt, idx, *n);
    } else if (auto* d = std::get_if<double>(&v)) {
      rc = sqlite3_bind_double(stmt, idx, *d);
    } else {
      const auto& s = std::get<std::string>(v);
      // STATIC: `params` outlives the statement's use (reset below, before Run returns).
      rc = sqlite3_bind_text(stmt, idx, s.data(), static_cast<int>(s.size()), SQLITE_STATIC);
    }
    if (rc != SQLITE_OK) return SqliteError(conn_, rc, "bind");
  }
  std::vector<Row> rows;
  while (true) {
    rc = sqlite3_step(stmt);
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_ROW) return SqliteError(conn_, rc, "step");
    if (!collect) continue;
    int n = sqlite3_column_count(stmt);
    std::vector<Value> cols;
    cols.reserve(n);
    for (int c = 0; c < n; ++c) {
      switch (sqlite3_column_type(stmt, c)) {
        case SQLITE_NULL: cols.emplace_back(nullptr); break;
        case SQLITE_INTEGER: cols.emplace_back(static_cast<int64_t>(sqlite3_column_int64(stmt, c))); break;
        case SQLITE_FLOAT: cols.emplace_back(sqlite3_column_double(stmt, c)); break;
        default: {
          const auto* t = reinterpret_cast<const char*>(sqlite3_column_text(stmt, c));
          cols.emplace_back(std::string(t ? t : "", sqlite3_column_bytes(stmt, c)));
        }
      }
    }
    rows.emplace_back(std::move(cols));
  }
  return rows;
}

int SqliteDatabase::SchemaVersion() {
  auto tx = Begin(false, Durability::kDurable, WriteScope::kAllWriters);
  if (!tx.ok()) return -1;
  auto v = ReadSchemaVersion(**tx);
  return v.ok() ? *v : 0;
}

Status SqliteDatabase::Migrate() {
  ASSIGN_OR_RETURN(auto tx, Begin(true, Durability::kDurable, WriteScope::kAllWriters));
  RETURN_IF_ERROR(ApplyMigrations(*tx, [](const std::string& stmt) { return stmt; }));
  return tx->Commit();
}

}  // namespace

Result<std::unique_ptr<Database>> OpenSqlite(const std::string& path) {
  auto db = std::make_unique<SqliteDatabase>(path);
  RETURN_IF_ERROR(db->Init());
  return std::unique_ptr<Database>(std::move(db));
}

}  // namespace scoria::db
