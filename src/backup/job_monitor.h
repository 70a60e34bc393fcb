// JobMonitor: the watcher of one running backup, restore or verify job. Every interval it
// writes the job's progress into the backup row (relaxed durability: a crash may lose the last
// reports, which the re-run job rewrites) and reads the row back; when the row's status is no
// longer `expected_status` (a delete or reset-state meanwhile) it cancels the job once.
// The destructor stops the monitor; the caller clears the progress in its final transaction.
//
// Threading: one thread of its own; progress() and cancel() are called from it.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "backup/job.h"
#include "db/database.h"

namespace scoria::backup {

class JobMonitor {
 public:
  JobMonitor(db::Database& db, std::string backup_id, std::string op, std::string expected_status,
             std::function<Progress()> progress, std::function<void()> cancel,
             std::chrono::milliseconds interval = std::chrono::milliseconds(500));
  ~JobMonitor();
  JobMonitor(const JobMonitor&) = delete;
  JobMonitor& operator=(const JobMonitor&) = delete;

  // True once the monitor cancelled the job because the row changed.
  bool cancelled() const { return cancelled_; }

 private:
  void Loop();
  void Report();

  db::Database& db_;
  const std::string backup_id_;
  const std::string op_;
  const std::string expected_status_;
  std::function<Progress()> progress_;
  std::function<void()> cancel_;
  const std::chrono::milliseconds interval_;
  std::atomic<bool> cancelled_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;  // GUARDED_BY(mu_)
  std::thread thread_;
};

// Runs `job` (a BackupJob or RestoreJob: Run(), progress(), Cancel()) on the calling thread
// under a JobMonitor for backup `backup_id` (see above for op and expected_status), and
// returns what Run() returned. The monitor has stopped when this returns.
template <class Job>
[[nodiscard]] auto RunMonitored(db::Database& db, const std::string& backup_id,
                                const std::string& op, const std::string& expected_status, Job& job)
    -> decltype(job.Run()) {
  JobMonitor monitor(
      db, backup_id, op, expected_status, [&] { return job.progress(); }, [&] { job.Cancel(); });
  return job.Run();
}

}  // namespace scoria::backup
