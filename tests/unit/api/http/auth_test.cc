#include "api/http/auth.h"

#include <gtest/gtest.h>

namespace scoria::api {
namespace {

TEST(AuthTest, NoauthTokenForms) {
  struct Case {
    std::string token, user, project;
  };
  const Case cases[] = {
      {"admin:abc123", "admin", "abc123"},
      {"notused", "notused", "notused"},
      {":abc123", "", "abc123"},
      {"u:", "u", "u"},
      {"a:b:c", "a", "b:c"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.token);
    auto ctx = AuthenticateNoauth(c.token);
    ASSERT_TRUE(ctx.ok()) << ctx.status().ToString();
    EXPECT_EQ(ctx->user_id, c.user);
    EXPECT_EQ(ctx->project_id, c.project);
    EXPECT_TRUE(ctx->is_admin);
    EXPECT_TRUE(ctx->all_tenants_allowed);
    EXPECT_TRUE(ctx->request_id.starts_with("req-"));
    EXPECT_EQ(ctx->request_id.size(), 40u);
  }
}

TEST(AuthTest, MissingOrEmptyTokenFails) {
  auto missing = AuthenticateNoauth(std::nullopt);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().message(), kTokenRequiredMessage);
  EXPECT_FALSE(AuthenticateNoauth("").ok());
  EXPECT_FALSE(AuthenticateNoauth(":").ok());
}

TEST(AuthTest, RequestIdsDiffer) {
  EXPECT_NE(AuthenticateNoauth("a")->request_id, AuthenticateNoauth("a")->request_id);
}

}  // namespace
}  // namespace scoria::api
