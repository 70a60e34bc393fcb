// The durable task queue (DESIGN.md "Durable tasks instead of RPC").
//
// A task is a row: kind (tasks/protocol.h names them all), target ("scheduler" or "host@backend"), the
// resource it acts on, JSON args. The api inserts it in the same transaction as the resource
// row; a worker Claims it (taking a lease), does the idempotent work, and Finishes it in the
// same transaction that writes the resource's final state. Tasks of one resource run strictly
// in id order: a task is not claimable while an older task of the same resource exists.
// An expired lease (crashed worker) makes the task claimable again.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "db/database.h"

namespace scoria::db {

struct Task {
  int64_t id = 0;
  std::string kind;
  std::string target;
  std::string resource_id;
  std::string args;  // JSON object
  int64_t attempts = 0;  // claims so far, including the current one
};

inline constexpr const char* kSchedulerTarget = "scheduler";
// The target of a task marked failed (FailTask): no worker serves it.
inline constexpr const char* kFailedTarget = "failed";
inline constexpr const char* kFailedResourcePrefix = "failed:";

// Adds a task; returns its id. The target's workers wake when the transaction commits.
Result<int64_t> EnqueueTask(Transaction& tx, const std::string& kind, const std::string& target,
                            const std::string& resource_id, const std::string& args,
                            int64_t not_before_us = 0);
// Claims the oldest claimable task for one of `targets`, leasing it to `owner` until
// now + lease_us. nullopt when there is none. May run in a WriteScope::kRowsItLocks
// transaction: it touches only the row it locks.
Result<std::optional<Task>> ClaimTask(Transaction& tx, const std::vector<std::string>& targets,
                                      const std::string& owner, int64_t lease_us);
// Deletes the task if `owner` still holds it; Conflict when the lease was lost (the caller
// must roll back: another worker owns the task now).
Status FinishTask(Transaction& tx, int64_t id, const std::string& owner);
// Marks a task that cannot run failed, if `owner` still holds it (Conflict otherwise): it stays
// in the table for the operator to see, under target kFailedTarget (so nothing claims it) and
// resource kFailedResourcePrefix + its resource (so it no longer holds back the resource's
// later tasks, and HasPendingTask no longer counts it).
Status FailTask(Transaction& tx, int64_t id, const std::string& owner);
// Gives the task back, claimable again at not_before_us.
Status ReleaseTask(Transaction& tx, int64_t id, const std::string& owner, int64_t not_before_us);
Status RenewLeases(Transaction& tx, const std::vector<int64_t>& ids, const std::string& owner,
                   int64_t expires_us);
// Frees every lease whose owner starts with `owner_prefix` (a previous incarnation of this
// process: it is dead, its tasks can run again now rather than when their leases expire).
Result<int64_t> ReleaseLeasesOf(Transaction& tx, const std::string& owner_prefix);
// Readdresses every task of target `from` to `to`, leases cleared (a backend renamed while its
// service is down: scoriad --manage volume update_host). Returns how many moved.
Result<int64_t> RetargetTasks(Transaction& tx, const std::string& from, const std::string& to);
Result<bool> HasPendingTask(Transaction& tx, const std::string& resource_id);
Result<std::vector<Task>> ListTasks(Transaction& tx);

}  // namespace scoria::db
