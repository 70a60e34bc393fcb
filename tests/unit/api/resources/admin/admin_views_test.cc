// Service and host views: the frozen flag, os-hosts entries and usage rows in Cinder's shapes.
#include "api/resources/admin/admin_views.h"

#include <gtest/gtest.h>

namespace scoria::api {
namespace {

constexpr int64_t kNow = 1'700'000'000'000'000;

db::ServiceRecord Service(const std::string& host, const std::string& binary) {
  db::ServiceRecord s;
  s.host = host;
  s.binary = binary;
  s.availability_zone = "nova";
  s.created_at = kNow - 100'000'000;
  s.updated_at = kNow - 1'000'000;
  return s;
}

Request Req(ApiVersion v) {
  Request r;
  r.version = v;
  return r;
}

TEST(AdminViewsTest, FrozenIsShownForVolumeServicesAtEveryVersion) {
  auto vol = Service("n@b", db::kVolumeBinary);
  EXPECT_EQ(ServiceView(Req({3, 0}), vol, kNow, 60)["frozen"], false);
  vol.frozen = true;
  EXPECT_EQ(ServiceView(Req({3, 0}), vol, kNow, 60)["frozen"], true);
  EXPECT_EQ(ServiceView(Req({3, 71}), vol, kNow, 60)["frozen"], true);
  auto sched = Service("n", db::kSchedulerBinary);
  sched.frozen = true;  // never set on other binaries; the view ignores it anyway
  EXPECT_FALSE(ServiceView(Req({3, 0}), sched, kNow, 60).contains("frozen"));
}

TEST(AdminViewsTest, HostViewUpAndDown) {
  auto s = Service("n@b", db::kVolumeBinary);
  auto up = HostView(s, kNow, 60);
  EXPECT_EQ(up["host_name"], "n@b");
  EXPECT_EQ(up["service"], "cinder-volume");
  EXPECT_EQ(up["zone"], "nova");
  EXPECT_EQ(up["service-status"], "available");
  EXPECT_EQ(up["service-state"], "enabled");
  EXPECT_TRUE(up["last-update"].is_string());
  EXPECT_EQ(up.size(), 6u);
  s.updated_at = kNow - 61'000'000;
  s.disabled = true;
  auto down = HostView(s, kNow, 60);
  EXPECT_EQ(down["service-status"], "unavailable");
  EXPECT_EQ(down["service-state"], "disabled");
  s.updated_at.reset();  // never reported: Cinder falls back to created_at, shows null
  EXPECT_TRUE(HostView(s, kNow, 60)["last-update"].is_null());
}

TEST(AdminViewsTest, HostResourceCountsAreStrings) {
  HostResource r{
      .project = "p1", .volume_count = 2, .volume_gb = 5, .snapshot_count = 1, .snapshot_gb = 3};
  EXPECT_EQ(HostResourceView("n@b", r), (nlohmann::json{{"resource",
                                                         {{"host", "n@b"},
                                                          {"project", "p1"},
                                                          {"volume_count", "2"},
                                                          {"total_volume_gb", "5"},
                                                          {"snapshot_count", "1"},
                                                          {"total_snapshot_gb", "3"}}}}));
}

TEST(AdminViewsTest, ServiceIsUpBothDirections) {
  auto s = Service("n@b", db::kVolumeBinary);
  s.updated_at = kNow + 30'000'000;  // a clock ahead: abs(), as Cinder
  EXPECT_TRUE(db::ServiceIsUp(s, kNow, 60));
  s.updated_at = kNow - 60'000'001;
  EXPECT_FALSE(db::ServiceIsUp(s, kNow, 60));
  s.updated_at.reset();
  s.created_at = kNow;
  EXPECT_TRUE(db::ServiceIsUp(s, kNow, 60));
}

}  // namespace
}  // namespace scoria::api
