// Request building and output of the volume-type verbs.
#include "cli/types.h"

#include <gtest/gtest.h>

#include "fake_http_client.h"

namespace scoria::cli {
namespace {

using nlohmann::json;
using testing::BodyOf;
using testing::kTypeId;
using testing::QueryValue;

class TypesTest : public testing::CliHarness {
 protected:
  void AddType(const std::string& name = "gold") {
    type = {{"id", kTypeId},
            {"name", name},
            {"description", nullptr},
            {"is_public", true},
            {"extra_specs", {{"volume_backend_name", "b1"}}}};
    http.On("GET", "/types", 200, {{"volume_types", {type}}});
    http.On("GET", kTypePath, 200, {{"volume_type", type}});
  }
  json type;
  const std::string kTypePath = std::string("/types/") + kTypeId;
};

TEST_F(TypesTest, TypeCreateBodyAndRow) {
  http.On("POST", "/types", 200,
          {{"volume_type",
            {{"id", kTypeId}, {"name", "gold"}, {"description", "fast"}, {"is_public", false}}}});
  auto run = Run({"type-create", "gold", "--description", "fast", "--is-public", "false"});
  ASSERT_EQ(run.code, 0) << run.err;
  EXPECT_EQ(BodyOf(http.requests[0]), (json{{"volume_type",
                                             {{"name", "gold"},
                                              {"description", "fast"},
                                              {"os-volume-type-access:is_public", false}}}}));
  EXPECT_NE(run.out.find("| ID "), std::string::npos);
  EXPECT_NE(run.out.find("| Is_Public |"), std::string::npos);
  EXPECT_NE(run.out.find("| gold | fast        | False     |"), std::string::npos);
}

TEST_F(TypesTest, TypeCreateDefaultsToPublic) {
  http.On("POST", "/types", 200, {{"volume_type", {{"id", kTypeId}, {"name", "gold"}}}});
  ASSERT_EQ(Run({"type-create", "gold"}).code, 0);
  EXPECT_EQ(BodyOf(http.requests[0]),
            (json{{"volume_type", {{"name", "gold"}, {"os-volume-type-access:is_public", true}}}}));
}

TEST_F(TypesTest, TypeCreateConflictShowsFault) {
  http.On(
      "POST", "/types", 409,
      {{"conflictingRequest", {{"code", 409}, {"message", "Volume Type gold already exists."}}}});
  auto run = Run({"type-create", "gold"});
  EXPECT_EQ(run.code, kExitError);
  EXPECT_EQ(run.err, "scoria: error: Volume Type gold already exists. (HTTP 409)\n");
}

TEST_F(TypesTest, TypeListAsksForPublicAndPrivate) {
  AddType();
  auto run = Run({"type-list"});
  ASSERT_EQ(run.code, 0) << run.err;
  EXPECT_EQ(http.requests[0].path, "/types");
  EXPECT_EQ(QueryValue(http.requests[0], "is_public"), "None");
  EXPECT_NE(run.out.find(std::string("| ") + kTypeId + " | gold | -           | True      |"),
            std::string::npos)
      << run.out;
}

TEST_F(TypesTest, TypeShowByName) {
  AddType();
  auto run = Run({"type-show", "gold"});
  ASSERT_EQ(run.code, 0) << run.err;
  EXPECT_NE(run.out.find("| extra_specs | {\"volume_backend_name\":\"b1\"}"), std::string::npos)
      << run.out;
}

TEST_F(TypesTest, TypeUpdatePutsChanges) {
  AddType();
  http.On("PUT", kTypePath, 200, {{"volume_type", {{"id", kTypeId}, {"name", "platinum"}}}});
  ASSERT_EQ(Run({"type-update", "gold", "--name", "platinum", "--is-public", "true"}).code, 0);
  EXPECT_EQ(BodyOf(http.Find("PUT", kTypePath)[0]),
            (json{{"volume_type", {{"name", "platinum"}, {"is_public", true}}}}));
  EXPECT_EQ(Run({"type-update", "gold"}).code, kExitUsage);
}

TEST_F(TypesTest, TypeDeleteSeveral) {
  AddType();
  http.On("DELETE", kTypePath, 202);
  auto run = Run({"type-delete", "gold", kTypeId});
  ASSERT_EQ(run.code, 0) << run.err;
  EXPECT_EQ(http.Find("DELETE", kTypePath).size(), 2u);
  EXPECT_NE(run.out.find("Request to delete volume type gold has been accepted."),
            std::string::npos);
}

TEST_F(TypesTest, TypeKeySetAndUnset) {
  AddType();
  http.On("POST", kTypePath + "/extra_specs", 200,
          {{"extra_specs", {{"volume_backend_name", "b2"}}}});
  http.On("DELETE", kTypePath + "/extra_specs/volume_backend_name", 202);
  ASSERT_EQ(Run({"type-key", "gold", "set", "volume_backend_name=b2"}).code, 0);
  EXPECT_EQ(BodyOf(http.Find("POST", kTypePath + "/extra_specs")[0]),
            (json{{"extra_specs", {{"volume_backend_name", "b2"}}}}));
  ASSERT_EQ(Run({"type-key", "gold", "unset", "volume_backend_name"}).code, 0);
  EXPECT_EQ(http.Find("DELETE", kTypePath + "/extra_specs/volume_backend_name").size(), 1u);
}

TEST_F(TypesTest, TypeKeyInUseErrorIsReported) {
  AddType();
  http.On("POST", kTypePath + "/extra_specs", 400,
          {{"badRequest", {{"code", 400}, {"message", "Volume Type is currently in use."}}}});
  auto run = Run({"type-key", "gold", "set", "a=b"});
  EXPECT_EQ(run.code, kExitError);
  EXPECT_EQ(run.err, "scoria: error: Volume Type is currently in use. (HTTP 400)\n");
}

TEST_F(TypesTest, TypeDefaultAndExtraSpecsList) {
  AddType();
  http.On("GET", "/types/default", 200, {{"volume_type", type}});
  auto def = Run({"--json", "type-default"});
  ASSERT_EQ(def.code, 0) << def.err;
  EXPECT_EQ(json::parse(def.out)["name"], "gold");
  auto specs = Run({"extra-specs-list"});
  ASSERT_EQ(specs.code, 0) << specs.err;
  EXPECT_NE(specs.out.find("| extra_specs "), std::string::npos);
  EXPECT_NE(specs.out.find("{\"volume_backend_name\":\"b1\"}"), std::string::npos);
}

}  // namespace
}  // namespace scoria::cli
