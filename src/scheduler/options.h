// SchedulerOptions: the scheduler's configuration (Cinder's scheduler_* options, §4.7).
//
// Plain data; the caller loads it from configuration and passes it to every Schedule call.
// ValidateOptions (scheduler.h) checks it once at start-up so a typo in a filter name is a
// configuration error, not a scheduling failure.
#pragma once

#include <string>
#include <vector>

namespace scoria::scheduler {

struct SchedulerOptions {
  // scheduler_default_filters, applied in order; every one must pass. Known names:
  // AvailabilityZoneFilter, CapacityFilter, CapabilitiesFilter, DriverFilter,
  // IgnoreAttemptedHostsFilter (also always applied when the request lists attempted pools).
  std::vector<std::string> filters = {"AvailabilityZoneFilter", "CapacityFilter",
                                      "CapabilitiesFilter"};
  // scheduler_default_weighers. Known names: CapacityWeigher, AllocatedCapacityWeigher,
  // VolumeNumberWeigher, GoodnessWeigher.
  std::vector<std::string> weighers = {"CapacityWeigher"};
  // Positive spreads volumes over the pools with most virtual free space; negative stacks them.
  double capacity_weight_multiplier = 1.0;
  // Negative prefers the least allocated pool.
  double allocated_capacity_weight_multiplier = -1.0;
  // Negative prefers the backend with fewest volumes.
  double volume_number_multiplier = -1.0;
  // Positive prefers the pool whose goodness_function scores highest.
  double goodness_weight_multiplier = 1.0;
  // scheduler_max_attempts: a request whose num_attempts exceeds this fails. At least 1.
  int max_attempts = 3;
};

}  // namespace scoria::scheduler
