#include "api/resources/snapshots/snapshot_flow.h"

#include "api/http/fault.h"
#include "api/resources/visibility.h"
#include "db/tasks_repo.h"
#include "lifecycle/snapshot_status.h"
#include "lifecycle/transitions.h"
#include "lifecycle/volume_status.h"
#include "tasks/protocol.h"

namespace scoria::api {

using lifecycle::Can;
using lifecycle::Of;
using lifecycle::SnapshotOp;
using lifecycle::VolumeOp;
using nlohmann::json;

Status EnqueueSnapshotDelete(db::Transaction& tx, db::SnapshotRecord& s) {
  db::VolumeFilter readers;
  readers.equals = {{"snapshot_id", s.id}, {"status", volume_status::kCreating}};
  ASSIGN_OR_RETURN(int64_t n, db::CountVolumes(tx, readers));
  if (n > 0) {
    return FailedPrecondition("Invalid snapshot: Snapshot " + s.id + " is the source of " +
                              std::to_string(n) + " volume(s) being created.");
  }
  auto v = db::GetVolume(tx, s.volume_id);
  if (!v.ok() && v.status().code() != StatusCode::kNotFound) return v.status();
  if (!v.ok() || !v->host) return db::DeleteSnapshot(tx, s.id);  // never reached a backend
  s.status = Of(SnapshotOp::kDelete).during;
  RETURN_IF_ERROR(db::UpdateSnapshot(tx, s));
  return tasks::Enqueue(tx, BackendOfHost(*v->host), v->id,
                        tasks::DeleteSnapshot{.snapshot_id = s.id})
      .status();
}

Status DeleteSnapshotsOfVolume(db::Transaction& tx, const db::VolumeRecord& v, bool cascade,
                               bool force) {
  ASSIGN_OR_RETURN(auto snaps, db::VolumeSnapshots(tx, v.id));
  if (snaps.empty()) return Status::Ok();
  if (!cascade) {
    return FailedPrecondition("Invalid volume: Volume " + v.id + " still has " +
                              std::to_string(snaps.size()) +
                              " dependent snapshot(s); delete them first or use cascade.");
  }
  for (const auto& s : snaps) {
    if (!force && !Can(SnapshotOp::kDelete, s.status) && s.status != snapshot_status::kDeleting) {
      return FailedPrecondition("Invalid volume: Snapshot " + s.id + " of volume " + v.id + " is " +
                                s.status +
                                "; a cascade delete needs every snapshot "
                                "available or error.");
    }
  }
  for (auto& s : snaps) {
    if (s.status == snapshot_status::kDeleting) continue;  // its delete is queued already
    RETURN_IF_ERROR(EnqueueSnapshotDelete(tx, s));
  }
  return Status::Ok();
}

Result<std::optional<VolumeSource>> ParseVolumeSource(const json& in) {
  VolumeSource src;
  for (auto [key, out] :
       {std::pair{"snapshot_id", &src.snapshot_id}, std::pair{"source_volid", &src.source_volid}}) {
    if (!in.contains(key) || in[key].is_null()) continue;
    if (!in[key].is_string() || in[key].get<std::string>().empty()) {
      return InvalidArgument(std::string("Invalid input for field/attribute ") + key +
                             ". Value: " + in[key].dump() + ". Not a valid id");
    }
    *out = in[key].get<std::string>();
  }
  if (src.snapshot_id && src.source_volid) {
    return InvalidArgument(
        "Invalid input received: only one of snapshot_id and source_volid "
        "may be given");
  }
  if (!src.snapshot_id && !src.source_volid) return std::optional<VolumeSource>();
  return std::optional<VolumeSource>(std::move(src));
}

Status LoadVolumeSource(db::Transaction& tx, const Request& req, VolumeSource& src) {
  db::VolumeRecord vol;
  if (src.snapshot_id) {
    ASSIGN_OR_RETURN(auto s, LoadVisibleSnapshot(tx, req, *src.snapshot_id));
    if (!Can(SnapshotOp::kCreateVolumeFrom, s.status)) {
      return FailedPrecondition(
          "Invalid snapshot: Originating snapshot status must be "
          "'available' to create a volume from it, but it is " +
          s.status + ".");
    }
    ASSIGN_OR_RETURN(vol, db::GetVolume(tx, s.volume_id));
    src.size = s.size;
  } else {
    ASSIGN_OR_RETURN(vol, LoadVisibleVolume(tx, req, *src.source_volid));
    // A clone copies an attached volume too (no table row: nothing changes on the source).
    if (vol.status != volume_status::kAvailable && vol.status != volume_status::kInUse) {
      return FailedPrecondition("Invalid volume: Source volume " + vol.id +
                                " status must be "
                                "available or in-use to clone it, but it is " +
                                vol.status + ".");
    }
    src.size = vol.size;
  }
  if (!vol.host) {
    return FailedPrecondition("Invalid volume: the source volume " + vol.id +
                              " is not on a backend.");
  }
  src.host = *vol.host;
  src.volume_type_id = vol.volume_type_id;
  src.availability_zone = vol.availability_zone;
  return Status::Ok();
}

Status CheckSizeAgainstSource(const VolumeSource& src, int64_t size) {
  if (size >= src.size) return Status::Ok();
  if (src.snapshot_id) {
    return InvalidArgument("Invalid input received: Volume size '" + std::to_string(size) +
                           "' must be an integer and greater than 0 and not smaller than the "
                           "snapshot size " +
                           std::to_string(src.size) + "GB.");
  }
  return InvalidArgument("Invalid input received: Volume size '" + std::to_string(size) +
                         "' must be an integer and greater than 0 and not smaller than the "
                         "source volume size " +
                         std::to_string(src.size) + "GB.");
}

// cinder/api/v3/volumes.py revert + cinder/volume/api.py revert_to_snapshot: only the latest
// snapshot, sizes equal (400); volume available -> reverting and snapshot available ->
// restoring, else 409.
Response RevertVolumeAction(const ApiEnv& env, Request& req, const std::string& volume_id,
                            const json& args) {
  if (!args.is_object() || !args.contains("snapshot_id") || !args["snapshot_id"].is_string()) {
    return FaultResponse(
        InvalidArgument("Invalid input received: 'snapshot_id' is a required "
                        "property"));
  }
  const std::string snapshot_id = args["snapshot_id"].get<std::string>();
  Status st = db::InWriteTransaction(env.db, [&](db::Transaction& tx) {
    ASSIGN_OR_RETURN(auto v, LoadVisibleVolume(tx, req, volume_id));
    ASSIGN_OR_RETURN(auto snaps, db::VolumeSnapshots(tx, v.id));
    if (snaps.empty()) {
      return InvalidArgument("Volume " + v.id + " doesn't have any snapshots.");
    }
    db::SnapshotRecord latest = snaps.back();  // oldest first
    if (latest.id != snapshot_id) {
      return InvalidArgument("Specified snapshot " + snapshot_id +
                             " is None or not the latest one of volume " + v.id + ".");
    }
    if (v.size != latest.size) {
      return InvalidArgument("Can't revert volume " + v.id + " to its latest snapshot " +
                             latest.id + ". The volume size must be equal to the snapshot size.");
    }
    if (!Can(VolumeOp::kRevert, v.status)) {
      return Conflict("Invalid volume: Volume " + v.id +
                      " status must be available, but "
                      "current status is: " +
                      v.status + ".");
    }
    if (!Can(SnapshotOp::kRevertTo, latest.status)) {
      return Conflict("Invalid snapshot: Snapshot " + latest.id +
                      " status must be available, "
                      "but current status is: " +
                      latest.status + ".");
    }
    v.status = Of(VolumeOp::kRevert).during;
    RETURN_IF_ERROR(db::UpdateVolume(tx, v));
    latest.status = Of(SnapshotOp::kRevertTo).during;
    RETURN_IF_ERROR(db::UpdateSnapshot(tx, latest));
    return tasks::Enqueue(tx, BackendOfHost(*v.host), v.id,
                          tasks::RevertToSnapshot{.snapshot_id = latest.id})
        .status();
  });
  if (!st.ok()) return FaultResponse(st);
  return EmptyResponse(202);
}

}  // namespace scoria::api
