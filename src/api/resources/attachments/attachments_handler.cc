// Attachments API (>= 3.27; os-complete >= 3.44; mode >= 3.54), Cinder's attachment flow
// (cinder-api.md §1.10, §3.2):
//
//   POST   /attachments             reserve (no connector): volume available -> reserved
//                                   with a connector: reserve + export -> attaching, answers
//                                   once the volume service exported it (connection_info)
//   PUT    /attachments/{id}        {connector}: export -> attaching, connection_info
//   POST   /attachments/{id}/action {"os-complete": null}: attaching -> attached, volume in-use
//   DELETE /attachments/{id}        unexport (if anything was requested), row removed, volume
//                                   status from the remaining rows; answers those rows
//   GET    /attachments[/detail], /attachments/{id}
//
// Exports and unexports run in the volume service (attach_flow.h); the handler waits for them.
#include <nlohmann/json.hpp>

#include <algorithm>

#include "api/http/fault.h"
#include "api/http/query.h"
#include "api/http/validation.h"
#include "api/resources/api_env.h"
#include "api/resources/attachments/attach_flow.h"
#include "api/resources/views.h"
#include "api/resources/visibility.h"
#include "common/clock.h"
#include "db/attachments_repo.h"
#include "db/volumes_repo.h"
#include "lifecycle/transitions.h"
#include "lifecycle/volume_status.h"

namespace scoria::api {
namespace {

using nlohmann::json;

constexpr ApiVersion kAttachmentsMin{3, 27};
constexpr ApiVersion kCompleteMin{3, 44};
constexpr ApiVersion kModeMin{3, 54};

// A create request's body, checked (everything that needs no database).
struct CreateAttachmentRequest {
  std::string volume_id;
  std::optional<std::string> instance;
  std::optional<json> connector;  // given: reserve and export at once
  std::optional<std::string> mode;
};

Result<CreateAttachmentRequest> ParseCreateAttachment(const Request& req, const json& in) {
  RETURN_IF_ERROR(req.version >= kModeMin
                      ? RejectUnknownKeys(in, {"volume_uuid", "instance_uuid", "connector", "mode"})
                      : RejectUnknownKeys(in, {"volume_uuid", "instance_uuid", "connector"}));
  if (!in.contains("volume_uuid") || !in["volume_uuid"].is_string()) {
    return InvalidArgument("Invalid input received: 'volume_uuid' is a required property");
  }
  CreateAttachmentRequest c;
  c.volume_id = in["volume_uuid"].get<std::string>();
  if (in.contains("instance_uuid") && !in["instance_uuid"].is_null()) {
    if (!in["instance_uuid"].is_string()) {
      return InvalidArgument("Invalid input for field/attribute instance_uuid. Value: " +
                             in["instance_uuid"].dump() + ". Not a string");
    }
    c.instance = in["instance_uuid"].get<std::string>();
  }
  if (in.contains("connector") && !in["connector"].is_null()) {
    RETURN_IF_ERROR(ValidateConnector(in["connector"]));
    c.connector = in["connector"];
  }
  if (in.contains("mode") && !in["mode"].is_null()) {
    // A non-string is refused with its JSON spelling in the message.
    const json& m = in["mode"];
    std::string mode = m.is_string() ? m.get<std::string>() : m.dump();
    RETURN_IF_ERROR(ValidateMode(mode));
    c.mode = std::move(mode);
  }
  return c;
}

// cinder/volume/api.py attachment_create: the volume's status must allow an attachment (in-use
// only when multiattach), except that Nova's live migration attaches the same instance to a
// non-multiattach volume a second time.
Status CheckAttachable(db::Transaction& tx, const db::VolumeRecord& v,
                       const std::optional<std::string>& instance) {
  const bool error = volume_status::IsError(v.status);
  if (!error && lifecycle::Can(lifecycle::VolumeOp::kCreateAttachment, v.status, v.multiattach)) {
    return Status::Ok();
  }
  if (!error && instance && !v.multiattach) {
    ASSIGN_OR_RETURN(auto rows, db::VolumeAttachments(tx, v.id));
    for (const auto& r : rows) {
      if (r.instance_uuid == instance) return Status::Ok();
    }
  }
  return FailedPrecondition("Invalid volume: Volume " + v.id + " status must be " +
                            (v.multiattach ? "available, in-use or downloading"
                                           : "available or downloading") +
                            ", but current status is: " + v.status + ".");
}

class AttachmentsApi {
 public:
  explicit AttachmentsApi(const ApiEnv& env) : env_(env) {}

  Response Create(Request& req, const PathParams&);
  Response Update(Request& req, const PathParams& p);
  Response Action(Request& req, const PathParams& p);
  Response Delete(Request& req, const PathParams& p);
  Response List(Request& req, bool detail);
  Response Show(Request& req, const PathParams& p);

 private:
  Result<db::AttachmentRecord> Load(db::Transaction& tx, const Request& req,
                                    const std::string& id) {
    ASSIGN_OR_RETURN(auto a, db::GetAttachment(tx, id));
    if (!req.ctx.is_admin && a.project_id != req.ctx.project_id) {
      return NotFound("Volume attachment could not be found with filter: attachment_id = " + id +
                      ".");
    }
    return a;
  }
  // After an export task: the row as the volume service left it, as a 200 detail, or the
  // error the task recorded.
  Response ExportedAnswer(const std::string& attachment_id);

  const ApiEnv env_;
};

Response AttachmentsApi::ExportedAnswer(const std::string& attachment_id) {
  db::AttachmentRecord a;
  Status st = db::InReadTransaction(env_.db, [&](db::Transaction& tx) {
    ASSIGN_OR_RETURN(a, db::GetAttachment(tx, attachment_id));
    return Status::Ok();
  });
  if (!st.ok()) return FaultResponse(st);
  if (a.attach_status == db::attach_status::kErrorAttaching) {
    return FaultResponse(500, "Unable to create attachment for volume " + a.volume_id + ".");
  }
  return JsonResponse(200, {{"attachment", AttachmentDetailView(a)}});
}

Response AttachmentsApi::Create(Request& req, const PathParams&) {
  auto obj = ParseBodyObject(req, "attachment");
  if (!obj.ok()) return FaultResponse(obj.status());
  auto parsed = ParseCreateAttachment(req, *obj);
  if (!parsed.ok()) return FaultResponse(parsed.status());
  const CreateAttachmentRequest& c = *parsed;
  db::AttachmentRecord a;
  std::optional<int64_t> task;
  Status st = db::InWriteTransaction(env_.db, [&](db::Transaction& tx) {
    ASSIGN_OR_RETURN(auto v, LoadVisibleVolume(tx, req, c.volume_id));
    RETURN_IF_ERROR(CheckAttachable(tx, v, c.instance));
    a = NewAttachmentRow(req, v);
    a.instance_uuid = c.instance;
    a.attach_mode = c.mode;
    RETURN_IF_ERROR(db::InsertAttachment(tx, a));
    if (c.connector) {
      ASSIGN_OR_RETURN(task, EnqueueExport(tx, env_.config, a, v, *c.connector, c.mode));
    }
    return db::RecomputeVolumeStatus(tx, v);
  });
  if (!st.ok()) return FaultResponse(st);
  if (!task) return JsonResponse(200, {{"attachment", AttachmentDetailView(a)}});
  Status wait = WaitForTask(env_.db, *task, kExportTimeoutMessage);
  if (!wait.ok()) return FaultResponse(wait);
  return ExportedAnswer(a.id);
}

Response AttachmentsApi::Update(Request& req, const PathParams& p) {
  auto obj = ParseBodyObject(req, "attachment");
  if (!obj.ok()) return FaultResponse(obj.status());
  Status bad = RejectUnknownKeys(*obj, {"connector"});
  if (!bad.ok()) return FaultResponse(bad);
  if (!obj->contains("connector")) {
    return FaultResponse(InvalidArgument("Invalid input received: 'connector' is a required "
                                         "property"));
  }
  const json connector = (*obj)["connector"];
  Status cst = ValidateConnector(connector);
  if (!cst.ok()) return FaultResponse(cst);
  const std::string& id = p.at("attachment_id");
  int64_t task = 0;
  Status st = db::InWriteTransaction(env_.db, [&](db::Transaction& tx) {
    ASSIGN_OR_RETURN(auto a, Load(tx, req, id));
    ASSIGN_OR_RETURN(auto v, db::GetVolume(tx, a.volume_id));
    if (volume_status::IsError(v.status)) {
      return Conflict("Invalid volume: Volume " + v.id + " is in status " + v.status +
                      "; the attachment cannot be updated.");
    }
    if (!lifecycle::Can(lifecycle::AttachmentOp::kUpdate, a.attach_status)) {
      return FailedPrecondition("Invalid attachment: attachment " + id + " is " +
                                a.attach_status + ".");
    }
    ASSIGN_OR_RETURN(task, EnqueueExport(tx, env_.config, a, v, connector, std::nullopt));
    return db::RecomputeVolumeStatus(tx, v);
  });
  if (!st.ok()) return FaultResponse(st);
  Status wait = WaitForTask(env_.db, task, kExportTimeoutMessage);
  if (!wait.ok()) return FaultResponse(wait);
  return ExportedAnswer(id);
}

Response AttachmentsApi::Action(Request& req, const PathParams& p) {
  auto body = ParseJsonBody(req);
  if (!body.ok()) return FaultResponse(body.status());
  if (body->size() != 1 || !body->contains("os-complete")) {
    return FaultResponse(InvalidArgument("There is no such action: " +
                                         (body->empty() ? std::string("") : body->begin().key())));
  }
  const std::string& id = p.at("attachment_id");
  Status st = db::InWriteTransaction(env_.db, [&](db::Transaction& tx) {
    ASSIGN_OR_RETURN(auto a, Load(tx, req, id));
    // Stricter than Cinder, which accepts any state: completing what has no connection, or
    // completing twice, is a client bug worth reporting.
    if (!lifecycle::Can(lifecycle::AttachmentOp::kComplete, a.attach_status)) {
      return FailedPrecondition("Invalid attachment: attachment " + id +
                                " must be attaching to complete, but it is " + a.attach_status +
                                ".");
    }
    a.attach_status = db::attach_status::kAttached;
    a.attach_time = NowMicros();
    RETURN_IF_ERROR(db::UpdateAttachment(tx, a));
    ASSIGN_OR_RETURN(auto v, db::GetVolume(tx, a.volume_id));
    return db::RecomputeVolumeStatus(tx, v);
  });
  if (!st.ok()) return FaultResponse(st);
  return EmptyResponse(204);
}

Response AttachmentsApi::Delete(Request& req, const PathParams& p) {
  const std::string& id = p.at("attachment_id");
  std::optional<int64_t> task;
  std::string volume_id;
  bool node_up = true;
  Status st = db::InWriteTransaction(env_.db, [&](db::Transaction& tx) {
    ASSIGN_OR_RETURN(auto a, Load(tx, req, id));
    ASSIGN_OR_RETURN(auto v, db::GetVolume(tx, a.volume_id));
    volume_id = v.id;
    const bool nothing_requested = !a.exported && (a.attach_status == db::attach_status::kReserved ||
                                                   a.attach_status == db::attach_status::kErrorAttaching);
    if (nothing_requested) {
      RETURN_IF_ERROR(db::DeleteAttachment(tx, id));
      return db::RecomputeVolumeStatus(tx, v);
    }
    if (a.attach_status != db::attach_status::kDetaching) {
      a.attach_status = lifecycle::Of(lifecycle::AttachmentOp::kDelete).during;
      a.detach_time = NowMicros();
      RETURN_IF_ERROR(db::UpdateAttachment(tx, a));
      RETURN_IF_ERROR(db::RecomputeVolumeStatus(tx, v));
    }
    ASSIGN_OR_RETURN(task, EnqueueUnexport(tx, a, v, /*delete_row=*/true));
    ASSIGN_OR_RETURN(node_up, VolumeServiceIsUp(tx, env_.config, v));
    return Status::Ok();
  });
  if (!st.ok()) return FaultResponse(st);
  // A node that is down has no target serving the export any more: there is nothing to wait
  // for. The row stays `detaching` and the queued unexport removes it (and the export the
  // node restores at start) when the node is back. Cinder would time out on its RPC instead.
  if (task && node_up) {
    Status wait = WaitForTask(env_.db, *task, kUnexportTimeoutMessage);
    if (!wait.ok()) return FaultResponse(wait);
  }
  json remaining = json::array();
  st = db::InReadTransaction(env_.db, [&](db::Transaction& tx) {
    ASSIGN_OR_RETURN(auto rows, db::VolumeAttachments(tx, volume_id));
    for (const auto& r : rows) remaining.push_back(AttachmentSummaryView(r));
    return Status::Ok();
  });
  if (!st.ok()) return FaultResponse(st);
  return JsonResponse(200, {{"attachments", remaining}});
}

Response AttachmentsApi::List(Request& req, bool detail) {
  ListSpec spec;
  spec.sort_keys = {"id", "created_at", "updated_at", "volume_id", "status", "attach_status",
                    "instance_id"};
  spec.filter_keys = {"volume_id", "status", "instance_id", "attach_status"};
  spec.max_limit = env_.config.osapi_max_limit;
  auto params = ParseListParams(req, spec);
  if (!params.ok()) return FaultResponse(params.status());
  db::AttachmentFilter filter;
  if (!params->all_tenants) filter.project_id = req.ctx.project_id;
  for (const auto& [key, value] : params->filters) {
    if (key == "volume_id") filter.volume_id = value;
    if (key == "instance_id") filter.instance_uuid = value;
    if (key == "status" || key == "attach_status") filter.attach_status = value;
  }
  json items = json::array();
  Status st = db::InReadTransaction(env_.db, [&](db::Transaction& tx) {
    ASSIGN_OR_RETURN(auto rows, db::ListAttachments(tx, filter));
    size_t start = 0;
    if (params->marker) {
      auto it = std::find_if(rows.begin(), rows.end(),
                             [&](const auto& r) { return r.id == *params->marker; });
      if (it == rows.end()) return NotFound("Marker " + *params->marker + " could not be found.");
      start = static_cast<size_t>(it - rows.begin()) + 1;
    }
    start += static_cast<size_t>(params->offset);
    for (size_t i = start; i < rows.size() &&
                           static_cast<int64_t>(items.size()) < params->page_size;
         ++i) {
      items.push_back(detail ? AttachmentDetailView(rows[i]) : AttachmentSummaryView(rows[i]));
    }
    return Status::Ok();
  });
  if (!st.ok()) return FaultResponse(st);
  return JsonResponse(200, {{"attachments", items}});
}

Response AttachmentsApi::Show(Request& req, const PathParams& p) {
  db::AttachmentRecord a;
  Status st = db::InReadTransaction(env_.db, [&](db::Transaction& tx) {
    ASSIGN_OR_RETURN(a, Load(tx, req, p.at("attachment_id")));
    return Status::Ok();
  });
  if (!st.ok()) return FaultResponse(st);
  return JsonResponse(200, {{"attachment", AttachmentDetailView(a)}});
}

}  // namespace

void RegisterAttachmentRoutes(Router& r, const ApiEnv& env) {
  auto api = std::make_shared<AttachmentsApi>(env);
  auto bind = [api](auto fn) { return BindMethod(api, fn); };
  r.Add("POST", "/attachments", bind(&AttachmentsApi::Create), kAttachmentsMin);
  r.Add("GET", "/attachments",
        [api](Request& req, const PathParams&) { return api->List(req, false); },
        kAttachmentsMin);
  r.Add("GET", "/attachments/detail",
        [api](Request& req, const PathParams&) { return api->List(req, true); }, kAttachmentsMin);
  r.Add("GET", "/attachments/{attachment_id}", bind(&AttachmentsApi::Show), kAttachmentsMin);
  r.Add("PUT", "/attachments/{attachment_id}", bind(&AttachmentsApi::Update), kAttachmentsMin);
  r.Add("DELETE", "/attachments/{attachment_id}", bind(&AttachmentsApi::Delete), kAttachmentsMin);
  r.Add("POST", "/attachments/{attachment_id}/action", bind(&AttachmentsApi::Action),
        kCompleteMin);
}

}  // namespace scoria::api
