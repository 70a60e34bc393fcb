#include "scheduler/scheduler.h"

#include <algorithm>
#include <memory>
#include <numeric>

#include "scheduler/expression.h"
#include "scheduler/filters/filter.h"
#include "scheduler/weighers/weigher.h"

namespace scoria::scheduler {
namespace {

bool IsAttempted(const RequestSpec& request, const PoolState& pool) {
  for (const std::string& attempted : request.attempted_pools) {
    if (attempted == pool.name) return true;
    if (attempted.find('#') == std::string::npos && attempted == BackendOf(pool)) return true;
  }
  return false;
}

// volume_utils.extract_host semantics: compare at pool level only when resource_backend names a
// pool.
bool OnResourceBackend(const std::string& resource_backend, const PoolState& pool) {
  if (resource_backend.find('#') != std::string::npos) return pool.name == resource_backend;
  return BackendOf(pool) == resource_backend;
}

Status NoValidBackend(const std::string& reason) {
  return ResourceExhausted(std::string(kNoValidBackend) + " " + reason);
}

std::string Eliminated(std::string_view step, size_t eliminated, size_t total) {
  return std::string(step) + " eliminated the last " + std::to_string(eliminated) + " of " +
         std::to_string(total) + " pools";
}

}  // namespace

Status ValidateOptions(const SchedulerOptions& options) {
  const auto& filters = KnownFilterNames();
  for (const std::string& f : options.filters) {
    if (std::find(filters.begin(), filters.end(), f) == filters.end()) {
      return InvalidArgument("unknown scheduler filter '" + f + "'");
    }
  }
  const auto& weighers = KnownWeigherNames();
  for (const std::string& w : options.weighers) {
    if (std::find(weighers.begin(), weighers.end(), w) == weighers.end()) {
      return InvalidArgument("unknown scheduler weigher '" + w + "'");
    }
  }
  if (options.max_attempts < 1) {
    return InvalidArgument("scheduler max_attempts must be at least 1, got " +
                           std::to_string(options.max_attempts));
  }
  return Status::Ok();
}

Status ValidateExpression(const std::string& expr) {
  Result<Expression> parsed = Expression::Parse(expr);
  return parsed.ok() ? Status::Ok() : parsed.status();
}

Result<Decision> Schedule(const RequestSpec& request, const std::vector<PoolState>& pools,
                          const SchedulerOptions& options) {
  RETURN_IF_ERROR(ValidateOptions(options));
  if (request.num_attempts > options.max_attempts) {
    std::string id = "<unknown>";
    if (request.volume.is_object()) {
      auto it = request.volume.find("id");
      if (it != request.volume.end()) id = it->is_string() ? it->get<std::string>() : it->dump();
    }
    return NoValidBackend("Exceeded max scheduling attempts " +
                          std::to_string(options.max_attempts) + " for resource " + id);
  }
  if (pools.empty()) return NoValidBackend("No weighed backends available (no pools reported)");

  std::vector<const PoolState*> candidates;
  candidates.reserve(pools.size());
  for (const PoolState& p : pools) {
    if (request.attempted_pools.empty() || !IsAttempted(request, p)) candidates.push_back(&p);
  }
  if (candidates.empty()) {
    return NoValidBackend("No weighed backends available (" +
                          Eliminated("the retry exclusion of attempted pools", pools.size(),
                                     pools.size()) +
                          ")");
  }

  for (const std::string& name : options.filters) {
    ASSIGN_OR_RETURN(std::unique_ptr<PoolFilter> filter, MakeFilter(name, request));
    const size_t before = candidates.size();
    std::erase_if(candidates, [&](const PoolState* p) { return !filter->Passes(*p); });
    if (candidates.empty()) {
      return NoValidBackend("No weighed backends available (" +
                            Eliminated(name, before, pools.size()) + ")");
    }
  }

  std::vector<double> total(candidates.size(), 0.0);
  // Cinder skips weighing a single candidate; normalisation would make it 0 anyway.
  if (candidates.size() > 1) {
    for (const std::string& name : options.weighers) {
      ASSIGN_OR_RETURN(std::unique_ptr<PoolWeigher> weigher, MakeWeigher(name, request, options));
      const std::vector<double> norm = NormalizeWeights(weigher->RawWeights(candidates));
      for (size_t i = 0; i < total.size(); ++i) total[i] += weigher->multiplier() * norm[i];
    }
  }

  std::vector<size_t> order(candidates.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (total[a] != total[b]) return total[a] > total[b];
    return candidates[a]->name < candidates[b]->name;
  });

  Decision d;
  d.ranking.reserve(order.size());
  const PoolState* winner = nullptr;
  for (size_t i : order) {
    if (request.resource_backend && !OnResourceBackend(*request.resource_backend, *candidates[i])) {
      continue;
    }
    if (winner == nullptr) winner = candidates[i];
    d.ranking.push_back({candidates[i]->name, total[i]});
  }
  if (d.ranking.empty()) {
    return NoValidBackend("No weighed backends available (resource_backend " +
                          *request.resource_backend + " eliminated the last " +
                          std::to_string(candidates.size()) + " of " +
                          std::to_string(pools.size()) + " pools)");
  }
  d.pool = winner->name;
  d.backend = BackendOf(*winner);
  return d;
}

}  // namespace scoria::scheduler
