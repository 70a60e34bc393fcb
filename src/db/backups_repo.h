// Backup rows (Cinder's backups table) and their metadata.
//
// A backup is a copy of one volume's bytes in the backup repository (DESIGN.md "Backups"),
// made and restored by the backup service of the volume's host. Its status moves
//
//   creating --job ok--> available --restore--> restoring --job ends--> available
//      |                    |   \--delete--> deleting --repository drop--> row removed
//      \--job failed--> error (fail_reason)        \--repository failed--> error_deleting
//
// An incremental backup names its parent (parent_id: the latest available backup of the same
// volume when it was asked for); a backup with children cannot be deleted (Cinder's rule).
// While a job runs, progress_* hold what it has done (relaxed writes: a crash may lose the
// last few, never the final state). Functions run inside the caller's transaction; a missing
// backup is NotFound with Cinder's message ("Backup <id> could not be found.").
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "db/database.h"
#include "lifecycle/backup_status.h"

namespace scoria::db {

namespace backup_status = ::scoria::backup_status;  // lifecycle/backup_status.h

// The backup service's tasks are in tasks/protocol.h (CreateBackup, RestoreBackup, ...).

// The target any backup service serves, and the one of the service on `host`.
inline constexpr char kAnyBackupTarget[] = "backup";
inline std::string BackupTarget(const std::string& host) { return "backup@" + host; }

struct BackupRecord {
  std::string id;
  std::string project_id;
  std::string user_id;
  std::string volume_id;
  std::optional<std::string> snapshot_id;  // the user's snapshot it was taken from
  std::optional<std::string> parent_id;    // incremental: its parent backup
  std::optional<std::string> name;
  std::optional<std::string> description;
  std::optional<std::string> container;
  std::string availability_zone;
  std::optional<std::string> host;     // the host whose backup service runs its jobs
  std::optional<std::string> service;  // repository driver ("posix")
  // The repository's record of the manifest (backup::RecordToJson), written when the job ends;
  // export_record carries it and import_record checks it.
  std::optional<std::string> service_metadata;
  std::string status;
  std::optional<std::string> fail_reason;
  int64_t size = 0;          // GiB (the volume's size)
  int64_t object_count = 0;  // chunks the manifest references
  int64_t data_timestamp = 0;
  // The snapshot the job reads, made and removed by the job itself (none for a backup of a
  // user's snapshot).
  std::optional<std::string> temp_snapshot_id;
  std::optional<std::string> restore_volume_id;  // the volume a running restore writes
  // Progress of the running job ("backup", "restore", "verify"); cleared when it ends.
  std::optional<std::string> progress_op;
  int64_t progress_done = 0;   // bytes
  int64_t progress_total = 0;  // bytes
  // Last os-verify: "ok" or what was wrong, and when.
  std::optional<std::string> verify_result;
  std::optional<int64_t> verified_at;
  int64_t created_at = 0;
  std::optional<int64_t> updated_at;
  std::map<std::string, std::string> metadata;
};

struct BackupFilter {
  std::optional<std::string> project_id;      // nullopt: every project
  std::map<std::string, std::string> equals;  // column -> value (name, status, volume_id...)
  std::map<std::string, std::string> like;    // column -> substring
};

// The columns a filter may name.
bool IsBackupColumn(const std::string& column);

Result<BackupRecord> GetBackup(Transaction& tx, const std::string& id);
// Unsorted (the API pages in memory: a project's backups are bounded by its quota).
Result<std::vector<BackupRecord>> ListBackups(Transaction& tx, const BackupFilter& filter);
// AlreadyExists when the id is taken.
Status InsertBackup(Transaction& tx, const BackupRecord& b);
// Writes every mutable column (not metadata); bumps updated_at. NotFound if the row is gone.
Status UpdateBackup(Transaction& tx, const BackupRecord& b);
Status DeleteBackup(Transaction& tx, const std::string& id);
Status ReplaceBackupMetadata(Transaction& tx, const std::string& id,
                             const std::map<std::string, std::string>& md);
// Only the progress columns (a running job's periodic write). NotFound if the row is gone.
Status SetBackupProgress(Transaction& tx, const std::string& id, const std::string& op,
                         int64_t done, int64_t total);

// The parent an incremental backup of `volume_id` by `project_id` gets: that project's
// available backup of the volume with the latest data_timestamp (strictly before `before` when
// given). Another project's backups of the same volume (an admin's) are never a parent, as
// in Cinder. nullopt when there is none.
Result<std::optional<BackupRecord>> LatestAvailableBackup(Transaction& tx,
                                                          const std::string& volume_id,
                                                          const std::string& project_id,
                                                          std::optional<int64_t> before);
// Whether a backup is being restored into `volume_id` (status restoring, restore_volume_id set):
// a volume created for a restore finishes its creation in restoring-backup, never available.
Result<bool> IsRestoreTarget(Transaction& tx, const std::string& volume_id);
// Backups whose parent_id is `id`.
Result<int64_t> CountDependentBackups(Transaction& tx, const std::string& id);
// Ids among `ids` that have dependants (for has_dependent_backups in lists).
Result<std::map<std::string, int64_t>> DependentCounts(Transaction& tx,
                                                       const std::vector<std::string>& ids);

struct BackupUsage {
  int64_t backups = 0;
  int64_t gigabytes = 0;
};
// Backups and their GiB for one project (quota usage is counted, never cached).
Result<BackupUsage> ProjectBackupUsage(Transaction& tx, const std::string& project_id);

}  // namespace scoria::db
