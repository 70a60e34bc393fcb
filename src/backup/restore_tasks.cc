// restore_backup and restore_backup_when_created (state machines in service.h).
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <chrono>
#include <thread>

#include "backup/job_monitor.h"
#include "backup/restore_job.h"
#include "backup/service.h"
#include "db/messages_repo.h"
#include "db/services_repo.h"
#include "db/tasks_repo.h"
#include "db/volumes_repo.h"
#include "lifecycle/transitions.h"
#include "tasks/protocol.h"

namespace scoria::backup {
namespace {

using lifecycle::After;
using lifecycle::BackupOp;
using lifecycle::Of;
using lifecycle::VolumeOp;
using nlohmann::json;

// Cinder's message_field.Action of a backup restore.
constexpr const char* kRestoreBackupAction = "021";
// How long a restore into a new volume waits for the volume to be created.
constexpr auto kCreateWait = std::chrono::minutes(10);
// The volume manager finishes the new volume in restoring-backup (it sees the restoring
// backup), and this task then queues the restore on the volume's host.
constexpr auto kPoll = std::chrono::milliseconds(50);

}  // namespace

Status BackupService::EndRestoring(db::Transaction& tx, const std::string& backup_id,
                                   const Status& result) {
  auto b = db::GetBackup(tx, backup_id);
  if (!b.ok()) return b.status().code() == StatusCode::kNotFound ? Status::Ok() : b.status();
  if (b->status != Of(BackupOp::kRestore).during) return Status::Ok();
  b->status = After(BackupOp::kRestore, result.ok(), b->status);
  b->restore_volume_id.reset();
  b->progress_op.reset();
  if (result.ok()) {
    b->fail_reason.reset();
  } else {
    b->fail_reason = result.message();
  }
  return db::UpdateBackup(tx, *b);
}

Status BackupService::HandleRestore(tasks::TaskContext& ctx, const tasks::RestoreBackup& args) {
  const std::string id = ctx.task().resource_id;
  // Cinder: a volume created for the restore ends in error, an existing one in
  // error_restoring; the user message says why.
  const VolumeOp volume_op = args.new_volume ? VolumeOp::kRestoreIntoNew : VolumeOp::kRestore;
  db::BackupRecord b;
  db::VolumeRecord v;
  Status load = db::InReadTransaction(db_, [&](db::Transaction& tx) {
    ASSIGN_OR_RETURN(b, db::GetBackup(tx, id));
    ASSIGN_OR_RETURN(v, db::GetVolumeState(tx, args.volume_id));
    return Status::Ok();
  });
  if (!load.ok() && load.code() != StatusCode::kNotFound) return load;

  Status result;
  if (!load.ok()) {
    result = load;
  } else if (b.status != Of(BackupOp::kRestore).during || v.status != Of(volume_op).during) {
    result = CancelledStatus("restore");
  } else if (ctx.task().attempts > kMaxJobAttempts) {
    result = Internal("the restore was interrupted " + std::to_string(ctx.task().attempts - 1) +
                      " times; giving up");
  } else {
    auto driver = DriverFor(v.host);
    Result<std::shared_ptr<volume::BlockDevice>> device =
        driver.ok() ? (*driver)->Open(v.id) : Result<std::shared_ptr<volume::BlockDevice>>(driver.status());
    if (!device.ok()) {
      result = device.status();
    } else {
      RestoreJobOptions opts;
      opts.backup_id = id;
      opts.zero_beyond_backup = config_.restore_discard_excess_bytes;
      RestoreJob job(repo_, *device, std::move(opts));
      result = RunMonitored(db_, id, "restore", std::string(Of(BackupOp::kRestore).during), job)
                   .status();
      if (result.ok()) {
        spdlog::info("backup {}: restored into volume {} ({} B written, {} B fetched)", id, v.id,
                     job.stats().bytes_written, job.stats().bytes_fetched);
      }
    }
    if (!result.ok() && result.code() == StatusCode::kUnavailable &&
        ctx.task().attempts < kMaxJobAttempts) {
      return result;  // lock conflict or store unreachable: retry
    }
  }
  if (!result.ok()) {
    spdlog::error("backup {}: restore into volume {} failed: {}", id, args.volume_id,
                  result.ToString());
  }
  const Status reason =
      result.ok() ? result
                  : Status(result.code(), "restore into volume " + args.volume_id + " failed: " +
                                              result.message());
  return ctx.Finish([&](db::Transaction& tx) {
    RETURN_IF_ERROR(EndRestoring(tx, id, reason));
    auto cur = db::GetVolumeState(tx, args.volume_id);
    if (!cur.ok() || cur->status != Of(volume_op).during) return Status::Ok();
    cur->previous_status.reset();
    cur->status = After(volume_op, result.ok(), cur->status);
    if (result.ok()) return db::UpdateVolume(tx, *cur);
    RETURN_IF_ERROR(db::UpdateVolume(tx, *cur));
    return db::RecordVolumeMessage(tx, cur->project_id, cur->id, kRestoreBackupAction,
                                   db::message_detail::kUnknownError,
                                   "restore backup " + id + ": " + result.message());
  });
}

Status BackupService::HandleRestoreWhenCreated(tasks::TaskContext& ctx,
                                               const tasks::RestoreBackupWhenCreated& args) {
  const std::string id = ctx.task().resource_id;
  // Wait (reading only) while the volume is being created.
  const auto deadline = std::chrono::steady_clock::now() + kCreateWait;
  for (;;) {
    std::string status;
    RETURN_IF_ERROR(db::InReadTransaction(db_, [&](db::Transaction& tx) {
      auto v = db::GetVolumeState(tx, args.volume_id);
      status = v.ok() ? v->status : "gone";
      return v.ok() || v.status().code() == StatusCode::kNotFound ? Status::Ok() : v.status();
    }));
    if (status != Of(VolumeOp::kCreate).during || std::chrono::steady_clock::now() > deadline) {
      break;
    }
    std::this_thread::sleep_for(kPoll);
  }
  return ctx.Finish([&](db::Transaction& tx) -> Status {
    auto b = db::GetBackup(tx, id);
    if (!b.ok() || b->status != Of(BackupOp::kRestore).during) {
      // Reset or deleted meanwhile: nothing to restore.
      return b.ok() || b.status().code() == StatusCode::kNotFound ? Status::Ok() : b.status();
    }
    auto v = db::GetVolumeState(tx, args.volume_id);
    if (!v.ok() || v->status != Of(VolumeOp::kRestoreIntoNew).during) {
      return EndRestoring(tx, id,
                          Internal("the volume " + args.volume_id +
                                   " created for the restore is " +
                                   (v.ok() ? v->status : std::string("gone"))));
    }
    const std::string host = v->host ? v->host->substr(0, v->host->find('@')) : "";
    ASSIGN_OR_RETURN(auto services, db::ListServices(tx, host, std::string(db::kBackupBinary)));
    if (services.empty()) {
      // Nobody would ever run the restore: the volume is of no use, say so.
      const std::string why = "no backup service runs on " + host + ", where the volume " +
                              v->id + " was created";
      v->status = After(VolumeOp::kRestoreIntoNew, false, v->status);
      RETURN_IF_ERROR(db::UpdateVolume(tx, *v));
      RETURN_IF_ERROR(db::RecordVolumeMessage(tx, v->project_id, v->id, kRestoreBackupAction,
                                              db::message_detail::kUnknownError,
                                              "restore backup " + id + ": " + why));
      return EndRestoring(tx, id, FailedPrecondition(why));
    }
    v->status = Of(VolumeOp::kRestoreIntoNew).during;
    RETURN_IF_ERROR(db::UpdateVolume(tx, *v));
    return tasks::Enqueue(tx, db::BackupTarget(host), id,
                          tasks::RestoreBackup{.volume_id = v->id, .new_volume = true})
        .status();
  });
}

}  // namespace scoria::backup
