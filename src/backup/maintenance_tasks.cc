// delete_backup, verify_backup and import_backup (state machines in service.h).
#include <spdlog/spdlog.h>

#include "backup/service.h"
#include "common/clock.h"
#include "db/tasks_repo.h"
#include "lifecycle/backup_status.h"
#include "lifecycle/transitions.h"

namespace scoria::backup {

using lifecycle::After;
using lifecycle::BackupOp;
using lifecycle::Of;

Status BackupService::HandleDelete(tasks::TaskContext& ctx) {
  const std::string id = ctx.task().resource_id;
  std::string status;
  Status load = db::InReadTransaction(db_, [&](db::Transaction& tx) {
    ASSIGN_OR_RETURN(auto b, db::GetBackup(tx, id));
    status = b.status;
    return Status::Ok();
  });
  if (!load.ok() && load.code() != StatusCode::kNotFound) return load;
  if (!load.ok() || status != Of(BackupOp::kDelete).during) {
    return ctx.Finish([](db::Transaction&) { return Status::Ok(); }, db::Durability::kRelaxed);
  }
  Status st = repo_->DeleteBackup(id);
  if (!st.ok()) {
    if (ctx.task().attempts < kMaxStoreAttempts) return st;
    spdlog::error("backup {}: delete failed: {}", id, st.ToString());
    return ctx.Finish([&](db::Transaction& tx) {
      auto b = db::GetBackup(tx, id);
      if (!b.ok() || b->status != Of(BackupOp::kDelete).during) return Status::Ok();
      b->status = After(BackupOp::kDelete, false, b->status);
      b->fail_reason = "delete: " + st.message();
      return db::UpdateBackup(tx, *b);
    });
  }
  // The chunks only this backup used go now, unless a job holds the repository (then the
  // next delete collects them).
  auto gc = repo_->CollectGarbage();
  if (gc.ok()) {
    spdlog::info("backup {}: deleted; garbage collection removed {} chunk(s), {} B", id,
                 gc->chunks_deleted, gc->bytes_deleted);
  } else if (gc.status().code() != StatusCode::kUnavailable) {
    spdlog::warn("backup {}: garbage collection after the delete failed: {}", id,
                 gc.status().ToString());
  }
  return ctx.Finish([&](db::Transaction& tx) { return db::DeleteBackup(tx, id); },
                    db::Durability::kRelaxed);  // lost in a power cut: the delete re-runs
}

Status BackupService::HandleVerify(tasks::TaskContext& ctx) {
  const std::string id = ctx.task().resource_id;
  auto report = repo_->Verify(id, VerifyMode::kFull);
  if (!report.ok() && report.status().code() == StatusCode::kUnavailable &&
      ctx.task().attempts < kMaxStoreAttempts) {
    return report.status();  // a GC holds the repository: retry
  }
  std::string result;
  if (!report.ok()) {
    result = report.status().message();
  } else if (report->ok()) {
    result = "ok";
  } else {
    result = report->ToStatus().message();
  }
  if (result != "ok") spdlog::warn("backup {}: verify: {}", id, result);
  return ctx.Finish([&](db::Transaction& tx) {
    auto b = db::GetBackup(tx, id);
    if (!b.ok()) return b.status().code() == StatusCode::kNotFound ? Status::Ok() : b.status();
    b->verify_result = result;
    b->verified_at = NowMicros();
    return db::UpdateBackup(tx, *b);
  });
}

Status BackupService::HandleImport(tasks::TaskContext& ctx) {
  const std::string id = ctx.task().resource_id;
  db::BackupRecord b;
  Status load = db::InReadTransaction(db_, [&](db::Transaction& tx) {
    ASSIGN_OR_RETURN(b, db::GetBackup(tx, id));
    return Status::Ok();
  });
  if (!load.ok() && load.code() != StatusCode::kNotFound) return load;
  if (!load.ok() || b.status != backup_status::kCreating) {
    return ctx.Finish([](db::Transaction&) { return Status::Ok(); }, db::Durability::kRelaxed);
  }
  Status st;
  ManifestRecord record;
  if (!b.service_metadata) {
    st = InvalidArgument("the backup record carries no service_metadata (the manifest's record)");
  } else {
    auto r = RecordFromJson(*b.service_metadata);
    if (!r.ok()) {
      st = r.status();
    } else if (r->backup_id != id) {
      st = InvalidArgument("the manifest record names backup " + r->backup_id + ", not " + id);
    } else {
      record = *r;
      st = repo_->CheckRecord(record);
      if (!st.ok() && st.code() == StatusCode::kUnavailable &&
          ctx.task().attempts < kMaxStoreAttempts) {
        return st;
      }
    }
  }
  if (!st.ok()) spdlog::error("backup {}: import failed: {}", id, st.ToString());
  return ctx.Finish([&](db::Transaction& tx) {
    auto cur = db::GetBackup(tx, id);
    if (!cur.ok() || cur->status != backup_status::kCreating) return Status::Ok();
    if (st.ok()) {
      cur->status = backup_status::kAvailable;
      cur->object_count = static_cast<int64_t>(record.object_count);
      cur->fail_reason.reset();
    } else {
      cur->status = backup_status::kError;
      cur->fail_reason = "import: " + st.message();
    }
    return db::UpdateBackup(tx, *cur);
  });
}

}  // namespace scoria::backup
