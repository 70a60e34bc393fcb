#include "db/quotas_repo.h"

namespace scoria::db {

Result<std::map<std::string, int64_t>> ProjectQuotaOverrides(Transaction& tx,
                                                             const std::string& project) {
  ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT resource, hard_limit FROM quotas WHERE "
                                       "project_id = ?",
                                       {project}));
  std::map<std::string, int64_t> out;
  for (const Row& r : rows) out[r.Str(0)] = r.Int(1);
  return out;
}

Status SetProjectQuota(Transaction& tx, const std::string& project, const std::string& resource,
                       int64_t limit) {
  return tx
      .Exec(
          "INSERT INTO quotas (project_id, resource, hard_limit) VALUES (?,?,?) "
          "ON CONFLICT (project_id, resource) DO UPDATE SET hard_limit = "
          "excluded.hard_limit",
          {project, resource, limit})
      .status();
}

Status DeleteProjectQuotas(Transaction& tx, const std::string& project) {
  return tx.Exec("DELETE FROM quotas WHERE project_id = ?", {project}).status();
}

Result<std::map<std::string, int64_t>> QuotaClassOverrides(Transaction& tx,
                                                           const std::string& name) {
  ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT resource, hard_limit FROM quota_classes WHERE "
                                       "class_name = ?",
                                       {name}));
  std::map<std::string, int64_t> out;
  for (const Row& r : rows) out[r.Str(0)] = r.Int(1);
  return out;
}

Status SetClassQuota(Transaction& tx, const std::string& name, const std::string& resource,
                     int64_t limit) {
  return tx
      .Exec(
          "INSERT INTO quota_classes (class_name, resource, hard_limit) VALUES (?,?,?) "
          "ON CONFLICT (class_name, resource) DO UPDATE SET hard_limit = "
          "excluded.hard_limit",
          {name, resource, limit})
      .status();
}

}  // namespace scoria::db
