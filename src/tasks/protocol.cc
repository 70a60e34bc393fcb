#include "tasks/protocol.h"

namespace scoria::tasks {
namespace {

using nlohmann::json;

// The field readers of FromJson: a missing optional field keeps the struct's default; a field
// of the wrong type is InvalidArgument naming it.
Status ReadString(const json& j, const char* key, std::string* out) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) {
    return InvalidArgument(std::string("'") + key + "' must be a string");
  }
  *out = it->get<std::string>();
  return Status::Ok();
}

Status ReadOptionalString(const json& j, const char* key, std::optional<std::string>* out) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return Status::Ok();
  if (!it->is_string()) return InvalidArgument(std::string("'") + key + "' must be a string");
  *out = it->get<std::string>();
  return Status::Ok();
}

Status ReadOptionalBool(const json& j, const char* key, bool* out) {
  auto it = j.find(key);
  if (it == j.end()) return Status::Ok();
  if (!it->is_boolean()) return InvalidArgument(std::string("'") + key + "' must be a boolean");
  *out = it->get<bool>();
  return Status::Ok();
}

Status ReadInt(const json& j, const char* key, int64_t* out) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number_integer()) {
    return InvalidArgument(std::string("'") + key + "' must be an integer");
  }
  *out = it->get<int64_t>();
  return Status::Ok();
}

Status ReadStringList(const json& j, const char* key, std::vector<std::string>* out) {
  auto it = j.find(key);
  if (it == j.end()) return Status::Ok();
  if (!it->is_array()) return InvalidArgument(std::string("'") + key + "' must be a list");
  for (const json& e : *it) {
    if (!e.is_string()) return InvalidArgument(std::string("'") + key + "' must hold strings");
    out->push_back(e.get<std::string>());
  }
  return Status::Ok();
}

template <class Args>
Result<Args> NoArgs(const json&) {
  return Args{};
}

}  // namespace

json ScheduleCreateVolume::ToJson() const {
  json j = json::object();
  if (!attempted_pools.empty()) j["attempted_pools"] = attempted_pools;
  if (availability_zone) j["availability_zone"] = *availability_zone;
  if (resource_backend) j["resource_backend"] = *resource_backend;
  if (last_error) j["last_error"] = *last_error;
  return j;
}

// Earlier builds also wrote "operation": "create" on a reschedule; it is ignored.
Result<ScheduleCreateVolume> ScheduleCreateVolume::FromJson(const json& j) {
  ScheduleCreateVolume a;
  RETURN_IF_ERROR(ReadOptionalString(j, "availability_zone", &a.availability_zone));
  RETURN_IF_ERROR(ReadOptionalString(j, "resource_backend", &a.resource_backend));
  RETURN_IF_ERROR(ReadStringList(j, "attempted_pools", &a.attempted_pools));
  RETURN_IF_ERROR(ReadOptionalString(j, "last_error", &a.last_error));
  return a;
}

json ScheduleExtendVolume::ToJson() const { return {{"new_size", new_size}}; }

Result<ScheduleExtendVolume> ScheduleExtendVolume::FromJson(const json& j) {
  ScheduleExtendVolume a;
  RETURN_IF_ERROR(ReadInt(j, "new_size", &a.new_size));
  return a;
}

json CreateVolume::ToJson() const { return {{"attempted_pools", attempted_pools}}; }

Result<CreateVolume> CreateVolume::FromJson(const json& j) {
  CreateVolume a;
  RETURN_IF_ERROR(ReadStringList(j, "attempted_pools", &a.attempted_pools));
  return a;
}

Result<DeleteVolume> DeleteVolume::FromJson(const json& j) { return NoArgs<DeleteVolume>(j); }

json ExtendVolume::ToJson() const { return {{"new_size", new_size}}; }

Result<ExtendVolume> ExtendVolume::FromJson(const json& j) {
  ExtendVolume a;
  RETURN_IF_ERROR(ReadInt(j, "new_size", &a.new_size));
  return a;
}

json ExportAttachment::ToJson() const { return {{"attachment_id", attachment_id}}; }

Result<ExportAttachment> ExportAttachment::FromJson(const json& j) {
  ExportAttachment a;
  RETURN_IF_ERROR(ReadString(j, "attachment_id", &a.attachment_id));
  return a;
}

json UnexportAttachment::ToJson() const {
  return {{"attachment_id", attachment_id}, {"delete_row", delete_row}};
}

Result<UnexportAttachment> UnexportAttachment::FromJson(const json& j) {
  UnexportAttachment a;
  RETURN_IF_ERROR(ReadString(j, "attachment_id", &a.attachment_id));
  RETURN_IF_ERROR(ReadOptionalBool(j, "delete_row", &a.delete_row));
  return a;
}

json CreateSnapshot::ToJson() const { return {{"snapshot_id", snapshot_id}}; }

Result<CreateSnapshot> CreateSnapshot::FromJson(const json& j) {
  CreateSnapshot a;
  RETURN_IF_ERROR(ReadString(j, "snapshot_id", &a.snapshot_id));
  return a;
}

json DeleteSnapshot::ToJson() const { return {{"snapshot_id", snapshot_id}}; }

Result<DeleteSnapshot> DeleteSnapshot::FromJson(const json& j) {
  DeleteSnapshot a;
  RETURN_IF_ERROR(ReadString(j, "snapshot_id", &a.snapshot_id));
  return a;
}

json RevertToSnapshot::ToJson() const { return {{"snapshot_id", snapshot_id}}; }

Result<RevertToSnapshot> RevertToSnapshot::FromJson(const json& j) {
  RevertToSnapshot a;
  RETURN_IF_ERROR(ReadString(j, "snapshot_id", &a.snapshot_id));
  return a;
}

Result<CreateBackup> CreateBackup::FromJson(const json& j) { return NoArgs<CreateBackup>(j); }

json RestoreBackup::ToJson() const { return {{"volume_id", volume_id}, {"new_volume", new_volume}}; }

Result<RestoreBackup> RestoreBackup::FromJson(const json& j) {
  RestoreBackup a;
  RETURN_IF_ERROR(ReadString(j, "volume_id", &a.volume_id));
  RETURN_IF_ERROR(ReadOptionalBool(j, "new_volume", &a.new_volume));
  return a;
}

json RestoreBackupWhenCreated::ToJson() const {
  return {{"volume_id", volume_id}, {"new_volume", new_volume}};
}

Result<RestoreBackupWhenCreated> RestoreBackupWhenCreated::FromJson(const json& j) {
  RestoreBackupWhenCreated a;
  RETURN_IF_ERROR(ReadString(j, "volume_id", &a.volume_id));
  RETURN_IF_ERROR(ReadOptionalBool(j, "new_volume", &a.new_volume));
  return a;
}

Result<DeleteBackup> DeleteBackup::FromJson(const json& j) { return NoArgs<DeleteBackup>(j); }
Result<VerifyBackup> VerifyBackup::FromJson(const json& j) { return NoArgs<VerifyBackup>(j); }
Result<ImportBackup> ImportBackup::FromJson(const json& j) { return NoArgs<ImportBackup>(j); }

}  // namespace scoria::tasks
