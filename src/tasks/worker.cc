#include "tasks/worker.h"

#include <spdlog/spdlog.h>

#include "common/clock.h"

namespace scoria::tasks {

Status TaskContext::Finish(const std::function<Status(db::Transaction&)>& fn,
                           db::Durability durability) {
  Status st = db::InWriteTransaction(db_, [&](db::Transaction& tx) {
    RETURN_IF_ERROR(db::FinishTask(tx, task_.id, owner_));
    return fn(tx);
  }, durability);
  if (st.ok()) finished_ = true;  // the commit woke whoever the next steps are for
  return st;
}

Status TaskContext::Reject(Status why) {
  rejected_ = why;
  return why;
}

TaskWorker::TaskWorker(db::Database& db, std::string owner, std::vector<std::string> targets,
                       WorkerOptions options)
    : db_(db), owner_(std::move(owner)), targets_(std::move(targets)), options_(options) {}

TaskWorker::~TaskWorker() { Stop(); }

void TaskWorker::Register(const std::string& kind, TaskHandler handler,
                          InvalidTaskHook on_invalid) {
  handlers_[kind] = Registration{std::move(handler), std::move(on_invalid)};
}

void TaskWorker::Start() {
  for (int i = 0; i < options_.threads; ++i) threads_.emplace_back([this] { Loop(); });
  renewer_ = std::thread([this] { RenewLoop(); });
}

void TaskWorker::Stop() {
  if (stop_.exchange(true)) return;
  {
    std::lock_guard lock(mu_);  // a thread between its check of stop_ and its wait
  }
  probe_cv_.notify_all();
  db_.NotifyTasks(targets_);
  for (auto& t : threads_) t.join();
  threads_.clear();
  // Only now: handlers still running during the joins above keep their leases renewed.
  renew_stop_ = true;
  if (renewer_.joinable()) renewer_.join();
}

// A wake-up reaches every thread at once. Only one thread of this worker looks for work at a
// time, and a thread that wakes for a sequence another one just found empty goes back to
// sleep: a notification costs one claim per worker, not one per thread (on PostgreSQL a claim
// is a transaction on the server). After `poll` the next thread looks again regardless (tasks
// whose not_before has come, notifications that were lost).
void TaskWorker::Loop() {
  while (!stop_) {
    const uint64_t seq = db_.TaskSequence(targets_);
    {
      std::unique_lock lock(mu_);
      probe_cv_.wait(lock, [&] { return !probing_ || stop_; });
      if (stop_) break;
      const bool found_empty = empty_seq_ == seq && std::chrono::steady_clock::now() <
                                                        empty_at_ + options_.poll;
      if (found_empty) {
        lock.unlock();
        db_.WaitForTasks(targets_, seq, options_.poll);
        continue;
      }
      probing_ = true;
    }
    std::optional<db::Task> task = Claim();
    {
      std::lock_guard lock(mu_);
      probing_ = false;
      if (!task) {
        empty_seq_ = seq;
        empty_at_ = std::chrono::steady_clock::now();
      }
    }
    probe_cv_.notify_one();
    if (task) {
      Run(*task);
    } else {
      db_.WaitForTasks(targets_, seq, options_.poll);
    }
  }
}

void TaskWorker::RenewLoop() {
  const auto period = options_.lease / 3;
  auto next = std::chrono::steady_clock::now() + period;
  while (!renew_stop_) {
    std::this_thread::sleep_for(std::chrono::milliseconds(std::min<int64_t>(100, period.count() / 4 + 1)));
    if (std::chrono::steady_clock::now() < next) continue;
    next = std::chrono::steady_clock::now() + period;
    std::vector<int64_t> ids;
    {
      std::lock_guard lock(mu_);
      ids.assign(running_.begin(), running_.end());
    }
    if (ids.empty()) continue;
    const int64_t expires = NowMicros() + options_.lease.count() * 1000;
    Status st = db::InWriteTransaction(
        db_, [&](db::Transaction& tx) { return db::RenewLeases(tx, ids, owner_, expires); },
        db::Durability::kRelaxed);
    if (!st.ok()) spdlog::warn("tasks: lease renewal failed: {}", st.ToString());
  }
}

std::optional<db::Task> TaskWorker::Claim() {
  std::optional<db::Task> task;
  Status st = db::InWriteTransaction(db_, [&](db::Transaction& tx) {
    ASSIGN_OR_RETURN(task, db::ClaimTask(tx, targets_, owner_, options_.lease.count() * 1000));
    return Status::Ok();
  }, db::Durability::kRelaxed,  // a lost lease only means the task runs again
     db::WriteScope::kRowsItLocks);  // ClaimTask locks its one row (PostgreSQL)
  if (!st.ok()) {
    if (!claims_failing_.exchange(true)) {
      spdlog::warn("tasks: claim failed: {} (retrying; the next line is the recovery)",
                   st.ToString());
    }
    return std::nullopt;
  }
  if (claims_failing_.exchange(false)) {
    spdlog::info("tasks: claims work again");
    if (options_.on_database_back) options_.on_database_back();
  }
  if (task) {
    std::lock_guard lock(mu_);
    running_.insert(task->id);
  }
  return task;
}

void TaskWorker::Run(const db::Task& claimed) {
  const db::Task* task = &claimed;
  TaskContext ctx(db_, *task, owner_);
  auto it = handlers_.find(task->kind);
  Status result;
  if (it == handlers_.end()) {
    Fail(*task, InvalidArgument("unknown task kind '" + task->kind + "' for target " +
                                task->target),
         nullptr);
  } else {
    try {
      result = it->second.handler(ctx);
    } catch (const std::exception& e) {
      result = Internal(std::string("handler threw: ") + e.what());
    }
    if (ctx.rejected() && !ctx.finished()) Fail(*task, *ctx.rejected(), it->second.on_invalid);
  }
  if (!ctx.finished() && it != handlers_.end() && !ctx.rejected()) {
    // Exponential backoff: 0.5 s, 1 s, 2 s ... capped.
    int64_t backoff_ms = std::min<int64_t>(options_.max_backoff.count(),
                                           500LL << std::min<int64_t>(task->attempts - 1, 16));
    spdlog::warn("tasks: {} {} for {} failed (attempt {}): {}; retrying in {} ms", task->kind,
                 task->id, task->resource_id, task->attempts, result.ToString(), backoff_ms);
    Status rel = db::InWriteTransaction(db_, [&](db::Transaction& tx) {
      return db::ReleaseTask(tx, task->id, owner_, NowMicros() + backoff_ms * 1000);
    }, db::Durability::kRelaxed);
    if (!rel.ok()) spdlog::warn("tasks: release failed: {}", rel.ToString());
  }
  {
    std::lock_guard lock(mu_);
    running_.erase(task->id);
  }
}

void TaskWorker::Fail(const db::Task& task, const Status& why, const InvalidTaskHook& on_invalid) {
  spdlog::error("tasks: {} {} for {} (target {}) cannot run and is marked failed: {}; args: {}",
                task.kind, task.id, task.resource_id, task.target, why.ToString(), task.args);
  auto mark = [&](bool with_hook) {
    return db::InWriteTransaction(db_, [&](db::Transaction& tx) {
      RETURN_IF_ERROR(db::FailTask(tx, task.id, owner_));
      return with_hook ? on_invalid(tx, task, why) : Status::Ok();
    });
  };
  Status st = mark(on_invalid != nullptr);
  if (!st.ok() && on_invalid != nullptr) {
    spdlog::error("tasks: {} {}: cannot put {} into a final state: {}", task.kind, task.id,
                  task.resource_id, st.ToString());
    st = mark(false);
  }
  if (!st.ok()) {
    // The lease runs out and the task comes back: it is rejected again then.
    spdlog::warn("tasks: cannot mark {} {} failed: {}", task.kind, task.id, st.ToString());
  }
}

}  // namespace scoria::tasks
