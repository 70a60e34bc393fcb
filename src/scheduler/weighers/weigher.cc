#include "scheduler/weighers/weigher.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "scheduler/weighers/capacity_weigher.h"
#include "scheduler/weighers/goodness_weigher.h"
#include "scheduler/weighers/volume_number_weigher.h"

namespace scoria::scheduler {

std::vector<double> NormalizeWeights(const std::vector<double>& raw) {
  std::vector<double> out(raw.size(), 0.0);
  if (raw.empty()) return out;
  const auto [lo, hi] = std::minmax_element(raw.begin(), raw.end());
  const double range = *hi - *lo;
  if (range == 0 || !std::isfinite(range)) return out;
  for (size_t i = 0; i < raw.size(); ++i) out[i] = (raw[i] - *lo) / range;
  return out;
}

const std::vector<std::string_view>& KnownWeigherNames() {
  static const std::vector<std::string_view> kNames = {
      "CapacityWeigher", "AllocatedCapacityWeigher", "VolumeNumberWeigher", "GoodnessWeigher"};
  return kNames;
}

Result<std::unique_ptr<PoolWeigher>> MakeWeigher(std::string_view name, const RequestSpec& request,
                                                 const SchedulerOptions& options) {
  std::unique_ptr<PoolWeigher> w;
  if (name == "CapacityWeigher") {
    w = std::make_unique<CapacityWeigher>(options.capacity_weight_multiplier,
                                          IsThinRequest(request));
  } else if (name == "AllocatedCapacityWeigher") {
    w = std::make_unique<AllocatedCapacityWeigher>(options.allocated_capacity_weight_multiplier);
  } else if (name == "VolumeNumberWeigher") {
    w = std::make_unique<VolumeNumberWeigher>(options.volume_number_multiplier);
  } else if (name == "GoodnessWeigher") {
    w = std::make_unique<GoodnessWeigher>(options.goodness_weight_multiplier, request);
  } else {
    return InvalidArgument("unknown scheduler weigher '" + std::string(name) + "'");
  }
  return w;
}

}  // namespace scoria::scheduler
