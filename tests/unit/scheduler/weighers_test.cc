#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

#include "pool_builder.h"
#include "scheduler/weighers/capacity_weigher.h"
#include "scheduler/weighers/goodness_weigher.h"
#include "scheduler/weighers/volume_number_weigher.h"
#include "scheduler/weighers/weigher.h"

namespace scoria::scheduler {
namespace {

using testing::ThickPool;
using testing::ThinPool;
using ::testing::ElementsAre;

std::vector<const PoolState*> Ptrs(const std::vector<PoolState>& pools) {
  std::vector<const PoolState*> out;
  for (const auto& p : pools) out.push_back(&p);
  return out;
}

struct NormCase {
  std::vector<double> raw;
  std::vector<double> expect;
};

class NormalizeTest : public ::testing::TestWithParam<NormCase> {};

TEST_P(NormalizeTest, MinMax) {
  const std::vector<double> got = NormalizeWeights(GetParam().raw);
  ASSERT_EQ(got.size(), GetParam().expect.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_DOUBLE_EQ(got[i], GetParam().expect[i]) << i;
}

INSTANTIATE_TEST_SUITE_P(Table, NormalizeTest,
                         ::testing::Values(NormCase{{1, 3, 5}, {0, 0.5, 1}},
                                           NormCase{{2, 2, 2}, {0, 0, 0}},
                                           NormCase{{}, {}},
                                           NormCase{{7}, {0}},
                                           NormCase{{-10, 0, 30}, {0, 0.25, 1}}));

TEST(CapacityWeigherTest, VirtualFreeThickAndThin) {
  std::vector<PoolState> pools = {ThickPool("h@b#a", 100, 10), ThickPool("h@b#b", 100, 50, 80),
                                  ThinPool("h@b#c", 100, 10, 500, 10)};
  CapacityWeigher thin(1.0, true);
  // a: min(10, 100); b: min(50, 100 − 80); c: 100 × 10 − 500.
  EXPECT_THAT(thin.RawWeights(Ptrs(pools)), ElementsAre(10, 20, 500));
  CapacityWeigher thick(1.0, false);
  // c on the thick path: min(10, 100 − 500).
  EXPECT_THAT(thick.RawWeights(Ptrs(pools)), ElementsAre(10, 20, -400));
}

TEST(CapacityWeigherTest, InfiniteIsLowestWhenSpreading) {
  std::vector<PoolState> pools = {ThickPool("h@b#a", 100, 100), ThickPool("h@b#b", 200, 200),
                                  ThickPool("h@b#c", 1, 1), ThickPool("h@b#d", 1, 1)};
  pools[2].free_capacity_gb = Capacity::Infinite();
  pools[3].total_capacity_gb = Capacity::Unknown();
  CapacityWeigher w(1.0, true);
  EXPECT_THAT(w.RawWeights(Ptrs(pools)), ElementsAre(100, 200, -1, -1));
}

TEST(CapacityWeigherTest, InfiniteIsReplacedWhenStacking) {
  std::vector<PoolState> pools = {ThickPool("h@b#a", 100, 100), ThickPool("h@b#b", 200, 200),
                                  ThickPool("h@b#c", 1, 1)};
  pools[2].free_capacity_gb = Capacity::Unknown();
  CapacityWeigher w(-1.0, true);
  // max + 100 × (max − min) = 200 + 100 × 100.
  EXPECT_THAT(w.RawWeights(Ptrs(pools)), ElementsAre(100, 200, 10200));
  pools.erase(pools.begin());
  // One finite value: the offset is 0, so max + 10000.
  EXPECT_THAT(w.RawWeights(Ptrs(pools)), ElementsAre(200, 10200));
  pools.erase(pools.begin());
  const std::vector<double> all_inf = w.RawWeights(Ptrs(pools));
  EXPECT_TRUE(std::isinf(all_inf[0]));
  EXPECT_THAT(NormalizeWeights(all_inf), ElementsAre(0));
}

TEST(AllocatedCapacityWeigherTest, RawIsAllocated) {
  std::vector<PoolState> pools = {ThickPool("h@b#a", 100, 10, 30), ThickPool("h@b#b", 100, 50, 5)};
  AllocatedCapacityWeigher w(-1.0);
  EXPECT_THAT(w.RawWeights(Ptrs(pools)), ElementsAre(30, 5));
  EXPECT_DOUBLE_EQ(w.multiplier(), -1.0);
}

TEST(VolumeNumberWeigherTest, RawIsVolumeCount) {
  std::vector<PoolState> pools = {ThickPool("h@b#a", 100, 10), ThickPool("h@c#b", 100, 50)};
  pools[0].total_volumes = 12;
  pools[1].total_volumes = 3;
  VolumeNumberWeigher w(-1.0);
  EXPECT_THAT(w.RawWeights(Ptrs(pools)), ElementsAre(12, 3));
}

struct GoodnessCase {
  const char* function;
  double expect;
};

void PrintTo(const GoodnessCase& c, std::ostream* os) { *os << "'" << c.function << "'"; }

class GoodnessWeigherTest : public ::testing::TestWithParam<GoodnessCase> {};

TEST_P(GoodnessWeigherTest, Rating) {
  PoolState p = ThickPool("h@b#a", 500, 200);
  p.goodness_function = GetParam().function;
  RequestSpec req;
  req.volume = {{"size", 10}};
  GoodnessWeigher w(1.0, req);
  EXPECT_DOUBLE_EQ(w.Goodness(p), GetParam().expect) << GetParam().function;
}

INSTANTIATE_TEST_SUITE_P(
    Table, GoodnessWeigherTest,
    ::testing::Values(GoodnessCase{"", 0}, GoodnessCase{"50", 50}, GoodnessCase{"100", 100},
                      GoodnessCase{"0", 0}, GoodnessCase{"150", 0}, GoodnessCase{"-5", 0},
                      GoodnessCase{"1 < 2", 100}, GoodnessCase{"1 > 2", 0},
                      GoodnessCase{"true", 0},  // a bare word is a string
                      GoodnessCase{"'abc'", 0}, GoodnessCase{"1 +", 0},
                      GoodnessCase{"capabilities.missing", 0}, GoodnessCase{"1 / 0", 0},
                      GoodnessCase{"stats.total_capacity_gb / 10", 50},
                      GoodnessCase{"volume.size > 5 ? 80 : 20", 80},
                      GoodnessCase{"stats.free_capacity_gb / stats.total_capacity_gb * 100", 40}));

TEST(WeigherRegistryTest, NamesAndMultipliers) {
  SchedulerOptions o;
  o.capacity_weight_multiplier = 2;
  o.allocated_capacity_weight_multiplier = -3;
  o.volume_number_multiplier = -4;
  o.goodness_weight_multiplier = 5;
  RequestSpec req;
  const std::pair<const char*, double> kExpect[] = {{"CapacityWeigher", 2},
                                                    {"AllocatedCapacityWeigher", -3},
                                                    {"VolumeNumberWeigher", -4},
                                                    {"GoodnessWeigher", 5}};
  for (const auto& [name, mult] : kExpect) {
    auto w = MakeWeigher(name, req, o);
    ASSERT_TRUE(w.ok()) << name;
    EXPECT_EQ((*w)->name(), name);
    EXPECT_DOUBLE_EQ((*w)->multiplier(), mult);
  }
  auto bad = MakeWeigher("ChanceWeigher", req, o);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("ChanceWeigher"), std::string::npos);
}

}  // namespace
}  // namespace scoria::scheduler
