#include "api/keystone/token_validator.h"

#include <curl/curl.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <condition_variable>
#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "common/digest.h"
#include "common/http_text.h"

namespace scoria::api::keystone {
namespace {

constexpr int64_t kMicros = 1'000'000;
constexpr char kAuthRequired[] = "The request you have made requires authentication.";

// What a log line may say about a token: its hash's first 8 hex digits.
std::string_view LogId(const std::string& hash) { return std::string_view(hash).substr(0, 8); }

std::string V3Base(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  if (url.ends_with("/v3")) url.resize(url.size() - 3);
  return url + "/v3";
}

std::string StringAt(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// The "token" object of a Keystone v3 answer as TokenInfo. The fields keystonemiddleware reads;
// nothing else is kept (the catalog is not even asked for).
Result<TokenInfo> ParseToken(const std::string& body) {
  auto doc = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object() || !doc.contains("token") || !doc["token"].is_object()) {
    return Unavailable("Keystone sent a token answer without a \"token\" object");
  }
  const auto& t = doc["token"];
  TokenInfo info;
  auto expires = ParseIsoTime(StringAt(t, "expires_at"));
  if (!expires) return Unavailable("Keystone sent a token without a readable expires_at");
  info.expires_at_micros = *expires;
  if (auto u = t.find("user"); u != t.end() && u->is_object()) {
    info.user_id = StringAt(*u, "id");
    info.user_name = StringAt(*u, "name");
    if (auto d = u->find("domain"); d != u->end() && d->is_object()) {
      info.user_domain_id = StringAt(*d, "id");
    }
  }
  if (auto p = t.find("project"); p != t.end() && p->is_object()) {
    info.project_id = StringAt(*p, "id");
    info.project_name = StringAt(*p, "name");
    if (auto d = p->find("domain"); d != p->end() && d->is_object()) {
      info.project_domain_id = StringAt(*d, "id");
    }
  }
  if (auto r = t.find("roles"); r != t.end() && r->is_array()) {
    for (const auto& role : *r) {
      if (role.is_object()) info.roles.push_back(StringAt(role, "name"));
    }
  }
  if (auto a = t.find("is_admin_project"); a != t.end() && a->is_boolean()) {
    info.is_admin_project = a->get<bool>();
  }
  // {"system": {"all": true}}: the only system scope Keystone has.
  if (auto s = t.find("system"); s != t.end() && s->is_object()) {
    for (const auto& [name, on] : s->items()) {
      if (on.is_boolean() && on.get<bool>()) info.system_scope = name;
    }
  }
  if (info.user_id.empty()) return Unavailable("Keystone sent a token without a user id");
  return info;
}

bool HasAnyRole(const TokenInfo& t, const std::vector<std::string>& wanted) {
  return std::any_of(t.roles.begin(), t.roles.end(), [&](const std::string& r) {
    return std::find(wanted.begin(), wanted.end(), r) != wanted.end();
  });
}

}  // namespace

// One exchange with Keystone over a pooled libcurl easy handle (connections to Keystone are
// kept alive between validations). No retries: a caller waiting on a dead Keystone should get
// its 503 within the timeouts, and the next request asks again anyway.
class TokenValidator::Http {
 public:
  struct Answer {
    long status = 0;
    std::map<std::string, std::string> headers;  // names lower-case
    std::string body;
  };

  Http(long connect_timeout_ms, long request_timeout_ms)
      : connect_timeout_ms_(connect_timeout_ms), request_timeout_ms_(request_timeout_ms) {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  }
  ~Http() {
    for (CURL* h : idle_) curl_easy_cleanup(h);
  }

  // Unavailable when no HTTP answer came (refused, timed out, reset); the message names the
  // URL without its query and never a header.
  Result<Answer> Exchange(const char* method, const std::string& url,
                          const std::vector<std::string>& headers, const std::string& body) {
    CURL* curl = Acquire();
    if (curl == nullptr) return Internal("curl_easy_init failed");
    curl_easy_reset(curl);  // keeps the handle's connection cache
    Answer answer;
    char errbuf[CURL_ERROR_SIZE] = {0};
    curl_slist* list = nullptr;
    for (const auto& h : headers) list = curl_slist_append(list, h.c_str());
    list = curl_slist_append(list, "Expect:");
    curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);  // timeouts without SIGALRM: we are threaded
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, connect_timeout_ms_);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, request_timeout_ms_);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, CurlAppendToString);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &answer.body);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, CurlAddHeaderLine);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &answer.headers);
    if (std::string_view(method) == "POST") {
      curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
      curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.c_str());
    }
    CURLcode rc = curl_easy_perform(curl);
    curl_slist_free_all(list);
    if (rc != CURLE_OK) {
      curl_easy_cleanup(curl);  // the connection may be half-used: do not keep it
      std::string where = url.substr(0, url.find('?'));
      return Unavailable("cannot reach Keystone at " + where + ": " +
                         (errbuf[0] != '\0' ? errbuf : curl_easy_strerror(rc)));
    }
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &answer.status);
    Release(curl);
    return answer;
  }

 private:
  static constexpr size_t kMaxIdle = 16;

  CURL* Acquire() {
    {
      std::lock_guard lock(mu_);
      if (!idle_.empty()) {
        CURL* h = idle_.back();
        idle_.pop_back();
        return h;
      }
    }
    return curl_easy_init();
  }
  void Release(CURL* h) {
    std::lock_guard lock(mu_);
    if (idle_.size() < kMaxIdle) {
      idle_.push_back(h);
      return;
    }
    curl_easy_cleanup(h);
  }

  const long connect_timeout_ms_;
  const long request_timeout_ms_;
  std::mutex mu_;
  std::vector<CURL*> idle_;  // GUARDED_BY(mu_)
};

struct TokenValidator::InFlight {
  bool done = false;  // GUARDED_BY(TokenValidator::mu_), as is answer
  std::optional<Result<std::shared_ptr<const TokenInfo>>> answer;
  std::condition_variable cv;
};

TokenValidator::TokenValidator(KeystoneConfig config, ValidatorTuning tuning)
    : config_(std::move(config)),
      tuning_(tuning),
      v3_(V3Base(config_.auth_url)),
      http_(std::make_unique<Http>(static_cast<long>(config_.http_connect_timeout) * 1000,
                                   static_cast<long>(config_.http_request_timeout) * 1000)) {}

TokenValidator::~TokenValidator() = default;

std::string TokenValidator::WwwAuthenticateHeader() const {
  // keystonemiddleware falls back to the identity server it talks to when the option is unset.
  const std::string& uri =
      config_.www_authenticate_uri.empty() ? config_.auth_url : config_.www_authenticate_uri;
  return "Keystone uri=\"" + uri + "\"";
}

TokenValidator::Stats TokenValidator::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

Result<Identity> TokenValidator::Validate(std::string_view user_token,
                                          std::optional<std::string_view> service_token) {
  if (user_token.empty()) return Unauthenticated(kAuthRequired);
  Identity id;
  bool allow_expired = false;
  if (service_token) {
    // keystonemiddleware refuses the whole request when a service token is sent and is not
    // valid, even if the user token is.
    auto s = Lookup(*service_token, /*allow_expired=*/false);
    if (!s.ok()) return s.status();
    if ((*s)->expires_at_micros <= NowMicros()) return Unauthenticated(kAuthRequired);
    id.service_roles_ok = HasAnyRole(**s, config_.service_token_roles);
    if (!id.service_roles_ok) {
      if (config_.service_token_roles_required) return Unauthenticated(kAuthRequired);
      std::lock_guard lock(mu_);
      if (!warned_roles_not_required_) {
        warned_roles_not_required_ = true;
        spdlog::warn(
            "keystone: a valid token without any of service_token_roles was accepted as a "
            "service token because service_token_roles_required is false; set it to true");
      }
    }
    id.service = **s;
    allow_expired = id.service_roles_ok;
  }
  ASSIGN_OR_RETURN(std::shared_ptr<const TokenInfo> user, Lookup(user_token, allow_expired));
  if (!allow_expired && user->expires_at_micros <= NowMicros()) {
    return Unauthenticated(kAuthRequired);
  }
  static_cast<TokenInfo&>(id) = *user;
  return id;
}

Result<std::shared_ptr<const TokenInfo>> TokenValidator::Lookup(std::string_view token,
                                                                bool allow_expired) {
  const std::string key = Sha256Hex(token);
  // allow_expired asks Keystone a different question (?allow_expired=1): its own flight.
  const std::string flight_key = allow_expired ? key + "+expired" : key;
  std::shared_ptr<InFlight> flight;
  {
    std::unique_lock lock(mu_);
    auto it = cache_.find(key);
    // A cached refusal may only mean "expired", which allow_expired accepts: ask again then.
    if (it != cache_.end() && it->second.until_micros > NowMicros() &&
        (it->second.info != nullptr || !allow_expired)) {
      ++stats_.cache_hits;
      if (it->second.info == nullptr) return Unauthenticated(kAuthRequired);
      return it->second.info;
    }
    if (auto f = inflight_.find(flight_key); f != inflight_.end()) {
      std::shared_ptr<InFlight> other = f->second;
      other->cv.wait(lock, [&] { return other->done; });
      return *other->answer;
    }
    flight = std::make_shared<InFlight>();
    inflight_.emplace(flight_key, flight);
  }
  auto answer = AskKeystone(token, allow_expired);
  if (!answer.ok() && answer.status().code() == StatusCode::kUnauthenticated) {
    spdlog::info("keystone: token {} refused", LogId(key));
  }
  {
    std::lock_guard lock(mu_);
    StoreLocked(key, answer, NowMicros());
    inflight_.erase(flight_key);
    flight->answer = answer;
    flight->done = true;
  }
  flight->cv.notify_all();
  return answer;
}

void TokenValidator::StoreLocked(const std::string& key,
                                 const Result<std::shared_ptr<const TokenInfo>>& answer,
                                 int64_t now_micros) {
  if (config_.token_cache_time < 0) return;
  const int64_t ttl = static_cast<int64_t>(config_.token_cache_time) * kMicros;
  Entry entry;
  if (answer.ok()) {
    entry.info = *answer;
    entry.until_micros = std::min(now_micros + ttl, (*answer)->expires_at_micros);
  } else if (answer.status().code() == StatusCode::kUnauthenticated) {
    entry.until_micros =
        now_micros + std::min(ttl, static_cast<int64_t>(tuning_.negative_cache_s) * kMicros);
  } else {
    return;  // Keystone trouble is not an answer about the token
  }
  if (entry.until_micros <= now_micros) return;
  if (cache_.size() >= tuning_.max_cache_entries && !cache_.contains(key)) {
    std::erase_if(cache_, [&](const auto& kv) { return kv.second.until_micros <= now_micros; });
    if (cache_.size() >= tuning_.max_cache_entries) cache_.clear();
  }
  cache_[key] = std::move(entry);
}

Result<std::shared_ptr<const TokenInfo>> TokenValidator::AskKeystone(std::string_view token,
                                                                     bool allow_expired) {
  std::string url = v3_ + "/auth/tokens?nocatalog";
  if (allow_expired) url += "&allow_expired=1";
  std::string refused;  // our own token, when Keystone said 401 to it
  for (int attempt = 0; attempt < 2; ++attempt) {
    ASSIGN_OR_RETURN(std::string own, ServiceToken(refused));
    {
      std::lock_guard lock(mu_);
      ++stats_.keystone_validations;
    }
    ASSIGN_OR_RETURN(Http::Answer a, http_->Exchange("GET", url,
                                                     {"X-Auth-Token: " + own,
                                                      "X-Subject-Token: " + std::string(token),
                                                      "Accept: application/json"},
                                                     ""));
    switch (a.status) {
      case 200: {
        ASSIGN_OR_RETURN(TokenInfo info, ParseToken(a.body));
        return std::make_shared<const TokenInfo>(std::move(info));
      }
      case 404:  // Keystone's answer for unknown, malformed, revoked and expired tokens
        return Unauthenticated(kAuthRequired);
      case 401:
        // Our own token was revoked or expired early (Keystone restarted with new fernet
        // keys, the service user's password changed): renew it once.
        refused = own;
        continue;
      case 403:
        return Unavailable("Keystone does not let service user " + config_.username +
                           " validate tokens (HTTP 403): give it the service or admin role");
      default:
        return Unavailable("Keystone answered HTTP " + std::to_string(a.status) +
                           " to a token validation");
    }
  }
  return Unavailable("Keystone refuses the token of service user " + config_.username +
                     " even just after issuing it");
}

Result<std::string> TokenValidator::ServiceToken(const std::string& stale) {
  std::lock_guard lock(service_mu_);
  const int64_t now = NowMicros();
  if (!service_token_.empty() && service_token_ != stale &&
      service_token_expires_micros_ - now >
          static_cast<int64_t>(tuning_.renew_before_s) * kMicros) {
    return service_token_;
  }
  {
    std::lock_guard stats_lock(mu_);
    ++stats_.service_token_fetches;
  }
  nlohmann::json body = {{"auth",
                          {{"identity",
                            {{"methods", {"password"}},
                             {"password",
                              {{"user",
                                {{"name", config_.username},
                                 {"domain", {{"name", config_.user_domain_name}}},
                                 {"password", config_.password}}}}}}},
                           {"scope",
                            {{"project",
                              {{"name", config_.project_name},
                               {"domain", {{"name", config_.project_domain_name}}}}}}}}}};
  ASSIGN_OR_RETURN(
      Http::Answer a,
      http_->Exchange("POST", v3_ + "/auth/tokens?nocatalog",
                      {"Content-Type: application/json", "Accept: application/json"}, body.dump()));
  if (a.status != 201) {
    spdlog::error("keystone: service user {} could not authenticate: HTTP {}", config_.username,
                  a.status);
    return Unavailable("Keystone refused the credentials of service user " + config_.username +
                       " (HTTP " + std::to_string(a.status) + ")");
  }
  auto token = a.headers.find("x-subject-token");
  if (token == a.headers.end() || token->second.empty()) {
    return Unavailable("Keystone issued a token without X-Subject-Token");
  }
  ASSIGN_OR_RETURN(TokenInfo info, ParseToken(a.body));
  service_token_ = token->second;
  service_token_expires_micros_ = info.expires_at_micros;
  spdlog::info("keystone: service user {} has a new token {} (expires {})", config_.username,
               LogId(Sha256Hex(service_token_)), FormatIsoTime(info.expires_at_micros));
  return service_token_;
}

}  // namespace scoria::api::keystone
