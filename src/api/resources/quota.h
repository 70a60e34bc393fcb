// Quotas as Cinder keeps them: a limit per resource per project, from three layers (the
// quota_* options, then the "default" quota class, os-quota-class-sets/default, then the
// project's own os-quota-sets values), and per volume type the resources volumes_<type>,
// gigabytes_<type> and snapshots_<type> (unlimited unless set). Usage is counted in the
// caller's write transaction (db/quotas_repo.h: nothing is reserved, so nothing can leak),
// and write transactions are serialised, so a check and the insert it guards are atomic: two
// racing creates never both pass the last unit. Failures are ResourceExhausted (413 overLimit)
// with Cinder's messages.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "common/config.h"
#include "db/database.h"

namespace scoria::api {

using QuotaSet = std::map<std::string, int64_t>;

// The resources of a quota set: volumes, snapshots, gigabytes, backups, backup_gigabytes,
// per_volume_gigabytes, groups, then volumes_/gigabytes_/snapshots_<name> for every volume
// type, as Cinder lists them.
Result<std::vector<std::string>> QuotaResourceNames(db::Transaction& tx);
// The limits a project gets unless it has its own: the options and the default class.
Result<QuotaSet> DefaultQuotaLimits(db::Transaction& tx, const Config& config);
// The limits of quota class `name`: the options overridden by that class's rows.
Result<QuotaSet> QuotaClassLimits(db::Transaction& tx, const Config& config,
                                  const std::string& name);
// Effective limits of a project (-1 = unlimited).
Result<QuotaSet> QuotaLimits(db::Transaction& tx, const Config& config, const std::string& project);
// In-use counts of every resource of QuotaResourceNames.
Result<QuotaSet> QuotaUsage(db::Transaction& tx, const std::string& project);

// Checks that `project` may add `volumes` volumes and `gigabytes` GiB of type `type_id` (one
// volume of `volume_size` GiB for the per-volume limit; 0 to skip it), against the project's
// and the type's limits. Snapshots' GiB count in `gigabytes` too (Cinder's default,
// no_snapshot_gb_quota=False).
Status CheckVolumeQuota(db::Transaction& tx, const Config& config, const std::string& project,
                        const std::string& type_id, int64_t volumes, int64_t gigabytes,
                        int64_t volume_size);
// Checks that `project` may add `snapshots` snapshots holding `gigabytes` GiB of volumes of
// type `type_id` (413 SnapshotLimitExceeded, or a gigabytes quota).
Status CheckSnapshotQuota(db::Transaction& tx, const Config& config, const std::string& project,
                          const std::string& type_id, int64_t snapshots, int64_t gigabytes);

}  // namespace scoria::api
