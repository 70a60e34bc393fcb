#include "api/resources/views.h"

#include "api/http/text.h"
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

static void WriteVolumeAttachments(JsonWriter& w, const Request& req,
                                   const std::vector<db::AttachmentRecord>& atts) {
  w.BeginArray();
  for (const auto& a : atts) {
    if (a.attach_status != db::attach_status::kAttached) continue;
    w.BeginObject()
        .Field("id", a.volume_id)
        .Field("attachment_id", a.id)
        .Field("volume_id", a.volume_id)
        .Field("server_id", a.instance_uuid);
    if (req.ctx.is_admin) {
      w.Field("host_name", a.attached_host);
    } else {
      w.NullField("host_name");
    }
    w.Field("device", a.mountpoint);
    if (a.attach_time) {
      w.Field("attached_at", IsoTimeText(*a.attach_time).view());
    } else {
      w.NullField("attached_at");
    }
    w.EndObject();
  }
  w.EndArray();
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

static void WriteResourceLinks(JsonWriter& w, const Request& req, std::string_view collection,
                               const std::string& id) {
  // Written for every listed resource: the hrefs are built in one buffer per thread, which
  // stops allocating once it has held the longest (four temporaries each time before).
  thread_local std::string href;
  href.assign(req.base_url).append("/v3");
  if (!req.url_project.empty()) href.append("/").append(req.url_project);
  href.append("/").append(collection).append("/").append(id);
  w.BeginArray();
  w.BeginObject().Field("rel", "self").Field("href", std::string_view(href)).EndObject();
  href.erase(req.base_url.size(), 3);  // the bookmark is the same without "/v3"
  w.BeginObject().Field("rel", "bookmark").Field("href", std::string_view(href)).EndObject();
  w.EndArray();
}

bool WantsScoriaDetails(const Request& req) {
  auto h = req.Header(kScoriaDetailsHeader);
  return h.has_value() && EqualsIgnoreCase(TrimSpace(*h), "true");
}

void WriteVolumeSummary(JsonWriter& w, const Request& req, const db::VolumeRecord& v) {
  w.BeginObject().Field("id", v.id).Field("name", v.name).Key("links");
  WriteResourceLinks(w, req, "volumes", v.id);
  w.EndObject();
}

void WriteVolumeDetail(JsonWriter& w, const Request& req, const db::VolumeRecord& v,
                       const std::string& type_name,
                       const std::vector<db::AttachmentRecord>& attachments, VolumeExtras extras) {
  const ApiVersion& ver = req.version;
  const bool admin = req.ctx.is_admin;
  w.BeginObject()
      .Field("id", v.id)
      .Field("status", DisplayVolumeStatus(v.status))
      .Field("size", v.size)
      .Field("availability_zone", v.availability_zone)
      .Field("created_at", IsoTimeText(v.created_at).view());
  if (v.updated_at) {
    w.Field("updated_at", IsoTimeText(*v.updated_at).view());
  } else {
    w.NullField("updated_at");
  }
  w.Field("name", v.name)
      .Field("description", v.description)
      .Field("volume_type", type_name)
      .Field("snapshot_id", v.snapshot_id)
      .Field("source_volid", v.source_volid)
      .Key("metadata")
      .BeginObject();
  for (const auto& [k, val] : v.metadata) w.EscapedKey(k).String(val);
  w.EndObject().Key("links");
  WriteResourceLinks(w, req, "volumes", v.id);
  w.Field("user_id", v.user_id)
      .Field("bootable", v.bootable ? "true" : "false")
      .Field("encrypted", false)
      .NullField("replication_status")
      .NullField("consistencygroup_id")
      .Field("multiattach", v.multiattach)
      .Key("attachments");
  WriteVolumeAttachments(w, req, attachments);
  const bool with_extras = extras == VolumeExtras::kWith;
  if (with_extras) w.Field("os-vol-tenant-attr:tenant_id", v.project_id);
  if (admin) {
    w.Field("migration_status", v.migration_status);
    if (with_extras) {
      w.Field("os-vol-host-attr:host", v.host)
          .Field("os-vol-mig-status-attr:migstat", v.migration_status)
          .NullField("os-vol-mig-status-attr:name_id");
    }
  }
  if (ver >= ApiVersion{3, 13}) w.NullField("group_id");
  if (ver >= ApiVersion{3, 21} && admin) w.NullField("provider_id");
  if (ver >= ApiVersion{3, 48}) {
    w.Field("shared_targets", ver < ApiVersion{3, 69}).NullField("service_uuid");
  }
  if (ver >= ApiVersion{3, 61} && admin) w.NullField("cluster_name");
  if (ver >= ApiVersion{3, 63}) w.Field("volume_type_id", v.volume_type_id);
  if (ver >= ApiVersion{3, 65}) w.Field("consumes_quota", true);
  w.EndObject();
}

std::string VolumeDetailJson(const Request& req, const db::VolumeRecord& v,
                             const std::string& type_name,
                             const std::vector<db::AttachmentRecord>& attachments,
                             VolumeExtras extras) {
  std::string out;
  JsonWriter w(out);
  WriteVolumeDetail(w, req, v, type_name, attachments, extras);
  return out;
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
