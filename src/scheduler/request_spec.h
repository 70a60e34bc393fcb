// RequestSpec: what one scheduling decision is asked to place, as data.
//
// It carries the parts of Cinder's request_spec / filter_properties that the filters and
// weighers read: the size, the volume type's extra specs, the AZ constraints, the retry
// bookkeeping and the JSON the expression language exposes as volume.* and qos.*.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace scoria::scheduler {

struct RequestSpec {
  enum class Operation { kCreate, kExtend };
  Operation operation = Operation::kCreate;
  int64_t size_gb = 0;           // create: size; extend: the delta (new − old). 0 always fits.
  bool volume_attached = false;  // extend of an in-use volume (online extend)
  std::map<std::string, std::string> extra_specs;  // of the volume type
  std::vector<std::string> availability_zones;     // from the type's RESKEY:availability_zones
  std::optional<std::string> availability_zone;    // requested AZ
  // The volume must land here: "host@backend" (any pool of it) or "host@backend#pool".
  std::optional<std::string> resource_backend;
  // Pools already tried for this request ("host@backend#pool"; a "host@backend" entry excludes
  // every pool of that backend). They are never chosen again.
  std::vector<std::string> attempted_pools;
  int num_attempts = 1;  // this attempt's number, 1-based
  nlohmann::json volume;  // volume properties for expressions (volume.size ...); an object or null
  nlohmann::json qos;     // QoS specs for expressions (qos.*); an object or null
};

// Cinder's CapacityFilter/CapacityWeigher notion of "thin": provisioning:type is not "thick".
inline bool IsThinRequest(const RequestSpec& request) {
  auto it = request.extra_specs.find("provisioning:type");
  return it == request.extra_specs.end() || it->second != "thick";
}

}  // namespace scoria::scheduler
