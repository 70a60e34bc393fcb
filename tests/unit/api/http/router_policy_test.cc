// The Router's authentication and policy steps (router.h): an Authenticator's refusals become
// 401 (with its challenge) or 503, and the rule of the route, of the body's action or of the
// path's {action} is checked before the handler, against the path's {project_id} if any.
#include <gtest/gtest.h>

#include "api/http/router.h"
#include "api/policy/enforcer.h"

namespace scoria::api {
namespace {

// Tokens are "<project>:<role>"; "down" is Keystone not answering, "bad" an unknown token.
class FakeAuthenticator : public Authenticator {
 public:
  explicit FakeAuthenticator(const policy::Enforcer* enforcer) : enforcer_(enforcer) {}
  Result<RequestContext> Authenticate(const AuthHeaders& h) const override {
    if (!h.auth_token || *h.auth_token == "bad") return Unauthenticated("who are you?");
    if (*h.auth_token == "down") return Unavailable("identity service unreachable");
    const std::string& t = *h.auth_token;
    RequestContext ctx;
    ctx.project_id = t.substr(0, t.find(':'));
    ctx.user_id = "u-" + ctx.project_id;
    ctx.creds.project_id = ctx.project_id;
    ctx.creds.user_id = ctx.user_id;
    ctx.creds.roles = {t.substr(t.find(':') + 1)};
    ctx.policy = enforcer_;
    return ctx;
  }
  std::string WwwAuthenticate() const override { return "Keystone uri=\"http://ks:5000\""; }

 private:
  const policy::Enforcer* enforcer_;
};

class RouterPolicyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto enforcer = policy::Enforcer::FromText(
        "\"volume:get\": \"role:reader or role:member\"\n"
        "\"volume:delete\": \"role:member and project_id:%(project_id)s\"\n"
        "\"volume:extend\": \"role:member\"\n"
        "\"volume_extension:volume_admin_actions:reset_status\": \"role:admin\"\n"
        "\"volume_extension:quotas:show\": \"project_id:%(project_id)s\"\n"
        "\"volume:freeze_host\": \"role:admin\"\n"
        "\"volume_extension:services:update\": \"role:member\"\n",
        "test policy", /*enforce_new_defaults=*/true);
    ASSERT_TRUE(enforcer.ok()) << enforcer.status().message();
    enforcer_ = std::move(*enforcer);
    auto ok = [](Request&, const PathParams&) { return JsonResponse(200, {{"ok", true}}); };
    router_.Add("GET", "/volumes/{volume_id}", ok);
    router_.Add("DELETE", "/volumes/{volume_id}", ok);
    router_.Add("POST", "/volumes/{volume_id}/action", ok);
    router_.Add("GET", "/os-quota-sets/{project_id}", ok);
    router_.Add("PUT", "/os-services/{action}", ok);
    router_.Add("GET", "/unguarded", ok);
    router_.Protect("GET", "/volumes/{volume_id}", "volume:get");
    router_.Protect("DELETE", "/volumes/{volume_id}", "volume:delete");
    router_.Protect("POST", "/volumes/{volume_id}/action", "volume:get");
    router_.ProtectAction("POST", "/volumes/{volume_id}/action", "os-extend", "volume:extend");
    router_.ProtectAction("POST", "/volumes/{volume_id}/action", "os-reset_status",
                          "volume_extension:volume_admin_actions:reset_status");
    router_.Protect("GET", "/os-quota-sets/{project_id}", "volume_extension:quotas:show");
    router_.Protect("PUT", "/os-services/{action}", "volume_extension:services:update");
    router_.ProtectAction("PUT", "/os-services/{action}", "freeze", "volume:freeze_host");
    router_.SetAuthenticator(std::make_shared<FakeAuthenticator>(enforcer_.get()));
  }

  Response Call(std::string method, std::string target, std::string token, std::string body = "") {
    NameValues headers = {{"Host", "h:8776"}};
    if (!token.empty()) headers.emplace_back("X-Auth-Token", token);
    if (!body.empty()) headers.emplace_back("Content-Type", "application/json");
    auto r = MakeRequest(std::move(method), std::move(target), std::move(headers), std::move(body));
    EXPECT_TRUE(r.ok());
    return router_.Dispatch(*r);
  }

  std::unique_ptr<const policy::Enforcer> enforcer_;
  Router router_;
};

TEST_F(RouterPolicyTest, RefusedTokensAre401WithTheChallengeAndKeystoneDownIs503) {
  for (const char* token : {"", "bad"}) {
    Response r = Call("GET", "/v3/volumes/v1", token);
    EXPECT_EQ(r.status, 401) << token;
    EXPECT_EQ(r.Header("WWW-Authenticate"), "Keystone uri=\"http://ks:5000\"");
    EXPECT_NE(r.body.find("unauthorized"), std::string::npos) << r.body;
  }
  Response r = Call("GET", "/v3/volumes/v1", "down");
  EXPECT_EQ(r.status, 503);
  EXPECT_FALSE(r.Header("WWW-Authenticate").has_value());
}

TEST_F(RouterPolicyTest, TheRouteRuleIsCheckedBeforeTheHandler) {
  EXPECT_EQ(Call("GET", "/v3/volumes/v1", "p1:reader").status, 200);
  Response r = Call("DELETE", "/v3/volumes/v1", "p1:reader");
  EXPECT_EQ(r.status, 403);
  EXPECT_NE(r.body.find("Policy doesn't allow volume:delete to be performed."), std::string::npos)
      << r.body;
  EXPECT_EQ(Call("DELETE", "/v3/volumes/v1", "p1:member").status, 200);
  EXPECT_EQ(Call("GET", "/v3/volumes/v1", "p1:nobody").status, 403);
}

TEST_F(RouterPolicyTest, AnActionIsCheckedWithItsOwnRuleAndOthersWithTheRoutes) {
  const std::string extend = R"({"os-extend": {"new_size": 2}})";
  const std::string reset = R"({"os-reset_status": {"status": "error"}})";
  EXPECT_EQ(Call("POST", "/v3/volumes/v1/action", "p1:member", extend).status, 200);
  EXPECT_EQ(Call("POST", "/v3/volumes/v1/action", "p1:reader", extend).status, 403);
  EXPECT_EQ(Call("POST", "/v3/volumes/v1/action", "p1:member", reset).status, 403);
  EXPECT_EQ(Call("POST", "/v3/volumes/v1/action", "p1:admin", reset).status, 200);
  // An action with no rule of its own, or a body that names none: the route's rule.
  EXPECT_EQ(Call("POST", "/v3/volumes/v1/action", "p1:reader", R"({"os-bogus": {}})").status, 200);
  EXPECT_EQ(Call("POST", "/v3/volumes/v1/action", "p1:nobody", R"({"os-bogus": {}})").status, 403);
  EXPECT_EQ(Call("POST", "/v3/volumes/v1/action", "p1:nobody", R"({"a": 1, "b": 2})").status, 403);
}

TEST_F(RouterPolicyTest, ThePathsActionAndProjectAreTheTarget) {
  EXPECT_EQ(Call("PUT", "/v3/os-services/enable", "p1:member", "{}").status, 200);
  EXPECT_EQ(Call("PUT", "/v3/os-services/freeze", "p1:member", "{}").status, 403);
  EXPECT_EQ(Call("PUT", "/v3/os-services/freeze", "p1:admin", "{}").status, 200);
  EXPECT_EQ(Call("GET", "/v3/os-quota-sets/p1", "p1:member").status, 200);
  EXPECT_EQ(Call("GET", "/v3/os-quota-sets/p2", "p1:member").status, 403);
}

TEST_F(RouterPolicyTest, ARouteWithoutARuleIsRefusedAndListed) {
  EXPECT_EQ(Call("GET", "/v3/unguarded", "p1:admin").status, 500);
  EXPECT_EQ(router_.Unprotected(), std::vector<std::string>{"GET /unguarded"});
}

}  // namespace
}  // namespace scoria::api
