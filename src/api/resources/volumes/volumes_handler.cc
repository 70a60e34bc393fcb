// Volumes: /volumes, /volumes/detail, /volumes/{id}, /volumes/summary, metadata
// (metadata_routes.h), and the actions os-extend, os-reset_status, os-force_delete,
// os-set_bootable, os-update_readonly_flag, revert (snapshot_flow.h); the legacy attach
// actions (os-reserve ... os-detach) are in volume_attach_actions.cc. A create may name a
// snapshot or a volume to copy (snapshot_flow.h: checked here, placed on the source's pool by
// the scheduler through resource_backend, copied by the volume manager).
// Asynchronous work (create, delete, extend) is a row change plus a task in one transaction
// (DESIGN.md "Durable tasks"); the handler answers 202 once it is committed.
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "api/http/fault.h"
#include "api/http/list_filters.h"
#include "api/http/query.h"
#include "api/http/validation.h"
#include "api/resources/api_env.h"
#include "api/resources/attachments/attach_flow.h"
#include "api/resources/backups/backup_flow.h"
#include "api/resources/frozen.h"
#include "api/resources/metadata_routes.h"
#include "api/resources/quota.h"
#include "api/resources/snapshots/snapshot_flow.h"
#include "api/resources/views.h"
#include "api/resources/visibility.h"
#include "common/clock.h"
#include "common/ids.h"
#include "db/attachments_repo.h"
#include "db/services_repo.h"
#include "db/tasks_repo.h"
#include "db/types_repo.h"
#include "db/volumes_repo.h"
#include "lifecycle/transitions.h"
#include "lifecycle/volume_status.h"
#include "tasks/protocol.h"

namespace scoria::api {
namespace {

using lifecycle::VolumeOp;
using nlohmann::json;

// API name -> column, for filters and sorting.
std::optional<std::string> VolumeColumn(const std::string& key) {
  static const std::map<std::string, std::string> kMap = {
      {"name", "name"},
      {"display_name", "name"},
      {"status", "status"},
      {"size", "size"},
      {"availability_zone", "availability_zone"},
      {"bootable", "bootable"},
      {"migration_status", "migration_status"},
      {"created_at", "created_at"},
      {"updated_at", "updated_at"},
      {"id", "id"},
      {"user_id", "user_id"},
      {"project_id", "project_id"},
      {"volume_type_id", "volume_type_id"},
      {"host", "host"},
      {"display_description", "description"},
      {"description", "description"},
      {"attach_status", "attach_status"}};
  auto it = kMap.find(key);
  if (it == kMap.end()) return std::nullopt;
  return it->second;
}

// The storage filter of a volume list: the caller's project unless all_tenants, then the
// query's filters (shared parsing: list_filters.h) with the volume columns' own rules.
Result<db::VolumeFilter> VolumeListFilter(const Request& req, const ListParams& params) {
  FilterSpec spec;
  spec.column = [](const std::string& key) -> std::optional<std::string> {
    if (key == "group_id" || key == "consumes_quota" || key == "all_tenants") return std::nullopt;
    return VolumeColumn(key);  // unknown keys from admins are ignored, as Cinder's DB layer does
  };
  spec.metadata = true;
  spec.time_ranges = true;
  ASSIGN_OR_RETURN(ListFilters f, SplitFilters(params, spec));
  db::VolumeFilter filter;
  if (!params.all_tenants) filter.project_id = req.ctx.project_id;
  filter.equals = std::move(f.equals);
  filter.like = std::move(f.like);
  filter.metadata = std::move(f.metadata);
  filter.time_ranges = std::move(f.time_ranges);
  // bootable is a strict boolean and never a substring match.
  if (auto it = filter.like.find("bootable"); it != filter.like.end()) {
    filter.equals["bootable"] = it->second;
    filter.like.erase(it);
  }
  if (auto it = filter.equals.find("bootable"); it != filter.equals.end()) {
    ASSIGN_OR_RETURN(bool b, ParseStrictBool(it->second));
    it->second = b ? "1" : "0";
  }
  return filter;
}

// Writes one page of volumes as an array: summaries, or details with their metadata, type
// names and attachments (one batch of queries for the whole page, not one per volume).
Status WritePage(db::Transaction& tx, const Request& req, std::vector<db::VolumeRecord>& vols,
                 bool detail, JsonWriter& w) {
  w.BeginArray();
  if (!detail) {
    for (const auto& v : vols) WriteVolumeSummary(w, req, v);
    w.EndArray();
    return Status::Ok();
  }
  // A view lists only attached attachments, and a volume with one is itself attached
  // (db::RecomputeVolumeStatus writes both in one transaction; a reset to detached deletes the
  // rows): only attached volumes' attachments are read, and none when the page has none.
  std::vector<std::string> attached;
  for (const auto& v : vols) {
    if (v.attach_status == volume_attach_status::kAttached) attached.push_back(v.id);
  }
  // Metadata, type names and attachments in one batch (one round trip on PostgreSQL).
  std::vector<db::Statement> queries;  // moved in: an initializer list would copy each one
  queries.reserve(3);
  queries.push_back(db::VolumeMetadataQuery(vols));
  queries.push_back(db::TypeNamesQuery());
  if (!attached.empty()) queries.push_back(db::AttachmentsOfVolumesQuery(attached));
  ASSIGN_OR_RETURN(auto batch, tx.QueryAll(queries));
  db::AddVolumeMetadata(batch[0], vols);
  const auto type_names = db::TypeNamesOf(batch[1]);
  std::map<std::string, std::vector<db::AttachmentRecord>> atts;
  if (!attached.empty()) atts = db::AttachmentsByVolume(batch[2]);
  static const std::vector<db::AttachmentRecord> kNone;
  for (const auto& v : vols) {
    auto it = type_names.find(v.volume_type_id);
    auto a = atts.find(v.id);
    WriteVolumeDetail(w, req, v, it == type_names.end() ? v.volume_type_id : it->second,
                      a == atts.end() ? kNone : a->second);
  }
  w.EndArray();
  return Status::Ok();
}

// {"<key>": <json_text>}: a single resource's response around its view.
std::string Wrap(std::string_view key, const std::string& json_text) {
  std::string out;
  JsonWriter w(out);
  w.BeginObject().EscapedKey(key).Raw(json_text).EndObject();
  return out;
}

class VolumesApi {
 public:
  explicit VolumesApi(const ApiEnv& env) : env_(env) {}

  Response Create(Request& req, const PathParams&);
  Response List(Request& req, bool detail);
  Response Show(Request& req, const PathParams& p);
  Response Update(Request& req, const PathParams& p);
  Response Delete(Request& req, const PathParams& p);
  Response Summary(Request& req, const PathParams&);
  Response Action(Request& req, const PathParams& p);

  // The volume, if the caller may see it (admins see every project's).
  static Result<db::VolumeRecord> Load(db::Transaction& tx, const Request& req,
                                       const std::string& id) {
    return LoadVisibleVolume(tx, req, id);
  }

 private:
  Result<std::string> Detail(db::Transaction& tx, const Request& req, const db::VolumeRecord& v,
                             VolumeExtras extras = VolumeExtras::kWith) {
    auto type_name = db::GetTypeName(tx, v.volume_type_id);
    ASSIGN_OR_RETURN(auto atts, db::VolumeAttachments(tx, v.id));
    return VolumeDetailJson(req, v, type_name.ok() ? *type_name : v.volume_type_id, atts, extras);
  }
  Response Respond(Status st, const std::function<Response()>& ok) {
    return st.ok() ? ok() : FaultResponse(st);
  }
  Status EnqueueDelete(db::Transaction& tx, db::VolumeRecord& v);
  // A volume with attachment rows (of any state) is not deleted: its export would outlive it.
  static Status RefuseIfAttachments(db::Transaction& tx, const db::VolumeRecord& v) {
    ASSIGN_OR_RETURN(auto rows, db::VolumeAttachments(tx, v.id));
    if (rows.empty()) return Status::Ok();
    return FailedPrecondition("Invalid volume: Volume " + v.id + " has " +
                              std::to_string(rows.size()) +
                              " attachment(s); detach it before deleting it.");
  }
  // A volume being cloned is not deleted while the clone reads it.
  static Status RefuseIfCloning(db::Transaction& tx, const db::VolumeRecord& v) {
    db::VolumeFilter clones;
    clones.equals = {{"source_volid", v.id}, {"status", volume_status::kCreating}};
    ASSIGN_OR_RETURN(int64_t n, db::CountVolumes(tx, clones));
    if (n == 0) return Status::Ok();
    return FailedPrecondition("Invalid volume: Volume " + v.id + " is the source of " +
                              std::to_string(n) + " volume(s) being created.");
  }
  Response Extend(Request& req, const std::string& id, const json& args);
  Response ResetStatus(Request& req, const std::string& id, const json& args);
  Response ForceDelete(Request& req, const std::string& id);
  Response SetFlag(Request& req, const std::string& id, const json& args, const char* field,
                   bool readonly);

  const ApiEnv env_;  // a copy: it holds references, the caller's may be a temporary
};

namespace {

// A create request's body, checked (everything that needs no database).
struct CreateRequest {
  std::optional<VolumeSource> source;    // snapshot_id or source_volid
  std::optional<std::string> backup_id;  // 3.47: the new volume gets a backup's bytes
  std::optional<int64_t> size;           // nullopt: the source's or the backup's size
  std::optional<std::string> name, description, availability_zone, type_ref;
  std::map<std::string, std::string> metadata;
};

bool NonNull(const json& in, const char* k) { return in.contains(k) && !in[k].is_null(); }

Status RejectImage(const json& in) {
  if (NonNull(in, "imageRef") || NonNull(in, "image_id")) {
    return InvalidArgument(
        "Invalid input received: creating a volume from an image needs Glance, which Scoria "
        "does not use");
  }
  return Status::Ok();
}

// Groups, and multiattach asked for in the body instead of the type.
Status RejectGroupsAndMultiattach(const json& in) {
  if (NonNull(in, "consistencygroup_id") || NonNull(in, "group_id")) {
    return NotImplemented("Groups are not supported.");
  }
  if (NonNull(in, "multiattach")) {
    ASSIGN_OR_RETURN(bool m, ParseBoolValue(in["multiattach"], "multiattach"));
    if (m) {
      return InvalidArgument(
          "Invalid input received: multiattach must be requested with a volume type extra "
          "spec (multiattach=\"<is> True\")");
    }
  }
  return Status::Ok();
}

// The order of the checks is Cinder's: a body with several faults reports the same one.
Result<CreateRequest> ParseCreate(const Request& req, const json& in) {
  if (req.version >= ApiVersion{3, 53}) {
    RETURN_IF_ERROR(RejectUnknownKeys(
        in,
        {"size", "availability_zone", "source_volid", "name", "display_name", "description",
         "display_description", "volume_type", "snapshot_id", "metadata", "imageRef", "image_id",
         "backup_id", "consistencygroup_id", "group_id", "multiattach", "scheduler_hints"}));
  }
  CreateRequest out;
  RETURN_IF_ERROR(RejectImage(in));  // no Glance here
  ASSIGN_OR_RETURN(out.source, ParseVolumeSource(in));
  if (req.version >= ApiVersion{3, 47} && NonNull(in, "backup_id")) {
    if (!in["backup_id"].is_string() || out.source) {
      return InvalidArgument(
          "Invalid input received: backup_id must be a string, "
          "and excludes snapshot_id and source_volid");
    }
    out.backup_id = in["backup_id"].get<std::string>();
  }
  RETURN_IF_ERROR(RejectGroupsAndMultiattach(in));
  if (NonNull(in, "size")) {
    ASSIGN_OR_RETURN(out.size, ParseSize(in["size"], "size", 1, kMaxVolumeSizeGb));
  } else if (!out.source && !out.backup_id) {
    return InvalidArgument("Invalid input received: 'size' is a required property");
  }
  ASSIGN_OR_RETURN(out.name, OptionalString(in, in.contains("name") ? "name" : "display_name"));
  ASSIGN_OR_RETURN(
      out.description,
      OptionalString(in, in.contains("description") ? "description" : "display_description"));
  ASSIGN_OR_RETURN(out.availability_zone, OptionalString(in, "availability_zone"));
  if (in.contains("metadata")) {
    ASSIGN_OR_RETURN(out.metadata, ParseMetadata(in["metadata"]));
  }
  if (NonNull(in, "volume_type")) {
    if (!in["volume_type"].is_string()) {
      return InvalidArgument("Invalid input for field/attribute volume_type. Value: " +
                             in["volume_type"].dump() + ". Not a string");
    }
    out.type_ref = in["volume_type"].get<std::string>();
  }
  return out;
}

// The type a new volume gets: the one asked for (404 when unknown, or private and not shared
// with a non-admin caller), else its source's (Cinder: a copy keeps its source's type), else
// default_volume_type.
Result<db::VolumeTypeRecord> TypeForCreate(db::Transaction& tx, const Request& req,
                                           const CreateRequest& c, const std::string& fallback) {
  db::VolumeTypeRecord type;
  if (c.type_ref) {
    auto t = db::FindType(tx, *c.type_ref);
    if (!t.ok()) {
      return t.status().code() == StatusCode::kNotFound
                 ? NotFound("Volume type with name " + *c.type_ref + " could not be found.")
                 : t.status();
    }
    type = std::move(*t);
  } else if (c.source) {
    ASSIGN_OR_RETURN(type, db::GetType(tx, c.source->volume_type_id));
  } else {
    ASSIGN_OR_RETURN(type, db::GetTypeByName(tx, fallback));
  }
  if (!type.is_public && !req.ctx.is_admin) {
    ASSIGN_OR_RETURN(auto projects, db::TypeProjects(tx, type.id));
    if (std::find(projects.begin(), projects.end(), req.ctx.project_id) == projects.end()) {
      return NotFound("Volume type with name " + *c.type_ref + " could not be found.");
    }
  }
  return type;
}

// The zone a new volume is created in: the one asked for (Cinder refuses a zone that no volume
// service is in), else its source's, else storage_availability_zone.
Result<std::string> ZoneForCreate(db::Transaction& tx, const CreateRequest& c,
                                  const std::string& fallback) {
  if (c.availability_zone) {
    const std::string& az = *c.availability_zone;
    ASSIGN_OR_RETURN(auto services,
                     db::ListServices(tx, std::nullopt, std::string(db::kVolumeBinary)));
    bool known = false;
    for (const auto& s : services) known |= s.availability_zone == az;
    if (!known) {
      return InvalidArgument("Invalid input received: Availability zone '" + az + "' is invalid.");
    }
    return az;
  }
  return c.source ? c.source->availability_zone : fallback;
}

// An os-reset_status body, checked: what to set, lowercased (Cinder accepts any case).
struct ResetStatusRequest {
  std::optional<std::string> status, attach_status, migration_status;
};

Status RequireOneResetField() {
  return InvalidArgument(
      "Invalid input received: one of status, attach_status, "
      "migration_status is required");
}

// Each value against its vocabulary; the order of the checks is Cinder's.
Status CheckResetValues(const ResetStatusRequest& r) {
  const auto& all = volume_status::kAll;
  if (r.status && std::find(all.begin(), all.end(), *r.status) == all.end()) {
    return InvalidArgument("Invalid input received: " + *r.status +
                           " is not a valid volume status");
  }
  if (r.status && *r.status == volume_status::kDeleting) {
    return InvalidArgument(
        "Invalid input received: cannot reset the status of a volume to deleting");
  }
  const auto& attach = volume_attach_status::kResettable;
  if (r.attach_status &&
      std::find(attach.begin(), attach.end(), *r.attach_status) == attach.end()) {
    return InvalidArgument("Invalid input received: attach_status must be attached or detached");
  }
  if (r.migration_status) {
    // migration_status has a vocabulary of its own (Cinder's), not in lifecycle/.
    static const std::set<std::string> kMigration = {
        "migrating", "error", "success", "completing", "none", "starting"};  // not a status
    if (!kMigration.count(*r.migration_status)) {
      return InvalidArgument("Invalid input received: " + *r.migration_status +
                             " is not a valid migration status");
    }
  }
  if (!r.status && !r.attach_status && !r.migration_status) return RequireOneResetField();
  return Status::Ok();
}

Result<ResetStatusRequest> ParseResetStatus(const json& args) {
  if (!args.is_object() || args.empty()) return RequireOneResetField();
  RETURN_IF_ERROR(RejectUnknownKeys(args, {"status", "attach_status", "migration_status"}));
  ResetStatusRequest r;
  for (auto [key, out] :
       {std::pair{"status", &r.status}, std::pair{"attach_status", &r.attach_status},
        std::pair{"migration_status", &r.migration_status}}) {
    if (!args.contains(key) || args[key].is_null()) continue;
    if (!args[key].is_string()) {
      return InvalidArgument(std::string("Invalid input for field/attribute ") + key +
                             ". Value: " + args[key].dump() + ". Not a string");
    }
    std::string value = args[key].get<std::string>();
    for (char& c : value) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    *out = std::move(value);
  }
  RETURN_IF_ERROR(CheckResetValues(r));
  return r;
}

// Writes a checked reset onto `v` in `tx`. A volume reset to detached loses its attachment rows
// (Cinder), and Scoria also queues their unexports so no export (and no session) outlives the
// rows.
Status ApplyResetStatus(db::Transaction& tx, const ResetStatusRequest& r, db::VolumeRecord& v) {
  const bool attached = r.attach_status == volume_attach_status::kAttached;
  const bool detached = r.attach_status == volume_attach_status::kDetached;
  if (r.status) {
    if (*r.status == volume_status::kInUse && v.attach_status != volume_attach_status::kAttached &&
        !attached) {
      return InvalidArgument(
          "Invalid input received: cannot set status in-use on a volume "
          "without attachments");
    }
    v.status = *r.status;
  }
  if (r.attach_status) v.attach_status = *r.attach_status;
  if (r.migration_status) {
    v.migration_status = *r.migration_status == "none" ? std::nullopt : r.migration_status;
  }
  if (detached) {
    ASSIGN_OR_RETURN(auto rows, db::VolumeAttachments(tx, v.id));
    for (const auto& a : rows) {
      RETURN_IF_ERROR(db::DeleteAttachment(tx, a.id));
      if (v.host) RETURN_IF_ERROR(EnqueueUnexport(tx, a, v, /*delete_row=*/true).status());
    }
  }
  return db::UpdateVolume(tx, v);
}

}  // namespace

Response VolumesApi::Create(Request& req, const PathParams&) {
  auto vol_obj = ParseBodyObject(req, "volume");
  if (!vol_obj.ok()) return FaultResponse(vol_obj.status());
  auto parsed = ParseCreate(req, *vol_obj);
  if (!parsed.ok()) return FaultResponse(parsed.status());
  CreateRequest& c = *parsed;

  db::VolumeRecord v;
  v.id = NewUuid();
  v.project_id = req.ctx.project_id;
  v.user_id = req.ctx.user_id;
  v.name = c.name;
  v.description = c.description;
  v.size = c.size.value_or(0);
  v.status = lifecycle::Of(VolumeOp::kCreate).during;
  v.metadata = c.metadata;
  v.created_at = NowMicros();
  std::string type_name;
  Status st = db::InWriteTransaction(env_.db, [&](db::Transaction& tx) {
    std::optional<db::BackupRecord> backup;
    if (c.backup_id) {
      ASSIGN_OR_RETURN(backup, BackupForNewVolume(tx, req, *c.backup_id, c.size));
      if (!c.size) v.size = backup->size;
    }
    if (c.source) {
      RETURN_IF_ERROR(LoadVolumeSource(tx, req, *c.source));
      if (!c.size) v.size = c.source->size;
      RETURN_IF_ERROR(CheckSizeAgainstSource(*c.source, v.size));
      v.snapshot_id = c.source->snapshot_id;
      v.source_volid = c.source->source_volid;
    }
    ASSIGN_OR_RETURN(auto type, TypeForCreate(tx, req, c, env_.config.default_volume_type));
    if (auto it = type.extra_specs.find("multiattach"); it != type.extra_specs.end()) {
      v.multiattach = it->second == "<is> True" || it->second == "<is> true";
    }
    type_name = type.name;
    v.volume_type_id = type.id;
    ASSIGN_OR_RETURN(v.availability_zone,
                     ZoneForCreate(tx, c, env_.config.storage_availability_zone));
    RETURN_IF_ERROR(
        CheckVolumeQuota(tx, env_.config, v.project_id, v.volume_type_id, 1, v.size, v.size));
    RETURN_IF_ERROR(db::InsertVolume(tx, v));
    tasks::ScheduleCreateVolume args;
    args.availability_zone = c.availability_zone;
    // The copy is made by the source's backend, so the scheduler may only pick its pool.
    if (c.source) args.resource_backend = c.source->host;
    RETURN_IF_ERROR(tasks::Enqueue(tx, db::kSchedulerTarget, v.id, args).status());
    // The backup service restores into the volume once it has been created.
    if (backup) return StartRestoreIntoNewVolume(tx, env_.config, *backup, v);
    return Status::Ok();
  });
  if (!st.ok()) return FaultResponse(st);
  return JsonTextResponse(
      202, Wrap("volume", VolumeDetailJson(req, v, type_name, {}, VolumeExtras::kWithout)));
}

Response VolumesApi::List(Request& req, bool detail) {
  ListSpec spec;
  spec.sort_keys = {"id",
                    "name",
                    "display_name",
                    "status",
                    "size",
                    "created_at",
                    "updated_at",
                    "availability_zone",
                    "bootable",
                    "user_id",
                    "project_id",
                    "host",
                    "volume_type_id",
                    "description",
                    "display_description",
                    "migration_status"};
  spec.filter_keys = {
      "name",     "status", "metadata",   "bootable",   "migration_status", "availability_zone",
      "group_id", "size",   "created_at", "updated_at", "consumes_quota"};
  spec.max_limit = env_.config.osapi_max_limit;
  auto params = ParseListParams(req, spec);
  if (!params.ok()) return FaultResponse(params.status());

  auto filter = VolumeListFilter(req, *params);
  if (!filter.ok()) return FaultResponse(filter.status());
  db::VolumePage page;
  for (const SortKey& k : params->sort) {
    auto col = VolumeColumn(k.key);
    if (!col) return FaultResponse(InvalidArgument("Invalid input received: sort key " + k.key));
    page.sort.push_back({*col, k.desc});
  }
  page.limit = params->page_size;
  page.marker = params->marker;
  page.offset = params->offset;

  std::string body;
  Status st = db::InReadTransaction(env_.db, [&](db::Transaction& tx) {
    body.clear();  // a retried transaction writes the page again
    JsonWriter w(body);
    // Details read their metadata with the page's other queries (WritePage).
    ASSIGN_OR_RETURN(auto vols, db::ListVolumes(tx, *filter, page, /*with_metadata=*/false));
    body.reserve(256 + vols.size() * (detail ? 1024 : 256));  // about a view's size
    w.BeginObject().Key("volumes");
    RETURN_IF_ERROR(WritePage(tx, req, vols, detail, w));
    if (static_cast<int64_t>(vols.size()) == params->page_size && !vols.empty()) {
      w.Key("volumes_links").BeginArray().BeginObject().Field("rel", "next");
      w.Field("href",
              NextLink(req, detail ? "volumes/detail" : "volumes", vols.back().id, params->limit));
      w.EndObject().EndArray();
    }
    if (params->with_count) {
      ASSIGN_OR_RETURN(int64_t count, db::CountVolumes(tx, *filter));
      w.Field("count", count);
    }
    w.EndObject();
    return Status::Ok();
  });
  if (!st.ok()) return FaultResponse(st);
  return JsonTextResponse(200, std::move(body));
}

Response VolumesApi::Show(Request& req, const PathParams& p) {
  std::string out;
  Status st = db::InReadTransaction(env_.db, [&](db::Transaction& tx) {
    ASSIGN_OR_RETURN(auto v, Load(tx, req, p.at("volume_id")));
    ASSIGN_OR_RETURN(out, Detail(tx, req, v));
    return Status::Ok();
  });
  return Respond(st, [&] { return JsonTextResponse(200, Wrap("volume", out)); });
}

Response VolumesApi::Update(Request& req, const PathParams& p) {
  auto obj = ParseBodyObject(req, "volume");
  if (!obj.ok()) return FaultResponse(obj.status());
  const json& in = *obj;
  if (req.version >= ApiVersion{3, 53}) {
    Status st = RejectUnknownKeys(
        in, {"name", "description", "display_name", "display_description", "metadata"});
    if (!st.ok()) return FaultResponse(st);
    if (in.empty()) {
      return FaultResponse(
          InvalidArgument("Invalid input received: at least one of name, "
                          "description, metadata is required"));
    }
  }
  std::optional<std::optional<std::string>> name, desc;
  for (const char* k : {"name", "display_name"}) {
    if (in.contains(k)) {
      auto s = OptionalString(in, k);
      if (!s.ok()) return FaultResponse(s.status());
      name = *s;
    }
  }
  for (const char* k : {"description", "display_description"}) {
    if (in.contains(k)) {
      auto s = OptionalString(in, k);
      if (!s.ok()) return FaultResponse(s.status());
      desc = *s;
    }
  }
  std::optional<std::map<std::string, std::string>> md;
  if (in.contains("metadata")) {
    auto m = ParseMetadata(in["metadata"]);
    if (!m.ok()) return FaultResponse(m.status());
    md = std::move(*m);
  }
  std::string out;
  Status st = db::InWriteTransaction(env_.db, [&](db::Transaction& tx) {
    ASSIGN_OR_RETURN(auto v, Load(tx, req, p.at("volume_id")));
    if (name) v.name = *name;
    if (desc) v.description = *desc;
    RETURN_IF_ERROR(db::UpdateVolume(tx, v));
    if (md) RETURN_IF_ERROR(db::ReplaceVolumeMetadata(tx, v.id, *md));
    ASSIGN_OR_RETURN(v, db::GetVolume(tx, v.id));
    ASSIGN_OR_RETURN(out, Detail(tx, req, v, VolumeExtras::kWithout));
    return Status::Ok();
  });
  return Respond(st, [&] { return JsonTextResponse(200, Wrap("volume", out)); });
}

// Sets `deleting` and queues the backend delete; a volume that never reached a backend is
// removed at once (Cinder does the same in its API).
Status VolumesApi::EnqueueDelete(db::Transaction& tx, db::VolumeRecord& v) {
  ASSIGN_OR_RETURN(bool pending, db::HasPendingTask(tx, v.id));
  if (!v.host && !pending) return db::DeleteVolume(tx, v.id);
  v.status = lifecycle::Of(VolumeOp::kDelete).during;
  RETURN_IF_ERROR(db::UpdateVolume(tx, v));
  // Not yet placed: the scheduler routes the delete once the pending scheduling is done.
  const std::string target =
      v.host ? v.host->substr(0, v.host->find('#')) : std::string(db::kSchedulerTarget);
  return tasks::Enqueue(tx, target, v.id, tasks::DeleteVolume{}).status();
}

Response VolumesApi::Delete(Request& req, const PathParams& p) {
  bool cascade = false, force = false;
  for (auto [name, flag] : {std::pair{"cascade", &cascade}, std::pair{"force", &force}}) {
    if (auto q = req.Get(name)) {
      auto b = ParseStrictBool(*q);
      if (!b.ok()) return FaultResponse(b.status());
      *flag = *b;
    }
  }
  if (force && req.version < ApiVersion{3, 23}) force = false;
  Status st = db::InWriteTransaction(env_.db, [&](db::Transaction& tx) {
    ASSIGN_OR_RETURN(auto v, Load(tx, req, p.at("volume_id")));
    RETURN_IF_ERROR(RefuseIfFrozen(tx, v.host));
    if (!force && !lifecycle::Can(VolumeOp::kDelete, v.status)) {
      return FailedPrecondition(
          "Invalid volume: Volume status must be available or error or "
          "error_restoring or error_extending or error_managing and must "
          "not be migrating, attached, belong to a group, have snapshots, "
          "awaiting a transfer, or be disassociated from snapshots after "
          "volume transfer.");
    }
    if (v.attach_status == volume_attach_status::kAttached) {
      return FailedPrecondition("Invalid volume: Volume is attached.");
    }
    RETURN_IF_ERROR(RefuseIfAttachments(tx, v));
    if (v.status == volume_status::kDeleting) return Status::Ok();  // already on its way
    RETURN_IF_ERROR(RefuseIfCloning(tx, v));
    // Queued before the volume's own delete: the tasks run in that order.
    RETURN_IF_ERROR(DeleteSnapshotsOfVolume(tx, v, cascade, force));
    return EnqueueDelete(tx, v);
  });
  if (!st.ok()) return FaultResponse(st);
  return EmptyResponse(202);
}

Response VolumesApi::Summary(Request& req, const PathParams&) {
  int64_t count = 0, size = 0;
  std::map<std::string, std::set<std::string>> md;
  db::VolumeFilter filter;
  bool all = false;
  if (auto q = req.Get("all_tenants")) {
    auto b = ParseStrictBool(*q);
    all = b.ok() ? *b : true;
  }
  if (!(all && req.ctx.all_tenants_allowed)) filter.project_id = req.ctx.project_id;
  Status st = db::InReadTransaction(env_.db, [&](db::Transaction& tx) {
    ASSIGN_OR_RETURN(auto vols, db::ListVolumes(tx, filter, {}, true));
    for (const auto& v : vols) {
      ++count;
      size += v.size;
      for (const auto& [k, val] : v.metadata) md[k].insert(val);
    }
    return Status::Ok();
  });
  if (!st.ok()) return FaultResponse(st);
  json summary = {{"total_count", count}, {"total_size", size}};
  if (req.version >= ApiVersion{3, 36}) {
    json m = json::object();
    for (const auto& [k, vals] : md)
      m[k] = json(std::vector<std::string>(vals.begin(), vals.end()));
    summary["metadata"] = m;
  }
  return JsonResponse(200, {{"volume-summary", summary}});
}

Response VolumesApi::Action(Request& req, const PathParams& p) {
  auto body = ParseJsonBody(req);
  if (!body.ok()) return FaultResponse(body.status());
  if (body->size() != 1) {
    return FaultResponse(
        InvalidArgument("Invalid input received: the body must name exactly one "
                        "action"));
  }
  const std::string action = body->begin().key();
  const json& args = body->begin().value();
  const std::string& id = p.at("volume_id");
  if (action == "os-extend") return Extend(req, id, args);
  if (action == "os-reset_status") return ResetStatus(req, id, args);
  if (action == "os-force_delete") return ForceDelete(req, id);
  if (action == "os-set_bootable") return SetFlag(req, id, args, "bootable", false);
  if (action == "os-update_readonly_flag") return SetFlag(req, id, args, "readonly", true);
  if (IsLegacyAttachAction(action)) return LegacyAttachAction(env_, req, id, action, args);
  if (action == "revert" && req.version >= ApiVersion{3, 40}) {
    return RevertVolumeAction(env_, req, id, args);
  }
  static const std::set<std::string> kLater = {"os-force_detach",
                                               "os-retype",
                                               "os-migrate_volume",
                                               "os-volume_upload_image",
                                               "os-set_image_metadata",
                                               "os-unset_image_metadata",
                                               "os-show_image_metadata",
                                               "os-unmanage",
                                               "os-reimage",
                                               "os-extend_volume_completion"};
  if (kLater.count(action)) {
    return FaultResponse(NotImplemented("Action " + action + " is not supported yet."));
  }
  return FaultResponse(InvalidArgument("There is no such action: " + action));
}

Response VolumesApi::Extend(Request& req, const std::string& id, const json& args) {
  if (!args.is_object() || !args.contains("new_size")) {
    return FaultResponse(
        InvalidArgument("Invalid input received: 'new_size' is a required "
                        "property"));
  }
  auto new_size = ParseSize(args["new_size"], "new_size", 1, kMaxVolumeSizeGb);
  if (!new_size.ok()) return FaultResponse(new_size.status());
  Status st = db::InWriteTransaction(env_.db, [&](db::Transaction& tx) {
    ASSIGN_OR_RETURN(auto v, Load(tx, req, id));
    const bool online =
        req.version >= ApiVersion{3, 42} && lifecycle::Can(VolumeOp::kExtendAttached, v.status);
    if (!lifecycle::Can(VolumeOp::kExtend, v.status) && !online) {
      return FailedPrecondition("Invalid volume: Volume " + id +
                                " status must be available or in-use (3.42+) to extend, but "
                                "current status is: " +
                                v.status + ".");
    }
    if (*new_size <= v.size) {
      return FailedPrecondition(
          "Invalid input received: New size for extend must be greater "
          "than current size. (current: " +
          std::to_string(v.size) + ", extended: " + std::to_string(*new_size) + ").");
    }
    RETURN_IF_ERROR(CheckVolumeQuota(tx, env_.config, v.project_id, v.volume_type_id, 0,
                                     *new_size - v.size, *new_size));
    v.previous_status = v.status;
    v.status = lifecycle::Of(online ? VolumeOp::kExtendAttached : VolumeOp::kExtend).during;
    RETURN_IF_ERROR(db::UpdateVolume(tx, v));
    return tasks::Enqueue(tx, db::kSchedulerTarget, id,
                          tasks::ScheduleExtendVolume{.new_size = *new_size})
        .status();
  });
  if (!st.ok()) return FaultResponse(st);
  return EmptyResponse(202);
}

Response VolumesApi::ResetStatus(Request& req, const std::string& id, const json& args) {
  auto reset = ParseResetStatus(args);
  if (!reset.ok()) return FaultResponse(reset.status());
  Status st = db::InWriteTransaction(env_.db, [&](db::Transaction& tx) {
    ASSIGN_OR_RETURN(auto v, Load(tx, req, id));
    return ApplyResetStatus(tx, *reset, v);
  });
  return Respond(st, [] { return EmptyResponse(202); });
}

Response VolumesApi::ForceDelete(Request& req, const std::string& id) {
  Status st = db::InWriteTransaction(env_.db, [&](db::Transaction& tx) {
    ASSIGN_OR_RETURN(auto v, Load(tx, req, id));
    RETURN_IF_ERROR(RefuseIfFrozen(tx, v.host));
    if (v.attach_status == volume_attach_status::kAttached) {
      return FailedPrecondition("Invalid volume: Volume is attached.");
    }
    RETURN_IF_ERROR(RefuseIfAttachments(tx, v));
    if (v.status == volume_status::kDeleting) {
      ASSIGN_OR_RETURN(bool pending, db::HasPendingTask(tx, id));
      if (pending) return Status::Ok();
    }
    RETURN_IF_ERROR(RefuseIfCloning(tx, v));
    // Cinder's force delete does not cascade: snapshots still stop it.
    RETURN_IF_ERROR(DeleteSnapshotsOfVolume(tx, v, /*cascade=*/false, /*force=*/true));
    return EnqueueDelete(tx, v);
  });
  if (!st.ok()) return FaultResponse(st);
  return EmptyResponse(202);
}

Response VolumesApi::SetFlag(Request& req, const std::string& id, const json& args,
                             const char* field, bool readonly) {
  if (!args.is_object() || !args.contains(field)) {
    return FaultResponse(InvalidArgument(std::string("Invalid input received: '") + field +
                                         "' is a required property"));
  }
  auto b = ParseBoolValue(args[field], field);
  if (!b.ok()) return FaultResponse(b.status());
  Status st = db::InWriteTransaction(env_.db, [&](db::Transaction& tx) {
    ASSIGN_OR_RETURN(auto v, Load(tx, req, id));
    if (readonly) {
      if (v.status != volume_status::kAvailable) {
        return FailedPrecondition(
            "Invalid volume: Volume status must be available to update "
            "readonly flag.");
      }
      v.readonly = *b;
    } else {
      v.bootable = *b;
    }
    return db::UpdateVolume(tx, v);
  });
  // Cinder answers os-set_bootable with 200 and os-update_readonly_flag with 202.
  return Respond(st, [&] { return EmptyResponse(readonly ? 202 : 200); });
}

}  // namespace

void RegisterVolumeRoutes(Router& r, const ApiEnv& env) {
  auto api = std::make_shared<VolumesApi>(env);
  auto bind = [api](auto fn) { return BindMethod(api, fn); };
  r.Add("POST", "/volumes", bind(&VolumesApi::Create));
  r.Add("GET", "/volumes",
        [api](Request& req, const PathParams&) { return api->List(req, false); });
  r.Add("GET", "/volumes/detail",
        [api](Request& req, const PathParams&) { return api->List(req, true); });
  r.Add("GET", "/volumes/summary", bind(&VolumesApi::Summary), ApiVersion{3, 12});
  r.Add("GET", "/volumes/{volume_id}", bind(&VolumesApi::Show));
  r.Add("PUT", "/volumes/{volume_id}", bind(&VolumesApi::Update));
  r.Add("DELETE", "/volumes/{volume_id}", bind(&VolumesApi::Delete));
  r.Add("POST", "/volumes/{volume_id}/action", bind(&VolumesApi::Action));
  RegisterMetadataRoutes(
      r, env, "/volumes/{volume_id}",
      MakeMetadataStore("volume_id", &VolumesApi::Load, &db::ReplaceVolumeMetadata,
                        &db::MergeVolumeMetadata, &db::DeleteVolumeMetadataKey, &db::GetVolumeState,
                        &db::UpdateVolume));
}

}  // namespace scoria::api
