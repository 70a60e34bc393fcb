// The transport-neutral HTTP request and response that the router and handlers exchange.
//
// HttpServer (the only code that knows Boost.Beast) turns a wire request into a Request with
// MakeRequest, the Router fills in the v3-specific fields (version, ctx, url_project), a handler
// returns a Response, and the server writes it. Both are plain values: tests build them
// directly. Header names are compared case-insensitively; query names are case-sensitive, as in
// Cinder (webob).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/http/auth.h"
#include "api/http/microversion.h"
#include "api/http/text.h"
#include "common/status.h"

namespace scoria::api {

using NameValues = std::vector<std::pair<std::string, std::string>>;

struct Request {
  std::string method;      // upper case: "GET", "POST"...
  std::string path;        // percent-decoded, without the query: "/v3/volumes/detail"
  std::string raw_target;  // as received: "/v3/volumes/detail?name=a%20b"
  NameValues query;        // decoded ('+' is a space), in order; names may repeat
  NameValues headers;      // as received
  std::string body;

  // Filled by the Router for v3 calls.
  ApiVersion version;       // the negotiated microversion
  RequestContext ctx;       // who is calling
  std::string base_url;     // "http://host:port" from the Host header, for links
  std::string url_project;  // the project segment of /v3/<project>/..., empty if absent

  // The first query value named `name`, if any.
  std::optional<std::string> Get(std::string_view name) const;
  // All query values named `name`, in order.
  std::vector<std::string> GetAll(std::string_view name) const;
  // The first header named `name` (case-insensitive), if any.
  std::optional<std::string> Header(std::string_view name) const;
};

struct Response {
  int status = 200;
  std::string body;
  NameValues headers;

  // Replaces any header named `name` (case-insensitive).
  void SetHeader(std::string_view name, std::string value);
  std::optional<std::string> Header(std::string_view name) const;
};

// `status` with `body` serialized and Content-Type: application/json.
Response JsonResponse(int status, const nlohmann::json& body);
// `status` with `json_text` (already serialized JSON) as the body, Content-Type: application/json.
Response JsonTextResponse(int status, std::string json_text);
// `status` with no body (e.g. 202 Accepted for actions, 204 for deletes).
Response EmptyResponse(int status);
// `status` with a text/plain body.
Response TextResponse(int status, std::string body);

// Builds a Request from wire parts: splits `target` into path and query and percent-decodes
// both; base_url is "http://" + the Host header ("http://localhost" without one). InvalidArgument
// if the target is not origin-form ("/...") or holds a bad %-escape (the server answers 400).
Result<Request> MakeRequest(std::string method, std::string target, NameValues headers,
                            std::string body);

// Parses the body of `req` as a JSON object. Success: the parsed object. Failure:
// InvalidArgument "Malformed request body: ..." (400) for an empty body, invalid JSON or a top
// level that is not an object. Handlers call it; the router has already checked Content-Type.
Result<nlohmann::json> ParseJsonBody(const Request& req);

// application/x-www-form-urlencoded encoding of one name or value ("a b/c" -> "a+b%2Fc").
std::string UrlEncode(std::string_view s);

}  // namespace scoria::api
