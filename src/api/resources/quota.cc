#include "api/resources/quota.h"

#include <optional>

#include "db/quotas_repo.h"
#include "db/snapshots_repo.h"
#include "db/volumes_repo.h"

namespace scoria::api {

Result<std::map<std::string, int64_t>> QuotaLimits(db::Transaction& tx, const Config& config,
                                                   const std::string& project) {
  std::map<std::string, int64_t> limits = {
      {"volumes", config.quota_volumes},
      {"gigabytes", config.quota_gigabytes},
      {"snapshots", config.quota_snapshots},
      {"backups", config.quota_backups},
      {"backup_gigabytes", config.quota_backup_gigabytes},
      {"per_volume_gigabytes", config.per_volume_size_limit},
  };
  ASSIGN_OR_RETURN(auto overrides, db::ProjectQuotaOverrides(tx, project));
  for (const auto& [k, v] : overrides) limits[k] = v;
  return limits;
}

namespace {
// volumes_gb: the project's volume gigabytes when the caller has counted them already.
Status CheckGigabytes(db::Transaction& tx, std::map<std::string, int64_t>& limits,
                      const std::string& project, int64_t gigabytes,
                      std::optional<int64_t> volumes_gb = std::nullopt) {
  const int64_t gb_limit = limits["gigabytes"];
  if (gigabytes <= 0 || gb_limit < 0) return Status::Ok();
  int64_t used = 0;
  if (volumes_gb) {
    ASSIGN_OR_RETURN(auto snaps, db::ProjectSnapshotUsage(tx, project));
    used = *volumes_gb + snaps.gigabytes;
  } else {
    ASSIGN_OR_RETURN(used, UsedGigabytes(tx, project));
  }
  if (used + gigabytes > gb_limit) {
    return ResourceExhausted(
        "VolumeSizeExceedsAvailableQuota: Requested volume or snapshot exceeds allowed "
        "gigabytes quota. Requested " +
        std::to_string(gigabytes) + "G, quota is " + std::to_string(gb_limit) + "G and " +
        std::to_string(used) + "G has been consumed.");
  }
  return Status::Ok();
}
}  // namespace

Result<int64_t> UsedGigabytes(db::Transaction& tx, const std::string& project) {
  ASSIGN_OR_RETURN(auto vols, db::ProjectUsage(tx, project));
  ASSIGN_OR_RETURN(auto snaps, db::ProjectSnapshotUsage(tx, project));
  return vols.gigabytes + snaps.gigabytes;
}

Status CheckSnapshotQuota(db::Transaction& tx, const Config& config, const std::string& project,
                          int64_t snapshots, int64_t gigabytes) {
  ASSIGN_OR_RETURN(auto limits, QuotaLimits(tx, config, project));
  RETURN_IF_ERROR(CheckGigabytes(tx, limits, project, gigabytes));
  const int64_t limit = limits["snapshots"];
  ASSIGN_OR_RETURN(auto used, db::ProjectSnapshotUsage(tx, project));
  if (snapshots > 0 && limit >= 0 && used.snapshots + snapshots > limit) {
    return ResourceExhausted("SnapshotLimitExceeded: Maximum number of snapshots allowed (" +
                             std::to_string(limit) + ") exceeded");
  }
  return Status::Ok();
}

Status CheckVolumeQuota(db::Transaction& tx, const Config& config, const std::string& project,
                        int64_t volumes, int64_t gigabytes, int64_t volume_size) {
  ASSIGN_OR_RETURN(auto limits, QuotaLimits(tx, config, project));
  const int64_t per_volume = limits["per_volume_gigabytes"];
  if (volume_size > 0 && per_volume >= 0 && volume_size > per_volume) {
    return ResourceExhausted(
        "VolumeSizeExceedsLimit: Requested volume size " + std::to_string(volume_size) +
        "G is larger than maximum allowed limit " + std::to_string(per_volume) + "G.");
  }
  const int64_t vol_limit = limits["volumes"];
  const bool counts =
      (volumes > 0 && vol_limit >= 0) || (gigabytes > 0 && limits["gigabytes"] >= 0);
  if (!counts) return Status::Ok();  // unlimited: nothing to count
  ASSIGN_OR_RETURN(auto used, db::ProjectUsage(tx, project));
  RETURN_IF_ERROR(CheckGigabytes(tx, limits, project, gigabytes, used.gigabytes));
  if (volumes > 0 && vol_limit >= 0 && used.volumes + volumes > vol_limit) {
    return ResourceExhausted("VolumeLimitExceeded: Maximum number of volumes allowed (" +
                             std::to_string(vol_limit) + ") exceeded for quota 'volumes'.");
  }
  return Status::Ok();
}

}  // namespace scoria::api
