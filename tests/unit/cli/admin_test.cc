// Request building and output of the service-level verbs.
#include "cli/admin.h"

#include <gtest/gtest.h>

#include "fake_http_client.h"

namespace scoria::cli {
namespace {

using nlohmann::json;
using testing::BodyOf;
using testing::QueryValue;

class AdminTest : public testing::CliHarness {};

TEST_F(AdminTest, GetPoolsDetail) {
  http.On("GET", "/scheduler-stats/get_pools", 200,
          {{"pools", {{{"name", "h@b#p"}, {"capabilities", {{"free_capacity_gb", 10}}}}}}});
  auto run = Run({"get-pools", "--detail"});
  ASSERT_EQ(run.code, 0) << run.err;
  EXPECT_EQ(QueryValue(http.requests[0], "detail"), "true");
  EXPECT_NE(run.out.find("| free_capacity_gb | 10 "), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("| name             | h@b#p "), std::string::npos) << run.out;
  auto plain = Run({"get-pools"});
  EXPECT_EQ(QueryValue(http.requests[1], "detail"), "<absent>");
}

TEST_F(AdminTest, ServiceListFiltersAndColumns) {
  http.On("GET", "/os-services", 200,
          {{"services",
            {{{"binary", "cinder-volume"},
              {"host", "n@b"},
              {"zone", "nova"},
              {"status", "enabled"},
              {"state", "up"},
              {"updated_at", "t"},
              {"disabled_reason", nullptr}}}}});
  auto run = Run({"service-list", "--host", "n@b", "--binary", "cinder-volume"});
  ASSERT_EQ(run.code, 0) << run.err;
  EXPECT_EQ(http.requests[0].query, (Query{{"host", "n@b"}, {"binary", "cinder-volume"}}));
  EXPECT_NE(run.out.find("| Binary        | Host | Zone | Status  | State | Updated_at | Cluster | "
                         "Disabled Reason | Backend State |"),
            std::string::npos)
      << run.out;
}

TEST_F(AdminTest, ServiceEnableDisable) {
  http.On(
      "PUT", "/os-services/enable", 200,
      {{"host", "n@b"}, {"binary", "cinder-volume"}, {"status", "enabled"}, {"disabled", false}});
  http.On(
      "PUT", "/os-services/disable", 200,
      {{"host", "n@b"}, {"binary", "cinder-volume"}, {"status", "disabled"}, {"disabled", true}});
  http.On("PUT", "/os-services/disable-log-reason", 200,
          {{"host", "n@b"},
           {"binary", "cinder-volume"},
           {"status", "disabled"},
           {"disabled_reason", "maint"}});
  ASSERT_EQ(Run({"service-enable", "n@b", "cinder-volume"}).code, 0);
  ASSERT_EQ(Run({"service-disable", "n@b", "cinder-volume"}).code, 0);
  auto run = Run({"service-disable", "n@b", "cinder-volume", "--reason", "maint"});
  ASSERT_EQ(run.code, 0) << run.err;
  EXPECT_EQ(BodyOf(http.requests[0]), (json{{"host", "n@b"}, {"binary", "cinder-volume"}}));
  EXPECT_EQ(http.requests[1].path, "/os-services/disable");
  EXPECT_EQ(BodyOf(http.requests[2]),
            (json{{"host", "n@b"}, {"binary", "cinder-volume"}, {"disabled_reason", "maint"}}));
  EXPECT_NE(run.out.find("| Disabled Reason |"), std::string::npos);
  EXPECT_NE(run.out.find("| maint "), std::string::npos);
  EXPECT_EQ(Run({"service-enable", "n@b"}).code, kExitUsage);
}

TEST_F(AdminTest, FreezeAndThawHost) {
  http.On("PUT", "/os-services/freeze", 200, nullptr);
  http.On("PUT", "/os-services/thaw", 200, nullptr);
  auto freeze = Run({"freeze-host", "n@b"});
  ASSERT_EQ(freeze.code, 0) << freeze.err;
  EXPECT_EQ(freeze.out, "");
  auto thaw = Run({"thaw-host", "n@b"});
  ASSERT_EQ(thaw.code, 0) << thaw.err;
  EXPECT_EQ(http.requests[0].path, "/os-services/freeze");
  EXPECT_EQ(BodyOf(http.requests[0]), (json{{"host", "n@b"}}));
  EXPECT_EQ(http.requests[1].path, "/os-services/thaw");
  EXPECT_EQ(Run({"freeze-host"}).code, kExitUsage);
}

TEST_F(AdminTest, FreezeHostError) {
  http.On("PUT", "/os-services/freeze", 400,
          {{"badRequest",
            {{"code", 400}, {"message", "Invalid input received: No service found with host=x"}}}});
  auto bad = Run({"freeze-host", "x"});
  EXPECT_EQ(bad.code, 1);
  EXPECT_NE(bad.err.find("No service found with host=x"), std::string::npos) << bad.err;
}

TEST_F(AdminTest, HostListAndShow) {
  http.On("GET", "/os-hosts", 200,
          {{"hosts",
            {{{"host_name", "n@b"},
              {"service", "cinder-volume"},
              {"zone", "nova"},
              {"service-status", "available"},
              {"service-state", "enabled"},
              {"last-update", "t"}}}}});
  auto list = Run({"host-list", "--zone", "nova"});
  ASSERT_EQ(list.code, 0) << list.err;
  EXPECT_EQ(QueryValue(http.requests[0], "zone"), "nova");
  EXPECT_NE(
      list.out.find("| n@b       | cinder-volume | nova | available      | enabled       | t"),
      std::string::npos)
      << list.out;
  Run({"host-list"});
  EXPECT_EQ(QueryValue(http.requests[1], "zone"), "<absent>");

  http.On("GET", "/os-hosts/n%40b", 200,
          {{"host",
            {{{"resource",
               {{"host", "n@b"},
                {"project", "(total)"},
                {"volume_count", "2"},
                {"total_volume_gb", "5"},
                {"snapshot_count", "1"},
                {"total_snapshot_gb", "3"}}}}}}});
  auto show = Run({"host-show", "n@b"});
  ASSERT_EQ(show.code, 0) << show.err;
  EXPECT_NE(show.out.find("| n@b  | (total) | 2       | 5         | 1         | 3           |"),
            std::string::npos)
      << show.out;
  http.On("GET", "/os-hosts/x", 404, {{"itemNotFound", {{"code", 404}, {"message", "gone"}}}});
  EXPECT_EQ(Run({"host-show", "x"}).code, 1);
  EXPECT_EQ(Run({"host-show"}).code, kExitUsage);
}

TEST_F(AdminTest, HostListRejectsAnAnswerWithoutHosts) {
  http.On("GET", "/os-hosts", 200, {{"hosts", "nope"}});
  auto bad = Run({"host-list"});
  EXPECT_EQ(bad.code, 1);
  EXPECT_EQ(bad.err, "scoria: error: the server's answer has no 'hosts' list\n");
}

TEST_F(AdminTest, AvailabilityZones) {
  http.On("GET", "/os-availability-zone", 200,
          {{"availabilityZoneInfo",
            {{{"zoneName", "nova"}, {"zoneState", {{"available", true}}}},
             {{"zoneName", "z2"}, {"zoneState", {{"available", false}}}}}}});
  auto run = Run({"availability-zone-list"});
  ASSERT_EQ(run.code, 0) << run.err;
  EXPECT_NE(run.out.find("| nova | available     |"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("| z2   | not available |"), std::string::npos) << run.out;
}

TEST_F(AdminTest, SummaryMessagesLimits) {
  http.On("GET", "/volumes/summary", 200,
          {{"volume-summary", {{"total_count", 2}, {"total_size", 3}}}});
  http.On("GET", "/messages", 200,
          {{"messages",
            {{{"id", "m1"},
              {"resource_type", "VOLUME"},
              {"resource_uuid", "u"},
              {"event_id", "VOLUME_000001"},
              {"user_message", "boom"},
              {"created_at", "t"}}}}});
  http.On("GET", "/limits", 200,
          {{"limits",
            {{"rate", json::array()},
             {"absolute", {{"maxTotalVolumes", 10}, {"totalVolumesUsed", 2}}}}}});
  auto summary = Run({"summary"});
  ASSERT_EQ(summary.code, 0) << summary.err;
  EXPECT_NE(summary.out.find("| total_count | 2 "), std::string::npos) << summary.out;
  auto messages = Run({"message-list"});
  ASSERT_EQ(messages.code, 0) << messages.err;
  EXPECT_NE(messages.out.find("| m1 | VOLUME        | u             | VOLUME_000001 | boom"),
            std::string::npos)
      << messages.out;
  auto limits = Run({"absolute-limits"});
  ASSERT_EQ(limits.code, 0) << limits.err;
  EXPECT_NE(limits.out.find("| Name             | Value |"), std::string::npos) << limits.out;
  EXPECT_NE(limits.out.find("| maxTotalVolumes  | 10    |"), std::string::npos) << limits.out;
  auto limits_json = Run({"--json", "absolute-limits"});
  EXPECT_EQ(json::parse(limits_json.out)["absolute"]["totalVolumesUsed"], 2);
}

}  // namespace
}  // namespace scoria::cli
