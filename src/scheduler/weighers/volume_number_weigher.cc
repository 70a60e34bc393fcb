#include "scheduler/weighers/volume_number_weigher.h"

namespace scoria::scheduler {

std::vector<double> VolumeNumberWeigher::RawWeights(const std::vector<const PoolState*>& pools) {
  std::vector<double> w;
  w.reserve(pools.size());
  for (const PoolState* p : pools) w.push_back(static_cast<double>(p->total_volumes));
  return w;
}

}  // namespace scoria::scheduler
