// Snapshots: /snapshots, /snapshots/detail, /snapshots/{id} (show, update, delete), their
// metadata (metadata_routes.h), and the actions os-reset_status and os-force_delete
// (cinder/api/v3/snapshots.py, cinder/volume/api.py, cinder/api/contrib/admin_actions.py).
// Create and delete write the row and a task for the volume's backend in one transaction
// (resource_id = the volume's id: the task runs in order with the volume's other tasks) and
// answer 202; the volume manager does the rest (volume/manager.h).
#include <nlohmann/json.hpp>
#include <set>

#include "api/http/fault.h"
#include "api/http/list_filters.h"
#include "api/http/memory_page.h"
#include "api/http/query.h"
#include "api/http/validation.h"
#include "api/resources/api_env.h"
#include "api/resources/frozen.h"
#include "api/resources/metadata_routes.h"
#include "api/resources/quota.h"
#include "api/resources/snapshots/snapshot_flow.h"
#include "api/resources/snapshots/snapshot_views.h"
#include "api/resources/visibility.h"
#include "common/clock.h"
#include "common/ids.h"
#include "db/snapshots_repo.h"
#include "db/tasks_repo.h"
#include "db/volumes_repo.h"
#include "lifecycle/snapshot_status.h"
#include "lifecycle/transitions.h"
#include "lifecycle/volume_status.h"
#include "tasks/protocol.h"

namespace scoria::api {
namespace {

using lifecycle::Can;
using lifecycle::Of;
using lifecycle::SnapshotOp;
using lifecycle::VolumeOp;
using nlohmann::json;

class SnapshotsApi {
 public:
  explicit SnapshotsApi(const ApiEnv& env) : env_(env) {}

  Response Create(Request& req, const PathParams&);
  Response List(Request& req, bool detail);
  Response Show(Request& req, const PathParams& p);
  Response Update(Request& req, const PathParams& p);
  Response Delete(Request& req, const PathParams& p);
  Response Action(Request& req, const PathParams& p);

  // The snapshot, if the caller may see it (admins see every project's).
  static Result<db::SnapshotRecord> Load(db::Transaction& tx, const Request& req,
                                         const std::string& id) {
    return LoadVisibleSnapshot(tx, req, id);
  }

 private:
  Response ResetStatus(Request& req, const std::string& id, const json& args);
  Response Respond(const Status& st, const std::function<Response()>& ok) {
    return st.ok() ? ok() : FaultResponse(st);
  }

  const ApiEnv env_;
};

// Cinder's create force rules (cinder/api/v3/snapshots.py, cinder/volume/api.py): before 3.66
// the volume must be available, or in-use with force; from 3.66 in-use needs no force and
// force=false is refused.
Status CheckSnapshotable(const Request& req, const db::VolumeRecord& v, std::optional<bool> force) {
  const bool v366 = req.version >= ApiVersion{3, 66};
  if (v366 && force && !*force) {
    return InvalidArgument(
        "Invalid input received: Since microversion 3.66 the 'force' flag is "
        "invalid for this request; in-use volumes are snapshotted without it.");
  }
  if (v.status == volume_status::kMaintenance) {
    return FailedPrecondition("Invalid volume: Volume " + v.id + " is in maintenance.");
  }
  // migration_status: its own vocabulary (success, error ...), not a volume status
  if (v.migration_status && *v.migration_status != "success" &&
      *v.migration_status != "error") {  // not a status
    return FailedPrecondition("Invalid volume: Volume " + v.id + " is migrating.");
  }
  const bool in_use_ok = v366 || force.value_or(false);
  if (Can(in_use_ok ? VolumeOp::kSnapshotForce : VolumeOp::kSnapshot, v.status)) {
    if (!v.host) {
      return FailedPrecondition("Invalid volume: Volume " + v.id +
                                " is not placed on a "
                                "backend yet.");
    }
    return Status::Ok();
  }
  if (in_use_ok) {
    return FailedPrecondition("Invalid volume: Volume " + v.id +
                              " status must be available or "
                              "in-use, but current status is: " +
                              v.status + ".");
  }
  return FailedPrecondition("Invalid volume: Volume " + v.id +
                            " status must be available, but "
                            "current status is: " +
                            v.status + ".");
}

// A create request's body, checked (everything that needs no database).
struct CreateSnapshotRequest {
  std::string volume_id;
  std::optional<bool> force;
  std::optional<std::string> name, description;
  std::map<std::string, std::string> metadata;
};

Result<CreateSnapshotRequest> ParseCreateSnapshot(const json& in) {
  RETURN_IF_ERROR(RejectUnknownKeys(in, {"volume_id", "name", "display_name", "description",
                                         "display_description", "force", "metadata"}));
  CreateSnapshotRequest c;
  // A null volume_id is looked up like any other id, and found nowhere: 404, as Cinder
  // (tempest's test_create_snapshot_without_passing_volume_id).
  if (in.contains("volume_id") && in["volume_id"].is_null()) {
    return NotFound("Volume None could not be found.");
  }
  ASSIGN_OR_RETURN(c.volume_id, RequiredString(in, "volume_id"));
  if (in.contains("force") && !in["force"].is_null()) {
    ASSIGN_OR_RETURN(c.force, ParseBoolValue(in["force"], "force"));
  }
  ASSIGN_OR_RETURN(c.name, OptionalString(in, in.contains("name") ? "name" : "display_name"));
  ASSIGN_OR_RETURN(
      c.description,
      OptionalString(in, in.contains("description") ? "description" : "display_description"));
  if (in.contains("metadata") && !in["metadata"].is_null()) {
    ASSIGN_OR_RETURN(c.metadata, ParseMetadata(in["metadata"]));
  }
  return c;
}

Response SnapshotsApi::Create(Request& req, const PathParams&) {
  auto obj = ParseBodyObject(req, "snapshot");
  if (!obj.ok()) return FaultResponse(obj.status());
  auto parsed = ParseCreateSnapshot(*obj);
  if (!parsed.ok()) return FaultResponse(parsed.status());
  CreateSnapshotRequest& c = *parsed;
  db::SnapshotRecord s;
  s.id = NewUuid();
  s.project_id = req.ctx.project_id;
  s.user_id = req.ctx.user_id;
  s.volume_id = c.volume_id;
  s.name = c.name;
  s.description = c.description;
  s.status = Of(SnapshotOp::kCreate).during;
  s.progress = "0%";
  s.metadata = std::move(c.metadata);
  s.created_at = NowMicros();
  Status st = db::InWriteTransaction(env_.db, [&](db::Transaction& tx) {
    ASSIGN_OR_RETURN(auto v, LoadVisibleVolume(tx, req, c.volume_id));
    RETURN_IF_ERROR(RefuseIfFrozen(tx, v.host));
    RETURN_IF_ERROR(CheckSnapshotable(req, v, c.force));
    s.size = v.size;
    RETURN_IF_ERROR(CheckSnapshotQuota(tx, env_.config, s.project_id, v.volume_type_id, 1, s.size));
    RETURN_IF_ERROR(db::InsertSnapshot(tx, s));
    return tasks::Enqueue(tx, BackendOfHost(*v.host), v.id,
                          tasks::CreateSnapshot{.snapshot_id = s.id})
        .status();
  });
  if (!st.ok()) return FaultResponse(st);
  return JsonResponse(202, {{"snapshot", SnapshotView(req, s, SnapshotExtras::kWithout)}});
}

// API name -> field, for filters and sort keys.
json SnapshotField(const db::SnapshotRecord& s, const std::string& key) {
  if (key == "name" || key == "display_name") return s.name ? json(*s.name) : json(nullptr);
  if (key == "status") return s.status;
  if (key == "size") return s.size;
  if (key == "volume_id") return s.volume_id;
  if (key == "project_id") return s.project_id;
  if (key == "user_id") return s.user_id;
  if (key == "updated_at") return s.updated_at ? json(*s.updated_at) : json(nullptr);
  if (key == "description" || key == "display_description") {
    return s.description ? json(*s.description) : json(nullptr);
  }
  if (key == "id") return s.id;
  return s.created_at;  // created_at
}

Response SnapshotsApi::List(Request& req, bool detail) {
  ListSpec spec;
  spec.sort_keys = {"id",         "name",       "display_name", "status",
                    "size",       "created_at", "updated_at",   "volume_id",
                    "project_id", "user_id",    "description",  "display_description"};
  spec.filter_keys = {"name",          "status", "volume_id", "metadata", "availability_zone",
                      "consumes_quota"};
  spec.max_limit = env_.config.osapi_max_limit;
  auto params = ParseListParams(req, spec);
  if (!params.ok()) return FaultResponse(params.status());

  FilterSpec filter_spec;
  filter_spec.column = [](const std::string& key) -> std::optional<std::string> {
    if (key == "display_name") return "name";
    // availability_zone, consumes_quota, unknown admin keys: no effect here
    if (key != "name" && key != "status" && key != "volume_id" && key != "project_id") {
      return std::nullopt;
    }
    return key;
  };
  filter_spec.metadata = true;
  auto filters = SplitFilters(*params, filter_spec);
  if (!filters.ok()) return FaultResponse(filters.status());
  const auto& equals = filters->equals;
  const auto& like = filters->like;
  const auto& md_filter = filters->metadata;
  auto keep = [&](const db::SnapshotRecord& s) {
    for (const auto& [k, v] : equals) {
      json f = SnapshotField(s, k);
      if (!f.is_string() || f.get<std::string>() != v) return false;
    }
    for (const auto& [k, v] : like) {
      json f = SnapshotField(s, k);
      if (!f.is_string() || f.get<std::string>().find(v) == std::string::npos) return false;
    }
    for (const auto& [k, v] : md_filter) {
      auto it = s.metadata.find(k);
      if (it == s.metadata.end() || it->second != v) return false;
    }
    return true;
  };
  std::vector<db::SnapshotRecord> items;
  Status st = db::InReadTransaction(env_.db, [&](db::Transaction& tx) {
    ASSIGN_OR_RETURN(
        auto all, db::ListSnapshots(
                      tx, params->all_tenants ? std::nullopt : std::optional(req.ctx.project_id)));
    for (auto& s : all) {
      if (keep(s)) items.push_back(std::move(s));
    }
    return Status::Ok();
  });
  if (!st.ok()) return FaultResponse(st);
  MemoryPageSpec page{detail ? "snapshots/detail" : "snapshots", "snapshots", "snapshots_links",
                      "Snapshot", params->with_count};
  return PageInMemory(
      req, std::move(items), *params, page, SnapshotField, [&](const db::SnapshotRecord& s) {
        return SnapshotView(req, s, detail ? SnapshotExtras::kWith : SnapshotExtras::kWithout);
      });
}

Response SnapshotsApi::Show(Request& req, const PathParams& p) {
  json out;
  Status st = db::InReadTransaction(env_.db, [&](db::Transaction& tx) {
    ASSIGN_OR_RETURN(auto s, Load(tx, req, p.at("snapshot_id")));
    out = SnapshotView(req, s);
    return Status::Ok();
  });
  return Respond(st, [&] { return JsonResponse(200, {{"snapshot", out}}); });
}

Response SnapshotsApi::Update(Request& req, const PathParams& p) {
  auto obj = ParseBodyObject(req, "snapshot");
  if (!obj.ok()) return FaultResponse(obj.status());
  const json& in = *obj;
  Status bad =
      RejectUnknownKeys(in, {"name", "description", "display_name", "display_description"});
  if (!bad.ok()) return FaultResponse(bad);
  if (in.empty()) {
    return FaultResponse(
        InvalidArgument("Invalid input received: at least one of name, "
                        "description, display_name, display_description is "
                        "required"));
  }
  std::optional<std::optional<std::string>> name, desc;
  for (auto [k, out] : {std::pair{"name", &name}, std::pair{"display_name", &name},
                        std::pair{"description", &desc}, std::pair{"display_description", &desc}}) {
    if (!in.contains(k)) continue;
    auto v = OptionalString(in, k);
    if (!v.ok()) return FaultResponse(v.status());
    *out = *v;
  }
  json out;
  Status st = db::InWriteTransaction(env_.db, [&](db::Transaction& tx) {
    ASSIGN_OR_RETURN(auto s, Load(tx, req, p.at("snapshot_id")));
    if (name) s.name = *name;
    if (desc) s.description = *desc;
    RETURN_IF_ERROR(db::UpdateSnapshot(tx, s));
    ASSIGN_OR_RETURN(s, db::GetSnapshot(tx, s.id));
    out = SnapshotView(req, s, SnapshotExtras::kWithout);
    return Status::Ok();
  });
  return Respond(st, [&] { return JsonResponse(200, {{"snapshot", out}}); });
}

Response SnapshotsApi::Delete(Request& req, const PathParams& p) {
  Status st = db::InWriteTransaction(env_.db, [&](db::Transaction& tx) {
    ASSIGN_OR_RETURN(auto s, Load(tx, req, p.at("snapshot_id")));
    RETURN_IF_ERROR(RefuseIfSnapshotFrozen(tx, s.volume_id));
    if (s.status == snapshot_status::kDeleting) return Status::Ok();  // already on its way
    if (!Can(SnapshotOp::kDelete, s.status)) {
      return FailedPrecondition(
          "Invalid snapshot: Volume Snapshot status must be available or "
          "error and must not be part of a group.");
    }
    return EnqueueSnapshotDelete(tx, s);
  });
  if (!st.ok()) return FaultResponse(st);
  return EmptyResponse(202);
}

Response SnapshotsApi::Action(Request& req, const PathParams& p) {
  auto body = ParseJsonBody(req);
  if (!body.ok()) return FaultResponse(body.status());
  if (!body->is_object() || body->size() != 1) {
    return FaultResponse(
        InvalidArgument("Invalid input received: the body must name exactly one "
                        "action"));
  }
  const std::string action = body->begin().key();
  const std::string& id = p.at("snapshot_id");
  if (action == "os-reset_status") return ResetStatus(req, id, body->begin().value());
  if (action == "os-force_delete") {
    Status st = db::InWriteTransaction(env_.db, [&](db::Transaction& tx) {
      ASSIGN_OR_RETURN(auto s, Load(tx, req, id));
      RETURN_IF_ERROR(RefuseIfSnapshotFrozen(tx, s.volume_id));
      if (s.status == snapshot_status::kDeleting) {
        ASSIGN_OR_RETURN(auto tasks, db::ListTasks(tx));
        for (const auto& t : tasks) {
          if (t.kind != tasks::DeleteSnapshot::kKind) continue;
          auto args = tasks::ParseArgs<tasks::DeleteSnapshot>(t);
          if (t.target != db::kFailedTarget && args.ok() && args->snapshot_id == s.id) {
            return Status::Ok();  // its delete is queued
          }
        }
      }
      return EnqueueSnapshotDelete(tx, s);
    });
    if (!st.ok()) return FaultResponse(st);
    return EmptyResponse(202);
  }
  if (action == "os-update_snapshot_status" || action == "os-unmanage") {
    return FaultResponse(NotImplemented("Action " + action + " is not supported."));
  }
  return FaultResponse(InvalidArgument("There is no such action: " + action));
}

Response SnapshotsApi::ResetStatus(Request& req, const std::string& id, const json& args) {
  if (!args.is_object() || !args.contains("status")) {
    return FaultResponse(
        InvalidArgument("Invalid input received: 'status' is a required "
                        "property"));
  }
  Status bad = RejectUnknownKeys(args, {"status"});
  if (!bad.ok()) return FaultResponse(bad);
  if (!args["status"].is_string()) {
    return FaultResponse(InvalidArgument("Invalid input for field/attribute status. Value: " +
                                         args["status"].dump() + ". Not a string"));
  }
  std::string status = args["status"].get<std::string>();
  for (char& c : status) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const auto& all = snapshot_status::kAll;
  if (std::find(all.begin(), all.end(), status) == all.end()) {
    return FaultResponse(
        InvalidArgument("Invalid input received: " + status + " is not a valid snapshot status"));
  }
  Status st = db::InWriteTransaction(env_.db, [&](db::Transaction& tx) {
    ASSIGN_OR_RETURN(auto s, Load(tx, req, id));
    s.status = status;
    return db::UpdateSnapshot(tx, s);
  });
  return Respond(st, [] { return EmptyResponse(202); });
}

}  // namespace

void RegisterSnapshotRoutes(Router& r, const ApiEnv& env) {
  auto api = std::make_shared<SnapshotsApi>(env);
  auto bind = [api](auto fn) { return BindMethod(api, fn); };
  r.Add("POST", "/snapshots", bind(&SnapshotsApi::Create));
  r.Add("GET", "/snapshots",
        [api](Request& req, const PathParams&) { return api->List(req, false); });
  r.Add("GET", "/snapshots/detail",
        [api](Request& req, const PathParams&) { return api->List(req, true); });
  r.Add("GET", "/snapshots/{snapshot_id}", bind(&SnapshotsApi::Show));
  r.Add("PUT", "/snapshots/{snapshot_id}", bind(&SnapshotsApi::Update));
  r.Add("DELETE", "/snapshots/{snapshot_id}", bind(&SnapshotsApi::Delete));
  r.Add("POST", "/snapshots/{snapshot_id}/action", bind(&SnapshotsApi::Action));
  RegisterMetadataRoutes(
      r, env, "/snapshots/{snapshot_id}",
      MakeMetadataStore("snapshot_id", &SnapshotsApi::Load, &db::ReplaceSnapshotMetadata,
                        &db::MergeSnapshotMetadata, &db::DeleteSnapshotMetadataKey,
                        &db::GetSnapshot, &db::UpdateSnapshot));
}

}  // namespace scoria::api
