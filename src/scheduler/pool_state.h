// PoolState: the scheduler's snapshot of one storage pool, as its volume service last reported it.
//
// The identity is "host@backend#pool" (Cinder's PoolState.host); `backend` is the
// "host@backend" part that resource_backend and VolumeNumberWeigher work at. The struct is
// plain data owned by the caller: the scheduler reads it, and only ConsumeFromVolume writes it,
// mirroring Cinder's in-memory bookkeeping between two stats reports. The derived figures
// (effective provisioned capacity, effective over-subscription ratio) are computed here so
// the filter and the weigher cannot disagree about them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "scheduler/capacity.h"

namespace scoria::scheduler {

struct PoolState {
  std::string name;               // "host@backend#pool"
  std::string backend;            // "host@backend"; derived from name when empty
  std::string availability_zone;  // the volume service's AZ
  Capacity total_capacity_gb, free_capacity_gb;
  double allocated_capacity_gb = 0;
  std::optional<double> provisioned_capacity_gb;  // defaults to allocated when unset
  int reserved_percentage = 0;
  double max_over_subscription_ratio = kDefaultMaxOverSubscriptionRatio;
  bool auto_over_subscription = false;  // config "auto": ratio computed by EffectiveMaxOverSubscriptionRatio
  bool thin_provisioning_support = false, thick_provisioning_support = true;
  bool online_extend_support = true;
  int64_t total_volumes = 0;  // volumes on this backend (VolumeNumberWeigher)
  std::string filter_function, goodness_function;  // may be empty: DriverFilter passes, goodness 0
  // Everything the backend reports (volume_backend_name, storage_protocol, vendor_name,
  // driver_version, nested dicts...). Read by CapabilitiesFilter and by expressions
  // (stats.*, capabilities.*). An object or null.
  nlohmann::json capabilities;
};

// "host@backend" of the pool: `backend` if set, else `name` up to '#'.
std::string BackendOf(const PoolState& pool);

// provisioned_capacity_gb, or allocated_capacity_gb when the backend does not report it.
double ProvisionedCapacityGb(const PoolState& pool);

// The ratio the capacity checks use: 1.0 when the pool cannot thin provision or a capacity is
// not a number (the ratio is then never used), the "auto" formula when configured, otherwise
// max_over_subscription_ratio. Mirrors cinder.utils.calculate_max_over_subscription_ratio.
double EffectiveMaxOverSubscriptionRatio(const PoolState& pool);

// Capacity factors of `pool` for a thin (provisioning:type != thick) or thick request.
// Precondition: total and free capacity are numbers.
CapacityFactors PoolCapacityFactors(const PoolState& pool, bool thin);

// Cinder's HostState.consume_from_volume, applied to the winner so that the next decision made
// from the same snapshot sees the space as used: allocated and provisioned grow by size_gb,
// free shrinks unless it is infinite/unknown. total_volumes grows by one, because Cinder's
// VolumeNumberWeigher counts the new volume's database row from then on.
void ConsumeFromVolume(PoolState& pool, int64_t size_gb);

}  // namespace scoria::scheduler
