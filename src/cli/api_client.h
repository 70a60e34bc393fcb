// ApiClient: the Block Storage API v3 as JSON calls. It adds what every request carries
// (X-Auth-Token, "OpenStack-API-Version: volume 3.N", Accept/Content-Type JSON), parses 2xx
// bodies as JSON (an empty body is JSON null) and turns every non-2xx answer into a Status
// once, here, from Cinder's fault body {"<faultName>": {"code": N, "message": "..."}}:
//
//   message = "<fault message> (HTTP <code>)"      e.g. "Volume x could not be found. (HTTP 404)"
//   code    = 404 -> kNotFound, 409 -> kConflict, 413 -> kResourceExhausted,
//             406 -> kUnsupportedVersion, 501 -> kNotImplemented,
//             other 4xx -> kInvalidArgument, 5xx and anything else -> kInternal.
//
// HTTP answers therefore never produce kUnavailable (reserved for "no answer at all", see
// cli/http_client.h) nor kFailedPrecondition (reserved for --wait, see cli/wait.h); app.cc
// relies on that to pick exit codes.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "cli/http_client.h"
#include "common/status.h"

namespace scoria::cli {

struct ApiOptions {
  std::string token = "admin:admin";  // sent as X-Auth-Token (noauth: user[:project])
  std::string api_version = "3.71";   // sent as "OpenStack-API-Version: volume <v>"
  // When set, api_version is the most this client speaks: before the first call it reads the
  // server's version document (GET <endpoint>/) and lowers api_version to the server's
  // maximum, as cinderclient does without an explicit version. A server that does not answer
  // the document keeps api_version.
  bool negotiate = false;
};

// Builds the Status for a non-2xx response as described above.
Status ErrorFromResponse(const HttpResponse& response);

class ApiClient {
 public:
  // `http` must outlive this object.
  ApiClient(HttpClient& http, ApiOptions options) : http_(http), options_(std::move(options)) {}

  Result<nlohmann::json> Get(const std::string& path, const Query& query = {});
  Result<nlohmann::json> Post(const std::string& path, const nlohmann::json& body);
  Result<nlohmann::json> Put(const std::string& path, const nlohmann::json& body);
  Result<nlohmann::json> Delete(const std::string& path, const Query& query = {});

  // Percent-encodes one path segment (a name, a metadata key).
  static std::string PathSegment(const std::string& s);

 private:
  Result<nlohmann::json> Call(const std::string& method, const std::string& path,
                              const Query& query, const nlohmann::json* body);
  void Negotiate();

  HttpClient& http_;
  ApiOptions options_;
  bool negotiated_ = false;
};

// GETs a collection and returns its `key` member as a JSON array. With follow_links, keeps
// requesting the page named by "<key>_links" rel=next (Cinder adds it when a page is full)
// until there is none, as cinderclient does when no --limit is given.
Result<nlohmann::json> ListAll(ApiClient& api, const std::string& path, Query query,
                               const std::string& key, bool follow_links);

// The `key` member of a server answer (`{"volume": {...}}`) when it is an object, or with
// `array` a list; otherwise Internal "the server's answer has no '<key>' object" (or "list").
Result<nlohmann::json> AnswerMember(const nlohmann::json& body, const std::string& key,
                                    bool array = false);

}  // namespace scoria::cli
