#include "backup/swift_store.h"

#include <openssl/evp.h>

#include <cstdlib>
#include <mutex>
#include <nlohmann/json.hpp>
#include <utility>

#include "backup/object_http.h"
#include "common/http_text.h"

namespace scoria::backup {
namespace {

constexpr uint64_t kMaxObject = 5ULL << 30;  // Swift's max_file_size default

std::string Md5Hex(std::span<const std::byte> data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_md5(), nullptr);
  return http::Hex({md, len});
}

class SwiftStore : public http::HttpObjectStore {
 public:
  explicit SwiftStore(SwiftStoreOptions o) : o_(std::move(o)), client_(o_.auth_url, o_.http) {}

  Status Authenticate() {
    auto build = [&] {
      http::Request r;
      r.url = o_.auth_url;
      r.headers = {"X-Auth-User: " + o_.user, "X-Auth-Key: " + o_.key};
      return r;
    };
    ASSIGN_OR_RETURN(auto r, client_.Send(build, "Swift auth"));
    if (r.status == 401 || r.status == 403) {
      return FailedPrecondition("Swift auth at " + o_.auth_url + " refused user " + o_.user +
                                ": HTTP " + std::to_string(r.status) +
                                "; check backup_swift_user and backup_swift_key");
    }
    std::string token = r.Header("x-auth-token");
    std::string url = o_.storage_url.empty() ? r.Header("x-storage-url") : o_.storage_url;
    if (r.status / 100 != 2 || token.empty() || url.empty()) {
      return Internal("Swift auth at " + o_.auth_url + ": HTTP " + std::to_string(r.status) +
                      " without X-Auth-Token and X-Storage-Url");
    }
    while (!url.empty() && url.back() == '/') url.pop_back();
    std::lock_guard lock(mu_);
    token_ = std::move(token);
    storage_url_ = std::move(url);
    return Status::Ok();
  }

  Status EnsureContainer() {
    ASSIGN_OR_RETURN(auto r, Call("PUT", "", "", {}, {}, "create container"));
    if (r.status == 201 || r.status == 202 || r.status == 204) return Status::Ok();
    return Refused(r, "create container");
  }

  void ExpireToken() {
    std::lock_guard lock(mu_);
    token_ = "AUTH_expired-for-test";
  }

  Status Put(std::string_view name, std::span<const std::byte> data) override {
    RETURN_IF_ERROR(CheckObjectName(name));
    const std::string what = "PUT " + std::string(name);
    if (data.size() > kMaxObject) {
      return InvalidArgument(what + ": " + std::to_string(data.size()) +
                             " bytes is above Swift's 5 GiB object limit");
    }
    ASSIGN_OR_RETURN(
        auto r,
        Call("PUT", std::string(name), "",
             {"ETag: " + Md5Hex(data), "Content-Type: application/octet-stream"}, data, what));
    if (r.status != 201) return Refused(r, what);
    return Status::Ok();
  }

  Result<std::vector<ObjectInfo>> List(std::string_view prefix) override {
    std::vector<ObjectInfo> out;
    std::string marker;
    for (;;) {
      std::string q =
          "format=json&limit=" + std::to_string(o_.limit) + "&prefix=" + PercentEncode(prefix);
      if (!marker.empty()) q += "&marker=" + PercentEncode(marker);
      ASSIGN_OR_RETURN(auto r, Call("GET", "", q, {}, {}, "LIST " + std::string(prefix)));
      if (r.status == 204) break;  // an empty container
      if (r.status != 200) return Refused(r, "LIST " + std::string(prefix));
      auto page = nlohmann::json::parse(r.body, nullptr, false);
      if (!page.is_array())
        return Internal("Swift listing of " + o_.container + ": not a JSON array");
      if (page.empty()) break;
      for (const auto& e : page) {
        if (!e.is_object() || !e.contains("name"))
          continue;  // "subdir" entries: none without delimiter
        ObjectInfo info;
        info.name = e.value("name", "");
        info.size = e.value("bytes", uint64_t{0});
        info.modified_micros = http::ParseIsoTime(e.value("last_modified", ""));
        marker = info.name;
        if (CheckObjectName(info.name).ok()) out.push_back(std::move(info));
      }
      if (static_cast<int>(page.size()) < o_.limit) break;
    }
    return out;
  }

 private:
  Result<http::Response> ObjectRequest(const std::string& method,
                                       const std::string& name) override {
    return Call(method, name, "", {}, {}, method + " " + name);
  }

  // One request to <storage>/<container>[/<object>][?query] with the current token, retried
  // (object_http.h); a 401 renews the token once and repeats the request.
  Result<http::Response> Call(const std::string& method, const std::string& object,
                              const std::string& query, const std::vector<std::string>& headers,
                              std::span<const std::byte> body, const std::string& what) {
    std::string used_token;
    auto build = [&] {
      http::Request r;
      r.method = method;
      std::lock_guard lock(mu_);
      used_token = token_;
      r.url = storage_url_ + "/" + PercentEncode(o_.container) +
              (object.empty() ? "" : "/" + PercentEncode(object, true)) +
              (query.empty() ? "" : "?" + query);
      r.headers = headers;
      r.headers.push_back("X-Auth-Token: " + token_);
      r.body = body;
      return r;
    };
    ASSIGN_OR_RETURN(auto r, client_.Send(build, what));
    if (r.status != 401) return r;
    RETURN_IF_ERROR(RenewToken(used_token));
    return client_.Send(build, what);
  }

  // Renews the token unless another caller already replaced `stale`.
  Status RenewToken(const std::string& stale) {
    std::lock_guard renew(renew_mu_);
    {
      std::lock_guard lock(mu_);
      if (token_ != stale) return Status::Ok();
    }
    return Authenticate();
  }

  Status Refused(const http::Response& r, const std::string& what) const override {
    const std::string where = " (Swift " + o_.auth_url + ", container " + o_.container + ")";
    if (r.status == 401 || r.status == 403) {
      return FailedPrecondition(what + ": user " + o_.user + " refused: HTTP " +
                                std::to_string(r.status) +
                                "; check backup_swift_user and backup_swift_key" + where);
    }
    if (r.status == 422)
      return Internal(what + ": the server's checksum differs from ours" + where);
    return Internal(what + ": HTTP " + std::to_string(r.status) + where);
  }

  const SwiftStoreOptions o_;
  http::Client client_;
  std::mutex renew_mu_;  // one renewal at a time
  std::mutex mu_;
  std::string token_;        // guarded by mu_
  std::string storage_url_;  // guarded by mu_
};

}  // namespace

Result<std::shared_ptr<BackupStore>> OpenSwiftStore(const SwiftStoreOptions& options) {
  if (options.auth_url.empty()) return InvalidArgument("backup_swift_auth_url is not set");
  auto auth = http::ParseUrl(options.auth_url);
  if (!auth.ok()) return InvalidArgument("backup_swift_auth_url: " + auth.status().message());
  if (!options.storage_url.empty()) {
    auto s = http::ParseUrl(options.storage_url);
    if (!s.ok()) return InvalidArgument("backup_swift_url: " + s.status().message());
  }
  if (options.user.empty()) return InvalidArgument("backup_swift_user is not set");
  if (options.key.empty()) return InvalidArgument("backup_swift_key is not set");
  const std::string& c = options.container;
  if (c.empty() || c.size() > 256 || c.find('/') != std::string::npos) {
    return InvalidArgument(
        "backup_swift_container: expected 1 to 256 characters without '/', got \"" + c + "\"");
  }
  if (options.limit < 1 || options.http.attempts < 1) {
    return InvalidArgument("Swift store: limit and attempts must be at least 1");
  }
  auto store = std::make_shared<SwiftStore>(options);
  RETURN_IF_ERROR(store->Authenticate());
  RETURN_IF_ERROR(store->EnsureContainer());
  return std::shared_ptr<BackupStore>(store);
}

void SwiftExpireTokenForTest(BackupStore& swift_store) {
  if (auto* s = dynamic_cast<SwiftStore*>(&swift_store)) s->ExpireToken();
}

}  // namespace scoria::backup
