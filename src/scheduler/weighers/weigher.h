// PoolWeigher: one scoring rule over the candidate pools, prepared for one request (§4.5).
//
// Model: a weigher returns one raw weight per candidate; NormalizeWeights maps them to
// (w − min) / (max − min) over the candidates (all equal → all 0); Schedule adds
// multiplier × normalised weight per weigher and sorts descending. Weighers see the whole
// candidate set at once because CapacityWeigher's replacement for infinite capacity depends on
// the other candidates. A weigher object belongs to one Schedule call and is not thread-safe;
// the request passed to MakeWeigher must outlive it.
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "scheduler/options.h"
#include "scheduler/pool_state.h"
#include "scheduler/request_spec.h"

namespace scoria::scheduler {

class PoolWeigher {
 public:
  explicit PoolWeigher(double multiplier) : multiplier_(multiplier) {}
  virtual ~PoolWeigher() = default;
  virtual std::string_view name() const = 0;
  // One raw (not yet normalised) weight per pool, in order.
  virtual std::vector<double> RawWeights(const std::vector<const PoolState*>& pools) = 0;
  double multiplier() const { return multiplier_; }

 private:
  double multiplier_;
};

// Cinder's base_weight.normalize: (w − min) / (max − min); all equal (or empty) → zeros.
std::vector<double> NormalizeWeights(const std::vector<double>& raw);

// The weigher called `name` (e.g. "CapacityWeigher") with its multiplier from `options`;
// InvalidArgument naming it when unknown.
[[nodiscard]] Result<std::unique_ptr<PoolWeigher>> MakeWeigher(std::string_view name,
                                                               const RequestSpec& request,
                                                               const SchedulerOptions& options);

// Every name MakeWeigher accepts.
const std::vector<std::string_view>& KnownWeigherNames();

}  // namespace scoria::scheduler
