#include "scheduler/weighers/capacity_weigher.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace scoria::scheduler {
namespace {
// cinder/scheduler/weights/capacity.py
constexpr double kOffsetMin = 10000;
constexpr double kOffsetMult = 100;
}  // namespace

std::vector<double> CapacityWeigher::RawWeights(const std::vector<const PoolState*>& pools) {
  std::vector<double> w;
  w.reserve(pools.size());
  const double inf = std::numeric_limits<double>::infinity();
  bool any_inf = false;
  for (const PoolState* p : pools) {
    if (p->free_capacity_gb.is_non_numeric() || p->total_capacity_gb.is_non_numeric()) {
      w.push_back(multiplier() > 0 ? -1.0 : inf);
      any_inf |= multiplier() <= 0;
    } else {
      w.push_back(PoolCapacityFactors(*p, thin_).virtual_free);
    }
  }
  if (!any_inf) return w;
  double lo = inf, hi = -inf;
  for (double v : w) {
    if (std::isinf(v)) continue;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  if (lo == inf) return w;  // every pool infinite: normalisation makes them all 0
  const double offset = (hi - lo) * kOffsetMult;
  const double replacement = hi + (offset == 0.0 ? kOffsetMin : offset);
  for (double& v : w) {
    if (std::isinf(v)) v = replacement;
  }
  return w;
}

std::vector<double> AllocatedCapacityWeigher::RawWeights(
    const std::vector<const PoolState*>& pools) {
  std::vector<double> w;
  w.reserve(pools.size());
  for (const PoolState* p : pools) w.push_back(p->allocated_capacity_gb);
  return w;
}

}  // namespace scoria::scheduler
