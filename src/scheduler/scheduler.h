// The volume scheduler: Cinder's FilterScheduler as a pure function over a snapshot of pools.
//
// Model: Schedule(request, pools, options) returns a Decision as data and touches nothing else.
// It runs, in order: the max-attempts check; the exclusion of pools already attempted by this
// request; every configured filter (all must pass); every configured weigher (raw weight,
// min-max normalisation over the candidates, times its multiplier, summed); a stable sort,
// heaviest first, ties broken by pool name; and last, as Cinder does after weighing, the
// resource_backend restriction. The caller then records the winner (typically with
// ConsumeFromVolume on its own copy of the snapshot) and casts to that volume service.
// Sub-headers: pool_state.h, request_spec.h, options.h (the data); capacity.h,
// extra_specs_ops.h, expression.h (the rules); filters/, weighers/ (the plugins).
//
// Threading: every function here is pure and reentrant; callers own all the data and must not
// mutate `pools` during a call. Concurrent calls over a shared const snapshot are safe.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "scheduler/options.h"
#include "scheduler/pool_state.h"
#include "scheduler/request_spec.h"

namespace scoria::scheduler {

struct WeighedPool {
  std::string pool;  // "host@backend#pool"
  double weight = 0;
};

struct Decision {
  std::string pool;                  // the winner, "host@backend#pool"
  std::string backend;               // its "host@backend"
  std::vector<WeighedPool> ranking;  // every surviving candidate, best first (pool == ranking[0])
};

// The prefix of every "nothing fits" message, as Cinder's NoValidBackend words it.
inline constexpr std::string_view kNoValidBackend = "No valid backend was found.";

// Chooses the pool for `request` among `pools`.
// Success: the Decision; `pools` is not modified.
// Failure:
//   - InvalidArgument when `options` names an unknown filter or weigher (see ValidateOptions);
//   - ResourceExhausted with a message starting "No valid backend was found." followed by the
//     reason: "Exceeded max scheduling attempts N for resource <volume.id>" when
//     request.num_attempts > options.max_attempts, or "No weighed backends available" plus, in
//     parentheses, which step eliminated the last candidates (e.g. "CapacityFilter eliminated
//     the last 2 of 5 pools") so an operator can see why.
[[nodiscard]] Result<Decision> Schedule(const RequestSpec& request,
                                        const std::vector<PoolState>& pools,
                                        const SchedulerOptions& options);

// OK when every filter and weigher name is known and max_attempts >= 1; otherwise
// InvalidArgument naming the first offender. For start-up configuration checks.
[[nodiscard]] Status ValidateOptions(const SchedulerOptions& options);

// OK when `expr` parses as a filter_function/goodness_function (expression.h); otherwise
// InvalidArgument with the offset and reason. Does not evaluate: variables are not resolved.
[[nodiscard]] Status ValidateExpression(const std::string& expr);

}  // namespace scoria::scheduler
