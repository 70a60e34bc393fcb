#include "api/resources/views.h"

#include "common/clock.h"
#include "lifecycle/volume_status.h"

namespace scoria::api {

using nlohmann::json;

namespace {
json OptString(const std::optional<std::string>& s) { return s ? json(*s) : json(nullptr); }
}  // namespace

json TimeOrNull(const std::optional<int64_t>& micros) {
  return micros ? json(FormatIsoTime(*micros)) : json(nullptr);
}

json ResourceLinks(const Request& req, const std::string& collection, const std::string& id) {
  std::string project = req.url_project.empty() ? "" : "/" + req.url_project;
  return json::array(
      {{{"rel", "self"}, {"href", req.base_url + "/v3" + project + "/" + collection + "/" + id}},
       {{"rel", "bookmark"}, {"href", req.base_url + project + "/" + collection + "/" + id}}});
}

std::string DisplayVolumeStatus(const std::string& status) {
  namespace vs = volume_status;
  if (status == vs::kManaging) return vs::kCreating;
  if (status == vs::kErrorManaging) return vs::kError;
  if (status == vs::kErrorManagingDeleting) return vs::kDeleting;
  return status;
}

static json VolumeAttachmentsView(const Request& req, const std::vector<db::AttachmentRecord>& atts) {
  json out = json::array();
  for (const auto& a : atts) {
    if (a.attach_status != db::attach_status::kAttached) continue;
    out.push_back({{"id", a.volume_id},
                   {"attachment_id", a.id},
                   {"volume_id", a.volume_id},
                   {"server_id", OptString(a.instance_uuid)},
                   {"host_name", req.ctx.is_admin ? OptString(a.attached_host) : json(nullptr)},
                   {"device", OptString(a.mountpoint)},
                   {"attached_at", TimeOrNull(a.attach_time)}});
  }
  return out;
}

json AttachmentSummaryView(const db::AttachmentRecord& a) {
  return {{"id", a.id},
          {"status", a.attach_status},
          {"instance", OptString(a.instance_uuid)},
          {"volume_id", a.volume_id}};
}

json AttachmentDetailView(const db::AttachmentRecord& a) {
  json j = AttachmentSummaryView(a);
  j["attached_at"] = a.attach_time ? json(FormatIsoTime(*a.attach_time)) : json("");
  j["detached_at"] = a.detach_time ? json(FormatIsoTime(*a.detach_time)) : json("");
  j["attach_mode"] = a.attach_mode.value_or("null");
  json ci = json::object();
  if (a.connection_info) {
    ci = json::parse(*a.connection_info, nullptr, false);
    if (ci.is_discarded()) ci = json::object();
  }
  j["connection_info"] = ci;
  return j;
}

json VolumeSummaryView(const Request& req, const db::VolumeRecord& v) {
  return {{"id", v.id}, {"name", OptString(v.name)}, {"links", ResourceLinks(req, "volumes", v.id)}};
}

json VolumeDetailView(const Request& req, const db::VolumeRecord& v, const std::string& type_name,
                      const std::vector<db::AttachmentRecord>& attachments) {
  const ApiVersion& ver = req.version;
  json md = json::object();
  for (const auto& [k, val] : v.metadata) md[k] = val;
  json j = {
      {"id", v.id},
      {"status", DisplayVolumeStatus(v.status)},
      {"size", v.size},
      {"availability_zone", v.availability_zone},
      {"created_at", FormatIsoTime(v.created_at)},
      {"updated_at", TimeOrNull(v.updated_at)},
      {"name", OptString(v.name)},
      {"description", OptString(v.description)},
      {"volume_type", type_name},
      {"snapshot_id", OptString(v.snapshot_id)},
      {"source_volid", OptString(v.source_volid)},
      {"metadata", md},
      {"links", ResourceLinks(req, "volumes", v.id)},
      {"user_id", v.user_id},
      {"bootable", v.bootable ? "true" : "false"},
      {"encrypted", false},
      {"replication_status", nullptr},
      {"consistencygroup_id", nullptr},
      {"multiattach", v.multiattach},
      {"attachments", VolumeAttachmentsView(req, attachments)},
      {"os-vol-tenant-attr:tenant_id", v.project_id},
  };
  if (req.ctx.is_admin) {
    j["migration_status"] = OptString(v.migration_status);
    j["os-vol-host-attr:host"] = OptString(v.host);
    j["os-vol-mig-status-attr:migstat"] = OptString(v.migration_status);
    j["os-vol-mig-status-attr:name_id"] = nullptr;
  }
  if (ver >= ApiVersion{3, 13}) j["group_id"] = nullptr;
  if (ver >= ApiVersion{3, 21} && req.ctx.is_admin) j["provider_id"] = nullptr;
  if (ver >= ApiVersion{3, 48}) {
    j["shared_targets"] = ver >= ApiVersion{3, 69} ? json(false) : json(true);
    j["service_uuid"] = nullptr;
  }
  if (ver >= ApiVersion{3, 61} && req.ctx.is_admin) j["cluster_name"] = nullptr;
  if (ver >= ApiVersion{3, 63}) j["volume_type_id"] = v.volume_type_id;
  if (ver >= ApiVersion{3, 65}) j["consumes_quota"] = true;
  return j;
}

json VolumeTypeView(const Request& req, const db::VolumeTypeRecord& t) {
  json specs = json::object();
  for (const auto& [k, v] : t.extra_specs) {
    // Non-admins only see the keys Cinder's policy shows them.
    if (req.ctx.is_admin || k == "RESKEY:availability_zones" || k == "multiattach" ||
        k == "replication_enabled") {
      specs[k] = v;
    }
  }
  json j = {{"id", t.id},
            {"name", t.name},
            {"description", OptString(t.description)},
            {"is_public", t.is_public},
            {"os-volume-type-access:is_public", t.is_public},
            {"extra_specs", specs}};
  if (req.ctx.is_admin) j["qos_specs_id"] = nullptr;
  return j;
}

}  // namespace scoria::api
