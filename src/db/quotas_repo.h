// Per-project quota limits. Defaults come from the config (quota_* options); a row here
// overrides one resource for one project. Usage is never stored: it is counted from the
// resource tables inside the same transaction that adds a resource, so it cannot drift
// (Cinder's quota_usages table can; reference §7 #8).
#pragma once

#include <map>
#include <string>

#include "db/database.h"

namespace scoria::db {

// resource -> limit for the project's overrides only.
Result<std::map<std::string, int64_t>> ProjectQuotaOverrides(Transaction& tx,
                                                             const std::string& project);
Status SetProjectQuota(Transaction& tx, const std::string& project, const std::string& resource,
                       int64_t limit);
Status DeleteProjectQuotas(Transaction& tx, const std::string& project);

// Quota classes (os-quota-class-sets): resource -> limit rows of class `name`. The class
// "default" overrides the quota_* options for every project without its own value.
Result<std::map<std::string, int64_t>> QuotaClassOverrides(Transaction& tx,
                                                           const std::string& name);
Status SetClassQuota(Transaction& tx, const std::string& name, const std::string& resource,
                     int64_t limit);

}  // namespace scoria::db
