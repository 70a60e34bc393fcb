// GoodnessWeigher (§4.6): scores a pool by its goodness_function evaluated for this request.
// A boolean result scores 100 (true) or 0; a number in [0, 100] scores itself; no function, a
// parse or evaluation error, a string or a number out of range score 0.
#pragma once

#include "scheduler/pool_variables.h"
#include "scheduler/weighers/weigher.h"

namespace scoria::scheduler {

class GoodnessWeigher : public PoolWeigher {
 public:
  GoodnessWeigher(double multiplier, const RequestSpec& request)
      : PoolWeigher(multiplier), request_(request) {}
  std::string_view name() const override { return "GoodnessWeigher"; }
  std::vector<double> RawWeights(const std::vector<const PoolState*>& pools) override;
  // The goodness rating of one pool, 0..100.
  double Goodness(const PoolState& pool);

 private:
  const RequestSpec& request_;
  ExpressionCache cache_;
};

}  // namespace scoria::scheduler
