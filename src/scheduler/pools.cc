#include "scheduler/pools.h"

#include <algorithm>

#include "scheduler/filters/capabilities_filter.h"
#include "scheduler/request_spec.h"
#include "scheduler/scheduler_service.h"

namespace scoria::scheduler {

Result<std::vector<PoolState>> ListPools(db::Transaction& tx, const Config& config,
                                         const PoolListFilter& filter) {
  ASSIGN_OR_RETURN(auto pools, SchedulerService::LoadPools(tx, config, /*only_usable=*/false));
  if (!filter.extra_specs) return pools;
  RequestSpec spec;  // a create of a volume of that type
  spec.extra_specs = *filter.extra_specs;
  CapabilitiesFilter accepts(spec);
  std::erase_if(pools, [&](const PoolState& p) { return !accepts.Passes(p); });
  return pools;
}

}  // namespace scoria::scheduler
