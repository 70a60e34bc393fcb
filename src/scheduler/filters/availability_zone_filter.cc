#include "scheduler/filters/availability_zone_filter.h"

#include <algorithm>

namespace scoria::scheduler {

bool AvailabilityZoneFilter::Passes(const PoolState& pool) {
  const auto& zones = request_.availability_zones;
  if (!zones.empty()) return std::find(zones.begin(), zones.end(), pool.availability_zone) != zones.end();
  if (request_.availability_zone && !request_.availability_zone->empty()) {
    return *request_.availability_zone == pool.availability_zone;
  }
  return true;
}

}  // namespace scoria::scheduler
