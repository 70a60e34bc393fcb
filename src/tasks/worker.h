// TaskWorker: the consumer side of the durable task queue (db/tasks_repo.h).
//
// A worker serves a set of targets ("scheduler", "host@backend") with a few threads. Each
// thread claims one task at a time, leases it, and calls the handler registered for its kind.
// The handler does idempotent work and then calls TaskContext::Finish, which deletes the task
// in the same transaction that writes the resource's new state. If the handler returns an
// error without finishing, the task is released and retried with exponential backoff (the
// handler sees the attempt number and decides when to give up and finish with an error
// state). Leases of running tasks are renewed in the background; if this process dies, they
// expire and another worker (or this one after restart) runs the task again.
//
// Threading: handlers run on the worker's threads and may block (driver calls, database).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "db/database.h"
#include "db/tasks_repo.h"

namespace scoria::tasks {

class TaskContext {
 public:
  TaskContext(db::Database& db, const db::Task& task, const std::string& owner)
      : db_(db), task_(task), owner_(owner) {}
  const db::Task& task() const { return task_; }
  // Runs fn and removes the task in one write transaction. Conflict if the lease was lost
  // (then nothing fn wrote is committed). kRelaxed is for a final step whose loss in a power
  // cut is harmless: the task comes back and its idempotent work is redone. A step that hands
  // work to another target, or after which a driver acts on what it wrote, stays kDurable.
  Status Finish(const std::function<Status(db::Transaction&)>& fn,
                db::Durability durability = db::Durability::kDurable);
  bool finished() const { return finished_; }
  // Says the task cannot run as written (its args do not parse): the worker marks it failed
  // instead of retrying it. Returns `why` (an InvalidArgument) for the handler to return.
  Status Reject(Status why);
  const std::optional<Status>& rejected() const { return rejected_; }

 private:
  db::Database& db_;
  const db::Task& task_;
  const std::string& owner_;
  bool finished_ = false;
  std::optional<Status> rejected_;
};

using TaskHandler = std::function<Status(TaskContext&)>;
// Runs in the transaction that marks a rejected task failed: puts the task's resource into a
// final state (a volume whose extend cannot run as written goes to error_extending, ...).
// An error rolls that back; the task is then marked failed without it.
using InvalidTaskHook =
    std::function<Status(db::Transaction&, const db::Task&, const Status& why)>;

struct WorkerOptions {
  int threads = 2;
  std::chrono::milliseconds lease{30'000};
  std::chrono::milliseconds poll{1'000};  // also waits for NotifyTasks
  std::chrono::milliseconds max_backoff{30'000};
  // Called on the claiming thread when a claim succeeds after claims failed (the database is
  // reachable again), before the claimed task runs. The scheduler learns from it that
  // heartbeats are stale only because nobody could write them.
  std::function<void()> on_database_back;
};

class TaskWorker {
 public:
  // owner: unique per process and worker, e.g. "node1/1234/ab12/volume".
  TaskWorker(db::Database& db, std::string owner, std::vector<std::string> targets,
             WorkerOptions options = {});
  ~TaskWorker();
  TaskWorker(const TaskWorker&) = delete;
  TaskWorker& operator=(const TaskWorker&) = delete;

  // Before Start only. Use tasks::Register<Args> (protocol.h), which parses the args.
  void Register(const std::string& kind, TaskHandler handler, InvalidTaskHook on_invalid = nullptr);
  void Start();
  // Stops claiming, waits for running handlers to return. Unfinished tasks keep their lease
  // until it expires or the next start releases it.
  void Stop();

 private:
  void Loop();
  void RenewLoop();
  // Claims one task for this worker's targets (nullopt: none, or the database failed).
  std::optional<db::Task> Claim();
  // Runs a claimed task's handler; finishes, fails or releases it with a backoff.
  void Run(const db::Task& task);
  // A task of a kind nobody registered here, or one its handler rejected: logged, marked
  // failed (db::FailTask), never retried.
  void Fail(const db::Task& task, const Status& why, const InvalidTaskHook& on_invalid);

  db::Database& db_;
  const std::string owner_;
  const std::vector<std::string> targets_;
  const WorkerOptions options_;
  struct Registration {
    TaskHandler handler;
    InvalidTaskHook on_invalid;
  };
  std::map<std::string, Registration> handlers_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> renew_stop_{false};
  // Claims are failing (the database is unreachable): every thread retries each poll, but
  // only the first failure and the recovery are logged, not one line per thread per poll.
  std::atomic<bool> claims_failing_{false};
  std::vector<std::thread> threads_;
  std::thread renewer_;
  std::mutex mu_;
  std::set<int64_t> running_;  // GUARDED_BY(mu_)
  // One thread looks for work at a time (Loop).
  std::condition_variable probe_cv_;
  bool probing_ = false;                            // GUARDED_BY(mu_)
  uint64_t empty_seq_ = ~uint64_t{0};               // GUARDED_BY(mu_): sequence last found empty
  std::chrono::steady_clock::time_point empty_at_;  // GUARDED_BY(mu_): when
};

}  // namespace scoria::tasks
