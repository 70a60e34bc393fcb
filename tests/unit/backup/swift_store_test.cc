// The Swift store beyond the contract suite (store_test.cc): paged listings, a wrong key and
// token renewal against the real radosgw, and the retry and renewal paths against a fake
// endpoint that answers 503 or 401.
#include "backup/swift_store.h"

#include <gtest/gtest.h>

#include "fake_http_server.h"
#include "paged_list_check.h"
#include "rgw_test_env.h"
#include "test_util.h"

namespace scoria::backup {
namespace {

using testing::FakeHttpServer;

std::span<const std::byte> Bytes(const std::string& s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

SwiftStoreOptions RgwOptions(const rgw_test::Env& env, const std::string& stem) {
  SwiftStoreOptions o;
  o.auth_url = env.swift_auth_url();
  o.user = env.swift_user;
  o.key = env.swift_key;
  o.container = rgw_test::UniqueBucket(stem);
  return o;
}

SwiftStoreOptions FakeOptions(const FakeHttpServer& fake) {
  SwiftStoreOptions o;
  o.auth_url = fake.url() + "/auth/1.0";
  o.user = "acct:user";
  o.key = "k";
  o.http.attempts = 3;
  o.http.backoff_initial_ms = 10;
  o.http.backoff_max_ms = 20;
  return o;
}

TEST(SwiftStoreTest, BadOptionsAreRefusedBeforeAnyRequest) {
  SwiftStoreOptions o;
  o.auth_url = "127.0.0.1:1/auth/1.0";
  o.user = "a:b";
  o.key = "k";
  auto r = OpenSwiftStore(o);
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("backup_swift_auth_url"), std::string::npos);
  o.auth_url = "http://127.0.0.1:1/auth/1.0";
  o.container = "a/b";
  EXPECT_EQ(OpenSwiftStore(o).status().code(), StatusCode::kInvalidArgument);
  o.container = "c";
  o.key = "";
  r = OpenSwiftStore(o);
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("backup_swift_key"), std::string::npos);
}

TEST(SwiftStoreTest, ListAcrossPages) {
  auto env = rgw_test::GetEnv();
  SCORIA_REQUIRE_RGW(env);
  auto o = RgwOptions(env, "swift-pages");
  o.limit = 7;
  auto s = OpenSwiftStore(o);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  testing::ExpectListAcrossPagesOfSeven(**s);
}

TEST(SwiftStoreTest, WrongKeyIsAClearErrorWithoutTheKey) {
  auto env = rgw_test::GetEnv();
  SCORIA_REQUIRE_RGW(env);
  auto o = RgwOptions(env, "swift-badkey");
  o.key = "not-the-key-0xC0FFEE";
  auto s = OpenSwiftStore(o);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kFailedPrecondition) << s.status().ToString();
  const std::string& m = s.status().message();
  EXPECT_NE(m.find(o.auth_url), std::string::npos) << m;
  EXPECT_NE(m.find(env.swift_user), std::string::npos) << m;
  EXPECT_EQ(m.find("not-the-key"), std::string::npos) << m;
  EXPECT_EQ(m.find(env.swift_key), std::string::npos) << m;
}

TEST(SwiftStoreTest, ExpiredTokenIsRenewedOnce) {
  auto env = rgw_test::GetEnv();
  SCORIA_REQUIRE_RGW(env);
  auto s = OpenSwiftStore(RgwOptions(env, "swift-token"));
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  ASSERT_TRUE((*s)->Put("manifests/a", Bytes("a")).ok());
  SwiftExpireTokenForTest(**s);  // radosgw answers 401 to the next request
  auto got = (*s)->Get("manifests/a");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->size(), 1u);
  SwiftExpireTokenForTest(**s);
  EXPECT_TRUE((*s)->Put("manifests/b", Bytes("b")).ok());
  EXPECT_TRUE(*(*s)->Exists("manifests/b"));
}

TEST(SwiftStoreTest, Retries503AndRenewsOn401AgainstAFake) {
  FakeHttpServer fake;
  fake.SetOkHeaders("X-Storage-Url: " + fake.url() + "/swift/v1\r\nX-Auth-Token: AUTH_tk\r\n");
  fake.Script({200, 503, 201}, 503);  // auth, then the container PUT on its second try
  auto s = OpenSwiftStore(FakeOptions(fake));
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(fake.requests(), 3);
  fake.Script({401, 200, 201}, 503);  // token refused, renewed, the PUT repeated
  EXPECT_TRUE((*s)->Put("chunks/aa/x", Bytes("x")).ok());
  EXPECT_EQ(fake.requests(), 6);
  fake.Script({401, 401}, 503);  // renewal refused: a clear error, no loop
  Status st = (*s)->Put("chunks/aa/x", Bytes("x"));
  EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition) << st.ToString();
  EXPECT_EQ(fake.requests(), 8);
  fake.Script({}, 503);  // down for good
  auto got = (*s)->Get("chunks/aa/x");
  EXPECT_EQ(got.status().code(), StatusCode::kUnavailable) << got.status().ToString();
  EXPECT_NE(got.status().message().find("503"), std::string::npos);
  EXPECT_EQ(fake.requests(), 11);
}

}  // namespace
}  // namespace scoria::backup
