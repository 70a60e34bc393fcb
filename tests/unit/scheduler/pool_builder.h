// Test helpers: concise construction of PoolState snapshots for the scheduler tests.
#pragma once

#include <string>

#include "scheduler/pool_state.h"

namespace scoria::scheduler::testing {

// A thick-only pool "host@<backend>#<pool>" with numeric capacities.
inline PoolState ThickPool(const std::string& name, double total, double free, double allocated = 0) {
  PoolState p;
  p.name = name;
  p.backend = name.substr(0, name.find('#'));
  p.availability_zone = "nova";
  p.total_capacity_gb = Capacity::Gb(total);
  p.free_capacity_gb = Capacity::Gb(free);
  p.allocated_capacity_gb = allocated;
  p.capabilities = {{"volume_backend_name", "LVM"}, {"storage_protocol", "iSCSI"}};
  return p;
}

inline PoolState ThinPool(const std::string& name, double total, double free, double provisioned,
                          double mosr = 20.0) {
  PoolState p = ThickPool(name, total, free);
  p.thin_provisioning_support = true;
  p.provisioned_capacity_gb = provisioned;
  p.max_over_subscription_ratio = mosr;
  return p;
}

}  // namespace scoria::scheduler::testing
