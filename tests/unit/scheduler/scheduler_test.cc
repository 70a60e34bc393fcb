#include "scheduler/scheduler.h"

#include <gtest/gtest.h>

#include "pool_builder.h"

namespace scoria::scheduler {
namespace {

using testing::ThickPool;

// Three thick pools on three backends. Virtual free (thick) = min(free, total − allocated):
// a 600, b 300, c 900.
std::vector<PoolState> ThreePools() {
  std::vector<PoolState> pools = {ThickPool("h1@lvm#a", 1000, 600, 100),
                                  ThickPool("h2@lvm#b", 1000, 300, 50),
                                  ThickPool("h3@lvm#c", 1000, 900, 0)};
  pools[0].total_volumes = 10;
  pools[1].total_volumes = 2;
  pools[2].total_volumes = 30;
  pools[0].goodness_function = "60";
  pools[1].goodness_function = "90";
  pools[2].goodness_function = "30";
  pools[0].availability_zone = "az1";
  pools[1].availability_zone = "az2";
  pools[2].availability_zone = "az1";
  return pools;
}

RequestSpec Create(int64_t size) {
  RequestSpec r;
  r.size_gb = size;
  r.volume = {{"id", "vol-1"}, {"size", size}};
  return r;
}

std::vector<std::string> Names(const Decision& d) {
  std::vector<std::string> out;
  for (const auto& w : d.ranking) out.push_back(w.pool);
  return out;
}

TEST(ScheduleTest, DefaultSpreadsByVirtualFree) {
  Result<Decision> d = Schedule(Create(10), ThreePools(), SchedulerOptions{});
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->pool, "h3@lvm#c");
  EXPECT_EQ(d->backend, "h3@lvm");
  EXPECT_EQ(Names(*d), (std::vector<std::string>{"h3@lvm#c", "h1@lvm#a", "h2@lvm#b"}));
  EXPECT_DOUBLE_EQ(d->ranking[0].weight, 1.0);
  EXPECT_DOUBLE_EQ(d->ranking[1].weight, 0.5);  // (600 − 300) / (900 − 300)
  EXPECT_DOUBLE_EQ(d->ranking[2].weight, 0.0);
}

TEST(ScheduleTest, NegativeCapacityMultiplierStacks) {
  SchedulerOptions o;
  o.capacity_weight_multiplier = -1.0;
  Result<Decision> d = Schedule(Create(10), ThreePools(), o);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->pool, "h2@lvm#b");
}

TEST(ScheduleTest, AllFourWeighersCombine) {
  SchedulerOptions o;
  o.weighers = {"CapacityWeigher", "AllocatedCapacityWeigher", "VolumeNumberWeigher",
                "GoodnessWeigher"};
  Result<Decision> d = Schedule(Create(10), ThreePools(), o);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  // capacity (600,300,900) → (.5, 0, 1);      × 1
  // allocated (100,50,0) → (1, .5, 0);         × −1
  // volumes (10,2,30) → (8/28, 0, 1);          × −1
  // goodness (60,90,30) → (.5, 1, 0);          × 1
  EXPECT_EQ(Names(*d), (std::vector<std::string>{"h2@lvm#b", "h3@lvm#c", "h1@lvm#a"}));
  EXPECT_DOUBLE_EQ(d->ranking[0].weight, 0.5);
  EXPECT_DOUBLE_EQ(d->ranking[1].weight, 0.0);
  EXPECT_DOUBLE_EQ(d->ranking[2].weight, 0.5 - 1.0 - 8.0 / 28.0 + 0.5);
}

TEST(ScheduleTest, TiesBrokenByPoolName) {
  std::vector<PoolState> pools = {ThickPool("h@b#zeta", 100, 100), ThickPool("h@b#alpha", 100, 100),
                                  ThickPool("h@b#mid", 100, 100)};
  Result<Decision> d = Schedule(Create(1), pools, SchedulerOptions{});
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(Names(*d), (std::vector<std::string>{"h@b#alpha", "h@b#mid", "h@b#zeta"}));
}

TEST(ScheduleTest, RetrySkipsAttemptedPools) {
  RequestSpec r = Create(10);
  r.num_attempts = 2;
  r.attempted_pools = {"h3@lvm#c"};
  Result<Decision> d = Schedule(r, ThreePools(), SchedulerOptions{});
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->pool, "h1@lvm#a");
  EXPECT_EQ(d->ranking.size(), 2u);
  r.attempted_pools = {"h3@lvm", "h1@lvm#a"};  // a backend-level entry excludes all its pools
  d = Schedule(r, ThreePools(), SchedulerOptions{});
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->pool, "h2@lvm#b");
  r.attempted_pools = {"h1@lvm#a", "h2@lvm#b", "h3@lvm#c"};
  d = Schedule(r, ThreePools(), SchedulerOptions{});
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().code(), StatusCode::kResourceExhausted);
  EXPECT_NE(d.status().message().find("attempted"), std::string::npos) << d.status().message();
}

TEST(ScheduleTest, ExceedingMaxAttemptsFails) {
  RequestSpec r = Create(10);
  r.num_attempts = 3;
  EXPECT_TRUE(Schedule(r, ThreePools(), SchedulerOptions{}).ok());
  r.num_attempts = 4;
  Result<Decision> d = Schedule(r, ThreePools(), SchedulerOptions{});
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(d.status().message(),
            "No valid backend was found. Exceeded max scheduling attempts 3 for resource vol-1");
  SchedulerOptions o;
  o.max_attempts = 5;
  EXPECT_TRUE(Schedule(r, ThreePools(), o).ok());
}

TEST(ScheduleTest, NothingFitsNamesTheFilter) {
  Result<Decision> d = Schedule(Create(950), ThreePools(), SchedulerOptions{});
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(d.status().message(),
            "No valid backend was found. No weighed backends available (CapacityFilter "
            "eliminated the last 3 of 3 pools)");

  RequestSpec r = Create(10);
  r.extra_specs["volume_backend_name"] = "Ceph";
  d = Schedule(r, ThreePools(), SchedulerOptions{});
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.status().message().find("CapabilitiesFilter eliminated the last 3 of 3"),
            std::string::npos)
      << d.status().message();

  d = Schedule(Create(10), {}, SchedulerOptions{});
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().message().rfind(kNoValidBackend, 0), 0u);
}

TEST(ScheduleTest, CapacityFilterEliminatesSome) {
  // 500 GiB fits a (600) and c (900) but not b (300).
  Result<Decision> d = Schedule(Create(500), ThreePools(), SchedulerOptions{});
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(Names(*d), (std::vector<std::string>{"h3@lvm#c", "h1@lvm#a"}));
  // Normalisation is over the survivors: a is now the minimum.
  EXPECT_DOUBLE_EQ(d->ranking[1].weight, 0.0);
}

TEST(ScheduleTest, AvailabilityZones) {
  RequestSpec r = Create(10);
  r.availability_zones = {"az2"};
  r.availability_zone = "az1";  // the type's list wins
  Result<Decision> d = Schedule(r, ThreePools(), SchedulerOptions{});
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->pool, "h2@lvm#b");
  r.availability_zones.clear();
  d = Schedule(r, ThreePools(), SchedulerOptions{});
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(Names(*d), (std::vector<std::string>{"h3@lvm#c", "h1@lvm#a"}));
  r.availability_zone = "az9";
  d = Schedule(r, ThreePools(), SchedulerOptions{});
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.status().message().find("AvailabilityZoneFilter"), std::string::npos);
}

TEST(ScheduleTest, CapabilitiesNarrowTheChoice) {
  std::vector<PoolState> pools = ThreePools();
  pools[2].capabilities["volume_backend_name"] = "Other";
  RequestSpec r = Create(10);
  r.extra_specs = {{"volume_backend_name", "LVM"}, {"provisioning:type", "thick"}};
  Result<Decision> d = Schedule(r, pools, SchedulerOptions{});
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->pool, "h1@lvm#a");
}

TEST(ScheduleTest, DriverFilter) {
  std::vector<PoolState> pools = ThreePools();
  pools[2].filter_function = "volume.size < 5";
  pools[0].filter_function = "stats.free_capacity_gb >";  // broken: the pool is filtered out
  pools[1].filter_function = "capabilities.storage_protocol == 'iSCSI'";
  SchedulerOptions o;
  o.filters.push_back("DriverFilter");
  Result<Decision> d = Schedule(Create(10), pools, o);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(Names(*d), (std::vector<std::string>{"h2@lvm#b"}));
  d = Schedule(Create(2), pools, o);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->pool, "h3@lvm#c");
}

TEST(ScheduleTest, ResourceBackendAppliedAfterWeighing) {
  RequestSpec r = Create(10);
  r.resource_backend = "h1@lvm";
  Result<Decision> d = Schedule(r, ThreePools(), SchedulerOptions{});
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->pool, "h1@lvm#a");
  ASSERT_EQ(d->ranking.size(), 1u);
  EXPECT_DOUBLE_EQ(d->ranking[0].weight, 0.5);  // normalised over all three candidates
  r.resource_backend = "h2@lvm#b";
  d = Schedule(r, ThreePools(), SchedulerOptions{});
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->pool, "h2@lvm#b");
  r.resource_backend = "h2@lvm#zzz";
  d = Schedule(r, ThreePools(), SchedulerOptions{});
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.status().message().find("resource_backend h2@lvm#zzz"), std::string::npos)
      << d.status().message();
}

TEST(ScheduleTest, ConsumeBetweenDecisionsSpreads) {
  std::vector<PoolState> pools = {ThickPool("h@b#a", 100, 100), ThickPool("h@b#b", 100, 100),
                                  ThickPool("h@b#c", 100, 100)};
  std::vector<std::string> chosen;
  for (int i = 0; i < 4; ++i) {
    Result<Decision> d = Schedule(Create(10), pools, SchedulerOptions{});
    ASSERT_TRUE(d.ok());
    chosen.push_back(d->pool);
    for (PoolState& p : pools) {
      if (p.name == d->pool) ConsumeFromVolume(p, 10);
    }
  }
  EXPECT_EQ(chosen, (std::vector<std::string>{"h@b#a", "h@b#b", "h@b#c", "h@b#a"}));
  EXPECT_DOUBLE_EQ(pools[0].free_capacity_gb.gb, 80);
  EXPECT_DOUBLE_EQ(pools[0].allocated_capacity_gb, 20);
}

TEST(ScheduleTest, InfiniteCapacityPools) {
  std::vector<PoolState> pools = {ThickPool("h@b#a", 100, 50), ThickPool("h@b#inf", 1, 1)};
  pools[1].free_capacity_gb = Capacity::Infinite();
  // Spreading: the infinite pool is discouraged (raw −1).
  Result<Decision> d = Schedule(Create(10), pools, SchedulerOptions{});
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->pool, "h@b#a");
  // A request only the infinite pool can take still lands there.
  d = Schedule(Create(60), pools, SchedulerOptions{});
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->pool, "h@b#inf");
  // Stacking (negative multiplier): infinite becomes max + 10000, least preferred too.
  SchedulerOptions o;
  o.capacity_weight_multiplier = -1;
  d = Schedule(Create(10), pools, o);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->pool, "h@b#a");
}

TEST(ScheduleTest, SingleCandidateWeighsZero) {
  Result<Decision> d = Schedule(Create(10), {ThickPool("h@b#only", 100, 100)}, SchedulerOptions{});
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->pool, "h@b#only");
  EXPECT_DOUBLE_EQ(d->ranking[0].weight, 0.0);
}

TEST(ValidateOptionsTest, NamesTheOffender) {
  EXPECT_TRUE(ValidateOptions(SchedulerOptions{}).ok());
  SchedulerOptions o;
  o.filters = {"AvailabilityZoneFilter", "JsonFilter"};
  Status s = ValidateOptions(o);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("JsonFilter"), std::string::npos);
  Result<Decision> d = Schedule(Create(1), ThreePools(), o);
  EXPECT_EQ(d.status().code(), StatusCode::kInvalidArgument);

  SchedulerOptions w;
  w.weighers = {"CapacityWeigher", "StochasticWeigher"};
  EXPECT_NE(ValidateOptions(w).message().find("StochasticWeigher"), std::string::npos);
  SchedulerOptions m;
  m.max_attempts = 0;
  EXPECT_EQ(ValidateOptions(m).code(), StatusCode::kInvalidArgument);
  SchedulerOptions all;
  all.filters = {"AvailabilityZoneFilter", "CapacityFilter", "CapabilitiesFilter", "DriverFilter",
                 "IgnoreAttemptedHostsFilter"};
  all.weighers = {"CapacityWeigher", "AllocatedCapacityWeigher", "VolumeNumberWeigher",
                  "GoodnessWeigher"};
  EXPECT_TRUE(ValidateOptions(all).ok());
}

}  // namespace
}  // namespace scoria::scheduler
