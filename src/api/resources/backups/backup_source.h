// What a new backup reads, and how its source is held while the job runs (cinder/backup/
// api.py create): the volume itself (`available`, or `in-use` with force), through a
// temporary snapshot the backup's job reads and removes; or a user's snapshot of the volume
// (`available`), read as it is. Runs inside the caller's write transaction.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "db/backups_repo.h"
#include "db/database.h"
#include "db/volumes_repo.h"

namespace scoria::api {

struct BackupSource {
  std::optional<std::string> snapshot_id;  // the user's snapshot, when backing one up
  std::optional<int64_t> data_timestamp;   // the snapshot's creation time
};

// 400 (FailedPrecondition) with Cinder's messages when the volume or snapshot may not be
// backed up; 404 for an unknown snapshot.
Result<BackupSource> CheckBackupSource(db::Transaction& tx, const db::VolumeRecord& volume,
                                       const std::optional<std::string>& snapshot_id, bool force);
// Holds the source for the job: the volume -> backing-up (previous status kept) and a
// temporary snapshot queued on the volume's backend (backup.temp_snapshot_id), or the user's
// snapshot -> backing-up.
Status MarkBackupSource(db::Transaction& tx, db::VolumeRecord& volume, const BackupSource& source,
                        db::BackupRecord& backup);

}  // namespace scoria::api
