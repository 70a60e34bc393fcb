#include "api/http/http.h"

#include <gtest/gtest.h>

namespace scoria::api {
namespace {

TEST(HttpTest, MakeRequestSplitsAndDecodes) {
  auto req = MakeRequest("get", "/v3/volumes/a%20b?name=x+y&name=z%2Fw&flag&=v&all_tenants=1",
                         {{"host", "10.0.0.1:8776"}}, "");
  ASSERT_TRUE(req.ok());
  EXPECT_EQ(req->method, "GET");
  EXPECT_EQ(req->path, "/v3/volumes/a b");
  EXPECT_EQ(req->raw_target, "/v3/volumes/a%20b?name=x+y&name=z%2Fw&flag&=v&all_tenants=1");
  EXPECT_EQ(req->Get("name"), "x y");
  EXPECT_EQ(req->GetAll("name"), (std::vector<std::string>{"x y", "z/w"}));
  EXPECT_EQ(req->Get("flag"), "");
  EXPECT_EQ(req->Get(""), "v");
  EXPECT_EQ(req->Get("missing"), std::nullopt);
  EXPECT_EQ(req->base_url, "http://10.0.0.1:8776");
  EXPECT_EQ(req->Header("HOST"), "10.0.0.1:8776");
}

TEST(HttpTest, PlusIsLiteralInPath) {
  auto req = MakeRequest("GET", "/v3/a+b", {}, "");
  ASSERT_TRUE(req.ok());
  EXPECT_EQ(req->path, "/v3/a+b");
  EXPECT_EQ(req->base_url, "http://localhost");
}

TEST(HttpTest, MakeRequestRejectsBadTargets) {
  EXPECT_FALSE(MakeRequest("GET", "v3/volumes", {}, "").ok());
  EXPECT_FALSE(MakeRequest("GET", "http://h/v3", {}, "").ok());
  EXPECT_FALSE(MakeRequest("GET", "/v3/%zz", {}, "").ok());
  EXPECT_FALSE(MakeRequest("GET", "/v3/%2", {}, "").ok());
  EXPECT_FALSE(MakeRequest("GET", "/v3?x=%", {}, "").ok());
}

TEST(HttpTest, ParseJsonBody) {
  Request req;
  req.body = R"({"volume": {"size": 1}})";
  auto ok = ParseJsonBody(req);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ((*ok)["volume"]["size"], 1);
  for (const char* bad : {"", "{", "[1]", "\"s\"", "null", "{} x"}) {
    SCOPED_TRACE(bad);
    req.body = bad;
    auto r = ParseJsonBody(req);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_TRUE(r.status().message().starts_with("Malformed request body"));
  }
}

TEST(HttpTest, ResponseHelpers) {
  Response j = JsonResponse(202, {{"a", 1}});
  EXPECT_EQ(j.status, 202);
  EXPECT_EQ(j.body, R"({"a":1})");
  EXPECT_EQ(j.Header("Content-Type"), "application/json");
  Response e = EmptyResponse(204);
  EXPECT_TRUE(e.body.empty());
  EXPECT_TRUE(e.headers.empty());
  e.SetHeader("X-A", "1");
  e.SetHeader("x-a", "2");
  EXPECT_EQ(e.headers.size(), 1u);
  EXPECT_EQ(e.Header("X-A"), "2");
}

TEST(HttpTest, InvalidUtf8DoesNotThrow) {
  Response r = JsonResponse(200, {{"name", std::string("a\xff")}});
  EXPECT_EQ(r.status, 200);
}

TEST(HttpTest, UrlEncode) {
  EXPECT_EQ(UrlEncode("a b/c:d~e.f_g-h"), "a+b%2Fc%3Ad~e.f_g-h");
}

}  // namespace
}  // namespace scoria::api
