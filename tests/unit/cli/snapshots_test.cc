// Request building and output of the snapshot verbs (and create from a source), through
// RunCli and a fake transport.
#include "cli/snapshots.h"

#include <gtest/gtest.h>

#include "fake_http_client.h"

namespace scoria::cli {
namespace {

using nlohmann::json;
using testing::BodyOf;
using testing::kVolId;
using testing::kVolId2;
using testing::Volume;

class SnapshotsTest : public testing::CliHarness {};

const std::string kSnapId = "11111111-2222-3333-4444-555555555555";
const std::string kSnapPath = "/snapshots/" + kSnapId;

json Snapshot(const std::string& status) {
  return {{"id", kSnapId}, {"volume_id", kVolId}, {"status", status}, {"name", "s1"}, {"size", 1}};
}

TEST_F(SnapshotsTest, CreateResolvesVolumeSendsForceAndWaits) {
  http.On("GET", std::string("/volumes/") + kVolId, 200, {{"volume", Volume(kVolId, "v1")}});
  http.On("POST", "/snapshots", 202, {{"snapshot", Snapshot("creating")}});
  http.On("GET", kSnapPath, 200, {{"snapshot", Snapshot("creating")}});
  http.On("GET", kSnapPath, 200, {{"snapshot", Snapshot("available")}});
  auto run = Run({"--json", "snapshot-create", kVolId, "--name", "s1", "--force", "--metadata",
                  "a=1", "--wait"});
  ASSERT_EQ(run.code, 0) << run.err;
  auto posts = http.Find("POST", "/snapshots");
  ASSERT_EQ(posts.size(), 1u);
  EXPECT_EQ(
      BodyOf(posts[0]),
      (json{
          {"snapshot",
           {{"volume_id", kVolId}, {"name", "s1"}, {"force", true}, {"metadata", {{"a", "1"}}}}}}));
  EXPECT_EQ(json::parse(run.out)["status"], "available");
}

TEST_F(SnapshotsTest, CreateWithoutForceSendsNoForce) {
  http.On("GET", std::string("/volumes/") + kVolId, 200, {{"volume", Volume(kVolId, "v1")}});
  http.On("POST", "/snapshots", 202, {{"snapshot", Snapshot("creating")}});
  ASSERT_EQ(Run({"snapshot-create", kVolId}).code, 0);
  EXPECT_EQ(BodyOf(http.Find("POST", "/snapshots")[0]),
            (json{{"snapshot", {{"volume_id", kVolId}}}}));
}

TEST_F(SnapshotsTest, ListPrintsTableWithFilters) {
  http.On("GET", "/snapshots/detail", 200, {{"snapshots", {Snapshot("available")}}});
  auto run = Run({"snapshot-list", "--status", "available", "--limit", "3"});
  ASSERT_EQ(run.code, 0) << run.err;
  EXPECT_NE(run.out.find(kSnapId), std::string::npos);
  EXPECT_NE(run.out.find("| available |"), std::string::npos);
  EXPECT_NE(http.requests[0].path.find("/snapshots/detail"), std::string::npos);
}

TEST_F(SnapshotsTest, DeleteWaitsUntilGone) {
  http.On("GET", kSnapPath, 200, {{"snapshot", Snapshot("available")}});
  http.On("DELETE", kSnapPath, 202, nullptr);
  http.On("GET", kSnapPath, 404, {{"itemNotFound", {{"message", "gone"}, {"code", 404}}}});
  auto run = Run({"snapshot-delete", kSnapId, "--wait"});
  ASSERT_EQ(run.code, 0) << run.err;
  EXPECT_EQ(http.Find("DELETE", kSnapPath).size(), 1u);
}

TEST_F(SnapshotsTest, RevertPostsTheAction) {
  http.On("GET", std::string("/volumes/") + kVolId, 200, {{"volume", Volume(kVolId, "v1")}});
  http.On("GET", kSnapPath, 200, {{"snapshot", Snapshot("available")}});
  http.On("POST", std::string("/volumes/") + kVolId + "/action", 202, nullptr);
  auto run = Run({"revert", kVolId, kSnapId});
  ASSERT_EQ(run.code, 0) << run.err;
  auto posts = http.Find("POST", std::string("/volumes/") + kVolId + "/action");
  ASSERT_EQ(posts.size(), 1u);
  EXPECT_EQ(BodyOf(posts[0]), (json{{"revert", {{"snapshot_id", kSnapId}}}}));
}

TEST_F(SnapshotsTest, CreateVolumeFromSnapshotOrSourceWithoutSize) {
  http.On("GET", kSnapPath, 200, {{"snapshot", Snapshot("available")}});
  http.On("POST", "/volumes", 202, {{"volume", Volume(kVolId2, "", "creating")}});
  ASSERT_EQ(Run({"create", "--snapshot-id", kSnapId}).code, 0);
  EXPECT_EQ(BodyOf(http.Find("POST", "/volumes")[0]),
            (json{{"volume", {{"snapshot_id", kSnapId}}}}));
  http.On("GET", std::string("/volumes/") + kVolId, 200, {{"volume", Volume(kVolId, "v1")}});
  http.On("POST", "/volumes", 202, {{"volume", Volume(kVolId2, "", "creating")}});
  ASSERT_EQ(Run({"create", "2", "--source-volid", kVolId}).code, 0);
  EXPECT_EQ(BodyOf(http.Find("POST", "/volumes")[1]),
            (json{{"volume", {{"size", 2}, {"source_volid", kVolId}}}}));
  // both sources, or neither and no size: usage errors, nothing sent
  const size_t sent = http.requests.size();
  EXPECT_EQ(Run({"create", "--snapshot-id", kSnapId, "--source-volid", kVolId}).code, kExitUsage);
  EXPECT_EQ(Run({"create"}).code, kExitUsage);
  EXPECT_EQ(http.requests.size(), sent);
}

}  // namespace
}  // namespace scoria::cli
