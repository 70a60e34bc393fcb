// The task protocol: every kind of durable task (db/tasks_repo.h) the services hand each other,
// with its name and its arguments as a typed struct.
//
// A task row carries `kind` and `args` (a JSON object). Producers (api, scheduler, managers,
// backup service) enqueue only through Enqueue(tx, target, resource, Args{...}); consumers
// register only through Register<Args>(worker, handler), so the handler receives parsed,
// checked arguments. A row whose args do not parse, or whose kind no handler on that worker
// knows, fails in one place (TaskWorker, worker.h): logged with its whole row, marked failed
// (db::FailTask: kept for the operator, never claimed again) and, where the registration gives
// one, its resource put into a final state by the family's invalid-task hook. It is never
// retried: a malformed row does not get better.
//
// The JSON of each kind is frozen (rows outlive the build that wrote them, and in a cluster a
// task written by one build runs on another): FromJson accepts what every earlier build wrote,
// unknown keys are ignored, and ToJson writes only keys FromJson reads.
// tests/unit/tasks/protocol_test.cc feeds the JSON that the current code writes.
//
// The resource a task names (resource_id) orders it: tasks of one resource run in id order.
// It is the volume for volume, attachment and snapshot kinds (so a snapshot runs in order with
// its volume's attach, extend and delete) and the backup for backup kinds.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "db/tasks_repo.h"
#include "tasks/worker.h"

namespace scoria::tasks {

// ---- scheduler (target db::kSchedulerTarget) ----

// Place a new volume (status creating): filters and weighers pick a pool, then CreateVolume is
// enqueued for its backend. A reschedule after a failed create carries the pools tried so far.
struct ScheduleCreateVolume {
  static constexpr char kKind[] = "schedule_create_volume";
  std::optional<std::string> availability_zone;  // asked for by the user
  std::optional<std::string> resource_backend;   // a clone or volume from snapshot: this pool only
  std::vector<std::string> attempted_pools;      // host@backend#pool that failed already
  std::optional<std::string> last_error;         // the last backend's error, for the user message
  nlohmann::json ToJson() const;
  static Result<ScheduleCreateVolume> FromJson(const nlohmann::json& j);
};

// Check the volume's own pool has room for new_size GiB, then ExtendVolume on its backend.
struct ScheduleExtendVolume {
  static constexpr char kKind[] = "schedule_extend_volume";
  int64_t new_size = 0;  // GiB
  nlohmann::json ToJson() const;
  static Result<ScheduleExtendVolume> FromJson(const nlohmann::json& j);
};

// ---- a volume backend (target host@backend) ----

struct CreateVolume {
  static constexpr char kKind[] = "create_volume";
  std::vector<std::string> attempted_pools;  // carried into a reschedule
  nlohmann::json ToJson() const;
  static Result<CreateVolume> FromJson(const nlohmann::json& j);
};

// Served by the scheduler too: a volume not placed yet when its delete was asked for.
struct DeleteVolume {
  static constexpr char kKind[] = "delete_volume";
  nlohmann::json ToJson() const { return nlohmann::json::object(); }
  static Result<DeleteVolume> FromJson(const nlohmann::json& j);
};

struct ExtendVolume {
  static constexpr char kKind[] = "extend_volume";
  int64_t new_size = 0;  // GiB
  nlohmann::json ToJson() const;
  static Result<ExtendVolume> FromJson(const nlohmann::json& j);
};

struct ExportAttachment {
  static constexpr char kKind[] = "export_attachment";
  std::string attachment_id;
  nlohmann::json ToJson() const;
  static Result<ExportAttachment> FromJson(const nlohmann::json& j);
};

struct UnexportAttachment {
  static constexpr char kKind[] = "unexport_attachment";
  std::string attachment_id;
  bool delete_row = true;  // false: a detach that keeps the attachment (reserved again)
  nlohmann::json ToJson() const;
  static Result<UnexportAttachment> FromJson(const nlohmann::json& j);
};

struct CreateSnapshot {
  static constexpr char kKind[] = "create_snapshot";
  std::string snapshot_id;
  nlohmann::json ToJson() const;
  static Result<CreateSnapshot> FromJson(const nlohmann::json& j);
};

struct DeleteSnapshot {
  static constexpr char kKind[] = "delete_snapshot";
  std::string snapshot_id;
  nlohmann::json ToJson() const;
  static Result<DeleteSnapshot> FromJson(const nlohmann::json& j);
};

struct RevertToSnapshot {
  static constexpr char kKind[] = "revert_to_snapshot";
  std::string snapshot_id;
  nlohmann::json ToJson() const;
  static Result<RevertToSnapshot> FromJson(const nlohmann::json& j);
};

// ---- the backup service (target backup@<host>, or db::kAnyBackupTarget) ----
// resource_id is the backup's id.

struct CreateBackup {
  static constexpr char kKind[] = "create_backup";
  nlohmann::json ToJson() const { return nlohmann::json::object(); }
  static Result<CreateBackup> FromJson(const nlohmann::json& j);
};

// Restore into volume_id, on the backup service of that volume's host.
struct RestoreBackup {
  static constexpr char kKind[] = "restore_backup";
  std::string volume_id;
  bool new_volume = false;  // the volume was created for this restore (fails to error)
  nlohmann::json ToJson() const;
  static Result<RestoreBackup> FromJson(const nlohmann::json& j);
};

// A restore into a volume still being created (its host not known yet): any backup service
// waits for the volume, then enqueues RestoreBackup for its host.
struct RestoreBackupWhenCreated {
  static constexpr char kKind[] = "restore_backup_when_created";
  std::string volume_id;
  bool new_volume = false;  // earlier builds' default; the api always writes true
  nlohmann::json ToJson() const;
  static Result<RestoreBackupWhenCreated> FromJson(const nlohmann::json& j);
};

struct DeleteBackup {
  static constexpr char kKind[] = "delete_backup";
  nlohmann::json ToJson() const { return nlohmann::json::object(); }
  static Result<DeleteBackup> FromJson(const nlohmann::json& j);
};

struct VerifyBackup {
  static constexpr char kKind[] = "verify_backup";
  nlohmann::json ToJson() const { return nlohmann::json::object(); }
  static Result<VerifyBackup> FromJson(const nlohmann::json& j);
};

struct ImportBackup {
  static constexpr char kKind[] = "import_backup";
  nlohmann::json ToJson() const { return nlohmann::json::object(); }
  static Result<ImportBackup> FromJson(const nlohmann::json& j);
};

// ---- producing and consuming ----

// Parses a row's args as Args: InvalidArgument naming the kind, the task and what is wrong
// when they are not a JSON object or a field is missing or of the wrong type.
template <class Args>
Result<Args> ParseArgs(const db::Task& task) {
  nlohmann::json j = nlohmann::json::parse(task.args, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) {
    return InvalidArgument(std::string(Args::kKind) + " task " + std::to_string(task.id) +
                           ": args are not a JSON object");
  }
  auto args = Args::FromJson(j);
  if (!args.ok()) {
    return InvalidArgument(std::string(Args::kKind) + " task " + std::to_string(task.id) + ": " +
                           args.status().message());
  }
  return args;
}

// Adds a task of Args' kind for `target` (in the caller's transaction); returns its id.
// The target's workers wake when the transaction commits (db::EnqueueTask).
template <class Args>
Result<int64_t> Enqueue(db::Transaction& tx, const std::string& target,
                        const std::string& resource_id, const Args& args,
                        int64_t not_before_us = 0) {
  return db::EnqueueTask(tx, Args::kKind, target, resource_id, args.ToJson().dump(),
                         not_before_us);
}

// Registers the handler of Args' kind on `worker` (before Start). The handler runs only with
// arguments that parsed; a row that does not parse is rejected (see the top of this file) and
// `on_invalid`, when given, runs in the transaction that marks it failed.
template <class Args>
void Register(TaskWorker& worker, std::function<Status(TaskContext&, const Args&)> handler,
              InvalidTaskHook on_invalid = nullptr) {
  worker.Register(
      Args::kKind,
      [handler = std::move(handler)](TaskContext& ctx) -> Status {
        auto args = ParseArgs<Args>(ctx.task());
        if (!args.ok()) return ctx.Reject(args.status());
        return handler(ctx, *args);
      },
      std::move(on_invalid));
}

}  // namespace scoria::tasks
