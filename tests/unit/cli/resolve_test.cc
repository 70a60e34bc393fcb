#include "cli/resolve.h"

#include <gtest/gtest.h>

#include "fake_http_client.h"

namespace scoria::cli {
namespace {

using nlohmann::json;
using testing::FakeHttpClient;
using testing::kTypeId;
using testing::kVolId;
using testing::kVolId2;
using testing::QueryValue;
using testing::Volume;

TEST(IsUuidLike, DashedAndCompactHex) {
  EXPECT_TRUE(IsUuidLike("11111111-2222-3333-4444-555555555555"));
  EXPECT_TRUE(IsUuidLike("ABCDEF01-2222-3333-4444-555555555555"));
  EXPECT_TRUE(IsUuidLike("1111111122223333444455555555aaaa"));
  EXPECT_FALSE(IsUuidLike("vol1"));
  EXPECT_FALSE(IsUuidLike("11111111-2222-3333-4444-55555555555g"));
  EXPECT_FALSE(IsUuidLike("111111112-222-3333-4444-555555555555"));
  EXPECT_FALSE(IsUuidLike(""));
}

TEST(FindVolume, UuidIsFetchedByIdOnly) {
  FakeHttpClient http;
  http.On("GET", std::string("/volumes/") + kVolId, 200, {{"volume", Volume(kVolId, "v")}});
  ApiClient api(http, {});
  auto r = FindVolume(api, kVolId);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)["name"], "v");
  EXPECT_EQ(http.requests.size(), 1u);
}

TEST(FindVolume, NameIsListedWithAllTenantsAndNameFilter) {
  FakeHttpClient http;
  http.On("GET", "/volumes/detail", 200, {{"volumes", {Volume(kVolId, "vol1")}}});
  ApiClient api(http, {});
  auto r = FindVolume(api, "vol1");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)["id"], kVolId);
  ASSERT_EQ(http.requests.size(), 1u);  // not a UUID: no GET by id
  EXPECT_EQ(http.requests[0].path, "/volumes/detail");
  EXPECT_EQ(QueryValue(http.requests[0], "all_tenants"), "1");
  EXPECT_EQ(QueryValue(http.requests[0], "name"), "vol1");
}

TEST(FindVolume, UuidNotFoundFallsBackToName) {
  FakeHttpClient http;  // GET /volumes/<id> answers the fake's 404
  http.On("GET", "/volumes/detail", 200, {{"volumes", {Volume(kVolId2, kVolId)}}});
  ApiClient api(http, {});
  auto r = FindVolume(api, kVolId);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)["id"], kVolId2);
  EXPECT_EQ(http.requests.size(), 2u);
}

TEST(FindVolume, NoMatchIsNotFoundWithCinderMessage) {
  FakeHttpClient http;
  http.On("GET", "/volumes/detail", 200, {{"volumes", json::array()}});
  ApiClient api(http, {});
  auto r = FindVolume(api, "nope");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(r.status().message(), "No volume with a name or ID of 'nope' exists.");
}

TEST(FindVolume, OnlyExactNameMatchesCount) {
  FakeHttpClient http;  // a server that ignores the filter, or matched a prefix
  http.On("GET", "/volumes/detail", 200,
          {{"volumes", {Volume(kVolId, "vol10"), Volume(kVolId2, "vol1")}}});
  ApiClient api(http, {});
  auto r = FindVolume(api, "vol1");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)["id"], kVolId2);
}

TEST(FindVolume, SeveralMatchesAskForAnId) {
  FakeHttpClient http;
  http.On("GET", "/volumes/detail", 200,
          {{"volumes", {Volume(kVolId, "dup"), Volume(kVolId2, "dup")}}});
  ApiClient api(http, {});
  auto r = FindVolume(api, "dup");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(),
            "Multiple volume matches found for 'dup', use an ID to be more specific.");
}

TEST(FindVolume, ServerErrorOnGetByIdIsNotMaskedByNameLookup) {
  FakeHttpClient http;
  http.On("GET", std::string("/volumes/") + kVolId, 500,
          {{"computeFault", {{"code", 500}, {"message", "boom"}}}});
  ApiClient api(http, {});
  auto r = FindVolume(api, kVolId);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "boom (HTTP 500)");
  EXPECT_EQ(http.requests.size(), 1u);
}

TEST(FindVolumeType, NameMatchedInFullListIncludingPrivate) {
  FakeHttpClient http;
  http.On(
      "GET", "/types", 200,
      {{"volume_types", {{{"id", kTypeId}, {"name", "gold"}}, {{"id", "x"}, {"name", "silver"}}}}});
  ApiClient api(http, {});
  auto r = FindVolumeType(api, "gold");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)["id"], kTypeId);
  EXPECT_EQ(QueryValue(http.requests[0], "is_public"), "None");
  EXPECT_EQ(QueryValue(http.requests[0], "name"), "<absent>");
}

TEST(FindVolumeType, MissingTypeMessage) {
  FakeHttpClient http;
  http.On("GET", "/types", 200, {{"volume_types", json::array()}});
  ApiClient api(http, {});
  auto r = FindVolumeType(api, "gold");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "No volume type with a name or ID of 'gold' exists.");
}

TEST(FindVolumeType, UuidFetchedById) {
  FakeHttpClient http;
  http.On("GET", std::string("/types/") + kTypeId, 200,
          {{"volume_type", {{"id", kTypeId}, {"name", "gold"}}}});
  ApiClient api(http, {});
  auto r = FindVolumeType(api, kTypeId);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)["name"], "gold");
}

}  // namespace
}  // namespace scoria::cli
