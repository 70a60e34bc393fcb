// VolumeManager: one per enabled backend (`host@backend`). It serves that backend's tasks
// (create_volume, delete_volume, extend_volume) by calling the driver and then finishing the
// task in the transaction that writes the volume's final state, and it reports the backend's
// stats and heartbeat into the services table every report_interval.
//
//   create_volume:  creating --driver ok--> available
//                            --driver failed, attempts left--> (re)schedule task, host cleared
//                            --driver failed, none left--> error + user message
//   delete_volume:  deleting --driver ok--> row removed
//                            --driver failed for good--> error_deleting + user message
//   extend_volume:  extending --driver ok--> previous status, size = new size
//                             --driver failed for good--> error_extending + user message
//
// Transient driver errors (Unavailable) are retried by the task worker with backoff.
#pragma once

#include <memory>
#include <string>

#include "common/config.h"
#include "db/database.h"
#include "tasks/worker.h"
#include "volume/driver.h"

namespace scoria::volume {

class VolumeManager {
 public:
  VolumeManager(db::Database& db, const Config& config, const BackendConfig& backend,
                std::unique_ptr<VolumeDriver> driver);

  // "host@backend": the task target and the service host.
  const std::string& backend_host() const { return backend_host_; }
  // "host@backend#pool": the single pool of this backend.
  const std::string& pool_host() const { return pool_host_; }

  // Driver set-up plus a consistency check between the backend and the database (files
  // without rows are logged, never deleted: a wrong database must not wipe a backend).
  Status Start();
  void RegisterHandlers(tasks::TaskWorker& worker);
  // Heartbeat + capabilities; called every report_interval.
  Status ReportStats();

 private:
  Status HandleCreate(tasks::TaskContext& ctx);
  Status HandleDelete(tasks::TaskContext& ctx);
  Status HandleExtend(tasks::TaskContext& ctx);
  // A failed create: reschedule elsewhere while attempts remain, else error.
  Status FailCreate(tasks::TaskContext& ctx, const Status& why);

  db::Database& db_;
  const Config& config_;
  const BackendConfig backend_;
  std::unique_ptr<VolumeDriver> driver_;
  std::string backend_host_;
  std::string pool_host_;
};

// Transient errors are worth a retry of the same step; the rest are final for that step.
bool IsTransient(const Status& st);
inline constexpr int kMaxStepAttempts = 5;

}  // namespace scoria::volume
