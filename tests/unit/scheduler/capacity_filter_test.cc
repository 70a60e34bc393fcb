#include "scheduler/filters/capacity_filter.h"

#include <gtest/gtest.h>

#include "scheduler/capacity.h"
#include "pool_builder.h"

namespace scoria::scheduler {
namespace {

using testing::ThickPool;
using testing::ThinPool;

struct CapacityCase {
  const char* name;
  PoolState pool;
  int64_t size_gb;
  bool thick_type;  // provisioning:type = thick
  bool expect_pass;
};

PoolState WithReserved(PoolState p, int pct) {
  p.reserved_percentage = pct;
  return p;
}
PoolState WithTotal(PoolState p, Capacity c) {
  p.total_capacity_gb = c;
  return p;
}
PoolState WithFree(PoolState p, Capacity c) {
  p.free_capacity_gb = c;
  return p;
}
PoolState Auto(PoolState p) {
  p.auto_over_subscription = true;
  return p;
}
PoolState NoProvisioned(PoolState p, double allocated) {
  p.provisioned_capacity_gb.reset();
  p.allocated_capacity_gb = allocated;
  return p;
}

class CapacityFilterTest : public ::testing::TestWithParam<CapacityCase> {};

TEST_P(CapacityFilterTest, Decides) {
  const CapacityCase& c = GetParam();
  RequestSpec req;
  req.size_gb = c.size_gb;
  if (c.thick_type) req.extra_specs["provisioning:type"] = "thick";
  CapacityFilter f(req);
  EXPECT_EQ(f.Passes(c.pool), c.expect_pass) << c.name;
}

INSTANTIATE_TEST_SUITE_P(
    Table, CapacityFilterTest,
    ::testing::Values(
        // Thick pool: virtual_free = min(free, total − provisioned) = min(50, 60).
        CapacityCase{"thick_fits_exactly", ThickPool("h@b#p", 100, 50, 40), 50, false, true},
        CapacityCase{"thick_one_too_many", ThickPool("h@b#p", 100, 50, 40), 51, false, false},
        // Allocated bounds it: min(free 95, 100 − 60) = 40.
        CapacityCase{"thick_provisioned_bounds", ThickPool("h@b#p", 100, 95, 60), 41, false, false},
        // reserved 10% of 100 = 10: min(95, 90) = 90.
        CapacityCase{"reserved_fits", WithReserved(ThickPool("h@b#p", 100, 95), 10), 90, false, true},
        CapacityCase{"reserved_excludes", WithReserved(ThickPool("h@b#p", 100, 95), 10), 91, false, false},
        // floor(15 × 10%) = 1 reserved, so 14 left.
        CapacityCase{"reserved_floor_fits", WithReserved(ThickPool("h@b#p", 15, 15), 10), 14, false, true},
        CapacityCase{"reserved_floor_full", WithReserved(ThickPool("h@b#p", 15, 15), 10), 15, false, false},
        // Thin: total_available = 100 × 20 = 2000, virtual_free = 2000 − 1500 = 500.
        CapacityCase{"thin_fits", ThinPool("h@b#p", 100, 10, 1500), 500, false, true},
        CapacityCase{"thin_over", ThinPool("h@b#p", 100, 10, 1500), 501, false, false},
        // Same pool, thick type: min(free 10, 100 − 1500) < 0.
        CapacityCase{"thick_type_on_thin_pool", ThinPool("h@b#p", 100, 10, 1500), 5, true, false},
        CapacityCase{"thick_type_uses_free", ThinPool("h@b#p", 100, 80, 10), 80, true, true},
        // Thin with reserved 10%: (100 − 10) × 20 − 1500 = 300.
        CapacityCase{"thin_reserved_fits", WithReserved(ThinPool("h@b#p", 100, 10, 1500), 10), 300, false, true},
        CapacityCase{"thin_reserved_over", WithReserved(ThinPool("h@b#p", 100, 10, 1500), 10), 301, false, false},
        CapacityCase{"thin_ratio_below_one", ThinPool("h@b#p", 100, 100, 0, 0.5), 1, false, false},
        // Ratio forced to 1 when the pool cannot thin provision.
        CapacityCase{"no_thin_support_ratio_1", ThickPool("h@b#p", 100, 100), 101, false, false},
        // auto: 1 + 80 / (100 − 60 + 1) = 2.9512; 100 × 2.9512 − 80 = 215.12.
        CapacityCase{"auto_fits", Auto(ThinPool("h@b#p", 100, 60, 80)), 215, false, true},
        CapacityCase{"auto_over", Auto(ThinPool("h@b#p", 100, 60, 80)), 216, false, false},
        // auto with nothing provisioned: 20.
        CapacityCase{"auto_zero_provisioned", Auto(ThinPool("h@b#p", 100, 100, 0)), 2000, false, true},
        CapacityCase{"auto_zero_provisioned_over", Auto(ThinPool("h@b#p", 100, 100, 0)), 2001, false, false},
        // provisioned defaults to allocated: 2000 − 1990 = 10.
        CapacityCase{"provisioned_defaults_fit", NoProvisioned(ThinPool("h@b#p", 100, 100, 0), 1990), 10, false, true},
        CapacityCase{"provisioned_defaults_over", NoProvisioned(ThinPool("h@b#p", 100, 100, 0), 1990), 11, false, false},
        CapacityCase{"free_infinite", WithFree(ThickPool("h@b#p", 1, 0), Capacity::Infinite()), 1000, false, true},
        CapacityCase{"free_unknown", WithFree(ThickPool("h@b#p", 1, 0), Capacity::Unknown()), 1000, false, true},
        CapacityCase{"free_unset", WithFree(ThickPool("h@b#p", 100, 100), Capacity{}), 1, false, false},
        CapacityCase{"total_infinite_no_reserve", WithTotal(ThickPool("h@b#p", 0, 10), Capacity::Infinite()), 1000, false, true},
        CapacityCase{"total_unknown_reserved",
                     WithReserved(WithTotal(ThickPool("h@b#p", 0, 10), Capacity::Unknown()), 5), 1, false, false},
        CapacityCase{"total_zero", ThickPool("h@b#p", 0, 10), 1, false, false},
        CapacityCase{"total_unset", WithTotal(ThickPool("h@b#p", 0, 10), Capacity{}), 1, false, false},
        CapacityCase{"zero_size_always_passes", WithFree(ThickPool("h@b#p", 0, 0), Capacity{}), 0, false, true},
        CapacityCase{"all_reserved_thin", WithReserved(ThinPool("h@b#p", 100, 100, 0), 100), 1, false, false}),
    [](const ::testing::TestParamInfo<CapacityCase>& info) { return std::string(info.param.name); });

TEST(CapacityFilterTest, ExtendUsesDelta) {
  RequestSpec req;
  req.operation = RequestSpec::Operation::kExtend;
  req.size_gb = 10;  // growing by 10 GiB, whatever the old size
  CapacityFilter f(req);
  EXPECT_TRUE(f.Passes(ThickPool("h@b#p", 100, 10, 90)));
  req.size_gb = 11;
  CapacityFilter g(req);
  EXPECT_FALSE(g.Passes(ThickPool("h@b#p", 100, 10, 90)));
}

TEST(CapacityMathTest, FactorsMatchReferenceTable) {
  // total 1000, free 300, provisioned 2500, thin support, mosr 5, reserved 5%, thin request.
  CapacityFactors f = CalculateCapacityFactors(1000, 300, 2500, true, 5.0, 5, true);
  EXPECT_DOUBLE_EQ(f.total_reserved_available, 950);
  EXPECT_DOUBLE_EQ(f.total_available, 4750);
  EXPECT_DOUBLE_EQ(f.calculated_free, 2250);
  EXPECT_DOUBLE_EQ(f.virtual_free, 2250);
  CapacityFactors thick = CalculateCapacityFactors(1000, 300, 500, true, 5.0, 5, false);
  EXPECT_DOUBLE_EQ(thick.total_available, 950);
  EXPECT_DOUBLE_EQ(thick.virtual_free, 300);  // min(300, 450)
  EXPECT_DOUBLE_EQ(AutoMaxOverSubscriptionRatio(100, 60, 80), 1.0 + 80.0 / 41.0);
  EXPECT_DOUBLE_EQ(AutoMaxOverSubscriptionRatio(100, 60, 0), 20.0);
}

TEST(CapacityMathTest, EffectiveRatio) {
  PoolState thin = ThinPool("h@b#p", 100, 60, 80, 7.5);
  EXPECT_DOUBLE_EQ(EffectiveMaxOverSubscriptionRatio(thin), 7.5);
  thin.auto_over_subscription = true;
  EXPECT_DOUBLE_EQ(EffectiveMaxOverSubscriptionRatio(thin), 1.0 + 80.0 / 41.0);
  thin.free_capacity_gb = Capacity::Unknown();
  EXPECT_DOUBLE_EQ(EffectiveMaxOverSubscriptionRatio(thin), 1.0);
  PoolState thick = ThickPool("h@b#p", 100, 60);
  thick.max_over_subscription_ratio = 7.5;
  EXPECT_DOUBLE_EQ(EffectiveMaxOverSubscriptionRatio(thick), 1.0);
}

TEST(ConsumeFromVolumeTest, UpdatesFigures) {
  PoolState p = ThinPool("h@b#p", 100, 60, 80);
  p.allocated_capacity_gb = 30;
  ConsumeFromVolume(p, 5);
  EXPECT_DOUBLE_EQ(p.allocated_capacity_gb, 35);
  EXPECT_DOUBLE_EQ(*p.provisioned_capacity_gb, 85);
  EXPECT_DOUBLE_EQ(p.free_capacity_gb.gb, 55);
  EXPECT_EQ(p.total_volumes, 1);

  PoolState inf = ThickPool("h@b#p", 100, 60, 10);
  inf.free_capacity_gb = Capacity::Infinite();
  ConsumeFromVolume(inf, 5);
  EXPECT_EQ(inf.free_capacity_gb.kind, Capacity::Kind::kInfinite);
  EXPECT_FALSE(inf.provisioned_capacity_gb.has_value());
  EXPECT_DOUBLE_EQ(ProvisionedCapacityGb(inf), 15);  // follows allocated
}

}  // namespace
}  // namespace scoria::scheduler
