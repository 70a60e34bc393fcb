#include "scheduler/filters/capabilities_filter.h"

#include <algorithm>
#include <array>

namespace scoria::scheduler {
namespace {

// cinder/common/constants.py: *_VARIANTS.
const std::vector<std::vector<std::string>>& ProtocolFamilies() {
  static const std::vector<std::vector<std::string>> kFamilies = {
      {"iSCSI", "iscsi"},
      {"FC", "fibre_channel", "fc"},
      {"NFS", "nfs"},
      {"NVMe-oF", "NVMeOF", "nvmeof"},
  };
  return kFamilies;
}

std::vector<std::string> SplitColon(const std::string& key) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    size_t pos = key.find(':', start);
    parts.push_back(key.substr(start, pos == std::string::npos ? std::string::npos : pos - start));
    if (pos == std::string::npos) break;
    start = pos + 1;
  }
  return parts;
}

}  // namespace

const std::vector<std::string>* StorageProtocolVariants(const std::string& protocol) {
  for (const auto& family : ProtocolFamilies()) {
    if (std::find(family.begin(), family.end(), protocol) != family.end()) return &family;
  }
  return nullptr;
}

CapabilitiesFilter::CapabilitiesFilter(const RequestSpec& request)
    : online_extend_required_(request.operation == RequestSpec::Operation::kExtend &&
                              request.volume_attached) {
  for (const auto& [key, req] : request.extra_specs) {
    std::vector<std::string> scope = SplitColon(key);
    if (scope.size() > 1 && scope[0] != "capabilities") continue;  // other scopes don't filter
    if (scope[0] == "capabilities") scope.erase(scope.begin());
    Spec spec;
    spec.is_storage_protocol = scope.size() == 1 && scope[0] == "storage_protocol";
    spec.path = std::move(scope);
    spec.requirement = ExtraSpecRequirement::Parse(req);
    specs_.push_back(std::move(spec));
  }
}

bool CapabilitiesFilter::Passes(const PoolState& pool) {
  if (online_extend_required_ && !pool.online_extend_support) return false;
  for (const Spec& spec : specs_) {
    const nlohmann::json* cap = &pool.capabilities;
    for (const std::string& key : spec.path) {
      if (!cap->is_object()) return false;
      auto it = cap->find(key);
      if (it == cap->end()) return false;
      cap = &*it;
    }
    bool matched = false;
    const std::vector<std::string>* variants =
        spec.is_storage_protocol && cap->is_string()
            ? StorageProtocolVariants(cap->get_ref<const std::string&>())
            : nullptr;
    if (variants != nullptr) {
      matched = std::any_of(variants->begin(), variants->end(), [&](const std::string& v) {
        return spec.requirement.MatchesString(v);
      });
    } else if (cap->is_array()) {
      matched = std::any_of(cap->begin(), cap->end(),
                            [&](const nlohmann::json& v) { return spec.requirement.Matches(v); });
    } else {
      matched = spec.requirement.Matches(*cap);
    }
    if (!matched) return false;
  }
  return true;
}

}  // namespace scoria::scheduler
