#include "db/tasks_repo.h"

#include "common/clock.h"

namespace scoria::db {

Result<int64_t> EnqueueTask(Transaction& tx, const std::string& kind, const std::string& target,
                            const std::string& resource_id, const std::string& args,
                            int64_t not_before_us) {
  ASSIGN_OR_RETURN(auto rows, tx.Query("INSERT INTO tasks (kind, target, resource_id, args, "
                                       "not_before, created_at) VALUES (?,?,?,?,?,?) RETURNING id",
                                       {kind, target, resource_id, args, not_before_us,
                                        NowMicros()}));
  tx.WakeOnCommit(target);
  return rows.at(0).Int(0);
}

namespace {
// Tasks of one resource run in order (ClaimTask): when task `id` goes, the next one of its
// resource may run, whatever its target. Wakes those targets' workers at commit.
Status WakeTasksBehind(Transaction& tx, int64_t id) {
  ASSIGN_OR_RETURN(auto rows,
                   tx.Query("SELECT DISTINCT target FROM tasks WHERE resource_id = "
                            "(SELECT resource_id FROM tasks WHERE id = ?) AND id <> ?",
                            {id, id}));
  for (const Row& r : rows) tx.WakeOnCommit(r.Str(0));
  return Status::Ok();
}
}  // namespace

Result<std::optional<Task>> ClaimTask(Transaction& tx, const std::vector<std::string>& targets,
                                      const std::string& owner, int64_t lease_us) {
  if (targets.empty()) return std::optional<Task>();
  int64_t now = NowMicros();
  std::string in;
  std::vector<Value> params = {owner, now + lease_us};
  for (size_t i = 0; i < targets.size(); ++i) {
    in += i ? ",?" : "?";
    params.emplace_back(targets[i]);
  }
  params.emplace_back(now);
  params.emplace_back(now);
  // PostgreSQL: claims run without the cluster-wide write lock (WriteScope::kRowsItLocks), so
  // two workers may look at once; each takes the first row nobody else has locked. SQLite has
  // one writer at a time and no such clause.
  const std::string skip_locked =
      tx.dialect() == Dialect::kPostgres ? " FOR UPDATE SKIP LOCKED" : "";
  ASSIGN_OR_RETURN(
      auto rows,
      tx.Query("UPDATE tasks SET lease_owner = ?, lease_expires = ?, attempts = attempts + 1 "
               "WHERE id = (SELECT t.id FROM tasks t WHERE t.target IN (" + in + ") "
               "AND (t.lease_owner IS NULL OR t.lease_expires < ?) AND t.not_before <= ? "
               "AND NOT EXISTS (SELECT 1 FROM tasks o WHERE o.resource_id = t.resource_id "
               "AND o.id < t.id) ORDER BY t.id LIMIT 1" + skip_locked + ") "
               "RETURNING id, kind, target, resource_id, args, attempts",
               params));
  if (rows.empty()) return std::optional<Task>();
  const Row& r = rows[0];
  return std::optional<Task>(Task{r.Int(0), r.Str(1), r.Str(2), r.Str(3), r.Str(4), r.Int(5)});
}

Status FinishTask(Transaction& tx, int64_t id, const std::string& owner) {
  RETURN_IF_ERROR(WakeTasksBehind(tx, id));
  ASSIGN_OR_RETURN(int64_t n,
                   tx.Exec("DELETE FROM tasks WHERE id = ? AND lease_owner = ?", {id, owner}));
  if (n == 0) return Conflict("task " + std::to_string(id) + " lease lost");
  return Status::Ok();
}

Status ReleaseTask(Transaction& tx, int64_t id, const std::string& owner, int64_t not_before_us) {
  return tx.Exec("UPDATE tasks SET lease_owner = NULL, lease_expires = NULL, not_before = ? "
                 "WHERE id = ? AND lease_owner = ?",
                 {not_before_us, id, owner})
      .status();
}

Status RenewLeases(Transaction& tx, const std::vector<int64_t>& ids, const std::string& owner,
                   int64_t expires_us) {
  for (int64_t id : ids) {
    RETURN_IF_ERROR(tx.Exec("UPDATE tasks SET lease_expires = ? WHERE id = ? AND lease_owner = ?",
                            {expires_us, id, owner})
                        .status());
  }
  return Status::Ok();
}

Status FailTask(Transaction& tx, int64_t id, const std::string& owner) {
  RETURN_IF_ERROR(WakeTasksBehind(tx, id));
  ASSIGN_OR_RETURN(int64_t n,
                   tx.Exec("UPDATE tasks SET target = ?, resource_id = ? || resource_id, "
                           "lease_owner = NULL, lease_expires = NULL "
                           "WHERE id = ? AND lease_owner = ?",
                           {std::string(kFailedTarget), std::string(kFailedResourcePrefix), id,
                            owner}));
  if (n == 0) return Conflict("task " + std::to_string(id) + " lease lost");
  return Status::Ok();
}

Result<int64_t> ReleaseLeasesOf(Transaction& tx, const std::string& owner_prefix) {
  return tx.Exec("UPDATE tasks SET lease_owner = NULL, lease_expires = NULL WHERE "
                 "substr(lease_owner, 1, ?) = ?",
                 {static_cast<int64_t>(owner_prefix.size()), owner_prefix});
}

Result<int64_t> RetargetTasks(Transaction& tx, const std::string& from, const std::string& to) {
  tx.WakeOnCommit(to);
  return tx.Exec("UPDATE tasks SET target = ?, lease_owner = NULL, lease_expires = NULL "
                 "WHERE target = ?",
                 {to, from});
}

Result<bool> HasPendingTask(Transaction& tx, const std::string& resource_id) {
  ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT 1 FROM tasks WHERE resource_id = ? LIMIT 1",
                                       {resource_id}));
  return !rows.empty();
}

Result<std::vector<Task>> ListTasks(Transaction& tx) {
  ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT id, kind, target, resource_id, args, attempts FROM "
                                       "tasks ORDER BY id"));
  std::vector<Task> out;
  for (const Row& r : rows) out.push_back({r.Int(0), r.Str(1), r.Str(2), r.Str(3), r.Str(4), r.Int(5)});
  return out;
}

}  // namespace scoria::db
