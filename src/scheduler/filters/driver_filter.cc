#include "scheduler/filters/driver_filter.h"

namespace scoria::scheduler {

bool DriverFilter::Passes(const PoolState& pool) {
  if (pool.filter_function.empty()) return true;
  const Expression* expr = cache_.Get(pool.filter_function);
  if (expr == nullptr) return false;
  Result<ExprValue> v = expr->Evaluate(PoolVariables(pool, request_));
  return v.ok() && v->Truthy();
}

}  // namespace scoria::scheduler
