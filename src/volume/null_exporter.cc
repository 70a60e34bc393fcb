#include "volume/null_exporter.h"

#include <spdlog/spdlog.h>

namespace scoria::volume {

Status NullExporter::Export(const std::string& volume_id, std::shared_ptr<BlockDevice> device) {
  std::lock_guard lock(mu_);
  auto [it, added] = exports_.try_emplace(volume_id);
  if (added) {
    it->second.device = std::move(device);
    spdlog::info("export: volume {} exported as {} (null exporter: not served)", volume_id,
                 TargetName(volume_id));
  }
  return Status::Ok();
}

Status NullExporter::Allow(const std::string& volume_id, const ExportAccess& access) {
  std::lock_guard lock(mu_);
  auto it = exports_.find(volume_id);
  if (it == exports_.end()) return FailedPrecondition("volume " + volume_id + " is not exported");
  it->second.access[access.attachment_id] = access;
  spdlog::info("export: volume {} allows {} for attachment {} ({})", volume_id, access.initiator,
               access.attachment_id, access.read_only ? "ro" : "rw");
  return Status::Ok();
}

Status NullExporter::Revoke(const std::string& volume_id, const std::string& attachment_id) {
  std::lock_guard lock(mu_);
  auto it = exports_.find(volume_id);
  if (it != exports_.end() && it->second.access.erase(attachment_id) > 0) {
    spdlog::info("export: volume {} revoked attachment {}", volume_id, attachment_id);
  }
  return Status::Ok();
}

Status NullExporter::Unexport(const std::string& volume_id) {
  std::lock_guard lock(mu_);
  if (exports_.erase(volume_id) > 0) spdlog::info("export: volume {} unexported", volume_id);
  return Status::Ok();
}

void NullExporter::CapacityChanged(const std::string& volume_id) {
  std::lock_guard lock(mu_);
  ++capacity_changes_;
  auto it = exports_.find(volume_id);
  if (it != exports_.end() && it->second.device) {
    Status st = it->second.device->Refresh();
    if (!st.ok()) spdlog::warn("export: volume {} refresh: {}", volume_id, st.ToString());
  }
  spdlog::info("export: volume {} capacity changed", volume_id);
}

bool NullExporter::IsExported(const std::string& volume_id) const {
  std::lock_guard lock(mu_);
  return exports_.count(volume_id) > 0;
}

std::map<std::string, std::string> NullExporter::AccessOf(const std::string& volume_id) const {
  std::lock_guard lock(mu_);
  std::map<std::string, std::string> out;
  auto it = exports_.find(volume_id);
  if (it == exports_.end()) return out;
  for (const auto& [id, a] : it->second.access) out[id] = a.initiator;
  return out;
}

int NullExporter::capacity_changes() const {
  std::lock_guard lock(mu_);
  return capacity_changes_;
}

}  // namespace scoria::volume
