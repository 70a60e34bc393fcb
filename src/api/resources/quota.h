// Quota checks for the handlers: limits are the config defaults overridden per project
// (db/quotas_repo.h); usage is counted in the caller's write transaction, so a check and the
// insert it guards are atomic. Failures are ResourceExhausted (413 overLimit) with Cinder's
// messages.
#pragma once

#include <map>
#include <string>

#include "common/config.h"
#include "db/database.h"

namespace scoria::api {

// Effective limits of a project: volumes, gigabytes, snapshots, backups, backup_gigabytes,
// per_volume_gigabytes (-1 = unlimited).
Result<std::map<std::string, int64_t>> QuotaLimits(db::Transaction& tx, const Config& config,
                                                   const std::string& project);
// Checks that `project` may add `volumes` volumes and `gigabytes` GiB (one volume of
// `volume_size` GiB for the per-volume limit; 0 to skip it).
// Snapshots' GiB count in `gigabytes` too (Cinder's default, no_snapshot_gb_quota=False).
Status CheckVolumeQuota(db::Transaction& tx, const Config& config, const std::string& project,
                        int64_t volumes, int64_t gigabytes, int64_t volume_size);
// Checks that `project` may add `snapshots` snapshots holding `gigabytes` GiB (413
// SnapshotLimitExceeded, or the shared gigabytes quota).
Status CheckSnapshotQuota(db::Transaction& tx, const Config& config, const std::string& project,
                          int64_t snapshots, int64_t gigabytes);
// Used GiB of a project: its volumes' plus its snapshots'.
Result<int64_t> UsedGigabytes(db::Transaction& tx, const std::string& project);

}  // namespace scoria::api
