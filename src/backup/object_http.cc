#include "backup/object_http.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <random>
#include <thread>

#include "common/http_text.h"

namespace scoria::backup::http {
namespace {

bool Retryable(CURLcode c) {
  switch (c) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
      return true;
    default:
      return false;
  }
}

}  // namespace

std::string Response::Header(const std::string& lower_name) const {
  auto it = headers.find(lower_name);
  return it == headers.end() ? std::string() : it->second;
}

Client::Client(std::string endpoint, Options options)
    : endpoint_(std::move(endpoint)), options_(std::move(options)) {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

Client::~Client() {
  for (void* h : idle_) curl_easy_cleanup(static_cast<CURL*>(h));
}

void* Client::Acquire() {
  {
    std::lock_guard lock(mu_);
    ++attempts_made_;
    if (!idle_.empty()) {
      void* h = idle_.back();
      idle_.pop_back();
      return h;
    }
  }
  return curl_easy_init();
}

void Client::Release(void* handle) {
  std::lock_guard lock(mu_);
  if (static_cast<int>(idle_.size()) < options_.max_connections) {
    idle_.push_back(handle);
    return;
  }
  curl_easy_cleanup(static_cast<CURL*>(handle));
}

uint64_t Client::attempts_made() const {
  std::lock_guard lock(mu_);
  return attempts_made_;
}

Result<Response> Client::SendOnce(const Request& request) {
  CURL* curl = static_cast<CURL*>(Acquire());
  if (curl == nullptr) return Internal("curl_easy_init failed");
  // Reset the options but keep the handle's connection cache (keep-alive to the endpoint).
  curl_easy_reset(curl);
  Response response;
  curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);  // timeouts without SIGALRM: we are threaded
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, options_.connect_timeout_ms);
  // A stalled transfer, not a slow one, is a failure: big parts may take long on slow links.
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, options_.stall_timeout_s);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, options_.verify_tls ? 1L : 0L);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, options_.verify_tls ? 2L : 0L);
  if (!options_.ca_file.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, options_.ca_file.c_str());
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, CurlAppendToString);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &response.body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, CurlAddHeaderLine);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &response.headers);

  curl_slist* headers = nullptr;
  for (const auto& h : request.headers) headers = curl_slist_append(headers, h.c_str());
  // Expect: 100-continue costs a round trip per PUT and some gateways mishandle it.
  headers = curl_slist_append(headers, "Expect:");
  if (request.method == "HEAD") {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else if (request.method == "PUT" || request.method == "POST") {
    // POSTFIELDS sends the buffer as is with a Content-Length (also when empty); the method
    // is then overridden for PUT. No copy: the span outlives the call.
    static const char kEmpty[1] = {0};
    const char* data =
        request.body.empty() ? kEmpty : reinterpret_cast<const char*>(request.body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                     static_cast<curl_off_t>(request.body.size()));
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, data);
    if (request.method == "PUT") curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, "PUT");
  } else if (request.method != "GET") {
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  CURLcode rc = curl_easy_perform(curl);
  curl_slist_free_all(headers);
  if (rc != CURLE_OK) {
    curl_easy_cleanup(curl);  // the connection may be half-used: do not keep it
    std::string m = std::string(curl_easy_strerror(rc));
    return Retryable(rc) ? Unavailable(m) : Internal(m);
  }
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
  Release(curl);
  return response;
}

Result<Response> Client::Send(const std::function<Request()>& build, std::string_view what) {
  thread_local std::minstd_rand rng(std::random_device{}());
  int sleep_ms = options_.backoff_initial_ms;
  std::string last;
  const int attempts = std::max(1, options_.attempts);
  for (int attempt = 1; attempt <= attempts; ++attempt) {
    if (attempt > 1) {
      // Jitter in [sleep/2, sleep]: workers that failed together do not retry together.
      int jittered =
          sleep_ms / 2 + static_cast<int>(rng() % static_cast<unsigned>(sleep_ms / 2 + 1));
      std::this_thread::sleep_for(std::chrono::milliseconds(jittered));
      sleep_ms = std::min(options_.backoff_max_ms, sleep_ms * 2);
    }
    auto r = SendOnce(build());
    if (!r.ok()) {
      if (r.status().code() != StatusCode::kUnavailable) {
        return Status(r.status().code(),
                      std::string(what) + " at " + endpoint_ + ": " + r.status().message());
      }
      last = r.status().message();
      continue;
    }
    if (r->status >= 500) {
      last = "HTTP " + std::to_string(r->status);
      continue;
    }
    return r;
  }
  return Unavailable(std::string(what) + " at " + endpoint_ + ": failed " +
                     std::to_string(attempts) + " attempts, last: " + last);
}

std::string Hex(std::span<const unsigned char> bytes) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char b : bytes) {
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

Result<ParsedUrl> ParseUrl(std::string_view url) {
  size_t scheme_end = 0;
  if (url.starts_with("http://")) {
    scheme_end = 7;
  } else if (url.starts_with("https://")) {
    scheme_end = 8;
  } else {
    return InvalidArgument("expected an http:// or https:// URL, got \"" + std::string(url) + "\"");
  }
  size_t slash = url.find('/', scheme_end);
  ParsedUrl p;
  p.authority = std::string(url.substr(
      scheme_end, slash == std::string_view::npos ? std::string_view::npos : slash - scheme_end));
  if (p.authority.empty() || p.authority.find('@') != std::string::npos ||
      p.authority.find_first_of("?# ") != std::string::npos) {
    return InvalidArgument("expected a URL with a host (and no credentials), got \"" +
                           std::string(url) + "\"");
  }
  p.scheme_authority = std::string(url.substr(0, scheme_end)) + p.authority;
  if (slash != std::string_view::npos) p.path = std::string(url.substr(slash));
  while (!p.path.empty() && p.path.back() == '/') p.path.pop_back();
  return p;
}

int64_t ParseHttpDate(const std::string& s) {
  std::tm tm{};
  if (::strptime(s.c_str(), "%a, %d %b %Y %H:%M:%S", &tm) == nullptr) return 0;
  return static_cast<int64_t>(::timegm(&tm)) * 1'000'000;
}

int64_t ParseIsoTime(const std::string& s) {
  std::tm tm{};
  const char* rest = ::strptime(s.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (rest == nullptr) return 0;
  int64_t micros = static_cast<int64_t>(::timegm(&tm)) * 1'000'000;
  if (*rest == '.') {
    int64_t scale = 100'000;
    for (++rest; std::isdigit(static_cast<unsigned char>(*rest)) != 0; ++rest) {
      micros += (*rest - '0') * scale;
      scale /= 10;
    }
  }
  return micros;
}

Result<std::vector<std::byte>> HttpObjectStore::Get(std::string_view name) {
  RETURN_IF_ERROR(CheckObjectName(name));
  const std::string n(name);
  ASSIGN_OR_RETURN(auto r, ObjectRequest("GET", n));
  if (r.status == 404) return NotFound("backup object " + n + " not found");
  if (r.status != 200) return Refused(r, "GET " + n);
  const auto* p = reinterpret_cast<const std::byte*>(r.body.data());
  return std::vector<std::byte>(p, p + r.body.size());
}

Result<ObjectInfo> HttpObjectStore::Stat(std::string_view name) {
  RETURN_IF_ERROR(CheckObjectName(name));
  const std::string n(name);
  ASSIGN_OR_RETURN(auto r, ObjectRequest("HEAD", n));
  if (r.status == 404) return NotFound("backup object " + n + " not found");
  if (r.status != 200) return Refused(r, "HEAD " + n);
  ObjectInfo info;
  info.name = n;
  info.size = std::strtoull(r.Header("content-length").c_str(), nullptr, 10);
  info.modified_micros = ParseHttpDate(r.Header("last-modified"));
  return info;
}

Status HttpObjectStore::Delete(std::string_view name) {
  RETURN_IF_ERROR(CheckObjectName(name));
  const std::string n(name);
  ASSIGN_OR_RETURN(auto r, ObjectRequest("DELETE", n));
  if (r.status == 204 || r.status == 200 || r.status == 404) return Status::Ok();  // idempotent
  return Refused(r, "DELETE " + n);
}

}  // namespace scoria::backup::http
