// The legacy attach actions of POST /volumes/{id}/action (before the attachments API; still
// what cinderclient's `reserve`/`initialize_connection`... and older Nova speak). Order used by
// clients: os-reserve -> os-initialize_connection -> os-attach, then os-begin_detaching ->
// os-terminate_connection -> os-detach (cinder-api.md §1.5, §3.2).
//
// Scoria keeps one attachment row per connection, as the attachments API does: the row holds
// the initiator and its own CHAP credentials. os-initialize_connection creates (or reuses, for
// the same initiator) that row and waits for the volume service to export it; os-attach marks
// it attached; os-terminate_connection unexports it (the row of an attached volume stays until
// os-detach; a never attached row is removed, which is Cinder's "also unreserves"); os-detach
// removes it and recomputes the volume's status.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <set>

#include "api/http/fault.h"
#include "api/http/validation.h"
#include "api/resources/api_env.h"
#include "api/resources/attachments/attach_flow.h"
#include "api/resources/visibility.h"
#include "common/clock.h"
#include "db/attachments_repo.h"
#include "db/volumes_repo.h"
#include "lifecycle/transitions.h"
#include "lifecycle/volume_status.h"

namespace scoria::api {
namespace {

using nlohmann::json;
using lifecycle::Can;
using lifecycle::Of;
using lifecycle::VolumeOp;

bool HasAttached(const std::vector<db::AttachmentRecord>& rows) {
  return std::any_of(rows.begin(), rows.end(), [](const auto& r) {
    return r.attach_status == db::attach_status::kAttached;
  });
}

// Optional string argument; InvalidArgument if present and not a string.
Result<std::optional<std::string>> StringArg(const json& args, const char* key) {
  if (!args.is_object() || !args.contains(key) || args[key].is_null()) {
    return std::optional<std::string>();
  }
  if (!args[key].is_string()) {
    return InvalidArgument(std::string("Invalid input for field/attribute ") + key +
                           ". Value: " + args[key].dump() + ". Not a string");
  }
  return std::optional<std::string>(args[key].get<std::string>());
}

// An os-attach body, checked (the order of the checks is Cinder's).
struct AttachArgs {
  std::optional<std::string> instance, host, mountpoint;
  std::string mode;  // rw unless given
};

Result<AttachArgs> ParseAttachArgs(const json& args) {
  if (!args.is_object()) {
    return InvalidArgument("Invalid input received: os-attach needs an object");
  }
  AttachArgs a;
  std::optional<std::string> mode;
  for (auto [key, out] : {std::pair{"instance_uuid", &a.instance}, std::pair{"host_name", &a.host},
                          std::pair{"mountpoint", &a.mountpoint}, std::pair{"mode", &mode}}) {
    ASSIGN_OR_RETURN(*out, StringArg(args, key));
  }
  if (!a.mountpoint) {
    return InvalidArgument("Invalid input received: 'mountpoint' is a required property");
  }
  if (!a.instance && !a.host) {
    return InvalidArgument("Invalid request to attach volume to an invalid target");
  }
  if (a.instance && a.host) {
    return InvalidArgument("Invalid request to attach volume to an instance " + *a.instance +
                           " and a host " + *a.host + " simultaneously");
  }
  a.mode = mode.value_or("rw");
  RETURN_IF_ERROR(ValidateMode(a.mode));
  return a;
}

// The row os-attach marks attached: the connection os-initialize_connection made (newest
// first), else a new row without export. The volume's status follows from its rows.
Status MarkAttached(db::Transaction& tx, const Request& req, db::VolumeRecord& v,
                    const std::vector<db::AttachmentRecord>& rows, const AttachArgs& a) {
  std::optional<db::AttachmentRecord> row;
  for (const auto& r : rows) {
    if (r.attach_status == db::attach_status::kAttaching ||
        r.attach_status == db::attach_status::kReserved) {
      row = r;
      break;
    }
  }
  const bool fresh = !row;
  if (fresh) row = NewAttachmentRow(req, v);
  row->attach_status = db::attach_status::kAttached;
  row->mountpoint = *a.mountpoint;
  if (a.instance) row->instance_uuid = *a.instance;
  if (a.host) row->attached_host = *a.host;
  row->attach_mode = a.mode;
  row->attach_time = NowMicros();
  RETURN_IF_ERROR(fresh ? db::InsertAttachment(tx, *row) : db::UpdateAttachment(tx, *row));
  return db::RecomputeVolumeStatus(tx, v);
}

class LegacyActions {
 public:
  LegacyActions(const ApiEnv& env, Request& req, const std::string& id)
      : env_(env), req_(req), id_(id) {}

  Response Reserve();
  Response Unreserve();
  Response InitializeConnection(const json& args);
  Response TerminateConnection(const json& args);
  Response Attach(const json& args);
  Response BeginDetaching();
  Response RollDetaching();
  Response Detach(const json& args);

 private:
  // Runs fn in a write transaction on the loaded volume; 202 on success.
  Response Simple(const std::function<Status(db::Transaction&, db::VolumeRecord&)>& fn) {
    Status st = db::InWriteTransaction(env_.db, [&](db::Transaction& tx) {
      ASSIGN_OR_RETURN(auto v, LoadVisibleVolume(tx, req_, id_));
      return fn(tx, v);
    });
    return st.ok() ? EmptyResponse(202) : FaultResponse(st);
  }
  // Waits for the last queued task (tasks of one volume run in order), then answers 202.
  Response AfterTasks(const std::vector<int64_t>& tasks, const char* timeout_message) {
    if (tasks.empty()) return EmptyResponse(202);
    Status wait = WaitForTask(env_.db, tasks.back(), timeout_message);
    return wait.ok() ? EmptyResponse(202) : FaultResponse(wait);
  }

  const ApiEnv& env_;
  Request& req_;
  const std::string& id_;
};

Response LegacyActions::Reserve() {
  return Simple([](db::Transaction& tx, db::VolumeRecord& v) -> Status {
    if (!Can(VolumeOp::kReserve, v.status, v.multiattach)) {
      // Cinder words it: available, or available or in-use on a multiattach volume.
      std::string allowed = volume_status::kAvailable;
      if (v.multiattach) allowed = allowed + " or " + volume_status::kInUse;
      return FailedPrecondition("Invalid volume: Volume status must be " + allowed +
                                " to reserve, but the status is " + v.status + ".");
    }
    v.status = Of(VolumeOp::kReserve).during;
    return db::UpdateVolume(tx, v);
  });
}

Response LegacyActions::Unreserve() {
  return Simple([](db::Transaction& tx, db::VolumeRecord& v) -> Status {
    if (!Can(VolumeOp::kUnreserve, v.status)) return Status::Ok();  // Cinder: a no-op otherwise
    ASSIGN_OR_RETURN(auto rows, db::VolumeAttachments(tx, v.id));
    v.status = HasAttached(rows) ? volume_status::kInUse : volume_status::kAvailable;
    return db::UpdateVolume(tx, v);
  });
}

Response LegacyActions::InitializeConnection(const json& args) {
  if (!args.is_object() || !args.contains("connector")) {
    return FaultResponse(InvalidArgument("Invalid input received: 'connector' is a required "
                                         "property"));
  }
  const json connector = args["connector"];
  Status cst = ValidateConnector(connector);
  if (!cst.ok()) return FaultResponse(cst);
  const std::string initiator = connector["initiator"].get<std::string>();
  std::string attachment_id;
  int64_t task = 0;
  Status st = db::InWriteTransaction(env_.db, [&](db::Transaction& tx) {
    ASSIGN_OR_RETURN(auto v, LoadVisibleVolume(tx, req_, id_));
    if (!Can(VolumeOp::kInitializeConnection, v.status, v.multiattach)) {
      return FailedPrecondition("Invalid volume: Volume " + v.id + " status must be available, "
                                "attaching, reserved, in-use or detaching to initialize a "
                                "connection, but current status is: " + v.status + ".");
    }
    ASSIGN_OR_RETURN(auto rows, db::VolumeAttachments(tx, v.id));
    std::optional<db::AttachmentRecord> row;
    for (const auto& r : rows) {
      const bool live = r.attach_status == db::attach_status::kReserved ||
                        r.attach_status == db::attach_status::kAttaching ||
                        r.attach_status == db::attach_status::kAttached;
      if (live && r.initiator == initiator) {
        row = r;
        break;
      }
    }
    if (!row) {
      row = NewAttachmentRow(req_, v);
      RETURN_IF_ERROR(db::InsertAttachment(tx, *row));
    }
    attachment_id = row->id;
    ASSIGN_OR_RETURN(task, EnqueueExport(tx, env_.config, *row, v, connector, std::nullopt,
                                         /*keep_attached=*/true));
    return Status::Ok();
  });
  if (!st.ok()) return FaultResponse(st);
  Status wait = WaitForTask(env_.db, task, kExportTimeoutMessage);
  if (!wait.ok()) return FaultResponse(wait);
  db::AttachmentRecord a;
  st = db::InReadTransaction(env_.db, [&](db::Transaction& tx) {
    ASSIGN_OR_RETURN(a, db::GetAttachment(tx, attachment_id));
    return Status::Ok();
  });
  if (!st.ok()) return FaultResponse(st);
  if (!a.exported || !a.connection_info) {
    return FaultResponse(500, "Bad or unexpected response from the storage volume backend API: "
                              "Unable to fetch connection information from backend.");
  }
  json ci = json::parse(*a.connection_info, nullptr, false);
  if (ci.is_object()) ci.erase("attachment_id");  // the attachments API's field only
  return JsonResponse(200, {{"connection_info", ci}});
}

Response LegacyActions::TerminateConnection(const json& args) {
  if (!args.is_object() || !args.contains("connector")) {
    return FaultResponse(InvalidArgument("Invalid input received: 'connector' is a required "
                                         "property"));
  }
  const json& connector = args["connector"];
  std::optional<std::string> initiator;  // null connector: every connection of the volume
  if (!connector.is_null()) {
    Status cst = ValidateConnector(connector);
    if (!cst.ok()) return FaultResponse(cst);
    initiator = connector["initiator"].get<std::string>();
  }
  std::vector<int64_t> tasks;
  Status st = db::InWriteTransaction(env_.db, [&](db::Transaction& tx) {
    ASSIGN_OR_RETURN(auto v, LoadVisibleVolume(tx, req_, id_));
    ASSIGN_OR_RETURN(auto rows, db::VolumeAttachments(tx, v.id));
    for (const auto& r : rows) {
      if (!r.initiator || (initiator && r.initiator != initiator)) continue;
      // An attached row stays until os-detach; one that never got attached goes now.
      const bool keep = r.attach_status == db::attach_status::kAttached ||
                        r.attach_status == db::attach_status::kDetaching;
      ASSIGN_OR_RETURN(int64_t t, EnqueueUnexport(tx, r, v, /*delete_row=*/!keep));
      tasks.push_back(t);
    }
    return Status::Ok();
  });
  if (!st.ok()) return FaultResponse(st);
  return AfterTasks(tasks, kUnexportTimeoutMessage);
}

Response LegacyActions::Attach(const json& args) {
  auto parsed = ParseAttachArgs(args);
  if (!parsed.ok()) return FaultResponse(parsed.status());
  const AttachArgs& a = *parsed;
  return Simple([&](db::Transaction& tx, db::VolumeRecord& v) -> Status {
    if (v.readonly && a.mode == "rw") {
      return InvalidArgument("Invalid attaching mode 'rw' for volume " + v.id +
                             ": the volume is read-only.");
    }
    ASSIGN_OR_RETURN(auto rows, db::VolumeAttachments(tx, v.id));
    if (v.status == volume_status::kInUse && !v.multiattach && a.instance) {
      for (const auto& r : rows) {
        if (r.attach_status == db::attach_status::kAttached && r.instance_uuid == *a.instance) {
          return Status::Ok();  // the same attach again
        }
      }
    }
    if (!Can(VolumeOp::kAttach, v.status, v.multiattach)) {
      return FailedPrecondition("Invalid volume: Volume " + v.id + " status must be available "
                                "or attaching to attach, but current status is: " + v.status +
                                ".");
    }
    return MarkAttached(tx, req_, v, rows, a);
  });
}

Response LegacyActions::BeginDetaching() {
  return Simple([](db::Transaction& tx, db::VolumeRecord& v) -> Status {
    if (!Can(VolumeOp::kBeginDetaching, v.status) ||
        v.attach_status != volume_attach_status::kAttached) {
      return FailedPrecondition("Invalid volume: Unable to detach volume. Volume status must be "
                                "'in-use' and attach_status must be 'attached' to detach.");
    }
    v.status = Of(VolumeOp::kBeginDetaching).during;
    return db::UpdateVolume(tx, v);
  });
}

Response LegacyActions::RollDetaching() {
  return Simple([](db::Transaction& tx, db::VolumeRecord& v) -> Status {
    if (!Can(VolumeOp::kRollDetaching, v.status)) return Status::Ok();
    v.status = Of(VolumeOp::kRollDetaching).during;
    return db::UpdateVolume(tx, v);
  });
}

Response LegacyActions::Detach(const json& args) {
  auto attachment_id = StringArg(args, "attachment_id");
  if (!attachment_id.ok()) return FaultResponse(attachment_id.status());
  std::vector<int64_t> tasks;
  Status st = db::InWriteTransaction(env_.db, [&](db::Transaction& tx) {
    ASSIGN_OR_RETURN(auto v, LoadVisibleVolume(tx, req_, id_));
    ASSIGN_OR_RETURN(auto rows, db::VolumeAttachments(tx, v.id));
    std::optional<db::AttachmentRecord> row;
    if (*attachment_id) {
      for (const auto& r : rows) {
        if (r.id == **attachment_id) row = r;
      }
      if (!row) {
        return NotFound("Volume attachment could not be found with filter: attachment_id = " +
                        **attachment_id + ".");
      }
    } else if (rows.size() > 1) {
      return InvalidArgument("Invalid volume: Detach volume failed: More than one attachment, "
                             "but no attachment_id provided.");
    } else if (rows.size() == 1) {
      row = rows[0];
    }
    if (!row) return db::RecomputeVolumeStatus(tx, v);  // nothing attached: available
    const bool may_be_exported = row->exported ||
                                 row->attach_status == db::attach_status::kAttaching;
    if (!may_be_exported) {
      RETURN_IF_ERROR(db::DeleteAttachment(tx, row->id));
      return db::RecomputeVolumeStatus(tx, v);
    }
    row->attach_status = db::attach_status::kDetaching;
    row->detach_time = NowMicros();
    RETURN_IF_ERROR(db::UpdateAttachment(tx, *row));
    ASSIGN_OR_RETURN(int64_t t, EnqueueUnexport(tx, *row, v, /*delete_row=*/true));
    tasks.push_back(t);
    return Status::Ok();
  });
  if (!st.ok()) return FaultResponse(st);
  return AfterTasks(tasks, kUnexportTimeoutMessage);
}

}  // namespace

bool IsLegacyAttachAction(const std::string& action) {
  static const std::set<std::string> kActions = {
      "os-reserve", "os-unreserve", "os-initialize_connection", "os-terminate_connection",
      "os-attach",  "os-detach",    "os-begin_detaching",       "os-roll_detaching"};
  return kActions.count(action) > 0;
}

Response LegacyAttachAction(const ApiEnv& env, Request& req, const std::string& volume_id,
                            const std::string& action, const json& args) {
  LegacyActions a(env, req, volume_id);
  if (action == "os-reserve") return a.Reserve();
  if (action == "os-unreserve") return a.Unreserve();
  if (action == "os-initialize_connection") return a.InitializeConnection(args);
  if (action == "os-terminate_connection") return a.TerminateConnection(args);
  if (action == "os-attach") return a.Attach(args);
  if (action == "os-begin_detaching") return a.BeginDetaching();
  if (action == "os-roll_detaching") return a.RollDetaching();
  if (action == "os-detach") return a.Detach(args);
  return FaultResponse(InvalidArgument("There is no such action: " + action));
}

}  // namespace scoria::api
