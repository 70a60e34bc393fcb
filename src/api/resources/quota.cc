#include "api/resources/quota.h"

#include "db/backups_repo.h"
#include "db/quotas_repo.h"
#include "db/snapshots_repo.h"
#include "db/types_repo.h"
#include "db/volumes_repo.h"

namespace scoria::api {
namespace {

constexpr int64_t kDefaultGroupsQuota = 10;  // Cinder's quota_groups

const char* const kPerTypePrefixes[] = {"volumes_", "gigabytes_", "snapshots_"};

QuotaSet OptionLimits(const Config& config) {
  return {{"volumes", config.quota_volumes},
          {"snapshots", config.quota_snapshots},
          {"gigabytes", config.quota_gigabytes},
          {"backups", config.quota_backups},
          {"backup_gigabytes", config.quota_backup_gigabytes},
          {"per_volume_gigabytes", config.per_volume_size_limit},
          {"groups", kDefaultGroupsQuota}};
}

// The options, every per-type resource unlimited, then the class's rows.
Result<QuotaSet> ClassLayer(db::Transaction& tx, const Config& config, const std::string& name) {
  QuotaSet limits = OptionLimits(config);
  ASSIGN_OR_RETURN(auto names, QuotaResourceNames(tx));
  for (const auto& r : names) limits.emplace(r, -1);
  ASSIGN_OR_RETURN(auto rows, db::QuotaClassOverrides(tx, name));
  for (const auto& [k, v] : rows) {
    if (limits.contains(k)) limits[k] = v;  // a deleted type's rows are ignored
  }
  return limits;
}

// Volumes and GiB (volumes' plus their snapshots') of one type in a project.
struct TypeUsage {
  int64_t volumes = 0;
  int64_t snapshots = 0;
  int64_t gigabytes = 0;
};

Result<TypeUsage> UsageOfType(db::Transaction& tx, const std::string& project,
                              const std::string& type_id) {
  ASSIGN_OR_RETURN(auto vols, db::ProjectTypeUsage(tx, project, type_id));
  ASSIGN_OR_RETURN(auto snaps, db::ProjectTypeSnapshotUsage(tx, project, type_id));
  return TypeUsage{vols.volumes, snaps.snapshots, vols.gigabytes + snaps.gigabytes};
}

Status Exceeds(const std::string& resource, int64_t limit, int64_t used, int64_t wanted) {
  return ResourceExhausted(
      "VolumeSizeExceedsAvailableQuota: Requested volume or snapshot exceeds allowed " + resource +
      " quota. Requested " + std::to_string(wanted) + "G, quota is " + std::to_string(limit) +
      "G and " + std::to_string(used) + "G has been consumed.");
}

// The limits of the type's resources, checked against what the type already uses.
Status CheckTypeQuota(db::Transaction& tx, const QuotaSet& limits, const std::string& project,
                      const std::string& type_id, int64_t volumes, int64_t snapshots,
                      int64_t gigabytes) {
  if (type_id.empty()) return Status::Ok();
  auto name = db::GetTypeName(tx, type_id);
  if (!name.ok()) return Status::Ok();  // the type is gone: no per-type limit applies
  auto limit = [&](const std::string& r) {
    auto it = limits.find(r);
    return it == limits.end() ? int64_t{-1} : it->second;
  };
  const int64_t vol_limit = limit("volumes_" + *name);
  const int64_t snap_limit = limit("snapshots_" + *name);
  const int64_t gb_limit = limit("gigabytes_" + *name);
  if (vol_limit < 0 && snap_limit < 0 && gb_limit < 0) return Status::Ok();
  ASSIGN_OR_RETURN(TypeUsage used, UsageOfType(tx, project, type_id));
  if (gigabytes > 0 && gb_limit >= 0 && used.gigabytes + gigabytes > gb_limit) {
    return Exceeds("gigabytes_" + *name, gb_limit, used.gigabytes, gigabytes);
  }
  if (volumes > 0 && vol_limit >= 0 && used.volumes + volumes > vol_limit) {
    return ResourceExhausted("VolumeLimitExceeded: Maximum number of volumes allowed (" +
                             std::to_string(vol_limit) + ") exceeded for quota 'volumes_" + *name +
                             "'.");
  }
  if (snapshots > 0 && snap_limit >= 0 && used.snapshots + snapshots > snap_limit) {
    return ResourceExhausted("SnapshotLimitExceeded: Maximum number of snapshots allowed (" +
                             std::to_string(snap_limit) + ") exceeded");
  }
  return Status::Ok();
}

// The project-wide gigabytes limit (volumes' and snapshots' GiB together).
Status CheckGigabytes(db::Transaction& tx, const QuotaSet& limits, const std::string& project,
                      int64_t gigabytes) {
  const int64_t gb_limit = limits.at("gigabytes");
  if (gigabytes <= 0 || gb_limit < 0) return Status::Ok();
  ASSIGN_OR_RETURN(auto vols, db::ProjectUsage(tx, project));
  ASSIGN_OR_RETURN(auto snaps, db::ProjectSnapshotUsage(tx, project));
  const int64_t used = vols.gigabytes + snaps.gigabytes;
  if (used + gigabytes > gb_limit) return Exceeds("gigabytes", gb_limit, used, gigabytes);
  return Status::Ok();
}

}  // namespace

Result<std::vector<std::string>> QuotaResourceNames(db::Transaction& tx) {
  std::vector<std::string> names = {"volumes", "snapshots",        "gigabytes",
                                    "backups", "backup_gigabytes", "per_volume_gigabytes",
                                    "groups"};
  ASSIGN_OR_RETURN(auto types, db::ListTypes(tx, std::nullopt, std::nullopt));
  for (const auto& t : types) {
    for (const char* prefix : kPerTypePrefixes) names.push_back(prefix + t.name);
  }
  return names;
}

Result<QuotaSet> DefaultQuotaLimits(db::Transaction& tx, const Config& config) {
  return ClassLayer(tx, config, "default");
}

Result<QuotaSet> QuotaClassLimits(db::Transaction& tx, const Config& config,
                                  const std::string& name) {
  return ClassLayer(tx, config, name);
}

Result<QuotaSet> QuotaLimits(db::Transaction& tx, const Config& config,
                             const std::string& project) {
  ASSIGN_OR_RETURN(QuotaSet limits, DefaultQuotaLimits(tx, config));
  ASSIGN_OR_RETURN(auto overrides, db::ProjectQuotaOverrides(tx, project));
  for (const auto& [k, v] : overrides) {
    if (limits.contains(k)) limits[k] = v;
  }
  return limits;
}

Result<QuotaSet> QuotaUsage(db::Transaction& tx, const std::string& project) {
  ASSIGN_OR_RETURN(auto vols, db::ProjectUsage(tx, project));
  ASSIGN_OR_RETURN(auto snaps, db::ProjectSnapshotUsage(tx, project));
  ASSIGN_OR_RETURN(auto backups, db::ProjectBackupUsage(tx, project));
  QuotaSet used = {{"volumes", vols.volumes},
                   {"snapshots", snaps.snapshots},
                   {"gigabytes", vols.gigabytes + snaps.gigabytes},
                   {"backups", backups.backups},
                   {"backup_gigabytes", backups.gigabytes},
                   {"per_volume_gigabytes", 0},
                   {"groups", 0}};
  ASSIGN_OR_RETURN(auto types, db::ListTypes(tx, std::nullopt, std::nullopt));
  for (const auto& t : types) {
    ASSIGN_OR_RETURN(TypeUsage u, UsageOfType(tx, project, t.id));
    used["volumes_" + t.name] = u.volumes;
    used["gigabytes_" + t.name] = u.gigabytes;
    used["snapshots_" + t.name] = u.snapshots;
  }
  return used;
}

Status CheckSnapshotQuota(db::Transaction& tx, const Config& config, const std::string& project,
                          const std::string& type_id, int64_t snapshots, int64_t gigabytes) {
  ASSIGN_OR_RETURN(QuotaSet limits, QuotaLimits(tx, config, project));
  RETURN_IF_ERROR(CheckGigabytes(tx, limits, project, gigabytes));
  const int64_t limit = limits["snapshots"];
  ASSIGN_OR_RETURN(auto used, db::ProjectSnapshotUsage(tx, project));
  if (snapshots > 0 && limit >= 0 && used.snapshots + snapshots > limit) {
    return ResourceExhausted("SnapshotLimitExceeded: Maximum number of snapshots allowed (" +
                             std::to_string(limit) + ") exceeded");
  }
  return CheckTypeQuota(tx, limits, project, type_id, 0, snapshots, gigabytes);
}

Status CheckVolumeQuota(db::Transaction& tx, const Config& config, const std::string& project,
                        const std::string& type_id, int64_t volumes, int64_t gigabytes,
                        int64_t volume_size) {
  ASSIGN_OR_RETURN(QuotaSet limits, QuotaLimits(tx, config, project));
  const int64_t per_volume = limits["per_volume_gigabytes"];
  if (volume_size > 0 && per_volume >= 0 && volume_size > per_volume) {
    return ResourceExhausted(
        "VolumeSizeExceedsLimit: Requested volume size " + std::to_string(volume_size) +
        "G is larger than maximum allowed limit " + std::to_string(per_volume) + "G.");
  }
  RETURN_IF_ERROR(CheckGigabytes(tx, limits, project, gigabytes));
  const int64_t vol_limit = limits["volumes"];
  if (volumes > 0 && vol_limit >= 0) {
    ASSIGN_OR_RETURN(auto used, db::ProjectUsage(tx, project));
    if (used.volumes + volumes > vol_limit) {
      return ResourceExhausted("VolumeLimitExceeded: Maximum number of volumes allowed (" +
                               std::to_string(vol_limit) + ") exceeded for quota 'volumes'.");
    }
  }
  return CheckTypeQuota(tx, limits, project, type_id, volumes, 0, gigabytes);
}

}  // namespace scoria::api
