#include "db/snapshots_repo.h"

#include "common/clock.h"
#include "db/volumes_repo.h"

namespace scoria::db {
namespace {

constexpr const char* kSelect =
    "SELECT id, project_id, user_id, volume_id, name, description, size, status, progress, "
    "provider_location, created_at, updated_at FROM snapshots";

SnapshotRecord FromRow(const Row& r) {
  SnapshotRecord s;
  s.id = r.Str(0);
  s.project_id = r.Str(1);
  s.user_id = r.Str(2);
  s.volume_id = r.Str(3);
  s.name = r.OptStr(4);
  s.description = r.OptStr(5);
  s.size = r.Int(6);
  s.status = r.Str(7);
  s.progress = r.OptStr(8).value_or("0%");
  s.provider_location = r.OptStr(9);
  s.created_at = r.Int(10);
  s.updated_at = r.OptInt(11);
  return s;
}

Result<std::vector<SnapshotRecord>> QueryWithMetadata(Transaction& tx, const std::string& where,
                                                      const std::vector<Value>& params) {
  ASSIGN_OR_RETURN(auto rows,
                   tx.Query(std::string(kSelect) + where + " ORDER BY created_at, id", params));
  std::vector<SnapshotRecord> out;
  std::map<std::string, size_t> index;
  for (const Row& r : rows) {
    index[r.Str(0)] = out.size();
    out.push_back(FromRow(r));
  }
  if (out.empty()) return out;
  std::string sql = "SELECT snapshot_id, key, value FROM snapshot_metadata WHERE snapshot_id IN (";
  std::vector<Value> ids;
  for (size_t i = 0; i < out.size(); ++i) {
    sql += i ? ",?" : "?";
    ids.emplace_back(out[i].id);
  }
  ASSIGN_OR_RETURN(auto md, tx.Query(sql + ")", ids));
  for (const Row& r : md) out[index[r.Str(0)]].metadata[r.Str(1)] = r.Str(2);
  return out;
}

}  // namespace

Result<SnapshotRecord> GetSnapshot(Transaction& tx, const std::string& id) {
  ASSIGN_OR_RETURN(auto rows, QueryWithMetadata(tx, " WHERE id = ?", {id}));
  if (rows.empty()) return NotFound("Snapshot " + id + " could not be found.");
  return std::move(rows[0]);
}

Result<std::vector<SnapshotRecord>> ListSnapshots(Transaction& tx,
                                                  const std::optional<std::string>& project_id) {
  if (!project_id) return QueryWithMetadata(tx, "", {});
  return QueryWithMetadata(tx, " WHERE project_id = ?", {*project_id});
}

Result<std::vector<SnapshotRecord>> VolumeSnapshots(Transaction& tx, const std::string& volume_id) {
  return QueryWithMetadata(tx, " WHERE volume_id = ?", {volume_id});
}

Status InsertSnapshot(Transaction& tx, const SnapshotRecord& s) {
  RETURN_IF_ERROR(
      tx.Exec("INSERT INTO snapshots (id, project_id, user_id, volume_id, name, "
              "description, size, status, progress, provider_location, created_at, "
              "updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
              {s.id, s.project_id, s.user_id, s.volume_id, OptStr(s.name), OptStr(s.description),
               s.size, s.status, s.progress, OptStr(s.provider_location), s.created_at,
               s.updated_at ? Value(*s.updated_at) : Null()})
          .status());
  if (!s.metadata.empty()) RETURN_IF_ERROR(ReplaceSnapshotMetadata(tx, s.id, s.metadata));
  return Status::Ok();
}

Status UpdateSnapshot(Transaction& tx, const SnapshotRecord& s) {
  ASSIGN_OR_RETURN(int64_t n,
                   tx.Exec("UPDATE snapshots SET name=?, description=?, status=?, progress=?, "
                           "provider_location=?, updated_at=? WHERE id=?",
                           {OptStr(s.name), OptStr(s.description), s.status, s.progress,
                            OptStr(s.provider_location), NowMicros(), s.id}));
  if (n == 0) return NotFound("Snapshot " + s.id + " could not be found.");
  return Status::Ok();
}

Status DeleteSnapshot(Transaction& tx, const std::string& id) {
  RETURN_IF_ERROR(tx.Exec("DELETE FROM snapshot_metadata WHERE snapshot_id = ?", {id}).status());
  return tx.Exec("DELETE FROM snapshots WHERE id = ?", {id}).status();
}

Status ReplaceSnapshotMetadata(Transaction& tx, const std::string& id,
                               const std::map<std::string, std::string>& md) {
  RETURN_IF_ERROR(tx.Exec("DELETE FROM snapshot_metadata WHERE snapshot_id = ?", {id}).status());
  return MergeSnapshotMetadata(tx, id, md);
}

Status MergeSnapshotMetadata(Transaction& tx, const std::string& id,
                             const std::map<std::string, std::string>& md) {
  for (const auto& [k, v] : md) {
    RETURN_IF_ERROR(tx.Exec("INSERT INTO snapshot_metadata (snapshot_id, key, value) VALUES "
                            "(?,?,?) ON CONFLICT (snapshot_id, key) DO UPDATE SET value = "
                            "excluded.value",
                            {id, k, v})
                        .status());
  }
  return Status::Ok();
}

Status DeleteSnapshotMetadataKey(Transaction& tx, const std::string& id, const std::string& key) {
  ASSIGN_OR_RETURN(int64_t n, tx.Exec("DELETE FROM snapshot_metadata WHERE snapshot_id = ? AND "
                                      "key = ?",
                                      {id, key}));
  if (n == 0) return NotFound("Metadata item was not found");
  return Status::Ok();
}

Result<SnapshotUsage> ProjectSnapshotUsage(Transaction& tx, const std::string& project_id) {
  ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT COUNT(*), COALESCE(SUM(size), 0) FROM snapshots "
                                       "WHERE project_id = ?",
                                       {project_id}));
  return SnapshotUsage{rows[0].Int(0), rows[0].Int(1)};
}

Result<SnapshotUsage> ProjectTypeSnapshotUsage(Transaction& tx, const std::string& project_id,
                                               const std::string& type_id) {
  ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT COUNT(*), COALESCE(SUM(s.size), 0) FROM snapshots s "
                                       "JOIN volumes v ON v.id = s.volume_id "
                                       "WHERE s.project_id = ? AND v.volume_type_id = ?",
                                       {project_id, type_id}));
  return SnapshotUsage{rows[0].Int(0), rows[0].Int(1)};
}

Result<std::map<std::string, SnapshotUsage>> ProjectSnapshotUsageOnBackend(
    Transaction& tx, const std::string& backend) {
  ASSIGN_OR_RETURN(auto counts,
                   CountByProjectOnBackend(tx,
                                           "SELECT s.project_id, v.host, s.size FROM snapshots s "
                                           "JOIN volumes v ON v.id = s.volume_id "
                                           "WHERE v.host = ? OR v.host LIKE ?",
                                           backend));
  std::map<std::string, SnapshotUsage> out;
  for (const auto& [project, c] : counts) out[project] = {c.volumes, c.gigabytes};
  return out;
}

Result<std::vector<std::string>> SnapshotIdsOnBackend(Transaction& tx, const std::string& backend) {
  ASSIGN_OR_RETURN(auto rows,
                   tx.Query("SELECT s.id FROM snapshots s JOIN volumes v ON v.id = s.volume_id "
                            "WHERE v.host = ? OR v.host LIKE ?",
                            {backend, backend + "#%"}));
  std::vector<std::string> out;
  for (const Row& r : rows) out.push_back(r.Str(0));
  return out;
}

}  // namespace scoria::db
