#include "db/volumes_repo.h"

#include <limits>
#include <set>

#include "common/clock.h"

namespace scoria::db {
namespace {

constexpr const char* kColumns =
    "id, project_id, user_id, name, description, size, status, previous_status, attach_status, "
    "migration_status, host, availability_zone, volume_type_id, bootable, readonly, multiattach, "
    "snapshot_id, source_volid, provider_location, scheduling_attempts, created_at, updated_at, "
    "launched_at";

const std::set<std::string>& Columns() {
  static const std::set<std::string> kSet = {"id",
                                             "project_id",
                                             "user_id",
                                             "name",
                                             "description",
                                             "size",
                                             "status",
                                             "previous_status",
                                             "attach_status",
                                             "migration_status",
                                             "host",
                                             "availability_zone",
                                             "volume_type_id",
                                             "bootable",
                                             "readonly",
                                             "multiattach",
                                             "snapshot_id",
                                             "source_volid",
                                             "created_at",
                                             "updated_at",
                                             "launched_at"};
  return kSet;
}

VolumeRecord FromRow(const Row& r) {
  VolumeRecord v;
  v.id = r.Str(0);
  v.project_id = r.Str(1);
  v.user_id = r.Str(2);
  v.name = r.OptStr(3);
  v.description = r.OptStr(4);
  v.size = r.Int(5);
  v.status = r.Str(6);
  v.previous_status = r.OptStr(7);
  v.attach_status = r.Str(8);
  v.migration_status = r.OptStr(9);
  v.host = r.OptStr(10);
  v.availability_zone = r.Str(11);
  v.volume_type_id = r.Str(12);
  v.bootable = r.Int(13) != 0;
  v.readonly = r.Int(14) != 0;
  v.multiattach = r.Int(15) != 0;
  v.snapshot_id = r.OptStr(16);
  v.source_volid = r.OptStr(17);
  v.provider_location = r.OptStr(18);
  v.scheduling_attempts = r.Int(19);
  v.created_at = r.Int(20);
  v.updated_at = r.OptInt(21);
  v.launched_at = r.OptInt(22);
  return v;
}

std::string SqlOp(const std::string& op) {
  if (op == "gt") return ">";
  if (op == "gte") return ">=";
  if (op == "lt") return "<";
  if (op == "lte") return "<=";
  if (op == "neq") return "<>";
  return "=";
}

Status BuildWhere(const VolumeFilter& f, std::string& sql, std::vector<Value>& params) {
  sql += " WHERE 1=1";
  if (f.project_id) {
    sql += " AND project_id = ?";
    params.emplace_back(*f.project_id);
  }
  for (const auto& [col, val] : f.equals) {
    if (!Columns().count(col)) return InvalidArgument("unknown filter " + col);
    sql += " AND " + col + " = ?";
    params.emplace_back(val);
  }
  for (const auto& [col, val] : f.like) {
    if (!Columns().count(col)) return InvalidArgument("unknown filter " + col);
    // lower() on both sides: SQLite's LIKE ignores ASCII case, PostgreSQL's does not.
    sql += " AND lower(CAST(" + col + " AS TEXT)) LIKE lower(?) ESCAPE '\\'";
    std::string esc;
    for (char c : val) {
      if (c == '%' || c == '_' || c == '\\') esc.push_back('\\');
      esc.push_back(c);
    }
    params.emplace_back("%" + esc + "%");
  }
  for (const auto& [col, opv] : f.time_ranges) {
    if (col != "created_at" && col != "updated_at") return InvalidArgument("unknown filter " + col);
    sql += " AND " + col + " " + SqlOp(opv.first) + " ?";
    params.emplace_back(opv.second);
  }
  for (const auto& [k, v] : f.metadata) {
    sql +=
        " AND EXISTS (SELECT 1 FROM volume_metadata m WHERE m.volume_id = volumes.id AND "
        "m.key = ? AND m.value = ?)";
    params.emplace_back(k);
    params.emplace_back(v);
  }
  if (f.host_prefix) {
    sql += " AND (host = ? OR host LIKE ?)";
    params.emplace_back(*f.host_prefix);
    params.emplace_back(*f.host_prefix + "#%");
  }
  return Status::Ok();
}

Status LoadMetadata(Transaction& tx, std::vector<VolumeRecord>& vols) {
  if (vols.empty()) return Status::Ok();
  Statement q = VolumeMetadataQuery(vols);
  ASSIGN_OR_RETURN(auto rows, tx.Query(q.sql, q.params));
  AddVolumeMetadata(rows, vols);
  return Status::Ok();
}

}  // namespace

Statement VolumeMetadataQuery(const std::vector<VolumeRecord>& vols) {
  // No volume: a statement that matches nothing, so callers need no special case.
  std::string sql = "SELECT volume_id, key, value FROM volume_metadata WHERE volume_id IN (";
  std::vector<Value> params;
  if (vols.empty()) sql += "NULL";
  for (size_t i = 0; i < vols.size(); ++i) {
    sql += i ? ",?" : "?";
    params.emplace_back(vols[i].id);
  }
  return {sql + ")", std::move(params)};
}

void AddVolumeMetadata(const std::vector<Row>& rows, std::vector<VolumeRecord>& vols) {
  if (rows.empty()) return;
  std::map<std::string, VolumeRecord*, std::less<>> by_id;
  for (VolumeRecord& v : vols) by_id[v.id] = &v;
  for (const Row& r : rows) {
    if (auto it = by_id.find(r.Str(0)); it != by_id.end())
      it->second->metadata[r.Str(1)] = r.Str(2);
  }
}

bool IsVolumeColumn(const std::string& column) { return Columns().count(column) > 0; }

Result<VolumeRecord> GetVolume(Transaction& tx, const std::string& id, bool with_metadata) {
  ASSIGN_OR_RETURN(
      auto rows, tx.Query(std::string("SELECT ") + kColumns + " FROM volumes WHERE id = ?", {id}));
  if (rows.empty()) return NotFound("Volume " + id + " could not be found.");
  std::vector<VolumeRecord> v = {FromRow(rows[0])};
  if (with_metadata) RETURN_IF_ERROR(LoadMetadata(tx, v));
  return std::move(v[0]);
}

Result<std::vector<VolumeRecord>> ListVolumes(Transaction& tx, const VolumeFilter& filter,
                                              const VolumePage& page, bool with_metadata) {
  std::string sql = std::string("SELECT ") + kColumns + " FROM volumes";
  std::vector<Value> params;
  RETURN_IF_ERROR(BuildWhere(filter, sql, params));

  std::vector<SortKey> sort = page.sort;
  if (sort.empty()) sort.push_back({"created_at", true});
  for (const SortKey& k : sort) {
    if (!Columns().count(k.column)) return InvalidArgument("unknown sort key " + k.column);
  }
  bool has_id = false;
  for (const SortKey& k : sort) has_id |= k.column == "id";
  if (!has_id) sort.push_back({"id", sort.front().desc});

  if (page.marker) {
    // Keyset pagination: rows strictly after the marker row in the sort order.
    std::string cols;
    for (size_t i = 0; i < sort.size(); ++i) cols += (i ? ", " : "") + sort[i].column;
    ASSIGN_OR_RETURN(auto mrows,
                     tx.Query("SELECT " + cols + " FROM volumes WHERE id = ?", {*page.marker}));
    if (mrows.empty()) return NotFound("Marker " + *page.marker + " could not be found.");
    // Keep the marker's native type so integers compare as integers.
    auto marker_value = [&](size_t i) -> Value {
      const std::string& col = sort[i].column;
      if (mrows[0].IsNull(i)) return nullptr;
      bool numeric = col == "size" || col == "created_at" || col == "updated_at" ||
                     col == "launched_at" || col == "bootable" || col == "readonly" ||
                     col == "multiattach";
      return numeric ? Value(mrows[0].Int(i)) : Value(mrows[0].Str(i));
    };
    std::string cond = " AND (";
    for (size_t i = 0; i < sort.size(); ++i) {
      if (i) cond += " OR ";
      cond += "(";
      for (size_t j = 0; j < i; ++j) {
        // NULL-safe equality, valid in SQLite and PostgreSQL.
        cond += sort[j].column + " IS NOT DISTINCT FROM ? AND ";
        params.push_back(marker_value(j));
      }
      const bool null_marker = mrows[0].IsNull(i);
      if (null_marker) {
        // NULLs sort first ascending (SQLite, and we ask PostgreSQL for the same order).
        cond += sort[i].desc ? "0=1" : sort[i].column + " IS NOT NULL";
      } else {
        const std::string op = sort[i].desc ? " < ?" : " > ?";
        cond += sort[i].desc ? "(" + sort[i].column + op + " OR " + sort[i].column + " IS NULL)"
                             : sort[i].column + op;
        params.push_back(marker_value(i));
      }
      cond += ")";
    }
    cond += ")";
    sql += cond;
  }
  sql += " ORDER BY ";
  for (size_t i = 0; i < sort.size(); ++i) {
    sql += (i ? ", " : "") + sort[i].column + (sort[i].desc ? " DESC" : " ASC");
  }
  if (page.limit) {
    sql += " LIMIT ?";
    params.emplace_back(*page.limit);
  } else {
    // No limit, written so both databases accept it (SQLite needs a LIMIT before OFFSET and
    // spells "none" -1, PostgreSQL ALL).
    sql += " LIMIT ?";
    params.emplace_back(std::numeric_limits<int64_t>::max());
  }
  if (page.offset > 0) {
    sql += " OFFSET ?";
    params.emplace_back(page.offset);
  }
  ASSIGN_OR_RETURN(auto rows, tx.Query(sql, params));
  std::vector<VolumeRecord> out;
  out.reserve(rows.size());
  for (const Row& r : rows) out.push_back(FromRow(r));
  if (with_metadata) RETURN_IF_ERROR(LoadMetadata(tx, out));
  return out;
}

Result<int64_t> CountVolumes(Transaction& tx, const VolumeFilter& filter) {
  std::string sql = "SELECT COUNT(*) FROM volumes";
  std::vector<Value> params;
  RETURN_IF_ERROR(BuildWhere(filter, sql, params));
  ASSIGN_OR_RETURN(auto rows, tx.Query(sql, params));
  return rows[0].Int(0);
}

namespace {
std::vector<Value> MutableParams(const VolumeRecord& v) {
  return {OptStr(v.name),
          OptStr(v.description),
          v.size,
          v.status,
          OptStr(v.previous_status),
          v.attach_status,
          OptStr(v.migration_status),
          OptStr(v.host),
          v.availability_zone,
          v.volume_type_id,
          int64_t{v.bootable},
          int64_t{v.readonly},
          int64_t{v.multiattach},
          OptStr(v.provider_location),
          v.scheduling_attempts,
          v.launched_at ? Value(*v.launched_at) : Null()};
}
}  // namespace

Status InsertVolume(Transaction& tx, const VolumeRecord& v) {
  std::vector<Value> p = {v.id, v.project_id, v.user_id};
  for (auto& x : MutableParams(v)) p.push_back(std::move(x));
  p.push_back(OptStr(v.snapshot_id));
  p.push_back(OptStr(v.source_volid));
  p.push_back(v.created_at);
  p.push_back(v.updated_at ? Value(*v.updated_at) : Null());
  RETURN_IF_ERROR(tx.Exec("INSERT INTO volumes (id, project_id, user_id, name, description, size, "
                          "status, previous_status, attach_status, migration_status, host, "
                          "availability_zone, volume_type_id, bootable, readonly, multiattach, "
                          "provider_location, scheduling_attempts, launched_at, snapshot_id, "
                          "source_volid, created_at, updated_at) VALUES "
                          "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                          p)
                      .status());
  if (!v.metadata.empty()) RETURN_IF_ERROR(ReplaceVolumeMetadata(tx, v.id, v.metadata));
  return Status::Ok();
}

Status UpdateVolume(Transaction& tx, const VolumeRecord& v) {
  std::vector<Value> p = MutableParams(v);
  p.push_back(NowMicros());
  p.push_back(v.id);
  ASSIGN_OR_RETURN(int64_t n,
                   tx.Exec("UPDATE volumes SET name=?, description=?, size=?, status=?, "
                           "previous_status=?, attach_status=?, migration_status=?, host=?, "
                           "availability_zone=?, volume_type_id=?, bootable=?, readonly=?, "
                           "multiattach=?, provider_location=?, scheduling_attempts=?, "
                           "launched_at=?, updated_at=? WHERE id=?",
                           p));
  if (n == 0) return NotFound("Volume " + v.id + " could not be found.");
  return Status::Ok();
}

Status DeleteVolume(Transaction& tx, const std::string& id) {
  RETURN_IF_ERROR(tx.Exec("DELETE FROM volume_metadata WHERE volume_id = ?", {id}).status());
  return tx.Exec("DELETE FROM volumes WHERE id = ?", {id}).status();
}

Status ReplaceVolumeMetadata(Transaction& tx, const std::string& id,
                             const std::map<std::string, std::string>& md) {
  RETURN_IF_ERROR(tx.Exec("DELETE FROM volume_metadata WHERE volume_id = ?", {id}).status());
  return MergeVolumeMetadata(tx, id, md);
}

Status MergeVolumeMetadata(Transaction& tx, const std::string& id,
                           const std::map<std::string, std::string>& md) {
  for (const auto& [k, v] : md) {
    RETURN_IF_ERROR(tx.Exec("INSERT INTO volume_metadata (volume_id, key, value) VALUES (?,?,?) "
                            "ON CONFLICT (volume_id, key) DO UPDATE SET value = excluded.value",
                            {id, k, v})
                        .status());
  }
  return Status::Ok();
}

Status DeleteVolumeMetadataKey(Transaction& tx, const std::string& id, const std::string& key) {
  ASSIGN_OR_RETURN(
      int64_t n, tx.Exec("DELETE FROM volume_metadata WHERE volume_id = ? AND key = ?", {id, key}));
  if (n == 0) return NotFound("Metadata item was not found");
  return Status::Ok();
}

Result<std::map<std::string, BackendUsage>> UsageByHost(Transaction& tx) {
  ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT host, COUNT(*), COALESCE(SUM(size), 0) FROM volumes "
                                       "WHERE host IS NOT NULL GROUP BY host"));
  std::map<std::string, BackendUsage> out;
  for (const Row& r : rows) out[r.Str(0)] = {r.Int(1), r.Int(2)};
  return out;
}

Result<BackendUsage> ProjectUsage(Transaction& tx, const std::string& project_id) {
  ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT COUNT(*), COALESCE(SUM(size), 0) FROM volumes "
                                       "WHERE project_id = ?",
                                       {project_id}));
  return BackendUsage{rows[0].Int(0), rows[0].Int(1)};
}

Result<BackendUsage> ProjectTypeUsage(Transaction& tx, const std::string& project_id,
                                      const std::string& type_id) {
  ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT COUNT(*), COALESCE(SUM(size), 0) FROM volumes "
                                       "WHERE project_id = ? AND volume_type_id = ?",
                                       {project_id, type_id}));
  return BackendUsage{rows[0].Int(0), rows[0].Int(1)};
}

Result<std::map<std::string, BackendUsage>> CountByProjectOnBackend(Transaction& tx,
                                                                    std::string_view sql,
                                                                    const std::string& backend) {
  ASSIGN_OR_RETURN(auto rows, tx.Query(sql, {backend, backend + "#%"}));
  std::map<std::string, BackendUsage> out;
  for (const Row& r : rows) {
    if (!HostOnBackend(r.Str(1), backend)) continue;
    BackendUsage& u = out[r.Str(0)];
    u.volumes += 1;
    u.gigabytes += r.Int(2);
  }
  return out;
}

Result<std::map<std::string, BackendUsage>> ProjectUsageOnBackend(Transaction& tx,
                                                                  const std::string& backend) {
  return CountByProjectOnBackend(
      tx, "SELECT project_id, host, size FROM volumes WHERE host = ? OR host LIKE ?", backend);
}

Result<std::vector<std::string>> VolumeIdsOnBackend(Transaction& tx, const std::string& backend) {
  ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT id FROM volumes WHERE host = ? OR host LIKE ?",
                                       {backend, backend + "#%"}));
  std::vector<std::string> out;
  for (const Row& r : rows) out.push_back(r.Str(0));
  return out;
}

}  // namespace scoria::db
