#include "api/resources/admin/admin_views.h"

#include "api/resources/views.h"
#include "common/clock.h"

namespace scoria::api {

using nlohmann::json;

namespace {

std::string BackendState(const db::ServiceRecord& s) {
  if (!s.capabilities) return "down";
  json caps = json::parse(*s.capabilities, nullptr, false);
  if (!caps.is_object() || !caps.contains("pools") || !caps["pools"].is_array() ||
      caps["pools"].empty()) {
    return "down";
  }
  const json& pool = caps["pools"][0];
  if (pool.is_object() && pool.contains("backend_state") && pool["backend_state"].is_string()) {
    return pool["backend_state"].get<std::string>();
  }
  if (caps.contains("backend_state") && caps["backend_state"].is_string()) {
    return caps["backend_state"].get<std::string>();
  }
  return "up";
}

}  // namespace

json ServiceView(const Request& req, const db::ServiceRecord& s, int64_t now_us, int down_time_s) {
  json j = {{"binary", s.binary},
            {"host", s.host},
            {"zone", s.availability_zone},
            {"status", s.disabled ? "disabled" : "enabled"},
            {"state", db::ServiceIsUp(s, now_us, down_time_s) ? "up" : "down"},
            {"updated_at", TimeOrNull(s.updated_at)},
            {"disabled_reason", s.disabled_reason ? json(*s.disabled_reason) : json(nullptr)}};
  if (req.version >= ApiVersion{3, 7}) j["cluster"] = nullptr;
  const bool volume = s.binary == db::kVolumeBinary;
  if (volume) {
    j["replication_status"] = "disabled";
    j["active_backend_id"] = nullptr;
    j["frozen"] = s.frozen;
    if (req.version >= ApiVersion{3, 49}) j["backend_state"] = BackendState(s);
  }
  return j;
}

json MessageView(const Request& req, const db::MessageRecord& m) {
  auto opt = [](const std::optional<std::string>& s) { return s ? json(*s) : json(nullptr); };
  json j = {{"id", m.id},
            {"resource_type", m.resource_type},
            {"resource_uuid", opt(m.resource_uuid)},
            {"request_id", opt(m.request_id)},
            {"event_id", m.event_id},
            {"message_level", m.message_level},
            {"user_message", m.user_message},
            {"created_at", FormatIsoTime(m.created_at)},
            {"guaranteed_until", FormatIsoTime(m.expires_at)},
            {"links", ResourceLinks(req, "messages", m.id)}};
  if (WantsScoriaDetails(req)) j["expires_at"] = FormatIsoTime(m.expires_at);  // an alias
  return j;
}

json HostView(const db::ServiceRecord& s, int64_t now_us, int down_time_s) {
  const bool up = db::ServiceIsUp(s, now_us, down_time_s);
  return {{"host_name", s.host},
          {"service", s.binary},
          {"zone", s.availability_zone},
          {"service-status", up ? "available" : "unavailable"},  // not a status: host state
          {"service-state", s.disabled ? "disabled" : "enabled"},
          {"last-update", TimeOrNull(s.updated_at)}};
}

json HostResourceView(const std::string& host, const HostResource& r) {
  return {{"resource",
           {{"host", host},
            {"project", r.project},
            {"volume_count", std::to_string(r.volume_count)},
            {"total_volume_gb", std::to_string(r.volume_gb)},
            {"snapshot_count", std::to_string(r.snapshot_count)},
            {"total_snapshot_gb", std::to_string(r.snapshot_gb)}}}};
}

}  // namespace scoria::api
