// Internal to backup/ (not a public header): the small concurrency pieces the jobs share.
//  - WorkerPool: N threads draining one FIFO; a task gets its worker's index (so it can use
//    per-worker state such as a ChunkCodec). The destructor runs what is queued, then joins.
//  - InflightLimiter: bounds the chunks in flight (hence the memory), and lets the driver wait
//    until everything issued has finished.
//  - Await: runs an asynchronous BlockDevice call and waits for its completion.
//  - JobControl: what both jobs' state machines share (state, progress, stats, cancellation,
//    first error, the in-flight limit), so each job keeps only its own handlers.
//  - JobRunner: the common prologue of both jobs' implementations (what they are built from,
//    Run under the shared repository lock, Cancel and the getters) around JobControl.
#pragma once

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "backup/chunk.h"
#include "backup/job.h"
#include "backup/manifest.h"
#include "backup/repository.h"
#include "common/status.h"
#include "volume/block_device.h"

namespace scoria::backup::internal {

class WorkerPool {
 public:
  explicit WorkerPool(int threads);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;
  void Post(std::function<void(int worker)> task);
  int size() const { return static_cast<int>(threads_.size()); }

 private:
  void Loop(int index);
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void(int)>> queue_;  // guarded by mu_
  bool stopping_ = false;                       // guarded by mu_
  std::vector<std::thread> threads_;
};

class InflightLimiter {
 public:
  explicit InflightLimiter(int max) : max_(max) {}
  // Waits for a free slot; false (no slot taken) once `stop` returns true (checked on each
  // wake-up; Release and Wake notify).
  bool Acquire(const std::function<bool()>& stop);
  void Release();
  void Wake();
  void WaitIdle();

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  const int max_;
  int inflight_ = 0;  // guarded by mu_
};

// Calls `start(done)` and blocks until `done` ran; returns its Status.
Status Await(const std::function<void(volume::IoCallback)>& start);

// The first error of a job, kept for its Run to return; thread-safe.
class FirstError {
 public:
  void Set(Status s);
  bool failed() const;
  Status Get() const;

 private:
  mutable std::mutex mu_;
  Status status_;  // guarded by mu_
};

// State must have kCreated, kDone, kFailed and kCancelled.
template <typename State, typename Stats>
class JobControl {
 public:
  explicit JobControl(int max_inflight) : limiter(max_inflight) {}

  // Moves kCreated -> `first`; false when the job already ran.
  bool Start(State first) {
    std::lock_guard lock(mu_);
    if (state_ != State::kCreated) return false;
    state_ = first;
    return true;
  }
  // Enters state `s`, or CancelledStatus when a Cancel() came in meanwhile.
  Status Enter(State s) {
    if (cancelled.load()) return CancelledStatus("job");
    std::lock_guard lock(mu_);
    state_ = s;
    return Status::Ok();
  }
  // The terminal state for the outcome of the handlers, and what Run returns.
  Result<Manifest> Finish(Status st, const std::string& what, Manifest m) {
    State end = st.ok() ? State::kDone : cancelled.load() ? State::kCancelled : State::kFailed;
    {
      std::lock_guard lock(mu_);
      state_ = end;
    }
    if (end == State::kCancelled) return CancelledStatus(what);
    if (end == State::kFailed) return st;
    return m;
  }
  void Cancel() {
    cancelled.store(true);
    limiter.Wake();
  }
  bool Stop() const { return cancelled.load() || failure.failed(); }
  // Once a stage's pipeline drained: its first error, else CancelledStatus(what) when
  // cancelled, else OK.
  Status Drained(const std::string& what) const {
    if (failure.failed()) return failure.Get();
    if (cancelled.load()) return CancelledStatus(what);
    return Status::Ok();
  }

  // Runs f(progress, stats) under the job's mutex, then reports progress through `cb`.
  template <typename F>
  void Update(const ProgressCallback& cb, F&& f) {
    std::lock_guard lock(mu_);
    f(progress_, stats_);
    if (cb) cb(progress_);
  }
  State state() const {
    std::lock_guard lock(mu_);
    return state_;
  }
  Progress progress() const {
    std::lock_guard lock(mu_);
    return progress_;
  }
  Stats stats() const {
    std::lock_guard lock(mu_);
    return stats_;
  }

  std::atomic<bool> cancelled{false};
  FirstError failure;
  InflightLimiter limiter;

 private:
  mutable std::mutex mu_;
  State state_ = State::kCreated;  // guarded by mu_
  Progress progress_;              // guarded by mu_
  Stats stats_;                    // guarded by mu_
};

// The base of BackupJob::Impl and RestoreJob::Impl: it owns what both are built from (the
// repository, the device, the options, the worker count, the JobControl sized from
// max_inflight_chunks), the repository lock and the manifest, and drives
//   kCreated --Run()--> kLocking (shared lock, owner "<name> <backup id>") --> RunStates()
// releasing the lock whatever the outcome. The derived job implements RunStates: its own
// states from kLocking on, on Run's thread.
//
// Lifetime: the base starts no thread and calls RunStates only from Run, on a fully built
// object. RunStates owns its worker pool and returns only once the pool is joined and every
// device completion it issued has released its in-flight slot, so nothing runs on the job
// when Run returns; the derived members die first, the base's (JobControl) last.
template <typename State, typename Stats, typename Options>
class JobRunner {
 public:
  virtual ~JobRunner() = default;
  JobRunner(const JobRunner&) = delete;
  JobRunner& operator=(const JobRunner&) = delete;

  Result<Manifest> Run() {
    if (!ctl_.Start(State::kLocking)) return FailedPrecondition(name_ + " job already ran");
    Status st = TakeLock();
    if (st.ok()) st = RunStates();
    if (lock_) (void)lock_->Release();  // best effort: a stale lock only delays a GC
    return ctl_.Finish(std::move(st), subject_ + opts_.backup_id, std::move(manifest_));
  }
  void Cancel() { ctl_.Cancel(); }
  State state() const { return ctl_.state(); }
  Progress progress() const { return ctl_.progress(); }
  Stats stats() const { return ctl_.stats(); }

 protected:
  // `name` names the job in its lock and in "already ran"; `subject` + backup id names it in
  // the cancelled status ("<subject><id> cancelled").
  JobRunner(std::shared_ptr<Repository> repo, std::shared_ptr<volume::BlockDevice> device,
            Options options, std::string name, std::string subject)
      : repo_(std::move(repo)),
        device_(std::move(device)),
        opts_(std::move(options)),
        workers_(std::max(1, opts_.workers)),
        ctl_(opts_.max_inflight_chunks > 0 ? opts_.max_inflight_chunks : 2 * workers_ + 1),
        name_(std::move(name)),
        subject_(std::move(subject)) {}

  // The job's states after kLocking; the lock is held. See "Lifetime".
  virtual Status RunStates() = 0;

  // One codec per worker index.
  std::vector<std::unique_ptr<ChunkCodec>> NewCodecs() const {
    std::vector<std::unique_ptr<ChunkCodec>> codecs;
    for (int i = 0; i < workers_; ++i) {
      codecs.push_back(std::make_unique<ChunkCodec>(repo_->compression_level()));
    }
    return codecs;
  }

  const std::shared_ptr<Repository> repo_;
  const std::shared_ptr<volume::BlockDevice> device_;
  const Options opts_;
  const int workers_;
  JobControl<State, Stats> ctl_;
  std::unique_ptr<RepositoryLock> lock_;  // held from kLocking until Run returns
  Manifest manifest_;                     // what Run returns on success

 private:
  Status TakeLock() {
    ASSIGN_OR_RETURN(lock_, repo_->Lock(LockKind::kShared, name_ + " " + opts_.backup_id));
    return Status::Ok();
  }

  const std::string name_;
  const std::string subject_;
};

}  // namespace scoria::backup::internal
