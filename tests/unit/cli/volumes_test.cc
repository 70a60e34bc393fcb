// Request building and output of the volume verbs, through RunCli and a fake transport.
#include "cli/volumes.h"

#include <gtest/gtest.h>

#include "fake_http_client.h"

namespace scoria::cli {
namespace {

using nlohmann::json;
using testing::BodyOf;
using testing::kVolId;
using testing::kVolId2;
using testing::QueryValue;
using testing::Volume;

class VolumesTest : public testing::CliHarness {};

const std::string kVolPath = std::string("/volumes/") + kVolId;

TEST_F(VolumesTest, CreateSendsOnlyGivenFieldsAndPrintsProperties) {
  http.On("POST", "/volumes", 202, {{"volume", Volume(kVolId, "v1", "creating", 10)}});
  auto run = Run({"create", "10", "--name", "v1", "--description", "d", "--volume-type", "gold",
                  "--availability-zone", "nova", "--metadata", "a=1", "b=x=y"});
  ASSERT_EQ(run.code, 0) << run.err;
  auto posts = http.Find("POST", "/volumes");
  ASSERT_EQ(posts.size(), 1u);
  EXPECT_EQ(BodyOf(posts[0]), (json{{"volume",
                                     {{"size", 10},
                                      {"name", "v1"},
                                      {"description", "d"},
                                      {"volume_type", "gold"},
                                      {"availability_zone", "nova"},
                                      {"metadata", {{"a", "1"}, {"b", "x=y"}}}}}}));
  EXPECT_NE(run.out.find("| Property "), std::string::npos);
  EXPECT_NE(run.out.find("| status      | creating "), std::string::npos);
  EXPECT_EQ(run.out.find("links"), std::string::npos);
}

TEST_F(VolumesTest, CreateMinimalBody) {
  http.On("POST", "/volumes", 202, {{"volume", Volume(kVolId, "", "creating")}});
  ASSERT_EQ(Run({"create", "1"}).code, 0);
  EXPECT_EQ(BodyOf(http.requests[0]), (json{{"volume", {{"size", 1}}}}));
}

TEST_F(VolumesTest, CreateWaitPollsAndPrintsFinalVolumeAsJson) {
  http.On("POST", "/volumes", 202, {{"volume", Volume(kVolId, "v1", "creating")}});
  http.On("GET", kVolPath, 200, {{"volume", Volume(kVolId, "v1", "creating")}});
  http.On("GET", kVolPath, 200, {{"volume", Volume(kVolId, "v1", "available")}});
  auto run = Run({"--json", "create", "1", "--wait"});
  ASSERT_EQ(run.code, 0) << run.err;
  json printed = json::parse(run.out);
  EXPECT_EQ(printed["status"], "available");
  EXPECT_EQ(printed["id"], kVolId);
  EXPECT_NE(run.err.find(": available"), std::string::npos);
}

TEST_F(VolumesTest, CreateWaitEndingInErrorExits4WithUserMessage) {
  http.On("POST", "/volumes", 202, {{"volume", Volume(kVolId, "v1", "creating")}});
  http.On("GET", kVolPath, 200, {{"volume", Volume(kVolId, "v1", "error")}});
  http.On("GET", "/messages", 200,
          {{"messages", {{{"user_message", "No valid backend was found."}, {"created_at", "x"}}}}});
  auto run = Run({"create", "1", "--wait"});
  EXPECT_EQ(run.code, kExitWaitFailed);
  EXPECT_NE(run.err.find(std::string("scoria: error: volume ") + kVolId +
                         " is in status 'error': No valid backend was found.\n"),
            std::string::npos);
  EXPECT_EQ(run.out, "");
}

TEST_F(VolumesTest, CreateRejectsBadSizeAndMetadata) {
  EXPECT_EQ(Run({"create", "0"}).code, kExitUsage);
  EXPECT_EQ(Run({"create", "abc"}).code, kExitUsage);
  EXPECT_EQ(Run({"create"}).code, kExitUsage);
  auto run = Run({"create", "1", "--metadata", "novalue"});
  EXPECT_EQ(run.code, kExitError);
  EXPECT_EQ(run.err, "scoria: error: expected key=value, got 'novalue'\n");
  EXPECT_TRUE(http.requests.empty());
}

TEST_F(VolumesTest, ListBuildsQueryAndTable) {
  json v = Volume(kVolId, "v1", "in-use", 2);
  v["attachments"] = {{{"server_id", "srv1"}}, {{"server_id", "srv2"}}};
  json w = Volume(kVolId2, "v2");
  w["name"] = nullptr;
  http.On("GET", "/volumes/detail", 200, {{"volumes", {v, w}}});
  auto run = Run({"list", "--all-tenants", "--name", "v1", "--status", "in-use", "--limit", "5",
                  "--marker", kVolId2, "--sort", "name:asc"});
  ASSERT_EQ(run.code, 0) << run.err;
  const auto& q = http.requests[0];
  EXPECT_EQ(q.path, "/volumes/detail");
  EXPECT_EQ(q.query, (Query{{"all_tenants", "1"},
                            {"name", "v1"},
                            {"status", "in-use"},
                            {"limit", "5"},
                            {"marker", kVolId2},
                            {"sort", "name:asc"}}));
  EXPECT_NE(run.out.find("| ID "), std::string::npos);
  EXPECT_NE(run.out.find("| Attached to |"), std::string::npos);
  EXPECT_NE(run.out.find("| srv1,srv2 "), std::string::npos);
  EXPECT_NE(run.out.find("| -    "), std::string::npos);
}

TEST_F(VolumesTest, ListWithoutLimitFollowsNextLinks) {
  http.On("GET", "/volumes/detail", 200,
          {{"volumes", {Volume(kVolId, "a")}},
           {"volumes_links",
            {{{"rel", "next"},
              {"href", "http://x/v3/volumes/detail?marker=" + std::string(kVolId)}}}}});
  http.On("GET", "/volumes/detail", 200, {{"volumes", {Volume(kVolId2, "b")}}});
  auto run = Run({"--json", "list"});
  ASSERT_EQ(run.code, 0) << run.err;
  json printed = json::parse(run.out);
  ASSERT_TRUE(printed.is_array());
  EXPECT_EQ(printed.size(), 2u);
  EXPECT_EQ(http.requests.size(), 2u);
}

TEST_F(VolumesTest, ListWithLimitDoesNotFollowLinks) {
  http.On(
      "GET", "/volumes/detail", 200,
      {{"volumes", {Volume(kVolId, "a")}},
       {"volumes_links", {{{"rel", "next"}, {"href", "http://x/v3/volumes/detail?marker=a"}}}}});
  ASSERT_EQ(Run({"list", "--limit", "1"}).code, 0);
  EXPECT_EQ(http.requests.size(), 1u);
}

TEST_F(VolumesTest, ShowByNameUsesNameLookup) {
  AddVolume(Volume(kVolId, "v1"));
  auto run = Run({"show", "v1"});
  ASSERT_EQ(run.code, 0) << run.err;
  EXPECT_EQ(QueryValue(http.requests[0], "name"), "v1");
  EXPECT_NE(run.out.find(std::string("| id          | ") + kVolId), std::string::npos);
}

TEST_F(VolumesTest, ShowUnknownVolumeExits1) {
  http.On("GET", "/volumes/detail", 200, {{"volumes", json::array()}});
  auto run = Run({"show", "ghost"});
  EXPECT_EQ(run.code, kExitError);
  EXPECT_EQ(run.err, "scoria: error: No volume with a name or ID of 'ghost' exists.\n");
  EXPECT_EQ(run.out, "");
}

TEST_F(VolumesTest, UpdatePutsNameAndDescription) {
  AddVolume(Volume(kVolId, "v1"));
  http.On("PUT", kVolPath, 200, {{"volume", Volume(kVolId, "v2")}});
  auto run = Run({"update", "v1", "--name", "v2", "--description", "new"});
  ASSERT_EQ(run.code, 0) << run.err;
  auto puts = http.Find("PUT", kVolPath);
  ASSERT_EQ(puts.size(), 1u);
  EXPECT_EQ(BodyOf(puts[0]), (json{{"volume", {{"name", "v2"}, {"description", "new"}}}}));
  EXPECT_NE(run.out.find("| name "), std::string::npos);
}

TEST_F(VolumesTest, UpdateWithoutChangesIsUsageError) {
  auto run = Run({"update", "v1"});
  EXPECT_EQ(run.code, kExitUsage);
  EXPECT_TRUE(http.requests.empty());
}

TEST_F(VolumesTest, DeleteWithCascadeForceAndWait) {
  AddVolume(Volume(kVolId, "v1"));
  http.On("DELETE", kVolPath, 202);
  // After the delete: deleting, then gone.
  auto run_setup = [&] {
    http.On("GET", kVolPath, 200, {{"volume", Volume(kVolId, "v1", "deleting")}});
    http.On("GET", kVolPath, 404, {{"itemNotFound", {{"code", 404}, {"message", "gone"}}}});
  };
  run_setup();
  auto run = Run({"delete", kVolId, "--cascade", "--force", "--wait"});
  ASSERT_EQ(run.code, 0) << run.err;
  auto dels = http.Find("DELETE", kVolPath);
  ASSERT_EQ(dels.size(), 1u);
  EXPECT_EQ(dels[0].query, (Query{{"cascade", "true"}, {"force", "true"}}));
  EXPECT_NE(run.out.find(std::string("Request to delete volume ") + kVolId + " has been accepted."),
            std::string::npos);
  EXPECT_NE(run.err.find(": deleted"), std::string::npos);
}

TEST_F(VolumesTest, DeleteSeveralReportsEachFailureAndExits1) {
  AddVolume(Volume(kVolId, "v1"));
  http.On("DELETE", kVolPath, 202);
  http.On("GET", "/volumes/detail", 200, {{"volumes", json::array()}});
  auto run = Run({"delete", kVolId, "ghost"});
  EXPECT_EQ(run.code, kExitError);
  EXPECT_NE(run.out.find("Request to delete volume"), std::string::npos);
  EXPECT_NE(run.err.find(
                "Delete for volume ghost failed: No volume with a name or ID of 'ghost' exists.\n"),
            std::string::npos);
  EXPECT_NE(run.err.find("scoria: error: Delete failed for 1 of 2 volumes\n"), std::string::npos);
}

TEST_F(VolumesTest, DeleteApiErrorShowsFaultMessage) {
  AddVolume(Volume(kVolId, "v1"));
  http.On("DELETE", kVolPath, 400,
          {{"badRequest",
            {{"code", 400},
             {"message",
              "Invalid volume: Volume status must be available or error or error_restoring or "
              "error_extending or error_managing and must not be migrating, attached, belong to a "
              "group, have snapshots, awaiting a transfer, or be disassociated from snapshots "
              "after volume transfer."}}}});
  auto run = Run({"delete", "v1"});
  EXPECT_EQ(run.code, kExitError);
  EXPECT_EQ(run.err.rfind("scoria: error: Invalid volume: Volume status must be", 0), 0u);
  EXPECT_NE(run.err.find("(HTTP 400)\n"), std::string::npos);
}

TEST_F(VolumesTest, ExtendSendsNewSizeAndWaitsForIt) {
  AddVolume(Volume(kVolId, "v1"));
  http.On("POST", kVolPath + "/action", 202);
  http.On("GET", kVolPath, 200, {{"volume", Volume(kVolId, "v1", "extending", 1)}});
  http.On("GET", kVolPath, 200, {{"volume", Volume(kVolId, "v1", "available", 2)}});
  auto run = Run({"extend", "v1", "2", "--wait"});
  ASSERT_EQ(run.code, 0) << run.err;
  auto posts = http.Find("POST", kVolPath + "/action");
  ASSERT_EQ(posts.size(), 1u);
  EXPECT_EQ(BodyOf(posts[0]), (json{{"os-extend", {{"new_size", 2}}}}));
  EXPECT_EQ(run.out, "");
}

TEST_F(VolumesTest, ExtendRolledBackToOldSizeFails) {
  http.On("GET", kVolPath, 200, {{"volume", Volume(kVolId, "v1", "available", 1)}});  // resolve
  http.On("GET", kVolPath, 200, {{"volume", Volume(kVolId, "v1", "extending", 1)}});
  http.On("GET", kVolPath, 200, {{"volume", Volume(kVolId, "v1", "available", 1)}});
  http.On("POST", kVolPath + "/action", 202);
  auto run = Run({"extend", kVolId, "5", "--wait"});
  EXPECT_EQ(run.code, kExitWaitFailed);
  EXPECT_NE(run.err.find("is in status 'available'"), std::string::npos);
}

TEST_F(VolumesTest, ResetStateBody) {
  AddVolume(Volume(kVolId, "v1"));
  http.On("POST", kVolPath + "/action", 202);
  ASSERT_EQ(Run({"reset-state", "v1", "--state", "error", "--attach-status", "detached",
                 "--reset-migration-status"})
                .code,
            0);
  EXPECT_EQ(
      BodyOf(http.Find("POST", kVolPath + "/action")[0]),
      (json{{"os-reset_status",
             {{"status", "error"}, {"attach_status", "detached"}, {"migration_status", "none"}}}}));
}

TEST_F(VolumesTest, ResetStateDefaultsToAvailable) {
  AddVolume(Volume(kVolId, "v1"));
  http.On("POST", kVolPath + "/action", 202);
  ASSERT_EQ(Run({"reset-state", "v1"}).code, 0);
  EXPECT_EQ(BodyOf(http.Find("POST", kVolPath + "/action")[0]),
            (json{{"os-reset_status", {{"status", "available"}}}}));
}

TEST_F(VolumesTest, ForceDeleteSendsNullArgs) {
  AddVolume(Volume(kVolId, "v1"));
  http.On("POST", kVolPath + "/action", 202);
  ASSERT_EQ(Run({"force-delete", "v1"}).code, 0);
  EXPECT_EQ(http.Find("POST", kVolPath + "/action")[0].body, R"({"os-force_delete":null})");
}

TEST_F(VolumesTest, SetBootableAndReadonly) {
  AddVolume(Volume(kVolId, "v1"));
  http.On("POST", kVolPath + "/action", 200);
  ASSERT_EQ(Run({"set-bootable", "v1", "true"}).code, 0);
  ASSERT_EQ(Run({"readonly-mode-update", "v1", "False"}).code, 0);
  auto posts = http.Find("POST", kVolPath + "/action");
  ASSERT_EQ(posts.size(), 2u);
  EXPECT_EQ(BodyOf(posts[0]), (json{{"os-set_bootable", {{"bootable", true}}}}));
  EXPECT_EQ(BodyOf(posts[1]), (json{{"os-update_readonly_flag", {{"readonly", false}}}}));
  EXPECT_EQ(Run({"set-bootable", "v1", "maybe"}).code, kExitUsage);
}

TEST_F(VolumesTest, MetadataSetAndUnset) {
  AddVolume(Volume(kVolId, "v1"));
  http.On("POST", kVolPath + "/metadata", 200, {{"metadata", {{"a", "1"}, {"b", "2"}}}});
  http.On("DELETE", kVolPath + "/metadata/a", 200);
  http.On("DELETE", kVolPath + "/metadata/odd%20key", 200);
  auto set = Run({"--json", "metadata", "v1", "set", "a=1", "b=2"});
  ASSERT_EQ(set.code, 0) << set.err;
  EXPECT_EQ(BodyOf(http.Find("POST", kVolPath + "/metadata")[0]),
            (json{{"metadata", {{"a", "1"}, {"b", "2"}}}}));
  EXPECT_EQ(json::parse(set.out), (json{{"a", "1"}, {"b", "2"}}));
  auto unset = Run({"metadata", "v1", "unset", "a", "odd key=whatever"});
  ASSERT_EQ(unset.code, 0) << unset.err;
  EXPECT_EQ(http.Find("DELETE", kVolPath + "/metadata/a").size(), 1u);
  EXPECT_EQ(http.Find("DELETE", kVolPath + "/metadata/odd%20key").size(), 1u);
  EXPECT_EQ(Run({"metadata", "v1", "frob", "a=1"}).code, kExitUsage);
}

TEST_F(VolumesTest, MetadataShowUsesTheVolumesMetadata) {
  json v = Volume(kVolId, "v1");
  v["metadata"] = {{"k", "v"}};
  AddVolume(v);
  auto run = Run({"metadata-show", "v1"});
  ASSERT_EQ(run.code, 0) << run.err;
  EXPECT_NE(run.out.find("| Metadata-property | Value |"), std::string::npos);
  EXPECT_NE(run.out.find("| k                 | v     |"), std::string::npos);
}

TEST(VolumeListRow, Columns) {
  json v = Volume(kVolId, "v", "in-use", 3);
  v["attachments"] = {{{"server_id", "s"}}};
  EXPECT_EQ(VolumeListRow(v), (Row{kVolId, "in-use", "v", "3", "__DEFAULT__", "false", "s"}));
}

}  // namespace
}  // namespace scoria::cli
