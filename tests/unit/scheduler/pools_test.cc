// ListPools (pools.h) over a real (in-memory) database: every reported pool, up or disabled,
// with usage from the volumes table; a type's extra specs keep only the pools that accept them.
#include "scheduler/pools.h"
#include "scheduler/scheduler_service.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "db/migrations.h"
#include "db/services_repo.h"
#include "db/volumes_repo.h"
#include "lifecycle/volume_status.h"

namespace scoria::scheduler {
namespace {

using nlohmann::json;

class ListPoolsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = db::OpenDatabase("sqlite://");
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(*db);
    ASSERT_TRUE(db_->Migrate().ok());
    auto tx = Tx();
    json lvm = {{"volume_backend_name", "lvm"},
                {"storage_protocol", "iSCSI"},
                {"pools",
                 {{{"pool_name", "a"}, {"total_capacity_gb", 100}, {"free_capacity_gb", 90}},
                  {{"pool_name", "b"}, {"total_capacity_gb", 50}, {"free_capacity_gb", 50}}}}};
    json file = {{"volume_backend_name", "file"},
                 {"storage_protocol", "iSCSI"},
                 {"pools", {{{"pool_name", "c"}, {"total_capacity_gb", 10}}}}};
    ASSERT_TRUE(db::Heartbeat(*tx, "h1@lvm", db::kVolumeBinary, "nova", lvm.dump()).ok());
    ASSERT_TRUE(db::Heartbeat(*tx, "h2@file", db::kVolumeBinary, "nova", file.dump()).ok());
    // A disabled service's pools are listed too (the scheduler skips them, get-pools does not).
    ASSERT_TRUE(db::SetServiceDisabled(*tx, "h2@file", db::kVolumeBinary, true, "x").ok());
    // A service without a stats report has no pools yet.
    ASSERT_TRUE(db::Heartbeat(*tx, "h3@new", db::kVolumeBinary, "nova", std::nullopt).ok());
    db::VolumeRecord v;
    v.id = "v1";
    v.project_id = "p";
    v.user_id = "u";
    v.size = 7;
    v.status = volume_status::kAvailable;
    v.availability_zone = "nova";
    v.volume_type_id = "t";
    v.host = "h1@lvm#a";
    ASSERT_TRUE(db::InsertVolume(*tx, v).ok());
    ASSERT_TRUE(tx->Commit().ok());
  }
  std::unique_ptr<db::Transaction> Tx() { return std::move(db_->Begin(true).value()); }

  std::vector<std::string> Names(const PoolListFilter& filter) {
    auto tx = Tx();
    auto pools = ListPools(*tx, config_, filter);
    EXPECT_TRUE(pools.ok()) << pools.status().ToString();
    std::vector<std::string> names;
    if (pools.ok()) {
      for (const auto& p : *pools) names.push_back(p.name);
    }
    return names;
  }

  Config config_;
  std::unique_ptr<db::Database> db_;
};

TEST_F(ListPoolsTest, WithoutFilterEveryReportedPoolWithItsUsage) {
  EXPECT_EQ(Names({}), (std::vector<std::string>{"h1@lvm#a", "h1@lvm#b", "h2@file#c"}));
  auto tx = Tx();
  auto pools = ListPools(*tx, config_, {});
  ASSERT_TRUE(pools.ok());
  const PoolState& a = (*pools)[0];
  EXPECT_EQ(a.backend, "h1@lvm");
  EXPECT_DOUBLE_EQ(a.allocated_capacity_gb, 7);
  EXPECT_EQ(a.total_volumes, 1);
  EXPECT_EQ(a.capabilities["volume_backend_name"], "lvm");  // the backend's keys, merged
  EXPECT_EQ(a.capabilities["free_capacity_gb"], 90);
  EXPECT_DOUBLE_EQ((*pools)[1].allocated_capacity_gb, 0);
}

TEST_F(ListPoolsTest, ExtraSpecsKeepOnlyThePoolsThatAcceptThem) {
  EXPECT_EQ(Names({.extra_specs = std::map<std::string, std::string>{
                       {"volume_backend_name", "file"}}}),
            (std::vector<std::string>{"h2@file#c"}));
  // storage_protocol matches every spelling of the protocol; other scopes do not filter.
  EXPECT_EQ(Names({.extra_specs = std::map<std::string, std::string>{
                       {"capabilities:storage_protocol", "iscsi"}, {"RESKEY:x", "y"}}}),
            (std::vector<std::string>{"h1@lvm#a", "h1@lvm#b", "h2@file#c"}));
  EXPECT_TRUE(Names({.extra_specs = std::map<std::string, std::string>{
                         {"volume_backend_name", "nfs"}}})
                  .empty());
  // A type without extra specs accepts every pool.
  EXPECT_EQ(Names({.extra_specs = std::map<std::string, std::string>{}}).size(), 3u);
}

// The scheduler's view (only_usable): a service whose heartbeat is older than
// service_down_time is down, unless the database was unreachable until later
// (heartbeats_missed_until: nobody could heartbeat then).
TEST_F(ListPoolsTest, AStaleHeartbeatCountsFromTheEndOfADatabaseOutage) {
  auto Usable = [&](int64_t missed_until) {
    auto tx = Tx();
    auto pools = SchedulerService::LoadPools(*tx, config_, /*only_usable=*/true, missed_until);
    EXPECT_TRUE(pools.ok()) << pools.status().ToString();
    std::vector<std::string> names;
    if (pools.ok()) {
      for (const auto& p : *pools) names.push_back(p.name);
    }
    return names;
  };
  const std::vector<std::string> h1 = {"h1@lvm#a", "h1@lvm#b"};  // h2 is disabled
  EXPECT_EQ(Usable(0), h1);
  {
    auto tx = Tx();
    const int64_t stale = NowMicros() - int64_t{config_.service_down_time + 1} * 1000000;
    ASSERT_TRUE(tx->Exec("UPDATE services SET updated_at = ?", {db::Value(stale)}).ok());
    ASSERT_TRUE(tx->Commit().ok());
  }
  EXPECT_TRUE(Usable(0).empty());
  // An outage that ended a moment ago: the stale heartbeats count from then.
  EXPECT_EQ(Usable(NowMicros() - 1000000), h1);
  // One that ended longer than service_down_time ago excuses nothing.
  EXPECT_TRUE(Usable(NowMicros() - int64_t{config_.service_down_time + 1} * 1000000).empty());
}

}  // namespace
}  // namespace scoria::scheduler
