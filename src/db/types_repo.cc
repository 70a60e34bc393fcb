#include "db/types_repo.h"

#include "common/clock.h"
#include "common/ids.h"

namespace scoria::db {
namespace {

constexpr const char* kSelect =
    "SELECT id, name, description, is_public, created_at, updated_at FROM volume_types";

VolumeTypeRecord FromRow(const Row& r) {
  VolumeTypeRecord t;
  t.id = r.Str(0);
  t.name = r.Str(1);
  t.description = r.OptStr(2);
  t.is_public = r.Int(3) != 0;
  t.created_at = r.Int(4);
  t.updated_at = r.OptInt(5);
  return t;
}

Status LoadSpecs(Transaction& tx, VolumeTypeRecord& t) {
  ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT key, value FROM volume_type_extra_specs WHERE "
                                       "type_id = ?",
                                       {t.id}));
  for (const Row& r : rows) t.extra_specs[r.Str(0)] = r.Str(1);
  return Status::Ok();
}

Result<VolumeTypeRecord> GetOne(Transaction& tx, const std::string& where, const std::string& arg,
                                const std::string& missing) {
  ASSIGN_OR_RETURN(auto rows, tx.Query(std::string(kSelect) + " WHERE " + where, {arg}));
  if (rows.empty()) return NotFound(missing);
  VolumeTypeRecord t = FromRow(rows[0]);
  RETURN_IF_ERROR(LoadSpecs(tx, t));
  return t;
}

}  // namespace

Result<VolumeTypeRecord> GetType(Transaction& tx, const std::string& id) {
  return GetOne(tx, "id = ?", id, "Volume type " + id + " could not be found.");
}

Result<std::string> GetTypeName(Transaction& tx, const std::string& id) {
  ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT name FROM volume_types WHERE id = ?", {id}));
  if (rows.empty()) return NotFound("Volume type " + id + " could not be found.");
  return rows[0].Str(0);
}

Statement TypeNamesQuery() { return {"SELECT id, name FROM volume_types", {}}; }

std::map<std::string, std::string> TypeNamesOf(const std::vector<Row>& rows) {
  std::map<std::string, std::string> out;
  for (const Row& r : rows) out.emplace(r.Str(0), r.Str(1));
  return out;
}

Result<std::map<std::string, std::string>> TypeNames(Transaction& tx) {
  ASSIGN_OR_RETURN(auto rows, tx.Query(TypeNamesQuery().sql));
  return TypeNamesOf(rows);
}

Result<VolumeTypeRecord> GetTypeByName(Transaction& tx, const std::string& name) {
  return GetOne(tx, "name = ?", name, "Volume type with name " + name + " could not be found.");
}

Result<VolumeTypeRecord> FindType(Transaction& tx, const std::string& id_or_name) {
  auto t = GetType(tx, id_or_name);
  if (t.ok() || t.status().code() != StatusCode::kNotFound) return t;
  auto n = GetTypeByName(tx, id_or_name);
  if (n.ok() || n.status().code() != StatusCode::kNotFound) return n;
  return NotFound("Volume type " + id_or_name + " could not be found.");
}

Result<std::vector<VolumeTypeRecord>> ListTypes(Transaction& tx, std::optional<bool> is_public,
                                                const std::optional<std::string>& project) {
  std::string sql = std::string(kSelect) + " WHERE 1=1";
  std::vector<Value> params;
  if (is_public) {
    sql += " AND is_public = ?";
    params.emplace_back(int64_t{*is_public});
  }
  if (project) {
    sql += " AND (is_public = 1 OR EXISTS (SELECT 1 FROM volume_type_projects p WHERE "
           "p.type_id = volume_types.id AND p.project_id = ?))";
    params.emplace_back(*project);
  }
  sql += " ORDER BY created_at, name";
  ASSIGN_OR_RETURN(auto rows, tx.Query(sql, params));
  std::vector<VolumeTypeRecord> out;
  for (const Row& r : rows) out.push_back(FromRow(r));
  for (auto& t : out) RETURN_IF_ERROR(LoadSpecs(tx, t));
  return out;
}

Status InsertType(Transaction& tx, const VolumeTypeRecord& t) {
  ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT 1 FROM volume_types WHERE name = ?", {t.name}));
  if (!rows.empty()) return AlreadyExists("Volume Type " + t.name + " already exists.");
  RETURN_IF_ERROR(tx.Exec("INSERT INTO volume_types (id, name, description, is_public, created_at) "
                          "VALUES (?,?,?,?,?)",
                          {t.id, t.name, OptStr(t.description), int64_t{t.is_public},
                           t.created_at})
                      .status());
  return SetExtraSpecs(tx, t.id, t.extra_specs);
}

Status UpdateType(Transaction& tx, const VolumeTypeRecord& t) {
  ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT 1 FROM volume_types WHERE name = ? AND id <> ?",
                                       {t.name, t.id}));
  if (!rows.empty()) return AlreadyExists("Volume Type " + t.name + " already exists.");
  ASSIGN_OR_RETURN(int64_t n, tx.Exec("UPDATE volume_types SET name=?, description=?, is_public=?, "
                                      "updated_at=? WHERE id=?",
                                      {t.name, OptStr(t.description), int64_t{t.is_public},
                                       NowMicros(), t.id}));
  if (n == 0) return NotFound("Volume type " + t.id + " could not be found.");
  return Status::Ok();
}

Status DeleteType(Transaction& tx, const std::string& id) {
  RETURN_IF_ERROR(tx.Exec("DELETE FROM volume_type_extra_specs WHERE type_id = ?", {id}).status());
  RETURN_IF_ERROR(tx.Exec("DELETE FROM volume_type_projects WHERE type_id = ?", {id}).status());
  return tx.Exec("DELETE FROM volume_types WHERE id = ?", {id}).status();
}

Status SetExtraSpecs(Transaction& tx, const std::string& id,
                     const std::map<std::string, std::string>& specs) {
  for (const auto& [k, v] : specs) {
    RETURN_IF_ERROR(tx.Exec("INSERT INTO volume_type_extra_specs (type_id, key, value) VALUES "
                            "(?,?,?) ON CONFLICT (type_id, key) DO UPDATE SET value = "
                            "excluded.value",
                            {id, k, v})
                        .status());
  }
  return Status::Ok();
}

Status DeleteExtraSpec(Transaction& tx, const std::string& id, const std::string& key) {
  ASSIGN_OR_RETURN(int64_t n, tx.Exec("DELETE FROM volume_type_extra_specs WHERE type_id = ? AND "
                                      "key = ?",
                                      {id, key}));
  if (n == 0) {
    return NotFound("Volume Type " + id + " has no extra specs with key " + key + ".");
  }
  return Status::Ok();
}

Result<int64_t> CountVolumesOfType(Transaction& tx, const std::string& id) {
  ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT COUNT(*) FROM volumes WHERE volume_type_id = ?", {id}));
  return rows[0].Int(0);
}

Result<std::vector<std::string>> TypeProjects(Transaction& tx, const std::string& id) {
  ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT project_id FROM volume_type_projects WHERE "
                                       "type_id = ? ORDER BY project_id",
                                       {id}));
  std::vector<std::string> out;
  for (const Row& r : rows) out.push_back(r.Str(0));
  return out;
}

Status AddTypeProject(Transaction& tx, const std::string& id, const std::string& project) {
  ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT 1 FROM volume_type_projects WHERE type_id = ? AND "
                                       "project_id = ?",
                                       {id, project}));
  if (!rows.empty()) {
    return AlreadyExists("Volume type access for " + id + " / " + project + " already exists.");
  }
  return tx.Exec("INSERT INTO volume_type_projects (type_id, project_id) VALUES (?,?)",
                 {id, project})
      .status();
}

Status RemoveTypeProject(Transaction& tx, const std::string& id, const std::string& project) {
  ASSIGN_OR_RETURN(int64_t n, tx.Exec("DELETE FROM volume_type_projects WHERE type_id = ? AND "
                                      "project_id = ?",
                                      {id, project}));
  if (n == 0) {
    return NotFound("Volume type access not found for " + id + " / " + project + ".");
  }
  return Status::Ok();
}

Result<VolumeTypeRecord> EnsureType(Transaction& tx, const std::string& name,
                                    const std::string& description) {
  auto existing = GetTypeByName(tx, name);
  if (existing.ok() || existing.status().code() != StatusCode::kNotFound) return existing;
  VolumeTypeRecord t;
  t.id = NewUuid();
  t.name = name;
  t.description = description;
  t.created_at = NowMicros();
  RETURN_IF_ERROR(InsertType(tx, t));
  return t;
}

}  // namespace scoria::db
