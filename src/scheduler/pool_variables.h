// The variables an expression sees for one (pool, request) pair, and a per-call parse cache.
//
// PoolVariables exposes Cinder's DriverFilter/GoodnessWeigher dictionaries: stats.* (host,
// cluster_name, backend_id, volume_backend_name, vendor_name, driver_version,
// storage_protocol, QoS_support, total_capacity_gb, allocated_capacity_gb, free_capacity_gb,
// reserved_percentage, updated), capabilities.* (the pool's reported capabilities, nested dicts
// by further dots), volume.* (RequestSpec::volume), extra.* (the type's extra specs; the rest
// of the name after "extra." is the key) and qos.* (RequestSpec::qos). It holds references:
// the pool and request must outlive it. ExpressionCache parses each distinct function text once
// per scheduling call; not thread-safe, one per call.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "scheduler/expression.h"
#include "scheduler/pool_state.h"
#include "scheduler/request_spec.h"

namespace scoria::scheduler {

class PoolVariables : public VariableSource {
 public:
  PoolVariables(const PoolState& pool, const RequestSpec& request)
      : pool_(pool), request_(request) {}
  bool Lookup(VariableScope scope, const std::vector<std::string>& path,
              ExprValue* out) const override;

 private:
  const PoolState& pool_;
  const RequestSpec& request_;
};

class ExpressionCache {
 public:
  // The parsed expression, or nullptr when `text` does not parse.
  const Expression* Get(const std::string& text);

 private:
  std::map<std::string, std::optional<Expression>, std::less<>> cache_;
  // Pools of one backend usually share a function: remember the last hit.
  const std::string* last_text_ = nullptr;
  const Expression* last_ = nullptr;
};

}  // namespace scoria::scheduler
