// Requests and output of attach, detach and attachment-list, through RunCli and a fake
// transport.
#include "cli/attachments.h"

#include <gtest/gtest.h>

#include "fake_http_client.h"

namespace scoria::cli {
namespace {

using nlohmann::json;
using testing::BodyOf;
using testing::kVolId;
using testing::QueryValue;
using testing::Volume;

constexpr char kAttId[] = "aaaaaaaa-1111-2222-3333-444444444444";
constexpr char kIqn[] = "iqn.1994-05.com.redhat:h1";

json ConnectionInfo() {
  return {{"driver_volume_type", "iscsi"},
          {"data",
           {{"target_iqn", "iqn.2010-10.org.openstack:volume-x"},
            {"target_portal", "10.0.0.5:3260"},
            {"target_lun", 0},
            {"auth_method", "CHAP"},
            {"auth_username", "User0123456789abcdef"},
            {"auth_password", "Secret0123456789"},
            {"access_mode", "rw"}}},
          {"attachment_id", kAttId}};
}

json Attachment(const std::string& status) {
  return {{"id", kAttId},           {"status", status},
          {"volume_id", kVolId},    {"instance", nullptr},
          {"attach_mode", "rw"},    {"connection_info", ConnectionInfo()},
          {"attached_at", ""},      {"detached_at", ""}};
}

class AttachmentsTest : public testing::CliHarness {};

TEST_F(AttachmentsTest, AttachCreatesCompletesAndPrintsQemuStrings) {
  AddVolume(Volume(kVolId, "v1"));
  http.On("POST", "/attachments", 200, {{"attachment", Attachment("attaching")}});
  http.On("POST", std::string("/attachments/") + kAttId + "/action", 204);
  http.On("GET", std::string("/attachments/") + kAttId, 200,
          {{"attachment", Attachment("attached")}});
  auto run = Run({"attach", "v1", "--initiator", kIqn, "--host", "h1", "--mode", "rw"});
  ASSERT_EQ(run.code, 0) << run.err;
  auto posts = http.Find("POST", "/attachments");
  ASSERT_EQ(posts.size(), 1u);
  EXPECT_EQ(BodyOf(posts[0]),
            (json{{"attachment",
                   {{"volume_uuid", kVolId},
                    {"mode", "rw"},
                    {"connector",
                     {{"initiator", kIqn},
                      {"host", "h1"},
                      {"ip", "127.0.0.1"},
                      {"platform", "x86_64"},
                      {"os_type", "linux"},
                      {"multipath", false}}}}}}));
  auto completes = http.Find("POST", std::string("/attachments/") + kAttId + "/action");
  ASSERT_EQ(completes.size(), 1u);
  EXPECT_EQ(BodyOf(completes[0]), (json{{"os-complete", nullptr}}));
  EXPECT_NE(run.out.find("| target_iqn "), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("--image-opts driver=iscsi,transport=tcp,portal=10.0.0.5:3260,"
                         "target=iqn.2010-10.org.openstack:volume-x,lun=0,"
                         "user=User0123456789abcdef,password=Secret0123456789,"
                         "initiator-name=iqn.1994-05.com.redhat:h1"),
            std::string::npos)
      << run.out;
  EXPECT_NE(run.out.find("-drive file=iscsi://User0123456789abcdef%Secret0123456789@"
                         "10.0.0.5:3260/iqn.2010-10.org.openstack:volume-x/0,"),
            std::string::npos)
      << run.out;
}

TEST_F(AttachmentsTest, AttachJsonPrintsTheAttachment) {
  AddVolume(Volume(kVolId, "v1"));
  http.On("POST", "/attachments", 200, {{"attachment", Attachment("attaching")}});
  http.On("POST", std::string("/attachments/") + kAttId + "/action", 204);
  http.On("GET", std::string("/attachments/") + kAttId, 200,
          {{"attachment", Attachment("attached")}});
  auto run = Run({"--json", "attach", kVolId, "--initiator", kIqn, "--instance", "i-1"});
  ASSERT_EQ(run.code, 0) << run.err;
  json printed = json::parse(run.out);
  EXPECT_EQ(printed["status"], "attached");
  EXPECT_EQ(printed["connection_info"]["data"]["auth_method"], "CHAP");
  EXPECT_EQ(BodyOf(http.Find("POST", "/attachments")[0])["attachment"]["instance_uuid"], "i-1");
}

TEST_F(AttachmentsTest, AttachNeedsInitiatorAndValidMode) {
  EXPECT_EQ(Run({"attach", "v1"}).code, kExitUsage);
  EXPECT_EQ(Run({"attach", "v1", "--initiator", kIqn, "--mode", "rx"}).code, kExitUsage);
  EXPECT_TRUE(http.requests.empty());
}

TEST_F(AttachmentsTest, AttachRefusedByServerIsOneLine) {
  AddVolume(Volume(kVolId, "v1", "in-use"));
  http.On("POST", "/attachments", 400,
          {{"badRequest", {{"code", 400}, {"message", "Invalid volume: busy"}}}});
  auto run = Run({"attach", "v1", "--initiator", kIqn});
  EXPECT_EQ(run.code, kExitError);
  EXPECT_EQ(run.err, "scoria: error: Invalid volume: busy (HTTP 400)\n");
}

TEST_F(AttachmentsTest, DetachFindsTheOnlyAttachment) {
  AddVolume(Volume(kVolId, "v1", "in-use"));
  http.On("GET", "/attachments", 200, {{"attachments", {Attachment("attached")}}});
  http.On("DELETE", std::string("/attachments/") + kAttId, 200, {{"attachments", json::array()}});
  auto run = Run({"detach", "v1"});
  ASSERT_EQ(run.code, 0) << run.err;
  auto lists = http.Find("GET", "/attachments");
  ASSERT_EQ(lists.size(), 1u);
  EXPECT_EQ(QueryValue(lists[0], "volume_id"), kVolId);
  EXPECT_EQ(http.Find("DELETE", std::string("/attachments/") + kAttId).size(), 1u);
}

TEST_F(AttachmentsTest, DetachWithSeveralAttachmentsNeedsAnId) {
  AddVolume(Volume(kVolId, "v1", "in-use"));
  json two = Attachment("attached");
  two["id"] = "bbbbbbbb-1111-2222-3333-444444444444";
  http.On("GET", "/attachments", 200, {{"attachments", {Attachment("attached"), two}}});
  auto run = Run({"detach", "v1"});
  EXPECT_EQ(run.code, kExitError);
  EXPECT_NE(run.err.find("has 2 attachments; name one with --attachment"), std::string::npos);
  http.On("DELETE", "/attachments/bbbbbbbb-1111-2222-3333-444444444444", 200,
          {{"attachments", json::array()}});
  EXPECT_EQ(Run({"detach", "v1", "--attachment", two["id"]}).code, 0);
}

TEST_F(AttachmentsTest, ListPrintsTable) {
  http.On("GET", "/attachments", 200, {{"attachments", {Attachment("attached")}}});
  auto run = Run({"attachment-list", "--all-tenants"});
  ASSERT_EQ(run.code, 0) << run.err;
  EXPECT_NE(run.out.find("| ID "), std::string::npos);
  EXPECT_NE(run.out.find(std::string("| ") + kAttId), std::string::npos);
  EXPECT_NE(run.out.find("attached"), std::string::npos);
  EXPECT_EQ(QueryValue(http.requests[0], "all_tenants"), "1");
}

}  // namespace
}  // namespace scoria::cli
