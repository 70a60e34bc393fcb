// The wake-up counter behind Database::NotifyTasks / TaskSequence / WaitForTasks, shared by
// both implementations (internal to db/). Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>

namespace scoria::db {

class TaskSignal {
 public:
  void Bump() {
    std::lock_guard lock(mu_);
    ++seq_;
    cv_.notify_all();
  }
  uint64_t Sequence() {
    std::lock_guard lock(mu_);
    return seq_;
  }
  // Returns when the sequence differs from `seen`, or at the timeout.
  void Wait(uint64_t seen, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, timeout, [&] { return seq_ != seen; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  uint64_t seq_ = 0;  // GUARDED_BY(mu_)
};

}  // namespace scoria::db
