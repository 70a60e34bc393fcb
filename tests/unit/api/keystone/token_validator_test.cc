// TokenValidator against a real Keystone: tests/support/keystone_server.py starts one and
// describes it in SCORIA_TEST_KEYSTONE* (`make test` does; by hand:
// `/usr/bin/python3 tests/support/keystone_server.py run -- build/bin/unit_api
// --gtest_filter='*TokenValidator*'`). Without it every test skips.
#include "api/keystone/token_validator.h"

#include <curl/curl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "common/clock.h"
#include "common/http_text.h"

namespace scoria::api::keystone {
namespace {

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? std::string() : std::string(v);
}

struct Reply {
  long status = 0;
  std::map<std::string, std::string> headers;
  std::string body;
};

// The test's own calls to Keystone (issuing, revoking tokens; admin calls), with plain libcurl
// so that they share no code with what they check.
Reply Call(const std::string& method, const std::string& url,
           const std::vector<std::string>& headers, const std::string& body = "") {
  Reply r;
  CURL* curl = curl_easy_init();
  curl_slist* list = nullptr;
  for (const auto& h : headers) list = curl_slist_append(list, h.c_str());
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 60L);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
  if (!body.empty()) curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.c_str());
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, CurlAppendToString);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &r.body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, CurlAddHeaderLine);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &r.headers);
  if (curl_easy_perform(curl) == CURLE_OK)
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &r.status);
  curl_slist_free_all(list);
  curl_easy_cleanup(curl);
  return r;
}

class TokenValidatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    url_ = Env("SCORIA_TEST_KEYSTONE");
    if (url_.empty()) {
      GTEST_SKIP() << "SCORIA_TEST_KEYSTONE is not set: run under tests/support/keystone_server.py";
    }
    password_ = Env("SCORIA_TEST_KEYSTONE_PASSWORD");
  }

  // The identity `stem` of keystone_server.py (MEMBER, READER, SERVICE, ...).
  std::string User(const std::string& stem) {
    return Env(("SCORIA_TEST_KEYSTONE_" + stem + "_USER").c_str());
  }
  std::string Project(const std::string& stem) {
    return Env(("SCORIA_TEST_KEYSTONE_" + stem + "_PROJECT").c_str());
  }

  KeystoneConfig Config(const std::string& service_stem = "SERVICE") {
    KeystoneConfig c;
    c.www_authenticate_uri = url_;
    c.auth_url = url_ + "/v3";
    c.username = User(service_stem);
    c.password = password_;
    c.project_name = Project(service_stem);
    c.http_request_timeout = 2;
    return c;
  }

  // A fresh project-scoped token of identity `stem`.
  std::string Token(const std::string& stem) {
    nlohmann::json body = {
        {"auth",
         {{"identity",
           {{"methods", {"password"}},
            {"password",
             {{"user",
               {{"name", User(stem)},
                {"domain", {{"id", "default"}}},
                {"password", password_}}}}}}},
          {"scope", {{"project", {{"name", Project(stem)}, {"domain", {{"id", "default"}}}}}}}}}};
    Reply r = Call("POST", url_ + "/v3/auth/tokens?nocatalog", {"Content-Type: application/json"},
                   body.dump());
    EXPECT_EQ(r.status, 201) << r.body;
    return r.headers["x-subject-token"];
  }

  std::string url_;
  std::string password_;
};

TEST_F(TokenValidatorTest, MemberTokenValidatesWithItsProjectAndRoles) {
  TokenValidator v(Config());
  auto id = v.Validate(Token("MEMBER"), std::nullopt);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_EQ(id->user_name, User("MEMBER"));
  EXPECT_FALSE(id->user_id.empty());
  EXPECT_EQ(id->user_domain_id, "default");
  EXPECT_EQ(id->project_name, Project("MEMBER"));
  EXPECT_FALSE(id->project_id.empty());
  EXPECT_EQ(id->project_domain_id, "default");
  // Keystone lists implied roles too (bootstrap makes member imply reader), as Cinder's
  // policies expect.
  auto roles = id->roles;
  std::sort(roles.begin(), roles.end());
  EXPECT_EQ(roles, (std::vector<std::string>{"member", "reader"}));
  EXPECT_TRUE(id->is_admin_project);  // no admin project configured: keystonemiddleware's true
  EXPECT_TRUE(id->system_scope.empty());
  EXPECT_GT(id->expires_at_micros, NowMicros());
  EXPECT_FALSE(id->service.has_value());

  auto reader = v.Validate(Token("READER"), std::nullopt);
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  EXPECT_EQ(reader->roles, std::vector<std::string>{"reader"});
  EXPECT_EQ(reader->project_id, id->project_id);  // same project, alpha
  auto other = v.Validate(Token("OTHER_MEMBER"), std::nullopt);
  ASSERT_TRUE(other.ok()) << other.status().ToString();
  EXPECT_NE(other->project_id, id->project_id);
}

TEST_F(TokenValidatorTest, GarbageTokenIsUnauthenticatedAndItsRefusalIsCached) {
  TokenValidator v(Config());
  auto id = v.Validate("gAAAAABnot-a-token-at-all", std::nullopt);
  EXPECT_EQ(id.status().code(), StatusCode::kUnauthenticated) << id.status().ToString();
  EXPECT_EQ(v.stats().keystone_validations, 1u);
  // A flood of the same bad token costs Keystone nothing more while the refusal is cached.
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(v.Validate("gAAAAABnot-a-token-at-all", std::nullopt).status().code(),
              StatusCode::kUnauthenticated);
  }
  EXPECT_EQ(v.stats().keystone_validations, 1u);
  EXPECT_EQ(v.stats().cache_hits, 5u);
}

TEST_F(TokenValidatorTest, EmptyTokenIsRefusedWithoutAskingKeystone) {
  TokenValidator v(Config());
  EXPECT_EQ(v.Validate("", std::nullopt).status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(v.stats().keystone_validations, 0u);
  EXPECT_EQ(v.stats().service_token_fetches, 0u);
}

TEST_F(TokenValidatorTest, CacheHitDoesNotCallKeystone) {
  TokenValidator v(Config());
  const std::string token = Token("MEMBER");
  ASSERT_TRUE(v.Validate(token, std::nullopt).ok());
  auto first = v.stats();
  EXPECT_EQ(first.keystone_validations, 1u);
  EXPECT_EQ(first.service_token_fetches, 1u);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(v.Validate(token, std::nullopt).ok());
  auto after = v.stats();
  EXPECT_EQ(after.keystone_validations, 1u);
  EXPECT_EQ(after.cache_hits, 10u);
  // The service's own token is reused for the next miss.
  ASSERT_TRUE(v.Validate(Token("READER"), std::nullopt).ok());
  EXPECT_EQ(v.stats().keystone_validations, 2u);
  EXPECT_EQ(v.stats().service_token_fetches, 1u);
}

TEST_F(TokenValidatorTest, CacheDisabledAsksKeystoneEveryTime) {
  KeystoneConfig c = Config();
  c.token_cache_time = -1;
  TokenValidator v(c);
  const std::string token = Token("MEMBER");
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(v.Validate(token, std::nullopt).ok());
  EXPECT_EQ(v.stats().keystone_validations, 3u);
  EXPECT_EQ(v.stats().cache_hits, 0u);
}

TEST_F(TokenValidatorTest, RevokedTokenIsRefusedOnceItsCacheEntryExpires) {
  KeystoneConfig c = Config();
  c.token_cache_time = 1;
  TokenValidator v(c);
  const std::string token = Token("MEMBER");
  ASSERT_TRUE(v.Validate(token, std::nullopt).ok());
  // A user may revoke their own token.
  Reply del = Call("DELETE", url_ + "/v3/auth/tokens",
                   {"X-Auth-Token: " + token, "X-Subject-Token: " + token});
  ASSERT_EQ(del.status, 204) << del.body;
  // Still trusted from the cache: revocation is honoured at most token_cache_time late.
  EXPECT_TRUE(v.Validate(token, std::nullopt).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  EXPECT_EQ(v.Validate(token, std::nullopt).status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(v.stats().keystone_validations, 2u);
}

TEST_F(TokenValidatorTest, UnreachableKeystoneIsUnavailable) {
  KeystoneConfig c = Config();
  // Port 9 (discard): nothing listens there on a test machine, the connection is refused.
  c.auth_url = "http://127.0.0.1:9/v3";
  c.http_connect_timeout = 1;
  TokenValidator v(c);
  auto id = v.Validate("whatever", std::nullopt);
  EXPECT_EQ(id.status().code(), StatusCode::kUnavailable) << id.status().ToString();
  EXPECT_EQ(id.status().message().find("whatever"), std::string::npos);
}

// Keystone stops answering (SIGSTOP to uwsgi's process group; the TCP connection is still
// accepted by the kernel, so this is the slow kind of down): a cached token keeps working for
// its cache time, a new one gets Unavailable within http_request_timeout.
TEST_F(TokenValidatorTest, KeystoneDownCachedTokenStillValidatesNewOneIsUnavailable) {
  const std::string pid = Env("SCORIA_TEST_KEYSTONE_PID");
  if (pid.empty()) GTEST_SKIP() << "SCORIA_TEST_KEYSTONE_PID is not set";
  KeystoneConfig c = Config();
  c.http_request_timeout = 1;
  TokenValidator v(c);
  const std::string cached = Token("MEMBER");
  const std::string fresh = Token("READER");
  ASSERT_TRUE(v.Validate(cached, std::nullopt).ok());

  const pid_t group = static_cast<pid_t>(std::stol(pid));
  ASSERT_EQ(::kill(-group, SIGSTOP), 0);
  struct Resume {
    pid_t g;
    ~Resume() { ::kill(-g, SIGCONT); }
  } resume{group};

  EXPECT_TRUE(v.Validate(cached, std::nullopt).ok());
  auto t0 = std::chrono::steady_clock::now();
  auto id = v.Validate(fresh, std::nullopt);
  EXPECT_EQ(id.status().code(), StatusCode::kUnavailable) << id.status().ToString();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
  // Keystone trouble is not cached: once it is back, the same token validates.
  ::kill(-group, SIGCONT);
  auto again = v.Validate(fresh, std::nullopt);
  EXPECT_TRUE(again.ok()) << again.status().ToString();
}

TEST_F(TokenValidatorTest, ServiceTokenWithServiceRoleIsRecorded) {
  TokenValidator v(Config());
  const std::string service = Token("SERVICE");
  auto id = v.Validate(Token("MEMBER"), service);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_EQ(id->project_name, Project("MEMBER"));
  ASSERT_TRUE(id->service.has_value());
  EXPECT_TRUE(id->service_roles_ok);
  EXPECT_EQ(id->service->user_name, User("SERVICE"));
  EXPECT_EQ(id->service->project_name, Project("SERVICE"));
  auto roles = id->service->roles;
  EXPECT_NE(std::find(roles.begin(), roles.end(), "service"), roles.end());
}

// A service token with a service role lets an expired user token through (allow_expired), but
// only one Keystone knows: a garbage user token is still refused.
TEST_F(TokenValidatorTest, ServiceTokenDoesNotLetAnUnknownUserTokenThrough) {
  TokenValidator v(Config());
  auto id = v.Validate("gAAAAABnot-a-user-token", Token("SERVICE"));
  EXPECT_EQ(id.status().code(), StatusCode::kUnauthenticated) << id.status().ToString();
}

TEST_F(TokenValidatorTest, ServiceTokenWithoutServiceRoleIsRefusedWhenRequired) {
  TokenValidator v(Config());  // service_token_roles_required = true by default
  auto id = v.Validate(Token("MEMBER"), Token("OTHER_MEMBER"));
  EXPECT_EQ(id.status().code(), StatusCode::kUnauthenticated) << id.status().ToString();
}

TEST_F(TokenValidatorTest, ServiceTokenWithoutServiceRoleIsRecordedWhenNotRequired) {
  KeystoneConfig c = Config();
  c.service_token_roles_required = false;
  TokenValidator v(c);
  auto id = v.Validate(Token("MEMBER"), Token("OTHER_MEMBER"));
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  ASSERT_TRUE(id->service.has_value());
  EXPECT_FALSE(id->service_roles_ok);
  EXPECT_EQ(id->service->user_name, User("OTHER_MEMBER"));
}

TEST_F(TokenValidatorTest, InvalidServiceTokenRefusesTheRequest) {
  KeystoneConfig c = Config();
  c.service_token_roles_required = false;
  TokenValidator v(c);
  auto id = v.Validate(Token("MEMBER"), std::string_view("not-a-service-token"));
  EXPECT_EQ(id.status().code(), StatusCode::kUnauthenticated) << id.status().ToString();
}

// Resetting a user's password revokes its tokens: here the validator's own. The next
// validation gets 401 for it, and the validator renews it once and succeeds. A service user of
// its own (scoria-renew), so that no other test's validator sees the revocation.
TEST_F(TokenValidatorTest, ServiceTokenIsRenewedAfterKeystoneRevokesIt) {
  TokenValidator v(Config("RENEW_SERVICE"));
  ASSERT_TRUE(v.Validate(Token("MEMBER"), std::nullopt).ok());
  ASSERT_EQ(v.stats().service_token_fetches, 1u);

  const std::string admin = Token("ADMIN");
  Reply users =
      Call("GET", url_ + "/v3/users?name=" + User("RENEW_SERVICE"), {"X-Auth-Token: " + admin});
  ASSERT_EQ(users.status, 200) << users.body;
  const std::string uid = nlohmann::json::parse(users.body)["users"][0]["id"];
  nlohmann::json patch = {{"user", {{"password", password_}}}};
  Reply r = Call("PATCH", url_ + "/v3/users/" + uid,
                 {"X-Auth-Token: " + admin, "Content-Type: application/json"}, patch.dump());
  ASSERT_EQ(r.status, 200) << r.body;
  // Keystone compares revocation times in whole seconds: a token issued in the same second
  // as the revocation would count as revoked too.
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));

  auto id = v.Validate(Token("READER"), std::nullopt);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_EQ(v.stats().service_token_fetches, 2u);
  EXPECT_EQ(v.stats().keystone_validations, 3u);  // 1 before, then 401 and the retry
}

TEST_F(TokenValidatorTest, ServiceTokenIsRenewedBeforeItExpires) {
  ValidatorTuning t;
  t.renew_before_s = 2 * 3600;  // longer than the server's 1 h tokens: always "about to expire"
  TokenValidator v(Config(), t);
  ASSERT_TRUE(v.Validate(Token("MEMBER"), std::nullopt).ok());
  ASSERT_TRUE(v.Validate(Token("READER"), std::nullopt).ok());
  EXPECT_EQ(v.stats().service_token_fetches, 2u);
}

TEST_F(TokenValidatorTest, WrongServicePasswordIsUnavailable) {
  KeystoneConfig c = Config();
  c.password = "not-the-password";
  TokenValidator v(c);
  auto id = v.Validate(Token("MEMBER"), std::nullopt);
  EXPECT_EQ(id.status().code(), StatusCode::kUnavailable) << id.status().ToString();
  EXPECT_EQ(id.status().message().find("not-the-password"), std::string::npos);
}

TEST_F(TokenValidatorTest, EightThreadsValidatingOneTokenAskKeystoneOnce) {
  TokenValidator v(Config());
  const std::string token = Token("MEMBER");
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      for (int j = 0; j < 20; ++j) {
        if (v.Validate(token, std::nullopt).ok()) ++ok;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 160);
  EXPECT_EQ(v.stats().keystone_validations, 1u);
  EXPECT_EQ(v.stats().service_token_fetches, 1u);
}

// Every path that logs (new service token, refused token, service password refused, the
// roles-not-required warning) runs once with the log captured: no token and no password in it.
TEST_F(TokenValidatorTest, LogsNameNoTokenAndNoPassword) {
  std::ostringstream captured;
  auto previous = spdlog::default_logger();
  spdlog::set_default_logger(std::make_shared<spdlog::logger>(
      "captured", std::make_shared<spdlog::sinks::ostream_sink_mt>(captured)));
  struct Restore {
    std::shared_ptr<spdlog::logger> logger;
    ~Restore() { spdlog::set_default_logger(logger); }
  } restore{previous};

  KeystoneConfig c = Config();
  c.service_token_roles_required = false;
  TokenValidator v(c);
  const std::string member = Token("MEMBER");
  const std::string other = Token("OTHER_MEMBER");
  EXPECT_TRUE(v.Validate(member, other).ok());
  EXPECT_FALSE(v.Validate("gAAAAABsecret-looking-garbage", std::nullopt).ok());
  KeystoneConfig wrong = Config();
  wrong.password = "wrong-password-in-config";
  EXPECT_FALSE(TokenValidator(wrong).Validate(member, std::nullopt).ok());

  const std::string log = captured.str();
  EXPECT_NE(log.find("has a new token"), std::string::npos) << log;
  EXPECT_NE(log.find("refused"), std::string::npos) << log;
  for (const std::string& secret : {member, other, std::string("gAAAAABsecret-looking-garbage"),
                                    password_, std::string("wrong-password-in-config")}) {
    EXPECT_EQ(log.find(secret), std::string::npos) << "a secret is in the log:\n" << log;
  }
}

// No Keystone needed: the constructor does no I/O.
TEST(TokenValidatorHeaderTest, WwwAuthenticateNamesThePublicEndpoint) {
  KeystoneConfig c;
  c.auth_url = "http://127.0.0.1:5000/v3";
  EXPECT_EQ(TokenValidator(c).WwwAuthenticateHeader(), "Keystone uri=\"http://127.0.0.1:5000/v3\"");
  c.www_authenticate_uri = "https://keystone.example.com:5000";
  EXPECT_EQ(TokenValidator(c).WwwAuthenticateHeader(),
            "Keystone uri=\"https://keystone.example.com:5000\"");
}

}  // namespace
}  // namespace scoria::api::keystone
