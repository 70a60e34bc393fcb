// SchedulerService: the scheduler's task handlers. It turns database state into the pure
// Schedule() call (scheduler.h) and writes the decision back:
//
//   schedule_create_volume: load volume + type, snapshot the pools of every volume service
//     that is up and enabled, Schedule(); success -> volume.host = pool and a create_volume
//     task for that backend, in one transaction; no valid backend -> volume `error` plus the
//     user message "No valid backend was found. ...".
//   schedule_extend_volume: the same filters restricted to the volume's own pool with the
//     size delta; success -> extend_volume task for its backend; failure -> back to the
//     previous status plus a user message (the volume is unchanged).
//
//   delete_volume (target scheduler): a delete asked for before the volume was placed; routed
//     to the backend that got it, or the row is removed when none did.
//
// Pool allocation figures come from the database (sum of volume sizes per pool), not from the
// last stats report, so two decisions in a row never double-book the same space.
#pragma once

#include <atomic>
#include <cstdint>
#include <vector>

#include "common/config.h"
#include "db/database.h"
#include "db/volumes_repo.h"
#include "scheduler/pool_state.h"
#include "scheduler/scheduler.h"
#include "tasks/protocol.h"
#include "tasks/worker.h"

namespace scoria::scheduler {

// The checks of the configuration that need the scheduler: filter and weigher names, and every
// backend's filter_function / goodness_function. One-line errors naming file, section and key.
Status CheckSchedulerConfig(const Config& config);

class SchedulerService {
 public:
  SchedulerService(db::Database& db, const Config& config);
  void RegisterHandlers(tasks::TaskWorker& worker);

  // The pools the scheduler would consider now (also used by scheduler-stats/get_pools).
  // only_usable: only pools of services that are up, enabled and not frozen.
  // `heartbeats_missed_until` (micros, 0 = none): a heartbeat older than this instant counts as
  // taken then, because until then no service could write one (see NoteDatabaseBack).
  static Result<std::vector<PoolState>> LoadPools(db::Transaction& tx, const Config& config,
                                                  bool only_usable,
                                                  int64_t heartbeats_missed_until = 0);

  // The scheduler's worker reached the database again after failing to (WorkerOptions::
  // on_database_back): during the outage no service could write its heartbeat. For
  // service_down_time from now, a stale heartbeat does not make a volume service down;
  // otherwise every create right after an outage longer than service_down_time would fail with
  // "No valid backend" while the nodes are alive and only have not reported yet. A node that
  // died meanwhile is taken for down service_down_time after the outage. Any thread.
  void NoteDatabaseBack();

 private:
  // The volume (gone = deleted meanwhile), its type's extra specs and the usable pools.
  Status LoadRequest(const std::string& id, db::VolumeRecord* vol, RequestSpec* req,
                     std::vector<PoolState>* pools, bool* gone);
  Status HandleCreate(tasks::TaskContext& ctx, const tasks::ScheduleCreateVolume& args);
  Status HandleExtend(tasks::TaskContext& ctx, const tasks::ScheduleExtendVolume& args);
  // Final states written in `tx` (no-ops when the volume has moved on): a volume no pool
  // takes goes to error with a user message; an extend no pool has room for goes back to its
  // previous status with one.
  static Status FinishUnplaced(db::Transaction& tx, const std::string& id, const std::string& why);
  static Status FinishUnextended(db::Transaction& tx, const std::string& id,
                                 const std::string& why);

  db::Database& db_;
  const Config& config_;
  SchedulerOptions options_;
  std::atomic<int64_t> heartbeats_missed_until_{0};
};

}  // namespace scoria::scheduler
