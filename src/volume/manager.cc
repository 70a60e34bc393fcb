#include "volume/manager.h"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <optional>
#include <set>

#include "common/clock.h"
#include "db/attachments_repo.h"
#include "db/backups_repo.h"
#include "db/messages_repo.h"
#include "db/services_repo.h"
#include "db/snapshots_repo.h"
#include "db/tasks_repo.h"
#include "db/volumes_repo.h"
#include "lifecycle/attach_status.h"
#include "lifecycle/transitions.h"
#include "lifecycle/volume_status.h"

namespace scoria::volume {

using lifecycle::After;
using lifecycle::AttachmentOp;
using lifecycle::Of;
using lifecycle::VolumeOp;
using nlohmann::json;

bool IsTransient(const Status& st) { return st.code() == StatusCode::kUnavailable; }

VolumeManager::VolumeManager(db::Database& db, const Config& config, const BackendConfig& backend,
                             std::unique_ptr<VolumeDriver> driver, Exporter* exporter)
    : db_(db),
      config_(config),
      backend_(backend),
      driver_(std::move(driver)),
      exporter_(exporter),
      backend_host_(config.host + "@" + backend.section),
      pool_host_(backend_host_ + "#" + backend.volume_backend_name) {}

Status VolumeManager::Start() {
  RETURN_IF_ERROR(driver_->Setup());
  ASSIGN_OR_RETURN(auto on_backend, driver_->ListVolumes());
  std::vector<std::string> in_db;
  RETURN_IF_ERROR(db::InReadTransaction(db_, [&](db::Transaction& tx) {
    ASSIGN_OR_RETURN(in_db, db::VolumeIdsOnBackend(tx, backend_host_));
    return Status::Ok();
  }));
  std::set<std::string> known(in_db.begin(), in_db.end());
  for (const std::string& id : on_backend) {
    if (!known.count(id)) {
      spdlog::warn("volume {}: {} holds volume-{} but the database has no such volume on this "
                   "backend; left untouched",
                   backend_host_, driver_->ProviderLocation(id), id);
    }
  }
  CheckSnapshotFiles();
  RestoreExports();
  return ReportStats();
}

void VolumeManager::RegisterHandlers(tasks::TaskWorker& worker) {
  using tasks::TaskContext;
  // A create or extend that cannot run as written ends the way a failed driver step does.
  tasks::Register<tasks::CreateVolume>(
      worker, [this](TaskContext& c, const auto& a) { return HandleCreate(c, a); },
      [this](db::Transaction& tx, const db::Task& t, const Status& why) {
        return FinishFailedCreate(tx, t.resource_id, why);
      });
  tasks::Register<tasks::DeleteVolume>(
      worker, [this](TaskContext& c, const auto&) { return HandleDelete(c); });
  tasks::Register<tasks::ExtendVolume>(
      worker, [this](TaskContext& c, const auto& a) { return HandleExtend(c, a); },
      [this](db::Transaction& tx, const db::Task& t, const Status& why) {
        return FinishExtend(tx, t.resource_id, 0, why);
      });
  tasks::Register<tasks::ExportAttachment>(
      worker, [this](TaskContext& c, const auto& a) { return HandleExportAttachment(c, a); });
  tasks::Register<tasks::UnexportAttachment>(
      worker, [this](TaskContext& c, const auto& a) { return HandleUnexportAttachment(c, a); });
  tasks::Register<tasks::CreateSnapshot>(
      worker, [this](TaskContext& c, const auto& a) { return HandleCreateSnapshot(c, a); });
  tasks::Register<tasks::DeleteSnapshot>(
      worker, [this](TaskContext& c, const auto& a) { return HandleDeleteSnapshot(c, a); });
  tasks::Register<tasks::RevertToSnapshot>(
      worker, [this](TaskContext& c, const auto& a) { return HandleRevertToSnapshot(c, a); });
}

Status VolumeManager::ReportStats() {
  Result<DriverStats> stats = driver_->Stats();
  if (!stats.ok()) {
    std::optional<std::string> caps;
    if (last_caps_) {
      json stale = *last_caps_;
      for (json& pool : stale["pools"]) pool["backend_state"] = "down";
      caps = stale.dump();
    }
    Status st = db::InWriteTransaction(db_, [&](db::Transaction& tx) {
      return db::Heartbeat(tx, backend_host_, db::kVolumeBinary, backend_.availability_zone,
                           caps);
    });
    if (!st.ok()) spdlog::warn("volume {}: heartbeat failed: {}", backend_host_, st.ToString());
    return stats.status();
  }
  const DriverStats& s = *stats;
  json pool = {
      {"pool_name", backend_.volume_backend_name},
      {"total_capacity_gb", s.total_capacity_gb},
      {"free_capacity_gb", s.free_capacity_gb},
      {"provisioned_capacity_gb", s.provisioned_capacity_gb},
      {"reserved_percentage", backend_.reserved_percentage},
      {"max_over_subscription_ratio",
       backend_.auto_over_subscription ? json("auto") : json(backend_.max_over_subscription_ratio)},
      {"thin_provisioning_support", s.thin_provisioning_support},
      {"thick_provisioning_support", s.thick_provisioning_support},
      {"QoS_support", false},
      {"multiattach", exporter_ != nullptr},  // one export, one access entry per attachment
      {"online_extend_support", true},
      {"backend_state", "up"},
      {"location_info", driver_->name() + ":" + backend_.file_volume_dir},
      {"filter_function", backend_.filter_function.empty() ? json(nullptr)
                                                            : json(backend_.filter_function)},
      {"goodness_function", backend_.goodness_function.empty()
                                ? json(nullptr)
                                : json(backend_.goodness_function)},
  };
  json caps = {
      {"volume_backend_name", backend_.volume_backend_name},
      {"vendor_name", "Scoria"},
      {"driver_version", s.driver_version},
      {"storage_protocol", s.storage_protocol},
      {"volume_driver", driver_->name()},
      {"pools", json::array({pool})},
  };
  last_caps_ = caps;
  return db::InWriteTransaction(db_, [&](db::Transaction& tx) {
    return db::Heartbeat(tx, backend_host_, db::kVolumeBinary, backend_.availability_zone,
                         caps.dump());
  });
}

Status VolumeManager::HandleCreate(tasks::TaskContext& ctx, const tasks::CreateVolume& args) {
  const std::string& id = ctx.task().resource_id;
  db::VolumeRecord vol;
  Status load = db::InReadTransaction(db_, [&](db::Transaction& tx) {
    ASSIGN_OR_RETURN(vol, db::GetVolumeState(tx, id));
    return Status::Ok();
  });
  if (load.code() == StatusCode::kNotFound ||
      (load.ok() && vol.status != Of(VolumeOp::kCreate).during)) {
    // Force-deleted or reset meanwhile: nothing to create.
    return ctx.Finish([](db::Transaction&) { return Status::Ok(); }, db::Durability::kRelaxed);
  }
  RETURN_IF_ERROR(load);
  const bool from_source = vol.snapshot_id || vol.source_volid;
  Status st = from_source ? CreateFromSource(vol) : driver_->CreateVolume(id, vol.size);
  if (!st.ok()) {
    if (IsTransient(st) && ctx.task().attempts < kMaxStepAttempts) return st;
    return FailCreate(ctx, args, st);
  }
  return ctx.Finish([&](db::Transaction& tx) {
    auto cur = db::GetVolumeState(tx, id);
    if (!cur.ok()) return Status::Ok();  // deleted meanwhile; its delete task removes the file
    if (cur->status != Of(VolumeOp::kCreate).during) return Status::Ok();
    // A volume made for a backup restore is not usable until the restore has filled it: it
    // goes straight to restoring-backup, and the backup service takes it from there.
    ASSIGN_OR_RETURN(bool restore_target, db::IsRestoreTarget(tx, id));
    cur->status = restore_target ? Of(VolumeOp::kRestoreIntoNew).during
                                 : After(VolumeOp::kCreate, true, cur->status);
    cur->launched_at = NowMicros();
    cur->provider_location = driver_->ProviderLocation(id);
    return db::UpdateVolume(tx, *cur);
  }, db::Durability::kRelaxed);  // lost in a power cut: the create re-runs and converges
}

Status VolumeManager::FailCreate(tasks::TaskContext& ctx, const tasks::CreateVolume& args,
                                 const Status& why) {
  const std::string& id = ctx.task().resource_id;
  spdlog::error("volume {}: create of {} failed: {}", backend_host_, id, why.ToString());
  // Leave nothing behind on this backend before trying elsewhere.
  Status cleanup = driver_->DeleteVolume(id);
  if (!cleanup.ok()) {
    // Retried by the worker: we must not leak the file. After many tries give up on the
    // cleanup (the start-up check reports the leftover file) rather than keep the volume in
    // `creating` for ever.
    if (ctx.task().attempts < 2 * kMaxStepAttempts) return cleanup;
    spdlog::error("volume {}: cannot remove what the failed create of {} left: {}",
                  backend_host_, id, cleanup.ToString());
  }
  return ctx.Finish([&](db::Transaction& tx) {
    auto cur = db::GetVolumeState(tx, id);
    if (!cur.ok() || cur->status != Of(VolumeOp::kCreate).during) return Status::Ok();
    // A volume made from a snapshot or a volume can only live on its source's backend.
    const bool pinned = cur->snapshot_id || cur->source_volid;
    if (!pinned && cur->scheduling_attempts < config_.scheduler_max_attempts) {
      tasks::ScheduleCreateVolume sched;
      sched.attempted_pools = args.attempted_pools;
      if (cur->host) sched.attempted_pools.push_back(*cur->host);
      sched.last_error = why.message();
      cur->host.reset();
      RETURN_IF_ERROR(db::UpdateVolume(tx, *cur));
      return tasks::Enqueue(tx, db::kSchedulerTarget, id, sched).status();
    }
    return FinishFailedCreate(tx, id, why);
  });
}

Status VolumeManager::FinishFailedCreate(db::Transaction& tx, const std::string& id,
                                         const Status& why) {
  auto cur = db::GetVolumeState(tx, id);
  if (!cur.ok() || cur->status != Of(VolumeOp::kCreate).during) return Status::Ok();
  cur->status = After(VolumeOp::kCreate, false, cur->status);
  RETURN_IF_ERROR(db::UpdateVolume(tx, *cur));
  const char* detail = why.code() == StatusCode::kResourceExhausted
                           ? db::message_detail::kNotEnoughSpace
                           : db::message_detail::kDriverFailed;
  return db::RecordVolumeMessage(tx, cur->project_id, id, db::message_action::kCreateVolume,
                                 detail, "create volume: " + why.message());
}

Status VolumeManager::HandleDelete(tasks::TaskContext& ctx) {
  const std::string& id = ctx.task().resource_id;
  // A cascade delete whose snapshot delete failed leaves the snapshot: the volume stays too
  // (its snapshot tasks ran before this one and put it in error_deleting).
  size_t snapshots = 0;
  RETURN_IF_ERROR(db::InReadTransaction(db_, [&](db::Transaction& tx) {
    ASSIGN_OR_RETURN(auto rows, db::VolumeSnapshots(tx, id));
    snapshots = rows.size();
    return Status::Ok();
  }));
  if (snapshots > 0) {
    spdlog::error("volume {}: not deleting {}: it still has {} snapshot(s)", backend_host_, id,
                  snapshots);
    return ctx.Finish([&](db::Transaction& tx) {
      auto cur = db::GetVolumeState(tx, id);
      if (!cur.ok()) return Status::Ok();
      cur->status = After(VolumeOp::kDelete, false, cur->status);
      return db::UpdateVolume(tx, *cur);
    });
  }
  Status st = driver_->DeleteVolume(id);
  if (!st.ok()) {
    if (ctx.task().attempts < kMaxStepAttempts) return st;
    spdlog::error("volume {}: delete of {} failed: {}", backend_host_, id, st.ToString());
    return ctx.Finish([&](db::Transaction& tx) {
      auto cur = db::GetVolumeState(tx, id);
      if (!cur.ok()) return Status::Ok();
      cur->status = After(VolumeOp::kDelete, false, cur->status);
      RETURN_IF_ERROR(db::UpdateVolume(tx, *cur));
      return db::RecordVolumeMessage(tx, cur->project_id, id, db::message_action::kDeleteVolume,
                                     db::message_detail::kDriverFailed,
                                     "delete volume: " + st.message());
    });
  }
  return ctx.Finish([&](db::Transaction& tx) { return db::DeleteVolume(tx, id); },
                    db::Durability::kRelaxed);
}

Status VolumeManager::HandleExtend(tasks::TaskContext& ctx, const tasks::ExtendVolume& args) {
  const std::string& id = ctx.task().resource_id;
  Status st = driver_->ExtendVolume(id, args.new_size);
  if (!st.ok() && IsTransient(st) && ctx.task().attempts < kMaxStepAttempts) return st;
  // Online extend (3.42): the initiators of an exported volume learn the new capacity.
  if (st.ok() && exporter_ != nullptr && HasDevice(id)) exporter_->CapacityChanged(id);
  return ctx.Finish(
      [&](db::Transaction& tx) { return FinishExtend(tx, id, args.new_size, st); });
}

Status VolumeManager::FinishExtend(db::Transaction& tx, const std::string& id, int64_t new_size,
                                   const Status& st) {
  auto cur = db::GetVolumeState(tx, id);
  if (!cur.ok() || cur->status != Of(VolumeOp::kExtend).during) return Status::Ok();
  // The status the extend started from: available, or in-use for 3.42's online extend.
  const std::string previous = cur->previous_status.value_or(volume_status::kAvailable);
  const VolumeOp op =
      previous == volume_status::kInUse ? VolumeOp::kExtendAttached : VolumeOp::kExtend;
  cur->status = After(op, st.ok(), previous);
  if (st.ok()) {
    cur->size = new_size;
    cur->previous_status.reset();
    return db::UpdateVolume(tx, *cur);
  }
  // (A failure is recorded durably: it is not redone by a re-run.)
  spdlog::error("volume {}: extend of {} failed: {}", backend_host_, id, st.ToString());
  RETURN_IF_ERROR(db::UpdateVolume(tx, *cur));
  return db::RecordVolumeMessage(tx, cur->project_id, id, db::message_action::kExtendVolume,
                                 st.code() == StatusCode::kResourceExhausted
                                     ? db::message_detail::kNotEnoughSpace
                                     : db::message_detail::kDriverFailed,
                                 "extend volume: " + st.message());
}

json IscsiConnectionInfo(const Exporter& exporter, const db::AttachmentRecord& a) {
  json data = {
      {"target_discovered", false},
      {"target_iqn", exporter.TargetName(a.volume_id)},
      {"target_portal", exporter.Portal()},
      {"target_lun", 0},
      {"volume_id", a.volume_id},
      {"auth_method", "CHAP"},
      {"auth_username", a.chap_user.value_or("")},
      {"auth_password", a.chap_secret.value_or("")},
      // Scoria extension (docs/api.md): the target's credentials for mutual CHAP.
      {"target_auth_username", a.target_chap_user.value_or("")},
      {"target_auth_password", a.target_chap_secret.value_or("")},
      {"access_mode", a.attach_mode.value_or("rw")},
      {"discard", true},
      {"encrypted", false},
      {"qos_specs", nullptr},
      {"cacheable", false},
  };
  return {{"driver_volume_type", "iscsi"},
          {"data", data},
          {"attachment_id", a.id},
          {"enforce_multipath", false}};
}

bool AsksNativeConnection(const db::AttachmentRecord& a) {
  if (!a.connector) return false;
  auto c = nlohmann::json::parse(*a.connector, nullptr, false);
  return c.is_object() && c.contains("driver_volume_type") &&
         c["driver_volume_type"].is_string() && c["driver_volume_type"] != "iscsi";
}

bool IsNativeConnection(const db::AttachmentRecord& a) {
  if (!a.connection_info) return false;
  auto ci = nlohmann::json::parse(*a.connection_info, nullptr, false);
  return ci.is_object() && ci.value("driver_volume_type", "iscsi") != "iscsi";
}

nlohmann::json NativeConnectionInfo(const VolumeDriver::NativeConnection& native,
                                    const db::AttachmentRecord& a) {
  nlohmann::json data = nlohmann::json::parse(native.data_json, nullptr, false);
  if (!data.is_object()) data = nlohmann::json::object();
  data["access_mode"] = a.attach_mode.value_or("rw");
  return {{"driver_volume_type", native.driver_volume_type},
          {"data", data},
          {"attachment_id", a.id},
          {"enforce_multipath", false}};
}

Result<std::shared_ptr<BlockDevice>> VolumeManager::Device(const std::string& volume_id) {
  {
    std::lock_guard lock(devices_mu_);
    auto it = devices_.find(volume_id);
    if (it != devices_.end()) return std::shared_ptr<BlockDevice>(it->second);
  }
  // Opened outside the lock (it does I/O); tasks of one volume never run concurrently, so two
  // opens of the same volume cannot race, except with RestoreExports, which runs before them.
  ASSIGN_OR_RETURN(auto dev, driver_->Open(volume_id));
  auto gated = std::make_shared<GatedBlockDevice>(std::move(dev));
  std::lock_guard lock(devices_mu_);
  return std::shared_ptr<BlockDevice>(devices_.try_emplace(volume_id, std::move(gated)).first->second);
}

std::shared_ptr<GatedBlockDevice> VolumeManager::Gate(const std::string& volume_id) {
  std::lock_guard lock(devices_mu_);
  auto it = devices_.find(volume_id);
  return it == devices_.end() ? nullptr : it->second;
}

void VolumeManager::DropDevice(const std::string& volume_id) {
  std::shared_ptr<GatedBlockDevice> dev;
  {
    std::lock_guard lock(devices_mu_);
    auto it = devices_.find(volume_id);
    if (it == devices_.end()) return;
    dev = std::move(it->second);
    devices_.erase(it);
  }
  // dev's destructor (which waits for in-flight I/O) runs here, outside the lock.
}

bool VolumeManager::HasDevice(const std::string& volume_id) {
  std::lock_guard lock(devices_mu_);
  return devices_.count(volume_id) > 0;
}

Status VolumeManager::Publish(const db::AttachmentRecord& a) {
  if (exporter_ == nullptr) {
    return FailedPrecondition("backend " + backend_host_ + " has no target to export volumes");
  }
  if (!a.initiator) return InvalidArgument("attachment " + a.id + " has no initiator");
  ASSIGN_OR_RETURN(auto dev, Device(a.volume_id));
  RETURN_IF_ERROR(exporter_->Export(a.volume_id, dev));
  ExportAccess access;
  access.attachment_id = a.id;
  access.initiator = *a.initiator;
  access.chap_user = a.chap_user.value_or("");
  access.chap_secret = a.chap_secret.value_or("");
  access.target_chap_user = a.target_chap_user.value_or("");
  access.target_chap_secret = a.target_chap_secret.value_or("");
  access.read_only = a.attach_mode.value_or("rw") == "ro";
  return exporter_->Allow(a.volume_id, access);
}

void VolumeManager::RestoreExports() {
  std::vector<db::AttachmentRecord> rows;
  Status st = db::InReadTransaction(db_, [&](db::Transaction& tx) {
    ASSIGN_OR_RETURN(rows, db::ExportedAttachmentsOnBackend(tx, backend_host_));
    return Status::Ok();
  });
  if (!st.ok()) {
    spdlog::error("volume {}: cannot list exported attachments: {}", backend_host_, st.ToString());
    return;
  }
  for (const auto& a : rows) {
    if (IsNativeConnection(a)) continue;  // the host opens the volume itself: nothing to restore
    Status p = Publish(a);
    if (p.ok()) {
      spdlog::info("volume {}: restored export of volume {} for attachment {}", backend_host_,
                   a.volume_id, a.id);
    } else {
      spdlog::error("volume {}: cannot restore export of volume {} for attachment {}: {}",
                    backend_host_, a.volume_id, a.id, p.ToString());
    }
  }
}

namespace {
// Cinder's message_field.Action.UPDATE_ATTACHMENT (the export step of an attach).
constexpr const char* kUpdateAttachmentAction = "004";

}  // namespace

Status VolumeManager::HandleExportAttachment(tasks::TaskContext& ctx,
                                             const tasks::ExportAttachment& args) {
  const std::string& aid = args.attachment_id;
  db::AttachmentRecord a;
  Status load = db::InReadTransaction(db_, [&](db::Transaction& tx) {
    ASSIGN_OR_RETURN(a, db::GetAttachment(tx, aid));
    return Status::Ok();
  });
  // Exported while the update runs, and again for an attached one (os-initialize_connection
  // of an attached volume keeps its attachment attached).
  const bool wanted = load.ok() && (a.attach_status == Of(AttachmentOp::kUpdate).during ||
                                    a.attach_status == attach_status::kAttached);
  if (load.code() == StatusCode::kNotFound || (load.ok() && !wanted)) {
    return ctx.Finish([](db::Transaction&) { return Status::Ok(); }, db::Durability::kRelaxed);
  }
  RETURN_IF_ERROR(load);
  // A host that opens the volume itself (rbd for QEMU's librbd) needs no export.
  std::optional<VolumeDriver::NativeConnection> native;
  Status st;
  if (AsksNativeConnection(a)) {
    auto n = driver_->NativeConnectionInfo(a.volume_id);
    if (n.ok()) {
      native = std::move(n).value();
    } else if (n.status().code() != StatusCode::kNotImplemented) {
      st = n.status();
    }
  }
  if (st.ok() && !native) st = Publish(a);
  if (!st.ok()) {
    if (IsTransient(st) && ctx.task().attempts < kMaxStepAttempts) return st;
    return FailExport(ctx, aid, st);
  }
  return ctx.Finish([&](db::Transaction& tx) {
    auto cur = db::GetAttachment(tx, aid);
    if (!cur.ok()) return Status::Ok();  // removed meanwhile; its unexport task follows
    cur->exported = true;
    cur->connection_info = native ? NativeConnectionInfo(*native, *cur).dump()
                                  : IscsiConnectionInfo(*exporter_, *cur).dump();
    return db::UpdateAttachment(tx, *cur);
  });
}

Status VolumeManager::FailExport(tasks::TaskContext& ctx, const std::string& attachment_id,
                                 const Status& why) {
  spdlog::error("volume {}: export for attachment {} failed: {}", backend_host_, attachment_id,
                why.ToString());
  return ctx.Finish([&](db::Transaction& tx) {
    auto cur = db::GetAttachment(tx, attachment_id);
    if (!cur.ok()) return Status::Ok();
    cur->attach_status = After(AttachmentOp::kUpdate, false, cur->attach_status);
    cur->exported = false;
    RETURN_IF_ERROR(db::UpdateAttachment(tx, *cur));
    auto vol = db::GetVolumeState(tx, cur->volume_id);
    if (!vol.ok()) return Status::Ok();
    RETURN_IF_ERROR(db::RecordVolumeMessage(tx, vol->project_id, vol->id,
                                            kUpdateAttachmentAction,
                                            db::message_detail::kDriverFailed,
                                            "attach volume: " + why.message()));
    return db::RecomputeVolumeStatus(tx, *vol);
  });
}

Status VolumeManager::HandleUnexportAttachment(tasks::TaskContext& ctx,
                                               const tasks::UnexportAttachment& args) {
  const bool delete_row = args.delete_row;
  const std::string& aid = args.attachment_id;
  const std::string& volume_id = ctx.task().resource_id;
  if (exporter_ != nullptr) {
    Status st = exporter_->Revoke(volume_id, aid);
    if (!st.ok()) return st;  // retried; the export must not outlive its rows
    bool others = false;
    RETURN_IF_ERROR(db::InReadTransaction(db_, [&](db::Transaction& tx) {
      ASSIGN_OR_RETURN(auto rows, db::VolumeAttachments(tx, volume_id));
      for (const auto& r : rows) others |= r.id != aid && r.exported && !IsNativeConnection(r);
      return Status::Ok();
    }));
    if (!others) {
      RETURN_IF_ERROR(exporter_->Unexport(volume_id));
      DropDevice(volume_id);
    }
  }
  return ctx.Finish([&](db::Transaction& tx) {
    auto cur = db::GetAttachment(tx, aid);
    if (!cur.ok()) return Status::Ok();
    if (!delete_row) {
      cur->exported = false;
      cur->connection_info.reset();
      return db::UpdateAttachment(tx, *cur);
    }
    RETURN_IF_ERROR(db::DeleteAttachment(tx, aid));
    auto vol = db::GetVolumeState(tx, volume_id);
    if (!vol.ok()) return Status::Ok();
    return db::RecomputeVolumeStatus(tx, *vol);
  });
}

}  // namespace scoria::volume
