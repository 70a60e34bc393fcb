// AvailabilityZoneFilter (§4.2): the pool's AZ must be one of the volume type's
// RESKEY:availability_zones when that list is set, else equal the requested AZ when one is
// set; otherwise every pool passes.
#pragma once

#include "scheduler/filters/filter.h"

namespace scoria::scheduler {

class AvailabilityZoneFilter : public PoolFilter {
 public:
  explicit AvailabilityZoneFilter(const RequestSpec& request) : request_(request) {}
  std::string_view name() const override { return "AvailabilityZoneFilter"; }
  bool Passes(const PoolState& pool) override;

 private:
  const RequestSpec& request_;
};

}  // namespace scoria::scheduler
