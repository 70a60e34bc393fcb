// Daemon: the wiring of one scoriad process. From a validated Config it opens and migrates the
// database, then starts the enabled services (DESIGN.md "Services"):
//   api        - the HTTP server with every v3 route
//   scheduler  - a task worker for target "scheduler" (SchedulerService)
//   volume     - the iSCSI target (target::TargetServer on target_ip_address:target_port),
//                and per backend a VolumeManager and a task worker for "host@backend"; the
//                managers publish attachments through the target (a volume::Exporter)
//   backup     - a BackupService (the repository in backup_posix_path, drivers for this
//                host's backends) and its task worker for "backup@host" and "backup"
// plus one reporter thread that sends heartbeats and backend stats every report_interval.
//
// Start-up recovery: leases held by an earlier process of this host are released at once, so
// work interrupted by a crash resumes immediately instead of when the leases expire.
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "api/http/http_server.h"
#include "api/http/router.h"
#include "backup/service.h"
#include "common/config.h"
#include "db/database.h"
#include "scheduler/scheduler_service.h"
#include "target/target_server.h"
#include "tasks/worker.h"
#include "volume/exporter.h"
#include "volume/manager.h"

namespace scoria::runtime {

class Daemon {
 public:
  explicit Daemon(Config config);
  ~Daemon();

  // Errors name what failed (database, a backend's driver, the API port...).
  Status Start();
  // Stops accepting requests and claiming tasks, waits for running work. Idempotent.
  void Stop();
  uint16_t api_port() const { return http_ ? http_->port() : 0; }

 private:
  void ReportLoop();

  Config config_;
  std::string owner_prefix_;
  std::unique_ptr<db::Database> db_;
  std::unique_ptr<scheduler::SchedulerService> scheduler_;
  std::unique_ptr<volume::Exporter> exporter_;  // outlives the managers that use it
  target::TargetServer* target_ = nullptr;       // exporter_ itself, when volume is enabled
  std::vector<std::unique_ptr<volume::VolumeManager>> managers_;
  std::unique_ptr<backup::BackupService> backup_;
  std::vector<std::unique_ptr<tasks::TaskWorker>> workers_;
  std::unique_ptr<api::Router> router_;
  std::unique_ptr<api::HttpServer> http_;
  std::thread reporter_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;  // GUARDED_BY(mu_)
};

}  // namespace scoria::runtime
