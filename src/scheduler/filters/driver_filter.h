// DriverFilter (§4.6): the pool's filter_function, evaluated for this request, must be truthy.
// No function passes; a function that does not parse or fails to evaluate fails the pool (Cinder
// logs a warning and filters the backend out).
#pragma once

#include "scheduler/filters/filter.h"
#include "scheduler/pool_variables.h"

namespace scoria::scheduler {

class DriverFilter : public PoolFilter {
 public:
  explicit DriverFilter(const RequestSpec& request) : request_(request) {}
  std::string_view name() const override { return "DriverFilter"; }
  bool Passes(const PoolState& pool) override;

 private:
  const RequestSpec& request_;
  ExpressionCache cache_;
};

}  // namespace scoria::scheduler
