#include "api/resources/snapshots/snapshot_views.h"

#include "api/resources/views.h"
#include "common/clock.h"

namespace scoria::api {

using nlohmann::json;

json SnapshotView(const Request& req, const db::SnapshotRecord& s, SnapshotExtras extras) {
  json md = json::object();
  for (const auto& [k, v] : s.metadata) md[k] = v;
  auto opt = [](const std::optional<std::string>& v) { return v ? json(*v) : json(nullptr); };
  json j = {
      {"id", s.id},
      {"created_at", FormatIsoTime(s.created_at)},
      {"updated_at", TimeOrNull(s.updated_at)},
      {"name", opt(s.name)},
      {"description", opt(s.description)},
      {"volume_id", s.volume_id},
      {"status", s.status},
      {"size", s.size},
      {"metadata", md},
  };
  if (extras == SnapshotExtras::kWith) {
    j["os-extended-snapshot-attributes:project_id"] = s.project_id;
    j["os-extended-snapshot-attributes:progress"] = s.progress;
  }
  if (req.version >= ApiVersion{3, 14}) j["group_snapshot_id"] = nullptr;
  if (req.version >= ApiVersion{3, 41}) j["user_id"] = s.user_id;
  if (req.version >= ApiVersion{3, 65}) j["consumes_quota"] = true;
  return j;
}

}  // namespace scoria::api
