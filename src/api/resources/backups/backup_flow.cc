#include "api/resources/backups/backup_flow.h"

#include <nlohmann/json.hpp>

#include "api/resources/quota.h"
#include "api/resources/visibility.h"
#include "common/clock.h"
#include "common/ids.h"
#include "db/services_repo.h"
#include "db/tasks_repo.h"
#include "db/types_repo.h"
#include "lifecycle/transitions.h"
#include "lifecycle/volume_status.h"
#include "tasks/protocol.h"

namespace scoria::api {

using lifecycle::BackupOp;
using lifecycle::Can;
using lifecycle::Of;
using lifecycle::VolumeOp;
using nlohmann::json;

namespace {
bool ServiceUp(const db::ServiceRecord& s, const Config& config) {
  return !s.disabled && db::ServiceIsUp(s, NowMicros(), config.service_down_time);
}
}  // namespace

std::string VolumeServiceHost(const db::VolumeRecord& v) {
  if (!v.host) return "";
  return v.host->substr(0, v.host->find('@'));
}

Status CheckBackupServiceUp(db::Transaction& tx, const Config& config, const std::string& host) {
  if (!host.empty()) {
    ASSIGN_OR_RETURN(auto services, db::ListServices(tx, host, std::string(db::kBackupBinary)));
    for (const auto& s : services) {
      if (ServiceUp(s, config)) return Status::Ok();
    }
  }
  return Unavailable("Service cinder-backup could not be found.");
}

Result<std::string> AnyBackupServiceHost(db::Transaction& tx, const Config& config) {
  ASSIGN_OR_RETURN(auto services,
                   db::ListServices(tx, std::nullopt, std::string(db::kBackupBinary)));
  for (const auto& s : services) {
    if (ServiceUp(s, config)) return s.host;
  }
  return Unavailable("Service cinder-backup could not be found.");
}

Status CheckBackupQuota(db::Transaction& tx, const Config& config, const std::string& project,
                        int64_t backups, int64_t gigabytes) {
  ASSIGN_OR_RETURN(auto limits, QuotaLimits(tx, config, project));
  ASSIGN_OR_RETURN(auto used, db::ProjectBackupUsage(tx, project));
  const int64_t gb_limit = limits["backup_gigabytes"];
  if (gigabytes > 0 && gb_limit >= 0 && used.gigabytes + gigabytes > gb_limit) {
    return ResourceExhausted(
        "VolumeBackupSizeExceedsAvailableQuota: Requested backup exceeds allowed Backup "
        "gigabytes quota. Requested " +
        std::to_string(gigabytes) + "G, quota is " + std::to_string(gb_limit) + "G and " +
        std::to_string(used.gigabytes) + "G has been consumed.");
  }
  const int64_t limit = limits["backups"];
  if (backups > 0 && limit >= 0 && used.backups + backups > limit) {
    return ResourceExhausted("BackupLimitExceeded: Maximum number of backups allowed (" +
                             std::to_string(limit) + ") exceeded");
  }
  return Status::Ok();
}

Status CheckRestorable(const db::BackupRecord& backup) {
  if (!Can(BackupOp::kRestore, backup.status)) {
    return FailedPrecondition("Invalid backup: Backup status must be available but is " +
                              backup.status + ".");
  }
  return Status::Ok();
}

Result<db::BackupRecord> BackupForNewVolume(db::Transaction& tx, const Request& req,
                                            const std::string& backup_id,
                                            std::optional<int64_t> size) {
  ASSIGN_OR_RETURN(auto b, LoadVisibleBackup(tx, req, backup_id));
  RETURN_IF_ERROR(CheckRestorable(b));
  if (size && *size < b.size) {
    return FailedPrecondition("Invalid input received: Volume size '" + std::to_string(*size) +
                              "'GB cannot be smaller than the backup size '" +
                              std::to_string(b.size) + "'GB.");
  }
  return b;
}

Status StartRestore(db::Transaction& tx, const Config& config, db::BackupRecord& backup,
                    db::VolumeRecord& volume) {
  RETURN_IF_ERROR(CheckRestorable(backup));
  if (!Can(VolumeOp::kRestore, volume.status)) {
    return FailedPrecondition(
        "Invalid volume: Volume to be restored to must be available, but "
        "the current status is \"" +
        volume.status + "\".");
  }
  if (volume.size < backup.size) {
    return FailedPrecondition("Invalid volume: volume size " + std::to_string(volume.size) +
                              " is too small to restore backup of size " +
                              std::to_string(backup.size) + ".");
  }
  if (volume.project_id != backup.project_id) {
    return FailedPrecondition("Invalid volume: Volume " + volume.id +
                              " is not in the backup's project.");
  }
  const std::string host = VolumeServiceHost(volume);
  RETURN_IF_ERROR(CheckBackupServiceUp(tx, config, host));
  volume.previous_status = volume.status;
  volume.status = Of(VolumeOp::kRestore).during;
  RETURN_IF_ERROR(db::UpdateVolume(tx, volume));
  backup.status = Of(BackupOp::kRestore).during;
  backup.restore_volume_id = volume.id;
  backup.fail_reason.reset();
  RETURN_IF_ERROR(db::UpdateBackup(tx, backup));
  return tasks::Enqueue(tx, db::BackupTarget(host), backup.id,
                        tasks::RestoreBackup{.volume_id = volume.id, .new_volume = false})
      .status();
}

Status StartRestoreIntoNewVolume(db::Transaction& tx, const Config& config,
                                 db::BackupRecord& backup, const db::VolumeRecord& volume) {
  RETURN_IF_ERROR(CheckRestorable(backup));
  // Some backup service must exist to pick the task up; the one of the volume's host is
  // checked when the volume has been placed.
  RETURN_IF_ERROR(AnyBackupServiceHost(tx, config).status());
  backup.status = Of(BackupOp::kRestore).during;
  backup.restore_volume_id = volume.id;
  backup.fail_reason.reset();
  RETURN_IF_ERROR(db::UpdateBackup(tx, backup));
  return tasks::Enqueue(tx, db::kAnyBackupTarget, backup.id,
                        tasks::RestoreBackupWhenCreated{.volume_id = volume.id, .new_volume = true})
      .status();
}

Result<db::VolumeRecord> NewRestoreVolume(db::Transaction& tx, const Config& config,
                                          const std::string& project, const std::string& user,
                                          int64_t size, const std::string& name) {
  db::VolumeRecord v;
  v.id = NewUuid();
  v.project_id = project;
  v.user_id = user;
  v.name = name;
  v.description = "auto-created_from_restore_from_backup";
  v.size = size;
  v.status = Of(VolumeOp::kCreate).during;
  v.created_at = NowMicros();
  v.availability_zone = config.storage_availability_zone;
  ASSIGN_OR_RETURN(auto type, db::GetTypeByName(tx, config.default_volume_type));
  v.volume_type_id = type.id;
  RETURN_IF_ERROR(CheckVolumeQuota(tx, config, project, v.volume_type_id, 1, size, size));
  RETURN_IF_ERROR(db::InsertVolume(tx, v));
  RETURN_IF_ERROR(
      tasks::Enqueue(tx, db::kSchedulerTarget, v.id, tasks::ScheduleCreateVolume{}).status());
  return v;
}

}  // namespace scoria::api
