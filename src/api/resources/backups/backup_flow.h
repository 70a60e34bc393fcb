// The backup rules the Backups API and the Volumes API (create with backup_id, 3.47) share:
// is a backup service up for a host, the backup quotas, and how a restore is started. Each
// runs inside the caller's write transaction, so a check and the rows it guards commit
// together; the commit wakes the workers of the tasks they enqueue.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "api/http/http.h"
#include "common/config.h"
#include "db/backups_repo.h"
#include "db/database.h"
#include "db/volumes_repo.h"

namespace scoria::api {

// "host" of a volume placed on "host@backend#pool"; "" when not placed.
std::string VolumeServiceHost(const db::VolumeRecord& v);

// OK when a backup service on `host` is up and enabled; Unavailable (503) "Service
// cinder-backup could not be found." otherwise (Cinder's ServiceNotFound).
Status CheckBackupServiceUp(db::Transaction& tx, const Config& config, const std::string& host);
// Any host whose backup service is up and enabled; Unavailable when none.
Result<std::string> AnyBackupServiceHost(db::Transaction& tx, const Config& config);

// The project may add `backups` backups of `gigabytes` GiB; 413 with Cinder's messages
// (BackupLimitExceeded, VolumeBackupSizeExceedsAvailableQuota) otherwise.
Status CheckBackupQuota(db::Transaction& tx, const Config& config, const std::string& project,
                        int64_t backups, int64_t gigabytes);

// Restore rules for an existing volume: backup `available`; volume `available`, in the
// backup's project, at least the backup's size, placed on a host with a backup service up.
// Then backup -> restoring, volume -> restoring-backup, and a restore task for the volume's
// host. 400 (FailedPrecondition) with Cinder's messages when a rule fails.
Status StartRestore(db::Transaction& tx, const Config& config, db::BackupRecord& backup,
                    db::VolumeRecord& volume);
// For a volume row the caller has just inserted (`creating`, scheduling queued): backup ->
// restoring and a task that waits for the volume and then restores into it (the volume's
// status goes creating -> restoring-backup -> available, or error when the restore fails).
Status StartRestoreIntoNewVolume(db::Transaction& tx, const Config& config,
                                 db::BackupRecord& backup, const db::VolumeRecord& volume);
// Inserts the volume a restore without volume_id creates (Cinder names it
// "restore_backup_<id>"): `creating`, the default type and availability zone, scheduling
// queued, after the volume quota check.
Result<db::VolumeRecord> NewRestoreVolume(db::Transaction& tx, const Config& config,
                                          const std::string& project, const std::string& user,
                                          int64_t size, const std::string& name);
// The backup a volume create with backup_id (3.47) restores: visible to the caller (its
// project, or any for an admin; else 404), `available`, and no larger than `size` when one was
// asked for (400).
Result<db::BackupRecord> BackupForNewVolume(db::Transaction& tx, const Request& req,
                                            const std::string& backup_id,
                                            std::optional<int64_t> size);
// The backup must be `available` to be restored (400 "Invalid backup: ...").
Status CheckRestorable(const db::BackupRecord& backup);

}  // namespace scoria::api
