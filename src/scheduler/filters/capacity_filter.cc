#include "scheduler/filters/capacity_filter.h"

namespace scoria::scheduler {

bool CapacityFilter::Passes(const PoolState& pool) {
  if (requested_gb_ <= 0) return true;  // manage-existing and no-op extends need no space
  if (pool.free_capacity_gb.kind == Capacity::Kind::kUnset) return false;
  if (pool.free_capacity_gb.is_non_numeric()) return true;
  if (pool.total_capacity_gb.is_non_numeric()) return pool.reserved_percentage == 0;
  const double total = pool.total_capacity_gb.value_or_zero();
  if (total <= 0) return false;

  const double mosr = EffectiveMaxOverSubscriptionRatio(pool);
  const CapacityFactors f = PoolCapacityFactors(pool, thin_);
  if (thin_ && pool.thin_provisioning_support) {
    if (mosr < 1) return false;  // an invalid ratio filters the pool out
    // Everything reserved: Cinder would divide by zero here; nothing fits.
    if (f.total_available <= 0) return false;
    const double provisioned_ratio =
        (ProvisionedCapacityGb(pool) + requested_gb_) / f.total_available;
    if (provisioned_ratio > mosr) return false;
  }
  return f.virtual_free >= requested_gb_;
}

}  // namespace scoria::scheduler
