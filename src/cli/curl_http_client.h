// CurlHttpClient: HttpClient over one libcurl easy handle, reused for every request so the
// TCP connection to the endpoint is kept alive across the polls of --wait. The URL of a
// request is endpoint + path + "?" + percent-encoded query. A request that gets no answer
// within the timeout fails like a refused connection (kUnavailable, "cannot reach ...").
//
// Not thread-safe: one instance per thread (the CLI has one thread).
#pragma once

#include <memory>
#include <string>

#include "cli/http_client.h"

namespace scoria::cli {

struct CurlOptions {
  long connect_timeout_ms = 10'000;  // TCP/TLS connect
  long request_timeout_ms = 60'000;  // whole request, connect included
};

class CurlHttpClient : public HttpClient {
 public:
  // endpoint: e.g. "http://127.0.0.1:8776/v3" (a trailing '/' is dropped).
  explicit CurlHttpClient(std::string endpoint, CurlOptions options = {});
  ~CurlHttpClient() override;
  CurlHttpClient(const CurlHttpClient&) = delete;
  CurlHttpClient& operator=(const CurlHttpClient&) = delete;

  Result<HttpResponse> Send(const HttpRequest& request) override;

  // Percent-encodes every byte outside RFC 3986 "unreserved". Exposed for tests.
  static std::string Escape(const std::string& s);

 private:
  std::string endpoint_;
  CurlOptions options_;
  void* curl_ = nullptr;  // CURL*, kept opaque so this header does not pull in curl.h
};

}  // namespace scoria::cli
