#include "scheduler/pool_state.h"

namespace scoria::scheduler {

std::string BackendOf(const PoolState& pool) {
  if (!pool.backend.empty()) return pool.backend;
  return pool.name.substr(0, pool.name.find('#'));
}

double ProvisionedCapacityGb(const PoolState& pool) {
  return pool.provisioned_capacity_gb.value_or(pool.allocated_capacity_gb);
}

double EffectiveMaxOverSubscriptionRatio(const PoolState& pool) {
  if (!pool.thin_provisioning_support) return 1.0;
  if (!pool.total_capacity_gb.is_number() || !pool.free_capacity_gb.is_number()) return 1.0;
  if (pool.auto_over_subscription) {
    return AutoMaxOverSubscriptionRatio(pool.total_capacity_gb.gb, pool.free_capacity_gb.gb,
                                        ProvisionedCapacityGb(pool));
  }
  return pool.max_over_subscription_ratio;
}

CapacityFactors PoolCapacityFactors(const PoolState& pool, bool thin) {
  return CalculateCapacityFactors(pool.total_capacity_gb.value_or_zero(),
                                  pool.free_capacity_gb.value_or_zero(),
                                  ProvisionedCapacityGb(pool), pool.thin_provisioning_support,
                                  EffectiveMaxOverSubscriptionRatio(pool),
                                  pool.reserved_percentage, thin);
}

void ConsumeFromVolume(PoolState& pool, int64_t size_gb) {
  const double gb = static_cast<double>(size_gb);
  pool.allocated_capacity_gb += gb;
  if (pool.provisioned_capacity_gb) *pool.provisioned_capacity_gb += gb;
  if (pool.free_capacity_gb.is_number()) pool.free_capacity_gb.gb -= gb;
  pool.total_volumes += 1;
}

}  // namespace scoria::scheduler
