#include "scheduler/weighers/goodness_weigher.h"

namespace scoria::scheduler {

double GoodnessWeigher::Goodness(const PoolState& pool) {
  if (pool.goodness_function.empty()) return 0;
  const Expression* expr = cache_.Get(pool.goodness_function);
  if (expr == nullptr) return 0;
  Result<ExprValue> v = expr->Evaluate(PoolVariables(pool, request_));
  if (!v.ok()) return 0;
  switch (v->type) {
    case ExprValue::Type::kBool: return v->number != 0 ? 100 : 0;
    case ExprValue::Type::kString: return 0;
    case ExprValue::Type::kNumber:
      return (v->number < 0 || v->number > 100) ? 0 : v->number;
  }
  return 0;
}

std::vector<double> GoodnessWeigher::RawWeights(const std::vector<const PoolState*>& pools) {
  std::vector<double> w;
  w.reserve(pools.size());
  for (const PoolState* p : pools) w.push_back(Goodness(*p));
  return w;
}

}  // namespace scoria::scheduler
