// TokenValidator: who is calling, according to Keystone, under auth_strategy = keystone. The
// semantics are keystonemiddleware auth_token's; docs/auth.md ("Keystone") is the operator's view.
//
// Model. A request carries a user token (X-Auth-Token) and maybe a service token
// (X-Service-Token). Each token is validated with Keystone's `GET /v3/auth/tokens?nocatalog`
// (X-Subject-Token = the token), authorised by Scoria's own service token: that one is
// obtained with the password method for the configured service user, kept, renewed
// `renew_before_s` before it expires, and renewed once more when Keystone answers a
// validation with 401 (someone revoked it). What Keystone answers is cached per token:
//   valid   -> kept for min(token_cache_time, time left until the token's expires_at); a
//              revoked token is therefore honoured at most token_cache_time late;
//   invalid -> (404) kept for min(token_cache_time, negative_cache_s), so a flood of bad tokens
//              costs Keystone one call each per period rather than one per request;
//   error   -> (unreachable, timeout, 5xx) never kept: the next request asks again.
// Cache keys are the SHA-256 of the token; the raw token is neither kept nor logged (logs show
// at most the first 8 hex digits of that hash). Concurrent misses for the same token wait for
// one Keystone call instead of sending one each.
//
// Threading: thread-safe; Validate is called from the API's io threads concurrently. One mutex
// guards the cache and the in-flight table (held only for map operations, never across a
// network call); another serialises the renewal of the service token (callers that need a
// new one wait for the one renewal). Blocking: a miss blocks the caller for a Keystone round
// trip, each exchange bounded by KeystoneConfig::http_request_timeout; at worst four exchanges
// (renew, validate refused with 401, renew, validate) when Scoria's own token was revoked.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/keystone/keystone_config.h"
#include "common/status.h"

namespace scoria::api::keystone {

// What Keystone says about one token (the headers keystonemiddleware sets, X-User-Id,
// X-Project-Name, X-Roles, ..., are these fields).
struct TokenInfo {
  std::string user_id;
  std::string user_name;
  std::string user_domain_id;
  std::string project_id;  // empty for domain- or system-scoped tokens
  std::string project_name;
  std::string project_domain_id;
  std::vector<std::string> roles;  // role names, as Keystone lists them
  int64_t expires_at_micros = 0;   // since the epoch, UTC
  // Keystone sends is_admin_project only when an admin project is configured
  // ([resource] admin_project_name); absent means true, as in keystonemiddleware.
  bool is_admin_project = true;
  std::string system_scope;  // "all" for a system-scoped token, else empty
};

// The identity of a request: the user token's, plus the service token's when one was given and
// accepted (keystonemiddleware's X-Service-* headers).
struct Identity : TokenInfo {
  std::optional<TokenInfo> service;
  // The service token holds one of service_token_roles. When false and `service` is set, the
  // token was accepted only because service_token_roles_required is false.
  bool service_roles_ok = false;
};

// Knobs tests turn; the defaults are what scoriad uses.
struct ValidatorTuning {
  // Renew Scoria's own token when it has less than this left (keystoneauth renews at 120 s).
  int renew_before_s = 120;
  // Upper bound on how long an invalid token's refusal is cached.
  int negative_cache_s = 10;
  // Cache entries beyond this are dropped (expired ones first, then all) so a flood of
  // distinct tokens cannot grow memory without bound.
  size_t max_cache_entries = 100'000;
};

class TokenValidator {
 public:
  struct Stats {
    uint64_t keystone_validations = 0;   // GET /v3/auth/tokens sent
    uint64_t service_token_fetches = 0;  // POST /v3/auth/tokens sent (Scoria's own token)
    uint64_t cache_hits = 0;             // answered from the cache (valid or invalid)
  };

  // Does no I/O: the service token is fetched on first use. Any thread.
  explicit TokenValidator(KeystoneConfig config, ValidatorTuning tuning = {});
  ~TokenValidator();
  TokenValidator(const TokenValidator&) = delete;
  TokenValidator& operator=(const TokenValidator&) = delete;

  // The identity of a request with X-Auth-Token `user_token` and, if present, X-Service-Token
  // `service_token`. Errors (the message is for the 401/503 body and names no token):
  //   Unauthenticated: the user token is empty, unknown to Keystone, revoked or expired; or a
  //     service token was given and is invalid, or lacks service_token_roles while
  //     service_token_roles_required (keystonemiddleware refuses the whole request then).
  //   Unavailable: Keystone cannot be reached, times out, answers 5xx, or refuses Scoria's own
  //     credentials, and the token is not in the cache. The API answers 503.
  // A service token that holds one of service_token_roles also lets an expired user token
  // through (keystonemiddleware's allow_expired: a service finishing a long operation the
  // user started), still only if Keystone knows it. Any thread; blocks on a cache miss.
  [[nodiscard]] Result<Identity> Validate(std::string_view user_token,
                                          std::optional<std::string_view> service_token);

  // `Keystone uri="<www_authenticate_uri>"`: the WWW-Authenticate value of every 401.
  std::string WwwAuthenticateHeader() const;

  Stats stats() const;

 private:
  struct Entry {
    std::shared_ptr<const TokenInfo> info;  // null: Keystone said the token is invalid
    int64_t until_micros = 0;               // dropped from then on
  };
  struct InFlight;  // a validation some thread is running for others to wait on
  class Http;       // the libcurl exchanges with Keystone

  // The cached or fresh answer for one token (not yet checked against expiry or roles).
  Result<std::shared_ptr<const TokenInfo>> Lookup(std::string_view token, bool allow_expired);
  // Asks Keystone, renewing the service token once on 401.
  Result<std::shared_ptr<const TokenInfo>> AskKeystone(std::string_view token, bool allow_expired);
  // Scoria's own token, renewed when close to expiry or when `stale` is the one just refused.
  Result<std::string> ServiceToken(const std::string& stale);
  // Caches Keystone's answer for the token of hash `key` per the model above. mu_ held.
  void StoreLocked(const std::string& key, const Result<std::shared_ptr<const TokenInfo>>& answer,
                   int64_t now_micros);

  const KeystoneConfig config_;
  const ValidatorTuning tuning_;
  const std::string v3_;  // "<auth_url without /v3>/v3"
  std::unique_ptr<Http> http_;

  mutable std::mutex mu_;
  std::map<std::string, Entry> cache_;                         // by SHA-256; GUARDED_BY(mu_)
  std::map<std::string, std::shared_ptr<InFlight>> inflight_;  // by SHA-256; GUARDED_BY(mu_)
  Stats stats_;                                                // GUARDED_BY(mu_)
  bool warned_roles_not_required_ = false;                     // GUARDED_BY(mu_)

  std::mutex service_mu_;                     // held while Scoria's own token is fetched
  std::string service_token_;                 // GUARDED_BY(service_mu_)
  int64_t service_token_expires_micros_ = 0;  // GUARDED_BY(service_mu_)
};

}  // namespace scoria::api::keystone
