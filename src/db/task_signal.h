// The wake-up counters behind Database::NotifyTasks / TaskSequence / WaitForTasks, shared by
// both implementations (internal to db/). Thread-safe.
//
// One counter per task target plus one for everyone. A worker's sequence is the sum of the
// shared counter and its targets' counters, so a task for `host@lvm` wakes the workers of
// `host@lvm` and nobody else: on PostgreSQL every wake-up that finds nothing is still a claim
// transaction on the server, and before the counters were per target each step of a create
// cost one empty claim per worker in the process.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace scoria::db {

class TaskSignal {
 public:
  // Wakes the workers of `targets`, or every worker when it is empty.
  void Bump(const std::vector<std::string>& targets = {}) {
    std::lock_guard lock(mu_);
    if (targets.empty()) ++all_;
    for (const std::string& t : targets) ++by_target_[t];
    cv_.notify_all();
  }
  uint64_t Sequence(const std::vector<std::string>& targets) {
    std::lock_guard lock(mu_);
    return SequenceLocked(targets);
  }
  // Returns when the sequence of `targets` differs from `seen`, or at the timeout.
  void Wait(const std::vector<std::string>& targets, uint64_t seen,
            std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, timeout, [&] { return SequenceLocked(targets) != seen; });
  }

 private:
  uint64_t SequenceLocked(const std::vector<std::string>& targets) {
    uint64_t sum = all_;
    for (const std::string& t : targets) {
      auto it = by_target_.find(t);
      if (it != by_target_.end()) sum += it->second;
    }
    return sum;
  }

  std::mutex mu_;
  std::condition_variable cv_;
  uint64_t all_ = 0;                            // GUARDED_BY(mu_)
  std::map<std::string, uint64_t> by_target_;   // GUARDED_BY(mu_)
};

}  // namespace scoria::db
