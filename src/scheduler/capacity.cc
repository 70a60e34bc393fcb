#include "scheduler/capacity.h"

#include <algorithm>
#include <cmath>

namespace scoria::scheduler {

CapacityFactors CalculateCapacityFactors(double total_gb, double free_gb, double provisioned_gb,
                                         bool thin_provisioning_support, double mosr,
                                         int reserved_percentage, bool thin) {
  CapacityFactors f;
  const double reserved = std::floor(total_gb * static_cast<double>(reserved_percentage) / 100.0);
  f.total_reserved_available = total_gb - reserved;
  const bool thin_path = thin && thin_provisioning_support;
  f.total_available = thin_path ? f.total_reserved_available * mosr : f.total_reserved_available;
  f.calculated_free = f.total_available - provisioned_gb;
  f.virtual_free = thin_path ? f.calculated_free : std::min(free_gb, f.calculated_free);
  return f;
}

double AutoMaxOverSubscriptionRatio(double total_gb, double free_gb, double provisioned_gb) {
  if (provisioned_gb == 0) return kDefaultMaxOverSubscriptionRatio;
  const double used = total_gb - free_gb;
  return 1.0 + provisioned_gb / (used + 1.0);
}

}  // namespace scoria::scheduler
