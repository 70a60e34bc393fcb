#include "api/http/router.h"

#include <stdexcept>

#include <gtest/gtest.h>

#include "api/http/fault.h"

namespace scoria::api {
namespace {

Request Make(std::string method, std::string target, std::string token = "admin:proj1",
             NameValues extra = {}, std::string body = "") {
  NameValues headers = {{"Host", "h:8776"}};
  if (!token.empty()) headers.emplace_back("X-Auth-Token", token);
  for (auto& kv : extra) headers.push_back(kv);
  auto r = MakeRequest(std::move(method), std::move(target), std::move(headers), std::move(body));
  EXPECT_TRUE(r.ok());
  return std::move(r).value();
}

nlohmann::json Body(const Response& r) { return nlohmann::json::parse(r.body); }

std::string FaultKey(const Response& r) { return Body(r).begin().key(); }

class RouterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto echo = [](const char* name) {
      return [name](Request& req, const PathParams& params) {
        nlohmann::json j = {{"handler", name},
                            {"project", req.url_project},
                            {"ctx_project", req.ctx.project_id},
                            {"user", req.ctx.user_id},
                            {"version", req.version.ToString()}};
        for (const auto& [k, v] : params) j["params"][k] = v;
        return JsonResponse(200, j);
      };
    };
    router_.Add("GET", "/volumes", echo("list"));
    router_.Add("GET", "/volumes/detail", echo("detail"));
    router_.Add("GET", "/volumes/{volume_id}", echo("show"));
    router_.Add("DELETE", "/volumes/{volume_id}", echo("delete"));
    router_.Add("POST", "/volumes", echo("create"));
    router_.Add("POST", "/volumes/{volume_id}/action", echo("action"));
    router_.Add("GET", "/attachments", echo("attachments"), ApiVersion{3, 27});
    router_.Add("GET", "/types/{type_id}/extra_specs/{key}", echo("spec"));
    router_.Add("GET", "/summary", echo("old"), kMinVersion, ApiVersion{3, 11});
    router_.Add("GET", "/summary", echo("new"), ApiVersion{3, 12});
    router_.Add("POST", "/throw/json", [](Request& req, const PathParams&) -> Response {
      nlohmann::json j = nlohmann::json::parse(req.body);
      int size = j["volume"]["size"].get<int>();  // throws type_error on a string
      return JsonResponse(200, {{"size", size}});
    });
    router_.Add("GET", "/throw/std", [](Request&, const PathParams&) -> Response {
      throw std::runtime_error("boom with secret detail");
    });
    router_.Add("GET", "/throw/int", [](Request&, const PathParams&) -> Response { throw 7; });
  }

  Response Do(Request req) {
    last_ = std::move(req);
    return router_.Dispatch(last_);
  }

  Router router_;
  Request last_;
};

TEST_F(RouterTest, CollectionsDerivedFromPatterns) {
  EXPECT_EQ(router_.collections(),
            (std::set<std::string, std::less<>>{"attachments", "summary", "throw", "types",
                                                "volumes"}));
}

TEST_F(RouterTest, RoutesWithAndWithoutProject) {
  Response r = Do(Make("GET", "/v3/volumes/detail"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Body(r)["handler"], "detail");
  EXPECT_EQ(Body(r)["project"], "");
  EXPECT_EQ(Body(r)["ctx_project"], "proj1");
  EXPECT_EQ(Body(r)["user"], "admin");

  r = Do(Make("GET", "/v3/proj1/volumes/detail"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Body(r)["handler"], "detail");
  EXPECT_EQ(Body(r)["project"], "proj1");
  EXPECT_EQ(last_.url_project, "proj1");
}

TEST_F(RouterTest, NonHexProjectAndTrailingSlash) {
  Response r = Do(Make("GET", "/v3/admin/volumes", "admin"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Body(r)["handler"], "list");
  EXPECT_EQ(Body(r)["project"], "admin");
  // A trailing slash is a show with an empty id (tempest's show_volume('')): 404, as Cinder.
  for (const char* target : {"/v3/admin/volumes/", "/v3/volumes/", "/v3/volumes/x/"}) {
    r = Do(Make("GET", target, "admin"));
    EXPECT_EQ(r.status, 404) << target;
    EXPECT_EQ(FaultKey(r), "itemNotFound");
  }
  EXPECT_EQ(Do(Make("DELETE", "/v3/volumes/", "admin")).status, 404);
}

TEST_F(RouterTest, LiteralBeatsParamAndParamsDecoded) {
  EXPECT_EQ(Body(Do(Make("GET", "/v3/volumes/detail")))["handler"], "detail");
  Response r = Do(Make("GET", "/v3/volumes/abc-123"));
  EXPECT_EQ(Body(r)["handler"], "show");
  EXPECT_EQ(Body(r)["params"]["volume_id"], "abc-123");
  // A different method falls through to the param route, as Routes does.
  EXPECT_EQ(Body(Do(Make("DELETE", "/v3/volumes/detail")))["handler"], "delete");
  r = Do(Make("GET", "/v3/p/types/t1/extra_specs/a%3Ab", "u:p"));
  EXPECT_EQ(Body(r)["params"]["type_id"], "t1");
  EXPECT_EQ(Body(r)["params"]["key"], "a:b");
}

TEST_F(RouterTest, ProjectMismatchIs400) {
  Response r = Do(Make("GET", "/v3/other/volumes", "admin:proj1"));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Body(r)["badRequest"]["message"], "Malformed request url");
}

TEST_F(RouterTest, UnknownRouteIs404Json) {
  for (const char* target : {"/v3/servers/detail", "/v3/proj1/servers/detail", "/v3/proj1",
                             "/v3/proj1/", "/v3/volumes/a/b/c", "/v3//volumes", "/v2/volumes",
                             "/nothing"}) {
    SCOPED_TRACE(target);
    Response r = Do(Make("GET", target));
    EXPECT_EQ(r.status, 404);
    EXPECT_EQ(Body(r)["itemNotFound"]["message"], "The resource could not be found.");
    EXPECT_EQ(Body(r)["itemNotFound"]["code"], 404);
  }
}

TEST_F(RouterTest, WrongMethodIs405) {
  Response r = Do(Make("PUT", "/v3/volumes"));
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(FaultKey(r), "badMethod");
  EXPECT_EQ(r.Header("Allow"), "GET, POST");
}

TEST_F(RouterTest, VersionGatedRouteIs404BelowMin) {
  Response r = Do(Make("GET", "/v3/attachments"));
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(FaultKey(r), "itemNotFound");
  r = Do(Make("GET", "/v3/attachments", "admin:proj1", {{"OpenStack-API-Version", "volume 3.27"}}));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.Header("OpenStack-API-Version"), "volume 3.27");
}

TEST_F(RouterTest, SamePatternDifferentVersions) {
  EXPECT_EQ(Body(Do(Make("GET", "/v3/summary")))["handler"], "old");
  EXPECT_EQ(Body(Do(Make("GET", "/v3/summary", "a", {{"OpenStack-API-Version", "volume 3.12"}})))
                ["handler"],
            "new");
}

TEST_F(RouterTest, VersionErrors) {
  Response r = Do(Make("GET", "/v3/volumes", "a", {{"OpenStack-API-Version", "volume 3.72"}}));
  EXPECT_EQ(r.status, 406);
  EXPECT_EQ(Body(r)["computeFault"]["message"],
            "Version 3.72 is not supported by the API. Minimum is 3.0 and maximum is 3.71.");
  r = Do(Make("GET", "/v3/volumes", "a", {{"OpenStack-API-Version", "volume 3.x"}}));
  EXPECT_EQ(r.status, 400);
  r = Do(Make("GET", "/v3/volumes", "a", {{"OpenStack-API-Version", "compute 2.1"}}));
  EXPECT_EQ(r.status, 400);
  r = Do(Make("GET", "/v3/volumes", "a", {{"openstack-api-version", "volume latest"}}));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.Header("OpenStack-API-Version"), "volume 3.71");
}

TEST_F(RouterTest, MissingTokenIs401) {
  Response r = Do(Make("GET", "/v3/volumes", ""));
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(Body(r)["unauthorized"]["message"], kTokenRequiredMessage);
  EXPECT_TRUE(r.Header("x-compute-request-id").has_value());
}

TEST_F(RouterTest, HeadersOnEveryV3Response) {
  for (const char* target : {"/v3/volumes", "/v3/nope"}) {
    SCOPED_TRACE(target);
    Response r = Do(Make("GET", target));
    auto rid = r.Header("x-openstack-request-id");
    ASSERT_TRUE(rid.has_value());
    EXPECT_TRUE(rid->starts_with("req-"));
    EXPECT_EQ(r.Header("OpenStack-API-Version"), "volume 3.0");
    EXPECT_EQ(r.Header("Vary"), "OpenStack-API-Version");
    EXPECT_EQ(r.Header("Content-Type"), "application/json");
    if (r.status >= 400) {
      EXPECT_EQ(r.Header("x-compute-request-id"), rid);
    } else {
      EXPECT_FALSE(r.Header("x-compute-request-id").has_value());
      EXPECT_EQ(last_.ctx.request_id, *rid);
    }
  }
}

TEST_F(RouterTest, VersionsDocuments) {
  Response root = Do(Make("GET", "/", ""));
  EXPECT_EQ(root.status, 300);
  auto doc = Body(root);
  ASSERT_EQ(doc["versions"].size(), 1u);
  const auto& v = doc["versions"][0];
  EXPECT_EQ(v["id"], "v3.0");
  EXPECT_EQ(v["status"], "CURRENT");
  EXPECT_EQ(v["version"], "3.71");
  EXPECT_EQ(v["min_version"], "3.0");
  EXPECT_EQ(v["updated"], "2023-08-31T00:00:00Z");
  EXPECT_EQ(v["links"][0]["rel"], "describedby");
  EXPECT_EQ(v["links"][0]["type"], "text/html");
  EXPECT_EQ(v["links"][0]["href"], "https://docs.openstack.org/");
  EXPECT_EQ(v["links"][1], (nlohmann::json{{"rel", "self"}, {"href", "http://h:8776/v3/"}}));
  EXPECT_EQ(v["media-types"][0]["base"], "application/json");
  EXPECT_EQ(v["media-types"][0]["type"], "application/vnd.openstack.volume+json;version=3");
  EXPECT_TRUE(root.Header("x-openstack-request-id").has_value());

  for (const char* target : {"/v3", "/v3/"}) {
    Response r = Do(Make("GET", target, ""));  // no token needed
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(Body(r), doc);
    EXPECT_EQ(r.Header("Vary"), "OpenStack-API-Version");
  }
  // Discovery ignores a bad version header rather than failing.
  EXPECT_EQ(Do(Make("GET", "/v3/", "", {{"OpenStack-API-Version", "volume 9.9"}})).status, 200);
  EXPECT_EQ(Do(Make("POST", "/", "")).status, 405);
}

TEST_F(RouterTest, Healthcheck) {
  Response r = Do(Make("GET", "/healthcheck", ""));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "OK");
  EXPECT_TRUE(r.Header("Content-Type")->starts_with("text/plain"));
}

TEST_F(RouterTest, ContentTypeChecks) {
  const std::string body = R"({"volume": {"size": 1}})";
  EXPECT_EQ(Do(Make("POST", "/v3/volumes", "a", {{"Content-Type", "application/json"}}, body))
                .status,
            200);
  EXPECT_EQ(Do(Make("POST", "/v3/volumes", "a",
                    {{"Content-Type", "Application/JSON ; charset=UTF-8"}}, body))
                .status,
            200);
  EXPECT_EQ(Do(Make("POST", "/v3/volumes", "a", {}, body)).status, 200);
  Response r = Do(Make("POST", "/v3/volumes", "a", {{"Content-Type", "text/xml"}}, body));
  EXPECT_EQ(r.status, 415);
  EXPECT_EQ(FaultKey(r), "badMediaType");
  // An empty body with any content type is fine (e.g. curl -X POST).
  EXPECT_EQ(Do(Make("POST", "/v3/volumes", "a", {{"Content-Type", "text/plain"}})).status, 200);
}

TEST_F(RouterTest, ThrowingHandlersAreContained) {
  Response r = Do(Make("POST", "/v3/throw/json", "a", {{"Content-Type", "application/json"}},
                       R"({"volume": {"size": "big"}})"));
  EXPECT_EQ(r.status, 400);
  EXPECT_TRUE(Body(r)["badRequest"]["message"].get<std::string>().starts_with(
      "Invalid input received: "));
  r = Do(Make("POST", "/v3/throw/json", "a", {}, "{not json"));
  EXPECT_EQ(r.status, 400);  // parse_error is a json::exception too
  r = Do(Make("GET", "/v3/throw/std"));
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.body.find("secret"), std::string::npos);
  EXPECT_EQ(Body(r)["computeFault"]["message"], kInternalErrorMessage);
  EXPECT_EQ(Do(Make("GET", "/v3/throw/int")).status, 500);
  EXPECT_EQ(Do(Make("GET", "/v3/volumes")).status, 200);
}

}  // namespace
}  // namespace scoria::api
