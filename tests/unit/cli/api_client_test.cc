#include "cli/api_client.h"

#include <gtest/gtest.h>

#include "fake_http_client.h"

namespace scoria::cli {
namespace {

using nlohmann::json;
using testing::FakeHttpClient;

HttpResponse Response(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

TEST(ErrorFromResponse, CinderFaultBodyGivesMessageAndHttpCode) {
  Status st = ErrorFromResponse(Response(
      404, R"({"itemNotFound": {"code": 404, "message": "Volume x could not be found."}})"));
  EXPECT_EQ(st.code(), StatusCode::kNotFound);
  EXPECT_EQ(st.message(), "Volume x could not be found. (HTTP 404)");
}

TEST(ErrorFromResponse, StatusCodesMapToCanonicalCodes) {
  auto code = [](int http) { return ErrorFromResponse(Response(http, "")).code(); };
  EXPECT_EQ(code(400), StatusCode::kInvalidArgument);
  EXPECT_EQ(code(403), StatusCode::kInvalidArgument);
  EXPECT_EQ(code(406), StatusCode::kUnsupportedVersion);
  EXPECT_EQ(code(409), StatusCode::kConflict);
  EXPECT_EQ(code(413), StatusCode::kResourceExhausted);
  EXPECT_EQ(code(500), StatusCode::kInternal);
  EXPECT_EQ(code(501), StatusCode::kNotImplemented);
  // Never the codes reserved for transport failures and --wait.
  EXPECT_EQ(code(503), StatusCode::kInternal);
}

TEST(ErrorFromResponse, OverLimitAndDetailsAndTopLevelMessage) {
  EXPECT_EQ(
      ErrorFromResponse(
          Response(413, R"({"overLimit": {"code": 413, "message": "Quota", "retryAfter": "0"}})"))
          .message(),
      "Quota (HTTP 413)");
  EXPECT_EQ(
      ErrorFromResponse(Response(400, R"({"badRequest": {"details": "bad thing"}})")).message(),
      "bad thing (HTTP 400)");
  EXPECT_EQ(ErrorFromResponse(Response(400, R"({"message": "plain"})")).message(),
            "plain (HTTP 400)");
}

TEST(ErrorFromResponse, PlainTextBodyIsCollapsedToOneLine) {
  EXPECT_EQ(
      ErrorFromResponse(Response(404, "404 Not Found\n\nThe resource could not be found.\n\n"))
          .message(),
      "404 Not Found The resource could not be found. (HTTP 404)");
}

TEST(ErrorFromResponse, HtmlOrEmptyBodyFallsBackToReasonPhrase) {
  EXPECT_EQ(ErrorFromResponse(Response(502, "<html><body>Bad gateway</body></html>")).message(),
            "Unexpected response (HTTP 502)");
  EXPECT_EQ(ErrorFromResponse(Response(404, "")).message(), "Not Found (HTTP 404)");
  EXPECT_EQ(ErrorFromResponse(Response(400, "{not json")).message(), "Bad Request (HTTP 400)");
}

TEST(ApiClient, SendsTokenMicroversionAndJsonHeaders) {
  FakeHttpClient http;
  http.On("POST", "/volumes", 202, {{"volume", {{"id", "x"}}}});
  ApiClient api(http, {"alice:proj", "3.42"});
  auto r = api.Post("/volumes", {{"volume", {{"size", 1}}}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)["volume"]["id"], "x");
  ASSERT_EQ(http.requests.size(), 1u);
  const auto& req = http.requests[0];
  EXPECT_EQ(req.headers.at("X-Auth-Token"), "alice:proj");
  EXPECT_EQ(req.headers.at("OpenStack-API-Version"), "volume 3.42");
  EXPECT_EQ(req.headers.at("Content-Type"), "application/json");
  EXPECT_EQ(req.headers.at("Accept"), "application/json");
  EXPECT_EQ(json::parse(req.body), (json{{"volume", {{"size", 1}}}}));
}

TEST(ApiClient, GetHasNoBodyNorContentType) {
  FakeHttpClient http;
  http.On("GET", "/types", 200, {{"volume_types", json::array()}});
  ApiClient api(http, {});
  ASSERT_TRUE(api.Get("/types", {{"is_public", "None"}}).ok());
  EXPECT_TRUE(http.requests[0].body.empty());
  EXPECT_EQ(http.requests[0].headers.count("Content-Type"), 0u);
  EXPECT_EQ(http.requests[0].headers.at("OpenStack-API-Version"), "volume 3.71");
  EXPECT_EQ(http.requests[0].headers.at("X-Auth-Token"), "admin:admin");
}

TEST(ApiClient, EmptySuccessBodyIsNull) {
  FakeHttpClient http;
  http.On("DELETE", "/volumes/x", 202);
  ApiClient api(http, {});
  auto r = api.Delete("/volumes/x");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->is_null());
}

TEST(ApiClient, NonJsonSuccessBodyIsInternal) {
  FakeHttpClient http;
  http.OnText("GET", "/limits", 200, "hello");
  ApiClient api(http, {});
  auto r = api.Get("/limits");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInternal);
}

TEST(ApiClient, TransportFailurePassesThrough) {
  FakeHttpClient http;
  http.FailTransport("cannot reach http://x/v3: refused");
  ApiClient api(http, {});
  auto r = api.Get("/volumes/detail");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(r.status().message(), "cannot reach http://x/v3: refused");
}

TEST(ApiClient, PathSegmentEscapes) {
  EXPECT_EQ(ApiClient::PathSegment("a b/c"), "a%20b%2Fc");
  EXPECT_EQ(ApiClient::PathSegment("key-1_x.y~"), "key-1_x.y~");
}

TEST(ListAll, FollowsNextLinksUsingTheirQuery) {
  FakeHttpClient http;
  http.On(
      "GET", "/volumes/detail", 200,
      {{"volumes", {{{"id", "a"}}}},
       {"volumes_links",
        {{{"rel", "next"}, {"href", "http://h/v3/volumes/detail?limit=1&marker=a&name=x%20y"}}}}});
  http.On("GET", "/volumes/detail", 200, {{"volumes", {{{"id", "b"}}}}});
  ApiClient api(http, {});
  auto r = ListAll(api, "/volumes/detail", {{"name", "x y"}}, "volumes", true);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[1]["id"], "b");
  ASSERT_EQ(http.requests.size(), 2u);
  EXPECT_EQ(testing::QueryValue(http.requests[1], "marker"), "a");
  EXPECT_EQ(testing::QueryValue(http.requests[1], "name"), "x y");
  EXPECT_EQ(testing::QueryValue(http.requests[1], "limit"), "1");
}

TEST(ListAll, StopsWhenTheServerRepeatsTheSameMarker) {
  FakeHttpClient http;
  http.On(
      "GET", "/volumes/detail", 200,
      {{"volumes", {{{"id", "a"}}}},
       {"volumes_links", {{{"rel", "next"}, {"href", "http://h/v3/volumes/detail?marker=a"}}}}});
  ApiClient api(http, {});
  auto r = ListAll(api, "/volumes/detail", {}, "volumes", true);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(http.requests.size(), 2u);
}

TEST(ListAll, WithoutFollowingOnlyOnePage) {
  FakeHttpClient http;
  http.On(
      "GET", "/volumes/detail", 200,
      {{"volumes", {{{"id", "a"}}}},
       {"volumes_links", {{{"rel", "next"}, {"href", "http://h/v3/volumes/detail?marker=a"}}}}});
  ApiClient api(http, {});
  ASSERT_TRUE(ListAll(api, "/volumes/detail", {{"limit", "1"}}, "volumes", false).ok());
  EXPECT_EQ(http.requests.size(), 1u);
}

TEST(ListAll, MissingCollectionIsInternal) {
  FakeHttpClient http;
  http.On("GET", "/volumes/detail", 200, json::object());
  ApiClient api(http, {});
  auto r = ListAll(api, "/volumes/detail", {}, "volumes", true);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInternal);
}

}  // namespace
}  // namespace scoria::cli

namespace scoria::cli {
namespace {

using testing::FakeHttpClient;

// Microversion negotiation: without an explicit version the client lowers its own maximum to
// the server's, read from the version document, once.
TEST(ApiClientNegotiation, LowersToTheServersMaximumOnce) {
  FakeHttpClient http;
  http.On("GET", "/", 200,
          {{"versions", {{{"id", "v3.0"}, {"version", "3.60"}, {"min_version", "3.0"}}}}});
  http.On("GET", "/volumes", 200, {{"volumes", nlohmann::json::array()}});
  ApiOptions options;
  options.api_version = "3.71";
  options.negotiate = true;
  ApiClient api(http, options);
  ASSERT_TRUE(api.Get("/volumes").ok());
  ASSERT_TRUE(api.Get("/volumes").ok());
  EXPECT_EQ(http.version_probes.size(), 1u);
  auto calls = http.Find("GET", "/volumes");
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0].headers.at("OpenStack-API-Version"), "volume 3.60");
}

TEST(ApiClientNegotiation, KeepsOwnMaximumWhenTheServerKnowsMoreOrDoesNotSay) {
  for (const auto& doc : {nlohmann::json{{"versions", {{{"id", "v3.0"}, {"version", "3.99"}}}}},
                          nlohmann::json{{"something", "else"}}}) {
    FakeHttpClient http;
    http.On("GET", "/", 200, doc);
    http.On("GET", "/volumes", 200, {{"volumes", nlohmann::json::array()}});
    ApiOptions options;
    options.negotiate = true;
    ApiClient api(http, options);
    ASSERT_TRUE(api.Get("/volumes").ok());
    EXPECT_EQ(http.Find("GET", "/volumes")[0].headers.at("OpenStack-API-Version"),
              "volume 3.71");
  }
  FakeHttpClient broken;  // no version document at all (404): keep ours
  broken.On("GET", "/volumes", 200, {{"volumes", nlohmann::json::array()}});
  ApiOptions options;
  options.negotiate = true;
  ApiClient api(broken, options);
  ASSERT_TRUE(api.Get("/volumes").ok());
  EXPECT_EQ(broken.Find("GET", "/volumes")[0].headers.at("OpenStack-API-Version"), "volume 3.71");
}

TEST(ApiClientNegotiation, ExplicitVersionIsNeverNegotiated) {
  FakeHttpClient http;
  http.On("GET", "/volumes", 200, {{"volumes", nlohmann::json::array()}});
  ApiOptions options;
  options.api_version = "3.50";
  ApiClient api(http, options);
  ASSERT_TRUE(api.Get("/volumes").ok());
  EXPECT_TRUE(http.version_probes.empty());
  EXPECT_EQ(http.Find("GET", "/volumes")[0].headers.at("OpenStack-API-Version"), "volume 3.50");
}

}  // namespace
}  // namespace scoria::cli
