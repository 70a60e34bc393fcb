#include "db/backups_repo.h"

#include <set>

#include "common/clock.h"

namespace scoria::db {
namespace {

constexpr const char* kColumns =
    "id, project_id, user_id, volume_id, snapshot_id, parent_id, name, description, container, "
    "availability_zone, host, service, status, fail_reason, size, object_count, data_timestamp, "
    "temp_snapshot_id, restore_volume_id, progress_op, progress_done, progress_total, "
    "verify_result, verified_at, service_metadata, created_at, updated_at";

const std::set<std::string>& Columns() {
  static const std::set<std::string> kSet = {
      "id",          "project_id", "user_id", "volume_id",         "snapshot_id",
      "parent_id",   "name",       "description", "container",     "availability_zone",
      "host",        "status",     "size",    "data_timestamp",    "created_at",
      "updated_at"};
  return kSet;
}

BackupRecord FromRow(const Row& r) {
  BackupRecord b;
  b.id = r.Str(0);
  b.project_id = r.Str(1);
  b.user_id = r.Str(2);
  b.volume_id = r.Str(3);
  b.snapshot_id = r.OptStr(4);
  b.parent_id = r.OptStr(5);
  b.name = r.OptStr(6);
  b.description = r.OptStr(7);
  b.container = r.OptStr(8);
  b.availability_zone = r.Str(9);
  b.host = r.OptStr(10);
  b.service = r.OptStr(11);
  b.status = r.Str(12);
  b.fail_reason = r.OptStr(13);
  b.size = r.Int(14);
  b.object_count = r.Int(15);
  b.data_timestamp = r.Int(16);
  b.temp_snapshot_id = r.OptStr(17);
  b.restore_volume_id = r.OptStr(18);
  b.progress_op = r.OptStr(19);
  b.progress_done = r.Int(20);
  b.progress_total = r.Int(21);
  b.verify_result = r.OptStr(22);
  b.verified_at = r.OptInt(23);
  b.service_metadata = r.OptStr(24);
  b.created_at = r.Int(25);
  b.updated_at = r.OptInt(26);
  return b;
}

Value OptInt(const std::optional<int64_t>& v) { return v ? Value(*v) : Null(); }

// Every column but id and created_at, in kColumns order.
std::vector<Value> MutableParams(const BackupRecord& b) {
  return {b.project_id,          b.user_id,          b.volume_id,
          OptStr(b.snapshot_id), OptStr(b.parent_id), OptStr(b.name),
          OptStr(b.description), OptStr(b.container), b.availability_zone,
          OptStr(b.host),        OptStr(b.service),   b.status,
          OptStr(b.fail_reason), b.size,              b.object_count,
          b.data_timestamp,      OptStr(b.temp_snapshot_id), OptStr(b.restore_volume_id),
          OptStr(b.progress_op), b.progress_done,     b.progress_total,
          OptStr(b.verify_result), OptInt(b.verified_at), OptStr(b.service_metadata)};
}

constexpr const char* kMutableSet =
    "project_id=?, user_id=?, volume_id=?, snapshot_id=?, parent_id=?, name=?, description=?, "
    "container=?, availability_zone=?, host=?, service=?, status=?, fail_reason=?, size=?, "
    "object_count=?, data_timestamp=?, temp_snapshot_id=?, restore_volume_id=?, progress_op=?, "
    "progress_done=?, progress_total=?, verify_result=?, verified_at=?, service_metadata=?";

// "(?,?,...)" for `ids`, appended to `params`.
std::string InList(const std::vector<std::string>& ids, std::vector<Value>& params) {
  std::string in = "(";
  for (size_t i = 0; i < ids.size(); ++i) {
    in += i ? ",?" : "?";
    params.emplace_back(ids[i]);
  }
  return in + ")";
}

Status LoadMetadata(Transaction& tx, std::vector<BackupRecord>& backups) {
  if (backups.empty()) return Status::Ok();
  std::map<std::string, BackupRecord*> by_id;
  std::vector<std::string> ids;
  for (auto& b : backups) {
    by_id[b.id] = &b;
    ids.push_back(b.id);
  }
  std::vector<Value> params;
  const std::string sql =
      "SELECT backup_id, key, value FROM backup_metadata WHERE backup_id IN " + InList(ids, params);
  ASSIGN_OR_RETURN(auto rows, tx.Query(sql, params));
  for (const Row& r : rows) by_id[r.Str(0)]->metadata[r.Str(1)] = r.Str(2);
  return Status::Ok();
}

std::string LikePattern(const std::string& text) {
  std::string esc;
  for (char c : text) {
    if (c == '%' || c == '_' || c == '\\') esc.push_back('\\');
    esc.push_back(c);
  }
  return "%" + esc + "%";
}

}  // namespace

bool IsBackupColumn(const std::string& column) { return Columns().count(column) > 0; }

Result<BackupRecord> GetBackup(Transaction& tx, const std::string& id) {
  ASSIGN_OR_RETURN(auto rows, tx.Query(std::string("SELECT ") + kColumns +
                                           " FROM backups WHERE id = ?",
                                       {id}));
  if (rows.empty()) return NotFound("Backup " + id + " could not be found.");
  std::vector<BackupRecord> b = {FromRow(rows[0])};
  RETURN_IF_ERROR(LoadMetadata(tx, b));
  return std::move(b[0]);
}

Result<std::vector<BackupRecord>> ListBackups(Transaction& tx, const BackupFilter& filter) {
  std::string sql = std::string("SELECT ") + kColumns + " FROM backups WHERE 1=1";
  std::vector<Value> params;
  if (filter.project_id) {
    sql += " AND project_id = ?";
    params.emplace_back(*filter.project_id);
  }
  for (const auto& [col, val] : filter.equals) {
    if (!IsBackupColumn(col)) return InvalidArgument("unknown filter " + col);
    sql += " AND " + col + " = ?";
    params.emplace_back(val);
  }
  for (const auto& [col, val] : filter.like) {
    if (!IsBackupColumn(col)) return InvalidArgument("unknown filter " + col);
    // lower() on both sides: SQLite's LIKE ignores ASCII case, PostgreSQL's does not.
    sql += " AND lower(CAST(" + col + " AS TEXT)) LIKE lower(?) ESCAPE '\\'";
    params.emplace_back(LikePattern(val));
  }
  ASSIGN_OR_RETURN(auto rows, tx.Query(sql, params));
  std::vector<BackupRecord> out;
  out.reserve(rows.size());
  for (const Row& r : rows) out.push_back(FromRow(r));
  RETURN_IF_ERROR(LoadMetadata(tx, out));
  return out;
}

Status InsertBackup(Transaction& tx, const BackupRecord& b) {
  ASSIGN_OR_RETURN(auto existing, tx.Query("SELECT 1 FROM backups WHERE id = ?", {b.id}));
  if (!existing.empty()) return AlreadyExists("Backup " + b.id + " already exists.");
  std::vector<Value> p = {b.id};
  for (auto& v : MutableParams(b)) p.push_back(std::move(v));
  p.push_back(b.created_at);
  p.push_back(OptInt(b.updated_at));
  RETURN_IF_ERROR(tx.Exec(std::string("INSERT INTO backups (") + kColumns +
                              ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                          p)
                      .status());
  if (!b.metadata.empty()) RETURN_IF_ERROR(ReplaceBackupMetadata(tx, b.id, b.metadata));
  return Status::Ok();
}

Status UpdateBackup(Transaction& tx, const BackupRecord& b) {
  std::vector<Value> p = MutableParams(b);
  p.push_back(NowMicros());
  p.push_back(b.id);
  ASSIGN_OR_RETURN(int64_t n, tx.Exec(std::string("UPDATE backups SET ") + kMutableSet +
                                          ", updated_at=? WHERE id=?",
                                      p));
  if (n == 0) return NotFound("Backup " + b.id + " could not be found.");
  return Status::Ok();
}

Status DeleteBackup(Transaction& tx, const std::string& id) {
  RETURN_IF_ERROR(tx.Exec("DELETE FROM backup_metadata WHERE backup_id = ?", {id}).status());
  return tx.Exec("DELETE FROM backups WHERE id = ?", {id}).status();
}

Status ReplaceBackupMetadata(Transaction& tx, const std::string& id,
                             const std::map<std::string, std::string>& md) {
  RETURN_IF_ERROR(tx.Exec("DELETE FROM backup_metadata WHERE backup_id = ?", {id}).status());
  for (const auto& [k, v] : md) {
    RETURN_IF_ERROR(
        tx.Exec("INSERT INTO backup_metadata (backup_id, key, value) VALUES (?,?,?)", {id, k, v})
            .status());
  }
  return Status::Ok();
}

Status SetBackupProgress(Transaction& tx, const std::string& id, const std::string& op,
                         int64_t done, int64_t total) {
  ASSIGN_OR_RETURN(int64_t n, tx.Exec("UPDATE backups SET progress_op=?, progress_done=?, "
                                      "progress_total=?, updated_at=? WHERE id=?",
                                      {op, done, total, NowMicros(), id}));
  if (n == 0) return NotFound("Backup " + id + " could not be found.");
  return Status::Ok();
}

Result<std::optional<BackupRecord>> LatestAvailableBackup(Transaction& tx,
                                                          const std::string& volume_id,
                                                          const std::string& project_id,
                                                          std::optional<int64_t> before) {
  std::string sql = std::string("SELECT ") + kColumns +
                    " FROM backups WHERE volume_id = ? AND project_id = ? AND status = ?";
  std::vector<Value> params = {volume_id, project_id, backup_status::kAvailable};
  if (before) {
    sql += " AND data_timestamp < ?";
    params.emplace_back(*before);
  }
  sql += " ORDER BY data_timestamp DESC, created_at DESC LIMIT 1";
  ASSIGN_OR_RETURN(auto rows, tx.Query(sql, params));
  if (rows.empty()) return std::optional<BackupRecord>();
  return std::optional<BackupRecord>(FromRow(rows[0]));
}

Result<bool> IsRestoreTarget(Transaction& tx, const std::string& volume_id) {
  ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT COUNT(*) FROM backups WHERE restore_volume_id = ? "
                                       "AND status = ?",
                                       {volume_id, backup_status::kRestoring}));
  return rows[0].Int(0) > 0;
}

Result<int64_t> CountDependentBackups(Transaction& tx, const std::string& id) {
  ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT COUNT(*) FROM backups WHERE parent_id = ?", {id}));
  return rows[0].Int(0);
}

Result<std::map<std::string, int64_t>> DependentCounts(Transaction& tx,
                                                       const std::vector<std::string>& ids) {
  std::map<std::string, int64_t> out;
  if (ids.empty()) return out;
  std::vector<Value> params;
  const std::string sql = "SELECT parent_id, COUNT(*) FROM backups WHERE parent_id IN " +
                          InList(ids, params) + " GROUP BY parent_id";
  ASSIGN_OR_RETURN(auto rows, tx.Query(sql, params));
  for (const Row& r : rows) out[r.Str(0)] = r.Int(1);
  return out;
}

Result<BackupUsage> ProjectBackupUsage(Transaction& tx, const std::string& project_id) {
  ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT COUNT(*), COALESCE(SUM(size), 0) FROM backups "
                                       "WHERE project_id = ?",
                                       {project_id}));
  return BackupUsage{rows[0].Int(0), rows[0].Int(1)};
}

}  // namespace scoria::db
