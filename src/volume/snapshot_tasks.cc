// The volume manager's snapshot tasks: create_snapshot, delete_snapshot, revert_to_snapshot,
// and the driver step of create_volume from a snapshot or a volume (state machines in
// manager.h). Like the volume tasks, each does idempotent driver work first and then finishes
// its task in the transaction that writes the final states, re-checking them there.
#include <spdlog/spdlog.h>

#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>
#include <set>

#include "db/messages_repo.h"
#include "db/snapshots_repo.h"
#include "db/tasks_repo.h"
#include "db/volumes_repo.h"
#include "lifecycle/transitions.h"
#include "volume/manager.h"

namespace scoria::volume {
namespace {

using lifecycle::After;
using lifecycle::Of;
using lifecycle::SnapshotOp;
using lifecycle::VolumeOp;
using nlohmann::json;

// Cinder's message_field.Action ids of these operations.
constexpr const char* kSnapshotCreateAction = "009";
constexpr const char* kSnapshotDeleteAction = "010";
constexpr const char* kRevertAction = "018";


// Writes a snapshot's `progress` ("N%") while its copy runs: when the percentage changed, at
// most every kProgressInterval (the first change at once). Best effort: a failed write only
// loses a progress figure.
class SnapshotProgress {
 public:
  static constexpr auto kProgressInterval = std::chrono::milliseconds(500);
  SnapshotProgress(db::Database& db, std::string snapshot_id)
      : db_(db), snapshot_id_(std::move(snapshot_id)) {}

  void operator()(uint64_t done, uint64_t total) {
    if (total == 0) return;
    const int percent = static_cast<int>(done * 100 / total);
    const auto now = std::chrono::steady_clock::now();
    if (percent == last_percent_ || percent >= 100 ||
        (last_percent_ > 0 && now - last_write_ < kProgressInterval)) {
      return;
    }
    last_percent_ = percent;
    last_write_ = now;
    Status st = db::InWriteTransaction(
        db_,
        [&](db::Transaction& tx) {
          auto s = db::GetSnapshot(tx, snapshot_id_);
          if (!s.ok() || s->status != Of(SnapshotOp::kCreate).during) return Status::Ok();
          s->progress = std::to_string(percent) + "%";
          return db::UpdateSnapshot(tx, *s);
        },
        db::Durability::kRelaxed);
    if (!st.ok()) spdlog::warn("snapshot {}: progress not written: {}", snapshot_id_, st.ToString());
  }

 private:
  db::Database& db_;
  std::string snapshot_id_;
  int last_percent_ = 0;
  std::chrono::steady_clock::time_point last_write_{};
};

const char* DetailOf(const Status& st) {
  return st.code() == StatusCode::kResourceExhausted ? db::message_detail::kNotEnoughSpace
                                                     : db::message_detail::kDriverFailed;
}

}  // namespace

Status VolumeManager::WithQuiescedVolume(const std::string& volume_id,
                                         const std::function<Status()>& copy) {
  std::shared_ptr<GatedBlockDevice> gate = Gate(volume_id);
  if (gate == nullptr) return copy();
  // New I/O waits, in-flight I/O drains, acknowledged writes are flushed to the file: the copy
  // then sees every write an initiator saw acknowledged.
  QuiesceScope scope(gate.get());
  RETURN_IF_ERROR(scope.status());
  return copy();
}

Status VolumeManager::HandleCreateSnapshot(tasks::TaskContext& ctx, const tasks::CreateSnapshot& args) {
  const std::string& sid = args.snapshot_id;
  const std::string& volume_id = ctx.task().resource_id;
  db::SnapshotRecord snap;
  Status load = db::InReadTransaction(db_, [&](db::Transaction& tx) {
    ASSIGN_OR_RETURN(snap, db::GetSnapshot(tx, sid));
    return Status::Ok();
  });
  if (load.code() == StatusCode::kNotFound ||
      (load.ok() && snap.status != Of(SnapshotOp::kCreate).during)) {
    // Force-deleted or reset meanwhile: nothing to make.
    return ctx.Finish([](db::Transaction&) { return Status::Ok(); }, db::Durability::kRelaxed);
  }
  RETURN_IF_ERROR(load);
  SnapshotProgress progress(db_, sid);
  Status st = WithQuiescedVolume(volume_id, [&] {
    return driver_->CreateSnapshot(volume_id, sid, std::ref(progress));
  });
  if (!st.ok()) {
    if (IsTransient(st) && ctx.task().attempts < kMaxStepAttempts) return st;
    spdlog::error("volume {}: snapshot {} of {} failed: {}", backend_host_, sid, volume_id,
                  st.ToString());
    Status cleanup = driver_->DeleteSnapshot(volume_id, sid);
    if (!cleanup.ok() && ctx.task().attempts < 2 * kMaxStepAttempts) return cleanup;
    return ctx.Finish([&](db::Transaction& tx) {
      auto cur = db::GetSnapshot(tx, sid);
      if (!cur.ok() || cur->status != Of(SnapshotOp::kCreate).during) return Status::Ok();
      cur->status = After(SnapshotOp::kCreate, false, cur->status);
      RETURN_IF_ERROR(db::UpdateSnapshot(tx, *cur));
      return db::RecordVolumeMessage(tx, cur->project_id, volume_id, kSnapshotCreateAction,
                                     DetailOf(st), "create snapshot: " + st.message());
    });
  }
  return ctx.Finish(
      [&](db::Transaction& tx) {
        auto cur = db::GetSnapshot(tx, sid);
        if (!cur.ok()) return Status::Ok();  // deleted meanwhile; its delete task removes the file
        if (cur->status != Of(SnapshotOp::kCreate).during) return Status::Ok();
        cur->status = After(SnapshotOp::kCreate, true, cur->status);
        cur->progress = "100%";
        cur->provider_location = driver_->name() + ":snapshot-" + sid;
        return db::UpdateSnapshot(tx, *cur);
      },
      db::Durability::kRelaxed);  // lost in a power cut: the create re-runs and converges
}

Status VolumeManager::HandleDeleteSnapshot(tasks::TaskContext& ctx, const tasks::DeleteSnapshot& args) {
  const std::string& sid = args.snapshot_id;
  const std::string& volume_id = ctx.task().resource_id;
  Status st = driver_->DeleteSnapshot(volume_id, sid);
  if (!st.ok()) {
    if (ctx.task().attempts < kMaxStepAttempts) return st;
    spdlog::error("volume {}: delete of snapshot {} failed: {}", backend_host_, sid, st.ToString());
    return ctx.Finish([&](db::Transaction& tx) {
      auto cur = db::GetSnapshot(tx, sid);
      if (!cur.ok()) return Status::Ok();
      cur->status = After(SnapshotOp::kDelete, false, cur->status);
      RETURN_IF_ERROR(db::UpdateSnapshot(tx, *cur));
      // A cascade delete stops here: the volume cannot go while a snapshot stays.
      auto vol = db::GetVolumeState(tx, volume_id);
      if (vol.ok() && vol->status == Of(VolumeOp::kDelete).during) {
        vol->status = After(VolumeOp::kDelete, false, vol->status);
        RETURN_IF_ERROR(db::UpdateVolume(tx, *vol));
      }
      return db::RecordVolumeMessage(tx, cur->project_id, volume_id, kSnapshotDeleteAction,
                                     db::message_detail::kDriverFailed,
                                     "delete snapshot: " + st.message());
    });
  }
  return ctx.Finish([&](db::Transaction& tx) { return db::DeleteSnapshot(tx, sid); },
                    db::Durability::kRelaxed);
}

Status VolumeManager::HandleRevertToSnapshot(tasks::TaskContext& ctx, const tasks::RevertToSnapshot& args) {
  const std::string& sid = args.snapshot_id;
  const std::string& volume_id = ctx.task().resource_id;
  bool wanted = false;
  RETURN_IF_ERROR(db::InReadTransaction(db_, [&](db::Transaction& tx) {
    auto vol = db::GetVolumeState(tx, volume_id);
    wanted = vol.ok() && vol->status == Of(VolumeOp::kRevert).during;
    return vol.ok() || vol.status().code() == StatusCode::kNotFound ? Status::Ok() : vol.status();
  }));
  Status st;
  if (wanted) {
    st = WithQuiescedVolume(volume_id, [&] { return driver_->RevertToSnapshot(volume_id, sid); });
    if (!st.ok() && IsTransient(st) && ctx.task().attempts < kMaxStepAttempts) return st;
    if (st.ok()) {
      if (auto gate = Gate(volume_id)) (void)gate->Refresh();
    }
  }
  return ctx.Finish([&](db::Transaction& tx) {
    auto snap = db::GetSnapshot(tx, sid);
    if (snap.ok() && snap->status == Of(SnapshotOp::kRevertTo).during) {
      snap->status = After(SnapshotOp::kRevertTo, st.ok(), snap->status);
      RETURN_IF_ERROR(db::UpdateSnapshot(tx, *snap));
    }
    auto vol = db::GetVolumeState(tx, volume_id);
    if (!vol.ok() || vol->status != Of(VolumeOp::kRevert).during) return Status::Ok();
    vol->status = After(VolumeOp::kRevert, st.ok(), vol->status);
    if (st.ok()) return db::UpdateVolume(tx, *vol);
    spdlog::error("volume {}: revert of {} to snapshot {} failed: {}", backend_host_, volume_id,
                  sid, st.ToString());
    RETURN_IF_ERROR(db::UpdateVolume(tx, *vol));
    return db::RecordVolumeMessage(tx, vol->project_id, volume_id, kRevertAction, DetailOf(st),
                                   "revert volume to snapshot: " + st.message());
  });
}

Status VolumeManager::CreateFromSource(const db::VolumeRecord& vol) {
  if (vol.snapshot_id) {
    db::SnapshotRecord snap;
    RETURN_IF_ERROR(db::InReadTransaction(db_, [&](db::Transaction& tx) {
      ASSIGN_OR_RETURN(snap, db::GetSnapshot(tx, *vol.snapshot_id));
      return Status::Ok();
    }));
    return driver_->CreateVolumeFromSnapshot(vol.id, vol.size, snap.volume_id, snap.id);
  }
  const std::string& source = *vol.source_volid;
  return WithQuiescedVolume(source, [&] { return driver_->CloneVolume(vol.id, vol.size, source); });
}

void VolumeManager::CheckSnapshotFiles() {
  auto on_backend = driver_->ListSnapshots();
  std::vector<std::string> in_db;
  Status st = db::InReadTransaction(db_, [&](db::Transaction& tx) {
    ASSIGN_OR_RETURN(in_db, db::SnapshotIdsOnBackend(tx, backend_host_));
    return Status::Ok();
  });
  if (!on_backend.ok() || !st.ok()) {
    spdlog::warn("volume {}: cannot compare snapshots with the database: {}", backend_host_,
                 (!st.ok() ? st : on_backend.status()).ToString());
    return;
  }
  std::set<std::string> known(in_db.begin(), in_db.end());
  for (const std::string& id : *on_backend) {
    if (!known.count(id)) {
      spdlog::warn(
          "volume {}: the backend holds snapshot-{} but the database has no such "
          "snapshot on this backend; left untouched",
          backend_host_, id);
    }
  }
}

}  // namespace scoria::volume
