// Internal to backup/ (not a public header): the small concurrency pieces the jobs share.
//  - WorkerPool: N threads draining one FIFO; a task gets its worker's index (so it can use
//    per-worker state such as a ChunkCodec). The destructor runs what is queued, then joins.
//  - InflightLimiter: bounds the chunks in flight (hence the memory), and lets the driver wait
//    until everything issued has finished.
//  - Await: runs an asynchronous BlockDevice call and waits for its completion.
//  - JobControl: what both jobs' state machines share (state, progress, stats, cancellation,
//    first error, the in-flight limit), so each job keeps only its own handlers.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

#include "backup/job.h"
#include "backup/manifest.h"
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

}  // namespace scoria::backup::internal
