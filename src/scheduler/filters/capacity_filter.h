// CapacityFilter (§4.3): does the requested size fit the pool under Cinder's unified thin/thick
// capacity formula?
//
// Decision order, as cinder/scheduler/filters/capacity_filter.py has it: a request of 0 GiB
// passes; free capacity not reported fails; free "infinite"/"unknown" passes; total
// "infinite"/"unknown" passes only with reserved_percentage 0; total <= 0 fails. A thin request
// (provisioning:type != thick) on a thin-capable pool fails when the ratio is < 1 or
// (provisioned + requested) / total_available exceeds the ratio, else needs
// virtual_free >= requested; everything else needs virtual_free >= requested. For an extend the
// request's size is the delta.
#pragma once

#include "scheduler/filters/filter.h"

namespace scoria::scheduler {

class CapacityFilter : public PoolFilter {
 public:
  explicit CapacityFilter(const RequestSpec& request)
      : requested_gb_(static_cast<double>(request.size_gb)), thin_(IsThinRequest(request)) {}
  std::string_view name() const override { return "CapacityFilter"; }
  bool Passes(const PoolState& pool) override;

 private:
  double requested_gb_;
  bool thin_;
};

}  // namespace scoria::scheduler
