// Volume types, their extra specs and project access. The default type (`__DEFAULT__` or the
// configured default_volume_type) is created on first start by EnsureType.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "db/database.h"

namespace scoria::db {

struct VolumeTypeRecord {
  std::string id;
  std::string name;
  std::optional<std::string> description;
  bool is_public = true;
  std::map<std::string, std::string> extra_specs;
  int64_t created_at = 0;
  std::optional<int64_t> updated_at;
};

// NotFound "Volume type <id> could not be found." / "Volume type with name <n> could not be found."
Result<VolumeTypeRecord> GetType(Transaction& tx, const std::string& id);
Result<VolumeTypeRecord> GetTypeByName(Transaction& tx, const std::string& name);
// Only the name of type `id` (one query; GetType reads the extra specs too). NotFound as GetType.
Result<std::string> GetTypeName(Transaction& tx, const std::string& id);
// Every type's name by id (one query): what a page of volume views needs.
Result<std::map<std::string, std::string>> TypeNames(Transaction& tx);
// The same as a statement for Transaction::QueryAll, and its rows read back.
Statement TypeNamesQuery();
std::map<std::string, std::string> TypeNamesOf(const std::vector<Row>& rows);
// Id first, then name.
Result<VolumeTypeRecord> FindType(Transaction& tx, const std::string& id_or_name);
// is_public: nullopt = all; project: when set, private types are visible only with access.
Result<std::vector<VolumeTypeRecord>> ListTypes(Transaction& tx, std::optional<bool> is_public,
                                                const std::optional<std::string>& project);
// AlreadyExists "Volume Type <name> already exists." on a duplicate name.
Status InsertType(Transaction& tx, const VolumeTypeRecord& t);
Status UpdateType(Transaction& tx, const VolumeTypeRecord& t);
Status DeleteType(Transaction& tx, const std::string& id);
Status SetExtraSpecs(Transaction& tx, const std::string& id,
                     const std::map<std::string, std::string>& specs);
Status DeleteExtraSpec(Transaction& tx, const std::string& id, const std::string& key);
Result<int64_t> CountVolumesOfType(Transaction& tx, const std::string& id);
Result<std::vector<std::string>> TypeProjects(Transaction& tx, const std::string& id);
Status AddTypeProject(Transaction& tx, const std::string& id, const std::string& project);
Status RemoveTypeProject(Transaction& tx, const std::string& id, const std::string& project);
// Returns the type named `name`, creating it (public, no specs) when missing.
Result<VolumeTypeRecord> EnsureType(Transaction& tx, const std::string& name,
                                    const std::string& description);

}  // namespace scoria::db
