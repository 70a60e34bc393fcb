// HttpClient: the one seam between the CLI and the network. A request names a method, a path
// relative to the API endpoint (e.g. "/volumes/detail"), query parameters (unencoded; the
// transport encodes them), a body and extra headers; the answer is whatever HTTP status the
// server sent. Only failing to get an answer at all (refused, DNS, timeout, TLS) is an error,
// reported as StatusCode::kUnavailable with a message "cannot reach <endpoint>: <reason>".
// Non-2xx answers are not errors at this layer: ApiClient interprets them.
//
// The real implementation is CurlHttpClient (cli/curl_http_client.h); unit tests substitute a
// fake. Implementations are used from one thread at a time.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"

namespace scoria::cli {

using Query = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method = "GET";  // GET, POST, PUT, DELETE
  std::string path;            // relative to the endpoint, starts with '/', already escaped
  Query query;                 // raw values; the transport percent-encodes them
  std::string body;            // empty: no body
  std::map<std::string, std::string> headers;
};

struct HttpResponse {
  int status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // names lower-cased
};

class HttpClient {
 public:
  virtual ~HttpClient() = default;
  // Sends one request and waits for the whole answer. Fails only when no HTTP answer came.
  [[nodiscard]] virtual Result<HttpResponse> Send(const HttpRequest& request) = 0;
};

}  // namespace scoria::cli
