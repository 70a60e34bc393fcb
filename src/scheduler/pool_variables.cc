#include "scheduler/pool_variables.h"

namespace scoria::scheduler {
namespace {

bool WalkJson(const nlohmann::json& root, const std::vector<std::string>& path, ExprValue* out) {
  const nlohmann::json* cur = &root;
  for (const std::string& key : path) {
    if (!cur->is_object()) return false;
    auto it = cur->find(key);
    if (it == cur->end()) return false;
    cur = &*it;
  }
  return ExprValueFromJson(*cur, out);
}

bool CapacityValue(const Capacity& c, ExprValue* out) {
  switch (c.kind) {
    case Capacity::Kind::kNumber: *out = ExprValue::Number(c.gb); return true;
    case Capacity::Kind::kInfinite: *out = ExprValue::String("infinite"); return true;
    case Capacity::Kind::kUnknown: *out = ExprValue::String("unknown"); return true;
    case Capacity::Kind::kUnset: return false;
  }
  return false;
}

}  // namespace

bool PoolVariables::Lookup(VariableScope scope, const std::vector<std::string>& path,
                           ExprValue* out) const {
  switch (scope) {
    case VariableScope::kCapabilities:
      return WalkJson(pool_.capabilities, path, out);
    case VariableScope::kVolume:
      return WalkJson(request_.volume, path, out);
    case VariableScope::kQos:
      return WalkJson(request_.qos, path, out);
    case VariableScope::kExtra: {
      std::string key = path[0];
      for (size_t i = 1; i < path.size(); ++i) key += "." + path[i];
      auto it = request_.extra_specs.find(key);
      if (it == request_.extra_specs.end()) return false;
      *out = ExprValueFromString(it->second);
      return true;
    }
    case VariableScope::kStats: {
      if (path.size() != 1) return false;
      const std::string& k = path[0];
      if (k == "host" || k == "backend_id") {
        *out = ExprValue::String(pool_.name);
        return true;
      }
      if (k == "total_capacity_gb") return CapacityValue(pool_.total_capacity_gb, out);
      if (k == "free_capacity_gb") return CapacityValue(pool_.free_capacity_gb, out);
      if (k == "allocated_capacity_gb") {
        *out = ExprValue::Number(pool_.allocated_capacity_gb);
        return true;
      }
      if (k == "reserved_percentage") {
        *out = ExprValue::Number(pool_.reserved_percentage);
        return true;
      }
      if (k == "cluster_name" || k == "volume_backend_name" || k == "vendor_name" ||
          k == "driver_version" || k == "storage_protocol" || k == "QoS_support" ||
          k == "updated") {
        return WalkJson(pool_.capabilities, path, out);
      }
      return false;
    }
  }
  return false;
}

const Expression* ExpressionCache::Get(const std::string& text) {
  if (last_text_ != nullptr && *last_text_ == text) return last_;
  auto it = cache_.find(text);
  if (it == cache_.end()) {
    Result<Expression> parsed = Expression::Parse(text);
    std::optional<Expression> entry;
    if (parsed.ok()) entry = std::move(parsed).value();
    it = cache_.emplace(text, std::move(entry)).first;
  }
  last_text_ = &it->first;
  last_ = it->second ? &*it->second : nullptr;
  return last_;
}

}  // namespace scoria::scheduler
