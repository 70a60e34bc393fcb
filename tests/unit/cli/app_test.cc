// Global flags, environment, error translation and exit codes of RunCli.
#include "cli/app.h"

#include <gtest/gtest.h>

#include "cli/curl_http_client.h"
#include "fake_http_client.h"

namespace scoria::cli {
namespace {

using nlohmann::json;
using testing::kVolId;
using testing::Volume;

class AppTest : public testing::CliHarness {};

TEST_F(AppTest, DefaultsEndpointTokenAndMicroversion) {
  http.On("GET", "/volumes/detail", 200, {{"volumes", json::array()}});
  ASSERT_EQ(Run({"list"}).code, 0);
  EXPECT_EQ(endpoint_used, "http://127.0.0.1:8776/v3");
  EXPECT_EQ(http.requests[0].headers.at("X-Auth-Token"), "admin:admin");
  EXPECT_EQ(http.requests[0].headers.at("OpenStack-API-Version"), "volume 3.71");
  EXPECT_EQ(http.version_probes.size(), 1u);  // no version given: negotiated
}

TEST_F(AppTest, NegotiatesDownToAnOlderServer) {
  http.On("GET", "/", 200, {{"versions", {{{"id", "v3.0"}, {"version", "3.55"}}}}});
  http.On("GET", "/volumes/detail", 200, {{"volumes", json::array()}});
  ASSERT_EQ(Run({"list"}).code, 0);
  EXPECT_EQ(http.requests[0].headers.at("OpenStack-API-Version"), "volume 3.55");
}

TEST_F(AppTest, EnvironmentVariablesApply) {
  env_vars = {{"SCORIA_ENDPOINT", "http://h:1/v3/"},
              {"SCORIA_TOKEN", "u:p"},
              {"SCORIA_API_VERSION", "3.50"}};
  http.On("GET", "/volumes/detail", 200, {{"volumes", json::array()}});
  ASSERT_EQ(Run({"list"}).code, 0);
  EXPECT_EQ(endpoint_used, "http://h:1/v3");  // trailing slash dropped
  EXPECT_EQ(http.requests[0].headers.at("X-Auth-Token"), "u:p");
  EXPECT_EQ(http.requests[0].headers.at("OpenStack-API-Version"), "volume 3.50");
  EXPECT_TRUE(http.version_probes.empty());  // an explicit version is used as given
}

TEST_F(AppTest, FlagsBeatEnvironmentAndMayFollowTheVerb) {
  env_vars = {{"SCORIA_ENDPOINT", "http://env/v3"}, {"SCORIA_TOKEN", "env"}};
  http.On("GET", "/volumes/detail", 200, {{"volumes", json::array()}});
  ASSERT_EQ(
      Run({"--endpoint", "http://flag/v3", "list", "--token", "flag:p", "--api-version", "3.0"})
          .code,
      0);
  EXPECT_EQ(endpoint_used, "http://flag/v3");
  EXPECT_EQ(http.requests[0].headers.at("X-Auth-Token"), "flag:p");
  EXPECT_EQ(http.requests[0].headers.at("OpenStack-API-Version"), "volume 3.0");
}

TEST_F(AppTest, UsageErrorsExit2WithoutTalkingToTheServer) {
  EXPECT_EQ(Run({}).code, kExitUsage);
  EXPECT_EQ(Run({"frobnicate"}).code, kExitUsage);
  EXPECT_EQ(Run({"list", "--bogus"}).code, kExitUsage);
  EXPECT_EQ(Run({"--api-version", "2.1", "list"}).code, kExitUsage);
  EXPECT_EQ(Run({"--api-version", "3.x", "list"}).code, kExitUsage);
  EXPECT_EQ(Run({"--timeout", "-1", "list"}).code, kExitUsage);
  EXPECT_EQ(Run({"show"}).code, kExitUsage);
  EXPECT_TRUE(http.requests.empty());
}

TEST_F(AppTest, HelpExits0) {
  auto run = Run({"--help"});
  EXPECT_EQ(run.code, 0);
  EXPECT_NE(run.out.find("type-create"), std::string::npos);
  EXPECT_NE(run.out.find("Exit codes"), std::string::npos);
  EXPECT_EQ(Run({"create", "--help"}).code, 0);
}

TEST_F(AppTest, HttpErrorExits1WithFaultMessageAndCode) {
  http.On("GET", std::string("/volumes/") + kVolId, 500,
          {{"computeFault", {{"code", 500}, {"message", "The server has either erred"}}}});
  auto run = Run({"show", kVolId});
  EXPECT_EQ(run.code, kExitError);
  EXPECT_EQ(run.err, "scoria: error: The server has either erred (HTTP 500)\n");
}

TEST_F(AppTest, UnreachableEndpointExits3) {
  http.FailTransport("cannot reach http://127.0.0.1:1/v3: Connection refused");
  auto run = Run({"list"});
  EXPECT_EQ(run.code, kExitUnreachable);
  EXPECT_EQ(run.err, "scoria: error: cannot reach http://127.0.0.1:1/v3: Connection refused\n");
}

TEST_F(AppTest, JsonOutputOfShowIsTheVolumeObject) {
  AddVolume(Volume(kVolId, "v1"));
  auto run = Run({"show", "v1", "--json"});
  ASSERT_EQ(run.code, 0) << run.err;
  json j = json::parse(run.out);
  EXPECT_EQ(j["id"], kVolId);
  EXPECT_EQ(j["name"], "v1");
  EXPECT_TRUE(j.contains("links"));  // raw object, nothing hidden
}

TEST_F(AppTest, MalformedServerJsonIsAnErrorNotACrash) {
  http.On("GET", "/volumes/detail", 200, {{"volumes", {{{"id", kVolId}, {"size", {{"odd", 1}}}}}}});
  auto run = Run({"list"});
  EXPECT_EQ(run.code, 0);  // odd values are printed as JSON, not rejected
  http.On("GET", "/os-services", 200, json{{"services", "nope"}});
  auto bad = Run({"service-list"});
  EXPECT_EQ(bad.code, kExitError);
  EXPECT_EQ(bad.err, "scoria: error: the server's answer has no 'services' list\n");
}

TEST_F(AppTest, WaitTimeoutExits4) {
  http.On("POST", "/volumes", 202, {{"volume", Volume(kVolId, "v1", "creating")}});
  http.On("GET", std::string("/volumes/") + kVolId, 200,
          {{"volume", Volume(kVolId, "v1", "creating")}});
  auto run = Run({"--timeout", "1", "create", "1", "--wait"});
  EXPECT_EQ(run.code, kExitWaitFailed);
  EXPECT_NE(run.err.find("scoria: error: timed out after 1 s waiting for volume"),
            std::string::npos);
}

TEST(ExitCodeFor, Mapping) {
  EXPECT_EQ(ExitCodeFor(Status::Ok()), kExitOk);
  EXPECT_EQ(ExitCodeFor(NotFound("x")), kExitError);
  EXPECT_EQ(ExitCodeFor(InvalidArgument("x")), kExitError);
  EXPECT_EQ(ExitCodeFor(Internal("x")), kExitError);
  EXPECT_EQ(ExitCodeFor(Unavailable("x")), kExitUnreachable);
  EXPECT_EQ(ExitCodeFor(FailedPrecondition("x")), kExitWaitFailed);
}

TEST(CurlHttpClient, RefusedConnectionIsUnavailable) {
  // Port 1 on loopback: nothing listens there in any sane test environment.
  CurlHttpClient http("http://127.0.0.1:1/v3/");
  HttpRequest req;
  req.path = "/volumes/detail";
  auto r = http.Send(req);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(r.status().message().rfind("cannot reach http://127.0.0.1:1/v3: ", 0), 0u)
      << r.status().message();
}

TEST(CurlHttpClient, EscapeIsRfc3986Unreserved) {
  EXPECT_EQ(CurlHttpClient::Escape("a b&c=d/é"), "a%20b%26c%3Dd%2F%C3%A9");
}

}  // namespace
}  // namespace scoria::cli
