// The Database interface: the only shared state between Scoria's services, and their only
// channel (DESIGN.md, "Durable tasks instead of RPC").
//
// Model: callers open a Transaction, run parameterised SQL with `?` placeholders, and Commit.
// A transaction that is destroyed without Commit rolls back. The SQL the repositories write
// is the common subset of SQLite and PostgreSQL (the PostgreSQL implementation rewrites `?` to
// `$n`), so the repositories above never know which database they talk to.
//
// Write transactions are serialised by the database (SQLite: BEGIN IMMEDIATE; PostgreSQL: row
// locks); read transactions see a consistent snapshot. A transaction belongs to the thread
// that began it. Database itself is thread-safe.
//
// Wake-ups: a write transaction that enqueues a task (tasks_repo calls WakeOnCommit with its
// target) wakes that target's workers when it commits; workers park in WaitForTasks(). SQLite
// delivers it in-process; PostgreSQL with LISTEN/NOTIFY to every process on every host, the
// NOTIFY sent inside the committing transaction (and polling stays the fallback).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/status.h"

namespace scoria::db {

using Value = std::variant<std::nullptr_t, int64_t, double, std::string>;

// Convenience constructors for parameters.
inline Value Null() { return nullptr; }
inline Value OptStr(const std::optional<std::string>& s) {
  return s ? Value(*s) : Value(nullptr);
}

// A result a database keeps in its own memory (PostgreSQL's PGresult), which rows read in
// place: a page of 200 volumes is 5,000 cells, and copying each into a Value first cost more
// than the rest of the listing. Conversions are Row's (below). Columns out of range throw
// std::out_of_range, as Row's own vector does.
class CellSource {
 public:
  virtual ~CellSource() = default;
  virtual size_t Columns() const = 0;
  virtual bool IsNull(int row, size_t col) const = 0;
  virtual int64_t Int(int row, size_t col) const = 0;
  virtual double Real(int row, size_t col) const = 0;
  virtual std::string Str(int row, size_t col) const = 0;
};

class Row {
 public:
  explicit Row(std::vector<Value> cols) : cols_(std::move(cols)) {}
  Row(std::shared_ptr<const CellSource> source, int row) : source_(std::move(source)), row_(row) {}
  size_t size() const { return source_ ? source_->Columns() : cols_.size(); }
  bool IsNull(size_t i) const {
    return source_ ? source_->IsNull(row_, i)
                   : std::holds_alternative<std::nullptr_t>(cols_.at(i));
  }
  // Integer column; NULL reads as 0, a REAL is truncated, a boolean is 0 or 1.
  int64_t Int(size_t i) const;
  double Real(size_t i) const;
  // Text column; NULL reads as "", an integer as its decimal digits.
  std::string Str(size_t i) const;
  std::optional<std::string> OptStr(size_t i) const;
  std::optional<int64_t> OptInt(size_t i) const;

 private:
  std::vector<Value> cols_;
  std::shared_ptr<const CellSource> source_;  // when set, the cells are there, not in cols_
  int row_ = 0;
};

// The few places where the two databases need different SQL ask the transaction which one it
// is (task claims: `FOR UPDATE SKIP LOCKED` exists only in PostgreSQL).
enum class Dialect { kSqlite, kPostgres };

// One query of a batch (Transaction::QueryAll).
struct Statement {
  std::string sql;
  std::vector<Value> params;
};

class Transaction {
 public:
  virtual ~Transaction() = default;
  virtual Dialect dialect() const = 0;
  // Runs a statement; returns the number of rows it changed.
  virtual Result<int64_t> Exec(std::string_view sql, const std::vector<Value>& params = {}) = 0;
  virtual Result<std::vector<Row>> Query(std::string_view sql,
                                         const std::vector<Value>& params = {}) = 0;
  // Queries that do not depend on each other, run in order; their rows in the same order, or
  // the first error. PostgreSQL sends them all in one round trip (a page of volumes' metadata,
  // attachments and type names); SQLite runs them one by one, as Query would.
  virtual Result<std::vector<std::vector<Row>>> QueryAll(const std::vector<Statement>& stmts);
  // After Commit the transaction is finished; further calls fail with Internal.
  virtual Status Commit() = 0;

  // Asks Commit to wake the workers of task target `target` once the transaction is committed
  // (nothing when it rolls back). The task repository calls it; nobody else needs to.
  void WakeOnCommit(const std::string& target) {
    for (const std::string& t : wake_) {
      if (t == target) return;
    }
    wake_.push_back(target);
  }

 protected:
  // The targets to wake at commit, for the implementations' Commit.
  const std::vector<std::string>& wake_targets() const { return wake_; }

 private:
  std::vector<std::string> wake_;
};

// How hard a write transaction's commit must push to stable storage.
//   kDurable: on disk when Commit returns (survives a power cut).
//   kRelaxed: survives a process crash, not necessarily a power cut; it becomes durable with
//             the next durable commit (commits are never reordered). For writes whose loss is
//             harmless because the work they record is idempotent and re-run: task leases, and
//             final states that a re-run of the (durable) task would write again.
enum class Durability { kDurable, kRelaxed };

// Which other writers a write transaction waits for.
//   kAllWriters:  every other write transaction: repositories may read, decide, then write
//                 without a race (SQLite: BEGIN IMMEDIATE; PostgreSQL: a cluster-wide advisory
//                 lock held to commit). The default.
//   kRowsItLocks: only those holding the rows it locks itself. For task claims, which select
//                 their row with `FOR UPDATE SKIP LOCKED`, so workers on many hosts claim at
//                 once. SQLite ignores it (one writer at a time is all it has).
enum class WriteScope { kAllWriters, kRowsItLocks };

class Database {
 public:
  virtual ~Database() = default;
  // write=true takes the write lock up front, so a read-then-write transaction never fails
  // half-way with a lock upgrade conflict. Unavailable when the database is locked too long.
  virtual Result<std::unique_ptr<Transaction>> Begin(
      bool write, Durability d = Durability::kDurable,
      WriteScope scope = WriteScope::kAllWriters) = 0;
  // Brings the schema to the newest version (idempotent, run at start by every process).
  virtual Status Migrate() = 0;
  virtual int SchemaVersion() = 0;
  // Wakes the workers of `targets` (every worker when empty), in every process. Commits that
  // enqueue tasks do this by themselves (Transaction::WakeOnCommit); this is for the rest
  // (a worker stopping wakes its own threads, tests).
  virtual void NotifyTasks(const std::vector<std::string>& targets = {}) = 0;
  // A counter that wake-ups for any of `targets` (or for everyone) advance. Read it before
  // looking for work, then pass it to WaitForTasks: a wake-up that lands in between is not
  // lost.
  virtual uint64_t TaskSequence(const std::vector<std::string>& targets) = 0;
  // Returns when TaskSequence(targets) differs from `seen`, or at the timeout.
  virtual void WaitForTasks(const std::vector<std::string>& targets, uint64_t seen,
                            std::chrono::milliseconds timeout) = 0;
};

// "sqlite:////abs/path.sqlite" (SQLAlchemy spelling), "sqlite://" for in-memory (tests), or
// "postgresql://user:pass@host:port/db" ("postgresql+psycopg2://..." is accepted too).
// Unavailable when a PostgreSQL server cannot be reached; InvalidArgument for a bad URL.
Result<std::unique_ptr<Database>> OpenDatabase(const std::string& connection);

// Runs fn inside one write transaction and commits it; retries a few times when the database
// reports Unavailable (busy). fn's error aborts and rolls back.
Status InWriteTransaction(Database& db, const std::function<Status(Transaction&)>& fn,
                          Durability d = Durability::kDurable,
                          WriteScope scope = WriteScope::kAllWriters);
Status InReadTransaction(Database& db, const std::function<Status(Transaction&)>& fn);

}  // namespace scoria::db
