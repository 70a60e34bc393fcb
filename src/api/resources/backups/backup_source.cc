#include "api/resources/backups/backup_source.h"

#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "common/ids.h"
#include "db/snapshots_repo.h"
#include "db/tasks_repo.h"
#include "lifecycle/transitions.h"
#include "lifecycle/volume_status.h"
#include "tasks/protocol.h"

namespace scoria::api {

using lifecycle::Can;
using lifecycle::Of;
using lifecycle::SnapshotOp;
using lifecycle::VolumeOp;

Result<BackupSource> CheckBackupSource(db::Transaction& tx, const db::VolumeRecord& volume,
                                       const std::optional<std::string>& snapshot_id, bool force) {
  BackupSource source;
  if (!volume.host) {
    return FailedPrecondition("Invalid volume: Volume " + volume.id + " has no host.");
  }
  if (snapshot_id) {
    ASSIGN_OR_RETURN(auto snap, db::GetSnapshot(tx, *snapshot_id));
    if (snap.project_id != volume.project_id || snap.volume_id != volume.id) {
      return FailedPrecondition("Invalid snapshot: Snapshot " + *snapshot_id +
                                " is not a snapshot of volume " + volume.id + ".");
    }
    if (!Can(SnapshotOp::kBackup, snap.status)) {
      return FailedPrecondition("Invalid snapshot: Snapshot to be backed up must be available, "
                                "but the current status is \"" + snap.status + "\".");
    }
    source.snapshot_id = snap.id;
    source.data_timestamp = snap.created_at;
    return source;
  }
  if (volume.status == volume_status::kInUse && !force) {
    return FailedPrecondition("Invalid volume: Backing up an in-use volume must use the force "
                              "flag.");
  }
  if (!Can(VolumeOp::kBackup, volume.status)) {
    return FailedPrecondition("Invalid volume: Volume to be backed up must be available or "
                              "in-use, but the current status is \"" + volume.status + "\".");
  }
  return source;
}

Status MarkBackupSource(db::Transaction& tx, db::VolumeRecord& volume, const BackupSource& source,
                        db::BackupRecord& backup) {
  if (source.snapshot_id) {
    ASSIGN_OR_RETURN(auto snap, db::GetSnapshot(tx, *source.snapshot_id));
    snap.status = Of(SnapshotOp::kBackup).during;
    return db::UpdateSnapshot(tx, snap);
  }
  volume.previous_status = volume.status;
  volume.status = Of(VolumeOp::kBackup).during;
  RETURN_IF_ERROR(db::UpdateVolume(tx, volume));
  // The temporary snapshot (Cinder's temp_snapshot_id): made by the volume manager, which
  // quiesces an attached volume for the instant of the copy, so the backup reads a consistent
  // image while the volume stays usable; the backup's job deletes it when it ends.
  db::SnapshotRecord snap;
  snap.id = NewUuid();
  snap.project_id = volume.project_id;
  snap.user_id = backup.user_id;
  snap.volume_id = volume.id;
  snap.name = "backup-snap-" + backup.id;
  snap.description = "temporary snapshot of backup " + backup.id;
  snap.size = volume.size;
  snap.status = Of(SnapshotOp::kCreate).during;
  snap.created_at = NowMicros();
  RETURN_IF_ERROR(db::InsertSnapshot(tx, snap));
  backup.temp_snapshot_id = snap.id;
  backup.data_timestamp = snap.created_at;
  const std::string backend = volume.host->substr(0, volume.host->find('#'));
  return tasks::Enqueue(tx, backend, volume.id, tasks::CreateSnapshot{.snapshot_id = snap.id})
      .status();
}

}  // namespace scoria::api
