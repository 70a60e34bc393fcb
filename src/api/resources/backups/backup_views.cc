#include "api/resources/backups/backup_views.h"

#include "api/resources/views.h"
#include "common/clock.h"

namespace scoria::api {

using nlohmann::json;

namespace {
json OptString(const std::optional<std::string>& s) { return s ? json(*s) : json(nullptr); }
}  // namespace

json BackupSummaryView(const Request& req, const db::BackupRecord& b) {
  return {
      {"id", b.id}, {"name", OptString(b.name)}, {"links", ResourceLinks(req, "backups", b.id)}};
}

json BackupProgressView(const db::BackupRecord& b) {
  if (!b.progress_op) return nullptr;
  int percent = 0;
  if (b.progress_total > 0) {
    percent = static_cast<int>(std::min<int64_t>(100, b.progress_done * 100 / b.progress_total));
  }
  return {{"operation", *b.progress_op},
          {"bytes_done", b.progress_done},
          {"bytes_total", b.progress_total},
          {"percent", percent}};
}

json BackupDetailView(const Request& req, const db::BackupRecord& b, int64_t dependent_backups) {
  json j = {{"id", b.id},
            {"status", b.status},
            {"size", b.size},
            {"object_count", b.object_count},
            {"availability_zone", b.availability_zone},
            {"container", OptString(b.container)},
            {"created_at", FormatIsoTime(b.created_at)},
            {"updated_at", TimeOrNull(b.updated_at)},
            {"name", OptString(b.name)},
            {"description", OptString(b.description)},
            {"fail_reason", OptString(b.fail_reason)},
            {"volume_id", b.volume_id},
            {"links", ResourceLinks(req, "backups", b.id)},
            {"is_incremental", b.parent_id.has_value()},
            {"has_dependent_backups", dependent_backups > 0},
            {"snapshot_id", OptString(b.snapshot_id)},
            {"data_timestamp", FormatIsoTime(b.data_timestamp)}};
  // Scoria's additions (docs/api.md), for clients that ask: Cinder's clients and tempest's
  // schemas accept no keys beyond Cinder's.
  if (WantsScoriaDetails(req)) {
    j["parent_id"] = OptString(b.parent_id);
    j["progress"] = BackupProgressView(b);
    j["verify_result"] = OptString(b.verify_result);
    j["verified_at"] = TimeOrNull(b.verified_at);
  }
  if (req.version >= ApiVersion{3, 18} && req.ctx.is_admin) {
    j["os-backup-project-attr:project_id"] = b.project_id;
  }
  if (req.version >= ApiVersion{3, 43}) {
    json md = json::object();
    for (const auto& [k, v] : b.metadata) md[k] = v;
    j["metadata"] = md;
  }
  if (req.version >= ApiVersion{3, 56}) j["user_id"] = b.user_id;
  if (req.version >= ApiVersion{3, 64}) j["encryption_key_id"] = nullptr;
  return j;
}

}  // namespace scoria::api
