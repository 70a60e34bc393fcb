// PoolFilter: one yes/no predicate over a pool, prepared for one request.
//
// Model: MakeFilter builds a filter by its Cinder class name for a given request, doing the
// per-request work once (parsing extra specs, deciding thin vs thick); Passes is then asked
// about each candidate pool. A filter object belongs to one Schedule call: it may cache
// (DriverFilter caches parsed functions) and is not thread-safe. The request passed to
// MakeFilter must outlive the filter.
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "scheduler/pool_state.h"
#include "scheduler/request_spec.h"

namespace scoria::scheduler {

class PoolFilter {
 public:
  virtual ~PoolFilter() = default;
  virtual std::string_view name() const = 0;
  virtual bool Passes(const PoolState& pool) = 0;
};

// The filter called `name` (e.g. "CapacityFilter") prepared for `request`; InvalidArgument
// naming it when the name is unknown.
[[nodiscard]] Result<std::unique_ptr<PoolFilter>> MakeFilter(std::string_view name,
                                                             const RequestSpec& request);

// Every name MakeFilter accepts.
const std::vector<std::string_view>& KnownFilterNames();

}  // namespace scoria::scheduler
