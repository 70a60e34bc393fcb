// BackupService: the backup service of one scoriad host (DESIGN.md "Services", "Backups").
// It serves the durable tasks the api enqueues for `backup@<host>` (jobs on the volumes of
// this host's backends, like Cinder's default of backing up on the volume's host) and for
// `backup` (work any backup service may do), runs BackupJob / RestoreJob / Verify on the
// repository (backup_driver = posix: a Repository in backup_posix_path; nfs: at the root of
// backup_share, through libnfs; s3, swift, ceph: a bucket, a container, a RADOS pool), reads
// and writes
// volumes through its own drivers for this host's backends (volume::MakeDriver), and finishes
// each task in the transaction that writes the final states.
//
//   create_backup (backup@host; backup creating, volume backing-up or user snapshot backing-up)
//     temp snapshot: wait until the volume manager's create_snapshot made it available
//     --OpenSnapshot + AllocatedRanges, parent manifest, BackupJob (progress written to the
//       row every second, relaxed; status no longer creating -> Cancel)-->
//     backup available (object_count, service_metadata = the manifest's record)
//     --failed for good, or interrupted kMaxJobAttempts times--> backup error + fail_reason
//     either way: volume back to its previous status / user snapshot available, temporary
//     snapshot deleting + delete_snapshot task for the volume's backend
//   restore_backup (backup@host of the volume; backup restoring, volume restoring-backup)
//     --Open + RestoreJob (progress as above)--> backup available, volume available
//     --failed for good--> backup available + fail_reason, volume error_restoring (a volume
//       created for the restore: error) + user message
//   restore_backup_when_created (backup; a restore into a volume still creating)
//     volume available --> volume restoring-backup + restore_backup for its host
//     volume error / gone --> backup available + fail_reason
//     no backup service on the volume's host --> also the volume error + user message
//   delete_backup (backup@host; deleting) --manifest removed, GC if no job runs--> row removed
//     --failed for good--> error_deleting
//   verify_backup (backup@host; available) --Repository::Verify (full)-->
//     verify_result "ok" or what is wrong, verified_at
//   import_backup (backup@host; creating) --the manifest named by service_metadata exists and
//     has the recorded digest--> available; else error + fail_reason
//
// A crash mid-job: at restart the task runs again (its lease is released); a backup re-runs
// from its snapshot (chunks already stored are found and not written again) and a restore
// re-writes the volume; after kMaxJobAttempts claims the job ends in error instead.
//
// Threading: handlers run on the task worker's threads; each job adds its own threads
// (workers, and a monitor that writes progress). The service object is shared read-only.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "backup/repository.h"
#include "common/config.h"
#include "db/backups_repo.h"
#include "db/database.h"
#include "tasks/protocol.h"
#include "tasks/worker.h"
#include "volume/driver.h"

namespace scoria::backup {

// Claims of one job after which a crash-interrupted job ends in error rather than re-running.
inline constexpr int kMaxJobAttempts = 5;
// Tries of a repository step (delete, verify, import) that fails with a retryable error.
inline constexpr int kMaxStoreAttempts = 5;

class BackupService {
 public:
  BackupService(db::Database& db, const Config& config);
  ~BackupService();

  // Opens the repository (creating it in an empty backup_posix_path) and a driver for each of
  // this host's backends. Errors name the path or backend.
  Status Start();
  // Targets: backup@<host> and backup.
  void RegisterHandlers(tasks::TaskWorker& worker);
  std::vector<std::string> Targets() const;
  // The cinder-backup service row's heartbeat; called every report_interval.
  Status Heartbeat();

  Repository& repository() { return *repo_; }

 private:
  Status HandleCreate(tasks::TaskContext& ctx);
  Status HandleRestore(tasks::TaskContext& ctx, const tasks::RestoreBackup& args);
  Status HandleRestoreWhenCreated(tasks::TaskContext& ctx,
                                  const tasks::RestoreBackupWhenCreated& args);
  // The backup leaves `restoring` (back to available; fail_reason says why a restore failed).
  static Status EndRestoring(db::Transaction& tx, const std::string& backup_id,
                             const Status& result);
  Status HandleDelete(tasks::TaskContext& ctx);
  Status HandleVerify(tasks::TaskContext& ctx);
  Status HandleImport(tasks::TaskContext& ctx);

  // Repository locks whose owner is an earlier process of this host ("host:pid" with another
  // pid) belong to a crashed scoriad: they protect nothing, and would hold off every GC until
  // they go stale. Removed at start, as the daemon releases that process's task leases.
  void RemoveLocksOfEarlierProcesses(const std::string& me);
  Result<std::shared_ptr<BackupStore>> OpenConfiguredStore(std::string* where);
  // The driver of the backend `volume_host` ("host@backend#pool") names, if this host has it.
  Result<volume::VolumeDriver*> DriverFor(const std::optional<std::string>& volume_host);
  // Ends a backup's create: the row's final state (ok: available, else error + reason) and its
  // source released (volume status, user snapshot, temporary snapshot deletion).
  Status FinishCreate(tasks::TaskContext& ctx, const std::string& backup_id, const Status& result,
                      const Manifest* manifest);
  // Waits (up to 10 minutes) for the temporary snapshot the volume service takes for a backup.
  // Returns the database's error (the task is retried); otherwise Ok, with the wait's outcome in
  // *outcome: Ok when the snapshot is available, cancelled when the backup left `creating`,
  // Internal when the snapshot failed or the wait timed out.
  Status AwaitTempSnapshot(const std::string& backup_id, const std::string& snapshot_id,
                           const std::string& volume_id, Status* outcome);

  db::Database& db_;
  const Config& config_;
  std::shared_ptr<Repository> repo_;
  std::map<std::string, std::unique_ptr<volume::VolumeDriver>> drivers_;  // by backend section
};

}  // namespace scoria::backup
