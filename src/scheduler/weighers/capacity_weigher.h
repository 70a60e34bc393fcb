// CapacityWeigher and AllocatedCapacityWeigher (§4.5).
//
// CapacityWeigher scores a pool by its virtual free capacity (capacity.h; thin or thick per the
// request's provisioning:type). A pool whose free or total capacity is "infinite"/"unknown"
// scores −1 when the multiplier is positive (discouraging such reports, Cinder bug 1350638),
// otherwise +∞, and +∞ is then replaced by max + 100 × (max − min) over the finite scores, or
// max + 10000 when that offset is 0. AllocatedCapacityWeigher scores allocated_capacity_gb.
#pragma once

#include "scheduler/weighers/weigher.h"

namespace scoria::scheduler {

class CapacityWeigher : public PoolWeigher {
 public:
  CapacityWeigher(double multiplier, bool thin) : PoolWeigher(multiplier), thin_(thin) {}
  std::string_view name() const override { return "CapacityWeigher"; }
  std::vector<double> RawWeights(const std::vector<const PoolState*>& pools) override;

 private:
  bool thin_;
};

class AllocatedCapacityWeigher : public PoolWeigher {
 public:
  using PoolWeigher::PoolWeigher;
  std::string_view name() const override { return "AllocatedCapacityWeigher"; }
  std::vector<double> RawWeights(const std::vector<const PoolState*>& pools) override;
};

}  // namespace scoria::scheduler
