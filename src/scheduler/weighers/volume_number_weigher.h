// VolumeNumberWeigher (§4.5): scores a pool by the number of volumes on its backend
// (PoolState::total_volumes); with the default multiplier −1 the emptiest backend wins.
#pragma once

#include "scheduler/weighers/weigher.h"

namespace scoria::scheduler {

class VolumeNumberWeigher : public PoolWeigher {
 public:
  using PoolWeigher::PoolWeigher;
  std::string_view name() const override { return "VolumeNumberWeigher"; }
  std::vector<double> RawWeights(const std::vector<const PoolState*>& pools) override;
};

}  // namespace scoria::scheduler
