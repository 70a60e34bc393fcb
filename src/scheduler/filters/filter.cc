#include "scheduler/filters/filter.h"

#include <algorithm>

#include "scheduler/filters/availability_zone_filter.h"
#include "scheduler/filters/capabilities_filter.h"
#include "scheduler/filters/capacity_filter.h"
#include "scheduler/filters/driver_filter.h"

namespace scoria::scheduler {
namespace {

// Cinder's IgnoreAttemptedHostsFilter: never place a retry on a pool already tried. Schedule()
// applies the same rule unconditionally; naming it in the filter list is accepted and harmless.
class IgnoreAttemptedHostsFilter : public PoolFilter {
 public:
  explicit IgnoreAttemptedHostsFilter(const RequestSpec& request) : request_(request) {}
  std::string_view name() const override { return "IgnoreAttemptedHostsFilter"; }
  bool Passes(const PoolState& pool) override {
    for (const std::string& attempted : request_.attempted_pools) {
      if (attempted == pool.name) return false;
      if (attempted.find('#') == std::string::npos && attempted == BackendOf(pool)) return false;
    }
    return true;
  }

 private:
  const RequestSpec& request_;
};

}  // namespace

const std::vector<std::string_view>& KnownFilterNames() {
  static const std::vector<std::string_view> kNames = {
      "AvailabilityZoneFilter", "CapacityFilter", "CapabilitiesFilter", "DriverFilter",
      "IgnoreAttemptedHostsFilter"};
  return kNames;
}

Result<std::unique_ptr<PoolFilter>> MakeFilter(std::string_view name, const RequestSpec& request) {
  std::unique_ptr<PoolFilter> f;
  if (name == "AvailabilityZoneFilter") {
    f = std::make_unique<AvailabilityZoneFilter>(request);
  } else if (name == "CapacityFilter") {
    f = std::make_unique<CapacityFilter>(request);
  } else if (name == "CapabilitiesFilter") {
    f = std::make_unique<CapabilitiesFilter>(request);
  } else if (name == "DriverFilter") {
    f = std::make_unique<DriverFilter>(request);
  } else if (name == "IgnoreAttemptedHostsFilter") {
    f = std::make_unique<IgnoreAttemptedHostsFilter>(request);
  } else {
    return InvalidArgument("unknown scheduler filter '" + std::string(name) + "'");
  }
  return f;
}

}  // namespace scoria::scheduler
