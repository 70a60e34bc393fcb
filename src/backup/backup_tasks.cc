// create_backup (state machine in service.h): wait for the temporary snapshot, read it with a
// BackupJob, then finish the backup and release its source in one transaction.
#include <spdlog/spdlog.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>

#include "backup/backup_job.h"
#include "backup/job_monitor.h"
#include "backup/service.h"
#include "common/clock.h"
#include "db/snapshots_repo.h"
#include "db/tasks_repo.h"
#include "db/volumes_repo.h"
#include "lifecycle/snapshot_status.h"
#include "lifecycle/transitions.h"
#include "lifecycle/volume_status.h"
#include "tasks/protocol.h"

namespace scoria::backup {
namespace {

using lifecycle::After;
using lifecycle::BackupOp;
using lifecycle::Of;
using lifecycle::SnapshotOp;
using lifecycle::VolumeOp;
using nlohmann::json;

// How long a backup waits for the volume service to make its temporary snapshot.
constexpr auto kSnapshotWait = std::chrono::minutes(10);
constexpr auto kPoll = std::chrono::milliseconds(100);

// Gives the backup's source back (`ok`: whether the backup was made): the volume to its
// previous status, the user's snapshot to available, and the temporary snapshot to the volume
// service for deletion.
Status ReleaseSource(db::Transaction& tx, const db::BackupRecord& b, bool ok) {
  auto v = db::GetVolumeState(tx, b.volume_id);
  if (v.ok() && v->status == Of(VolumeOp::kBackup).during) {
    v->status =
        After(VolumeOp::kBackup, ok, v->previous_status.value_or(volume_status::kAvailable));
    v->previous_status.reset();
    RETURN_IF_ERROR(db::UpdateVolume(tx, *v));
  }
  if (b.snapshot_id) {
    auto s = db::GetSnapshot(tx, *b.snapshot_id);
    if (s.ok() && s->status == Of(SnapshotOp::kBackup).during) {
      s->status = After(SnapshotOp::kBackup, ok, s->status);
      RETURN_IF_ERROR(db::UpdateSnapshot(tx, *s));
    }
  }
  if (b.temp_snapshot_id) {
    auto s = db::GetSnapshot(tx, *b.temp_snapshot_id);
    if (s.ok() && s->status != Of(SnapshotOp::kDelete).during) {
      if (!v.ok() || !v->host) return db::DeleteSnapshot(tx, s->id);
      s->status = Of(SnapshotOp::kDelete).during;
      RETURN_IF_ERROR(db::UpdateSnapshot(tx, *s));
      const std::string backend = v->host->substr(0, v->host->find('#'));
      RETURN_IF_ERROR(
          tasks::Enqueue(tx, backend, v->id, tasks::DeleteSnapshot{.snapshot_id = s->id})
              .status());
    }
  }
  return Status::Ok();
}

std::vector<ByteRange> ToJobRanges(const std::vector<volume::ByteRange>& in) {
  std::vector<ByteRange> out;
  out.reserve(in.size());
  for (const auto& r : in) out.push_back({r.offset, r.length});
  return out;
}

// An incremental reads only what changed since the parent's snapshot when the driver tracks
// changes; otherwise (or when it lost track) it reads everything allocated and compares hashes.
void UseChangedRanges(volume::VolumeDriver& driver, const std::string& volume_id,
                      const std::optional<db::BackupRecord>& parent, const std::string& snapshot,
                      BackupJobOptions& opts) {
  if (!parent || parent->volume_id != volume_id || snapshot.empty()) return;
  const std::string from = parent->snapshot_id.value_or(parent->temp_snapshot_id.value_or(""));
  if (from.empty()) return;
  auto changed = driver.ChangedRanges(volume_id, from, snapshot);
  if (!changed.ok()) {
    if (changed.status().code() != StatusCode::kNotImplemented) {
      spdlog::info("backup {}: reading every allocated range (no changed ranges: {})",
                   opts.backup_id, changed.status().message());
    }
    return;
  }
  uint64_t bytes = 0;
  for (const auto& r : *changed) bytes += r.length;
  spdlog::info("backup {}: {} B in {} changed range(s) since snapshot {} of backup {}",
               opts.backup_id, bytes, changed->size(), from, parent->id);
  opts.ranges = ToJobRanges(*changed);
  opts.range_mode = RangeMode::kChanged;
}

// An incremental's parent: its manifest (every chunk the backup does not read is taken from
// it) and, where the driver can tell, only the ranges changed since it. Unavailable when the
// repository cannot be reached now (the task is retried); FailedPrecondition when the parent's
// manifest cannot be read (a full backup is needed).
Status UseParent(Repository& repo, volume::VolumeDriver& driver, const std::string& volume_id,
                 const std::string& parent_id, const std::optional<db::BackupRecord>& parent_row,
                 const std::string& snapshot, BackupJobOptions& opts) {
  auto parent = repo.LoadManifest(parent_id);
  if (!parent.ok()) {
    if (parent.status().code() == StatusCode::kUnavailable) return parent.status();
    return FailedPrecondition("the parent backup " + parent_id + " cannot be read (" +
                              parent.status().message() + "); do a full backup");
  }
  opts.parent = std::make_shared<const Manifest>(std::move(*parent));
  UseChangedRanges(driver, volume_id, parent_row, snapshot, opts);
  return Status::Ok();
}

void LogBackupDone(const std::string& backup_id, const std::string& volume_id,
                   const BackupStats& s) {
  spdlog::info(
      "backup {}: volume {} read {} B, stored {} new chunk(s) ({} B), {} deduplicated, "
      "{} unchanged, {} hole(s)",
      backup_id, volume_id, s.bytes_read, s.chunks_stored, s.bytes_stored, s.chunks_deduplicated,
      s.chunks_unchanged, s.holes);
}

}  // namespace

Status BackupService::HandleCreate(tasks::TaskContext& ctx) {
  const std::string id = ctx.task().resource_id;
  db::BackupRecord b;
  db::VolumeRecord v;
  std::optional<db::BackupRecord> parent_row;
  Status load = db::InReadTransaction(db_, [&](db::Transaction& tx) {
    ASSIGN_OR_RETURN(b, db::GetBackup(tx, id));
    ASSIGN_OR_RETURN(v, db::GetVolumeState(tx, b.volume_id));
    if (b.parent_id) {
      auto p = db::GetBackup(tx, *b.parent_id);
      if (p.ok()) parent_row = std::move(*p);
    }
    return Status::Ok();
  });
  if (!load.ok() && load.code() != StatusCode::kNotFound) return load;
  if (!load.ok() || b.status != Of(BackupOp::kCreate).during) {
    // Deleted, reset or its volume gone meanwhile: only give the source back.
    return FinishCreate(ctx, id, load.ok() ? CancelledStatus("backup") : load, nullptr);
  }
  if (ctx.task().attempts > kMaxJobAttempts) {
    return FinishCreate(ctx, id,
                        Internal("the backup was interrupted " +
                                 std::to_string(ctx.task().attempts - 1) + " times; giving up"),
                        nullptr);
  }
  auto driver = DriverFor(v.host);
  if (!driver.ok()) return FinishCreate(ctx, id, driver.status(), nullptr);

  // The snapshot to read: the user's, or the temporary one the volume service makes (it
  // quiesces an attached volume for it).
  std::string snapshot = b.snapshot_id.value_or(b.temp_snapshot_id.value_or(""));
  if (b.temp_snapshot_id) {
    Status waited;
    RETURN_IF_ERROR(AwaitTempSnapshot(id, *b.temp_snapshot_id, v.id, &waited));
    if (!waited.ok()) return FinishCreate(ctx, id, waited, nullptr);
  }
  Result<std::shared_ptr<volume::BlockDevice>> device =
      snapshot.empty() ? (*driver)->Open(v.id) : (*driver)->OpenSnapshot(v.id, snapshot);
  if (!device.ok()) {
    if (device.status().code() == StatusCode::kUnavailable) return device.status();
    return FinishCreate(ctx, id, device.status(), nullptr);
  }
  auto ranges = (*driver)->AllocatedRanges(v.id, snapshot);
  if (!ranges.ok()) {
    if (ranges.status().code() != StatusCode::kNotImplemented) {
      return FinishCreate(ctx, id, ranges.status(), nullptr);
    }
    // A driver that cannot tell: read everything.
    ranges = std::vector<volume::ByteRange>{{0, (*device)->Size()}};
  }

  BackupJobOptions opts;
  opts.backup_id = id;
  opts.volume_id = v.id;
  opts.ranges = ToJobRanges(*ranges);
  opts.range_mode = RangeMode::kAllocated;
  if (b.parent_id) {
    Status parent = UseParent(*repo_, **driver, v.id, *b.parent_id, parent_row, snapshot, opts);
    if (parent.code() == StatusCode::kUnavailable) return parent;
    if (!parent.ok()) return FinishCreate(ctx, id, parent, nullptr);
  }
  BackupJob job(repo_, *device, std::move(opts));
  Result<Manifest> result =
      RunMonitored(db_, id, "backup", std::string(Of(BackupOp::kCreate).during), job);
  if (!result.ok() && result.status().code() == StatusCode::kUnavailable &&
      ctx.task().attempts < kMaxJobAttempts) {
    return result.status();  // repository locked by a GC, or the store is unreachable: retry
  }
  if (result.ok()) LogBackupDone(id, v.id, job.stats());
  return FinishCreate(ctx, id, result.status(), result.ok() ? &*result : nullptr);
}

Status BackupService::AwaitTempSnapshot(const std::string& backup_id,
                                        const std::string& snapshot_id,
                                        const std::string& volume_id, Status* outcome) {
  const auto deadline = std::chrono::steady_clock::now() + kSnapshotWait;
  for (;;) {
    std::string snap_status, backup_now;
    RETURN_IF_ERROR(db::InReadTransaction(db_, [&](db::Transaction& tx) {
      auto s = db::GetSnapshot(tx, snapshot_id);
      snap_status = s.ok() ? s->status : "missing";
      ASSIGN_OR_RETURN(auto cur, db::GetBackup(tx, backup_id));
      backup_now = cur.status;
      return Status::Ok();
    }));
    if (backup_now != Of(BackupOp::kCreate).during) {
      *outcome = CancelledStatus("backup");
    } else if (snap_status == snapshot_status::kAvailable) {
      *outcome = Status::Ok();
    } else if (snap_status != snapshot_status::kCreating) {
      *outcome =
          Internal("the snapshot of volume " + volume_id + " for the backup is " + snap_status);
    } else if (std::chrono::steady_clock::now() > deadline) {
      *outcome = Internal("timed out waiting for the snapshot of volume " + volume_id);
    } else {
      std::this_thread::sleep_for(kPoll);
      continue;
    }
    return Status::Ok();
  }
}

Status BackupService::FinishCreate(tasks::TaskContext& ctx, const std::string& backup_id,
                                   const Status& result, const Manifest* manifest) {
  if (!result.ok() && !IsCancelled(result)) {
    spdlog::error("backup {}: failed: {}", backup_id, result.ToString());
  }
  Status st = ctx.Finish([&](db::Transaction& tx) {
    auto b = db::GetBackup(tx, backup_id);
    if (!b.ok()) return b.status().code() == StatusCode::kNotFound ? Status::Ok() : b.status();
    if (b->status == Of(BackupOp::kCreate).during) {
      b->status = After(BackupOp::kCreate, manifest != nullptr, b->status);
      if (manifest != nullptr) {
        const ManifestRecord record = MakeRecord(*manifest);
        b->object_count = static_cast<int64_t>(record.object_count);
        b->service_metadata = RecordToJson(record);
        b->fail_reason.reset();
      } else {
        b->fail_reason = result.message();
      }
      b->progress_op.reset();
      RETURN_IF_ERROR(db::UpdateBackup(tx, *b));
    }
    return ReleaseSource(tx, *b, manifest != nullptr);
  });
  return st;
}

}  // namespace scoria::backup
