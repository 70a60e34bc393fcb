// The pools as an operator sees them (scheduler-stats/get_pools): every pool every volume
// service reported, with its stats and capabilities, optionally only those a volume type's
// extra specs accept. Callers outside the scheduler (the api) read pools only through this
// header; how a pool is built from a stats report and how extra specs are matched stay inside
// src/scheduler/ (scheduler_service.h, filters/capabilities_filter.h).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/config.h"
#include "common/status.h"
#include "db/database.h"
#include "scheduler/pool_state.h"

namespace scoria::scheduler {

struct PoolListFilter {
  // A volume type's extra specs: keep only the pools whose capabilities satisfy them, as the
  // CapabilitiesFilter does when it places a new volume of that type. nullopt: every pool.
  std::optional<std::map<std::string, std::string>> extra_specs;
};

// The pools of every volume service with a stats report, up or down, enabled or not, in the
// order of the services and of each report's pools; allocated capacity and volume counts come
// from the volumes table read in `tx`.
// Success: the pools that pass `filter` (possibly none). Failure: the database's error.
// Thread-safety: reads only `tx` (the caller's transaction) and its arguments.
[[nodiscard]] Result<std::vector<PoolState>> ListPools(db::Transaction& tx, const Config& config,
                                                       const PoolListFilter& filter);

}  // namespace scoria::scheduler
