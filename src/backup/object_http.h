// Internal to backup/: the HTTP client the object stores (s3_store, swift_store) share. One
// request/response exchange over libcurl, whole bodies in memory (the repository's objects
// are chunks and manifests: megabytes, not gigabytes), retried with exponential back-off.
//
// Retry rule: a transport failure (refused, reset, timed out, no progress for
// `stall_timeout_s`) and any 5xx answer are retried up to `attempts` times in all, sleeping
// backoff_initial_ms, then twice that, ... capped at backoff_max_ms (with jitter so parallel
// workers do not retry in step); when the last attempt fails the call is Unavailable, naming
// the endpoint, what was being done and the last answer. Every other status (2xx, 3xx, 4xx)
// is returned to the caller, which alone knows what 404 or 401 means for its request. The
// request is rebuilt for each attempt (`build`), so S3 re-signs with a fresh date and Swift
// uses the newest token.
//
// HttpObjectStore is the part of a BackupStore that is the same on S3 and Swift (GET, HEAD,
// DELETE of one object and how their answers read); each store adds Put, List and its requests.
//
// Threading: thread-safe. Each exchange takes a CURL easy handle from a pool (at most
// `max_connections` idle handles are kept, so keep-alive connections are reused); calls run
// in parallel, one handle each.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "backup/http_store_options.h"
#include "backup/store.h"
#include "common/status.h"

namespace scoria::backup::http {

using Options = HttpStoreOptions;  // http_store_options.h

struct Request {
  std::string method = "GET";  // GET, HEAD, PUT, POST, DELETE
  std::string url;
  std::vector<std::string> headers;  // "Name: value"
  std::span<const std::byte> body;   // sent for PUT/POST (may be empty)
};

struct Response {
  long status = 0;
  std::map<std::string, std::string> headers;  // names lower-case
  std::string body;
  std::string Header(const std::string& lower_name) const;  // "" when absent
};

class Client {
 public:
  // `endpoint` names the server in error messages (never a credential).
  Client(std::string endpoint, Options options);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // One request with the retry rule above. `what` says what is being done, for messages
  // ("PUT chunks/ab/ab12"). Unavailable after the last failed attempt.
  [[nodiscard]] Result<Response> Send(const std::function<Request()>& build, std::string_view what);

  // How many exchanges were attempted in all (tests count retries with it).
  uint64_t attempts_made() const;
  const std::string& endpoint() const { return endpoint_; }
  const Options& options() const { return options_; }

 private:
  Result<Response> SendOnce(const Request& request);
  void* Acquire();
  void Release(void* handle);

  const std::string endpoint_;
  const Options options_;
  mutable std::mutex mu_;
  std::vector<void*> idle_;     // CURL* handles, guarded by mu_
  uint64_t attempts_made_ = 0;  // guarded by mu_
};

// Lower-case hex of bytes.
std::string Hex(std::span<const unsigned char> bytes);

// "scheme://authority" and the path after it ("" or starting with '/') of a URL; InvalidArgument
// unless it starts with http:// or https:// and has a host.
struct ParsedUrl {
  std::string scheme_authority;  // "http://127.0.0.1:7480"
  std::string authority;         // "127.0.0.1:7480" (the Host header)
  std::string path;              // "/swift/v1" or ""
};
[[nodiscard]] Result<ParsedUrl> ParseUrl(std::string_view url);

// Microseconds since the epoch of an HTTP date ("Mon, 07 Dec 2026 16:44:50 GMT") or an ISO 8601
// time ("2026-12-07T16:44:50.123Z", with or without the Z and fraction); 0 when unparsable.
int64_t ParseHttpDate(const std::string& s);
int64_t ParseIsoTime(const std::string& s);

// Get, Stat, Delete and Sync over ObjectRequest (store.h's contract; names checked here).
class HttpObjectStore : public BackupStore {
 public:
  [[nodiscard]] Result<std::vector<std::byte>> Get(std::string_view name) override;
  [[nodiscard]] Result<ObjectInfo> Stat(std::string_view name) override;
  [[nodiscard]] Status Delete(std::string_view name) override;
  // An answered PUT is durable on both stores.
  [[nodiscard]] Status Sync() override { return Status::Ok(); }

 protected:
  // One body-less request (GET, HEAD, DELETE) for the object `name`, retried.
  virtual Result<Response> ObjectRequest(const std::string& method, const std::string& name) = 0;
  // A non-success answer to `what` as a Status (credentials, the store's error codes).
  virtual Status Refused(const Response& r, const std::string& what) const = 0;
};

}  // namespace scoria::backup::http
