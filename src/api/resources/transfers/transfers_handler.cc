// Volume transfers (cinder/api/v3/volume_transfer.py, cinder/transfer/api.py): a project
// offers one of its available volumes; whoever presents the transfer's auth key accepts it and
// the volume (with its snapshots, unless no_snapshots) becomes theirs. Served on
// /volume-transfers (3.55) and the legacy /os-volume-transfer (3.0).
//
//   create: volume available, owned by the caller, its snapshots available (unless
//           no_snapshots) -> volume awaiting-transfer; the answer carries the auth key, the
//           only time it is shown (the row keeps a salted SHA-256 of it)
//   accept: any project with the key; the accepting project's quotas are checked for the
//           volume and its snapshots -> volume moved and available, transfer removed
//   delete: the offering project (or an admin) cancels -> volume available, transfer removed
// Lists and shows are the offering project's (an admin's with all_tenants): another project
// learns of a transfer only from its id and key, and gets 404 for anything else.
#include <nlohmann/json.hpp>

#include "api/http/fault.h"
#include "api/http/query.h"
#include "api/http/validation.h"
#include "api/resources/api_env.h"
#include "api/resources/quota.h"
#include "api/resources/views.h"
#include "api/resources/visibility.h"
#include "common/clock.h"
#include "common/digest.h"
#include "common/ids.h"
#include "db/snapshots_repo.h"
#include "db/transfers_repo.h"
#include "db/volumes_repo.h"
#include "lifecycle/snapshot_status.h"
#include "lifecycle/transitions.h"
#include "lifecycle/volume_status.h"

namespace scoria::api {
namespace {

using lifecycle::VolumeOp;
using nlohmann::json;

constexpr size_t kAuthKeyLength = 16;          // Cinder's volume_transfer_key_length
constexpr size_t kSaltLength = 8;              // Cinder's volume_transfer_salt_length
constexpr ApiVersion kTransferDetails{3, 57};  // source/destination project, accepted

class TransfersApi {
 public:
  TransfersApi(const ApiEnv& env, std::string collection)
      : env_(env), collection_(std::move(collection)) {}

  Response Create(Request& req, const PathParams&);
  Response List(Request& req, bool detail);
  Response Show(Request& req, const PathParams& p);
  Response Delete(Request& req, const PathParams& p);
  Response Accept(Request& req, const PathParams& p);

 private:
  // A transfer the caller may see: its project's, or any for an admin; else 404.
  Result<db::TransferRecord> LoadVisible(db::Transaction& tx, const Request& req,
                                         const std::string& id) {
    ASSIGN_OR_RETURN(auto t, db::GetTransfer(tx, id));
    if (!req.ctx.is_admin && t.source_project_id != req.ctx.project_id) {
      return NotFound("Transfer " + id + " could not be found.");
    }
    return t;
  }
  json Summary(const Request& req, const db::TransferRecord& t) const {
    return {{"id", t.id},
            {"name", t.name ? json(*t.name) : json(nullptr)},
            {"volume_id", t.volume_id},
            {"links", ResourceLinks(req, collection_, t.id)}};
  }
  json Detail(const Request& req, const db::TransferRecord& t) const {
    json j = Summary(req, t);
    j["created_at"] = FormatIsoTime(t.created_at);
    if (req.version >= kTransferDetails) {
      j["source_project_id"] = t.source_project_id;
      j["destination_project_id"] = nullptr;
      j["accepted"] = false;
      j["no_snapshots"] = t.no_snapshots;
    }
    return j;
  }
  static Response Respond(const Status& st, const std::function<Response()>& ok) {
    return st.ok() ? ok() : FaultResponse(st);
  }

  const ApiEnv env_;
  const std::string collection_;  // "volume-transfers" or "os-volume-transfer", for links
};

Response TransfersApi::Create(Request& req, const PathParams&) {
  auto body = ParseBodyObject(req, "transfer");
  if (!body.ok()) return FaultResponse(body.status());
  auto volume_id = RequiredString(*body, "volume_id");
  if (!volume_id.ok()) return FaultResponse(volume_id.status());
  auto name = OptionalString(*body, "name");
  if (!name.ok()) return FaultResponse(name.status());
  bool no_snapshots = false;
  if (body->contains("no_snapshots") && req.version >= ApiVersion{3, 55}) {
    auto b = ParseBoolValue((*body)["no_snapshots"], "no_snapshots");
    if (!b.ok()) return FaultResponse(b.status());
    no_snapshots = *b;
  }
  db::TransferRecord t;
  t.id = NewUuid();
  t.volume_id = *volume_id;
  t.name = *name;
  t.salt = RandomAlnum(kSaltLength);
  const std::string auth_key = RandomAlnum(kAuthKeyLength);
  t.crypt_hash = Sha256Hex(t.salt + auth_key);
  t.no_snapshots = no_snapshots;
  t.created_at = NowMicros();
  Status st = db::InWriteTransaction(env_.db, [&](db::Transaction& tx) -> Status {
    ASSIGN_OR_RETURN(auto v, LoadVisibleVolume(tx, req, *volume_id));
    if (!lifecycle::Can(VolumeOp::kTransfer, v.status, v.multiattach)) {
      return InvalidArgument("Invalid volume: status must be available");
    }
    if (!no_snapshots) {
      ASSIGN_OR_RETURN(auto snaps, db::VolumeSnapshots(tx, v.id));
      for (const auto& s : snaps) {
        if (s.status != snapshot_status::kAvailable) {
          return InvalidArgument("Invalid snapshot: snapshot status must be available");
        }
      }
    }
    t.source_project_id = v.project_id;
    v.status = lifecycle::Of(VolumeOp::kTransfer).during;
    RETURN_IF_ERROR(db::UpdateVolume(tx, v));
    return db::InsertTransfer(tx, t);
  });
  return Respond(st, [&] {
    json j = Detail(req, t);
    j["auth_key"] = auth_key;
    return JsonResponse(202, {{"transfer", j}});
  });
}

Response TransfersApi::List(Request& req, bool detail) {
  std::optional<std::string> project = req.ctx.project_id;
  if (auto all = req.Get("all_tenants"); all && req.ctx.all_tenants_allowed) {
    auto b = ParseStrictBool(*all);
    if (b.ok() && *b) project.reset();
  }
  json list = json::array();
  Status st = db::InReadTransaction(env_.db, [&](db::Transaction& tx) {
    ASSIGN_OR_RETURN(auto transfers, db::ListTransfers(tx, project));
    for (const auto& t : transfers) list.push_back(detail ? Detail(req, t) : Summary(req, t));
    return Status::Ok();
  });
  return Respond(st, [&] { return JsonResponse(200, {{"transfers", list}}); });
}

Response TransfersApi::Show(Request& req, const PathParams& p) {
  json j;
  Status st = db::InReadTransaction(env_.db, [&](db::Transaction& tx) {
    ASSIGN_OR_RETURN(auto t, LoadVisible(tx, req, p.at("transfer_id")));
    j = Detail(req, t);
    return Status::Ok();
  });
  return Respond(st, [&] { return JsonResponse(200, {{"transfer", j}}); });
}

Response TransfersApi::Delete(Request& req, const PathParams& p) {
  Status st = db::InWriteTransaction(env_.db, [&](db::Transaction& tx) -> Status {
    ASSIGN_OR_RETURN(auto t, LoadVisible(tx, req, p.at("transfer_id")));
    auto v = db::GetVolume(tx, t.volume_id);
    if (v.ok() && v->status == volume_status::kAwaitingTransfer) {
      v->status = lifecycle::Of(VolumeOp::kTransfer).failure;
      RETURN_IF_ERROR(db::UpdateVolume(tx, *v));
    }
    return db::DeleteTransfer(tx, t.id);
  });
  return Respond(st, [] { return EmptyResponse(202); });
}

Response TransfersApi::Accept(Request& req, const PathParams& p) {
  auto body = ParseBodyObject(req, "accept");
  if (!body.ok()) return FaultResponse(body.status());
  auto key = RequiredString(*body, "auth_key");
  if (!key.ok()) return FaultResponse(key.status());
  const std::string& id = p.at("transfer_id");
  db::TransferRecord t;
  Status st = db::InWriteTransaction(env_.db, [&](db::Transaction& tx) -> Status {
    // Any project may accept: the key, not visibility, is the permission.
    ASSIGN_OR_RETURN(t, db::GetTransfer(tx, id));
    if (!ConstantTimeEquals(Sha256Hex(t.salt + *key), t.crypt_hash)) {
      return InvalidArgument("Invalid auth key: Attempt to transfer " + id +
                             " with invalid auth key.");
    }
    ASSIGN_OR_RETURN(auto v, db::GetVolume(tx, t.volume_id));
    if (v.status != volume_status::kAwaitingTransfer) {
      return InvalidArgument("Invalid volume: status must be awaiting-transfer");
    }
    const std::string& project = req.ctx.project_id;
    RETURN_IF_ERROR(
        CheckVolumeQuota(tx, env_.config, project, v.volume_type_id, 1, v.size, v.size));
    if (!t.no_snapshots) {
      ASSIGN_OR_RETURN(auto snaps, db::VolumeSnapshots(tx, v.id));
      int64_t gigabytes = 0;
      for (const auto& s : snaps) gigabytes += s.size;
      if (!snaps.empty()) {
        RETURN_IF_ERROR(CheckSnapshotQuota(tx, env_.config, project, v.volume_type_id,
                                           static_cast<int64_t>(snaps.size()), gigabytes));
      }
    }
    RETURN_IF_ERROR(db::MoveVolumeToProject(tx, v.id, project, req.ctx.user_id, !t.no_snapshots));
    ASSIGN_OR_RETURN(v, db::GetVolume(tx, v.id));
    v.status = lifecycle::Of(VolumeOp::kTransfer).success;
    RETURN_IF_ERROR(db::UpdateVolume(tx, v));
    return db::DeleteTransfer(tx, t.id);
  });
  return Respond(st, [&] { return JsonResponse(202, {{"transfer", Summary(req, t)}}); });
}

void RegisterOn(Router& r, const ApiEnv& env, const std::string& collection, ApiVersion min) {
  auto api = std::make_shared<TransfersApi>(env, collection);
  const std::string base = "/" + collection;
  r.Add("POST", base, BindMethod(api, &TransfersApi::Create), min);
  r.Add(
      "GET", base, [api](Request& req, const PathParams&) { return api->List(req, false); }, min);
  r.Add(
      "GET", base + "/detail",
      [api](Request& req, const PathParams&) { return api->List(req, true); }, min);
  r.Add("GET", base + "/{transfer_id}", BindMethod(api, &TransfersApi::Show), min);
  r.Add("DELETE", base + "/{transfer_id}", BindMethod(api, &TransfersApi::Delete), min);
  r.Add("POST", base + "/{transfer_id}/accept", BindMethod(api, &TransfersApi::Accept), min);
}

}  // namespace

void RegisterTransferRoutes(Router& r, const ApiEnv& env) {
  RegisterOn(r, env, "os-volume-transfer", kMinVersion);
  RegisterOn(r, env, "volume-transfers", ApiVersion{3, 55});
}

}  // namespace scoria::api
