#include "backup/job_monitor.h"

#include <spdlog/spdlog.h>

#include "db/backups_repo.h"

namespace scoria::backup {

JobMonitor::JobMonitor(db::Database& db, std::string backup_id, std::string op,
                       std::string expected_status, std::function<Progress()> progress,
                       std::function<void()> cancel, std::chrono::milliseconds interval)
    : db_(db),
      backup_id_(std::move(backup_id)),
      op_(std::move(op)),
      expected_status_(std::move(expected_status)),
      progress_(std::move(progress)),
      cancel_(std::move(cancel)),
      interval_(interval) {
  Report();  // the row shows the job at once, at 0 %
  thread_ = std::thread([this] { Loop(); });
}

JobMonitor::~JobMonitor() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void JobMonitor::Loop() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    cv_.wait_for(lock, interval_, [&] { return stop_; });
    if (stop_) break;
    lock.unlock();
    Report();
    lock.lock();
  }
}

void JobMonitor::Report() {
  const Progress p = progress_();
  std::string status;
  Status st = db::InWriteTransaction(
      db_,
      [&](db::Transaction& tx) {
        ASSIGN_OR_RETURN(auto b, db::GetBackup(tx, backup_id_));
        status = b.status;
        if (status != expected_status_) return Status::Ok();
        return db::SetBackupProgress(tx, backup_id_, op_, static_cast<int64_t>(p.bytes_done),
                                     static_cast<int64_t>(p.bytes_total));
      },
      db::Durability::kRelaxed);
  if (st.code() == StatusCode::kNotFound) status.clear();
  else if (!st.ok()) {
    spdlog::warn("backup {}: progress report failed: {}", backup_id_, st.ToString());
    return;
  }
  if (status != expected_status_ && !cancelled_.exchange(true)) {
    spdlog::info("backup {}: status is now '{}', cancelling the {}", backup_id_, status, op_);
    cancel_();
  }
}

}  // namespace scoria::backup
