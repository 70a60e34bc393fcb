#include "cli/api_client.h"

#include <cctype>
#include <optional>
#include <sstream>
#include <utility>
#include <vector>

#include "cli/curl_http_client.h"

namespace scoria::cli {
namespace {

const char* ReasonPhrase(int code) {
  switch (code) {
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 406:
      return "Not Acceptable";
    case 409:
      return "Conflict";
    case 413:
      return "Request Entity Too Large";
    case 415:
      return "Unsupported Media Type";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 503:
      return "Service Unavailable";
    default:
      return "Unexpected response";
  }
}

StatusCode CodeForHttp(int http) {
  switch (http) {
    case 404:
      return StatusCode::kNotFound;
    case 406:
      return StatusCode::kUnsupportedVersion;
    case 409:
      return StatusCode::kConflict;
    case 413:
      return StatusCode::kResourceExhausted;
    case 501:
      return StatusCode::kNotImplemented;
    default:
      return http >= 400 && http < 500 ? StatusCode::kInvalidArgument : StatusCode::kInternal;
  }
}

// The fault message, or "" if the body is not a Cinder fault. cinderclient reads the first
// key's "message" (or "details"); some proxies answer {"message": ...} at top level.
std::string FaultMessage(const std::string& body) {
  auto j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return "";
  auto pick = [](const nlohmann::json& o) -> std::string {
    for (const char* key : {"message", "details"}) {
      auto it = o.find(key);
      if (it != o.end() && it->is_string() && !it->get<std::string>().empty()) return *it;
    }
    return "";
  };
  for (const auto& [key, value] : j.items()) {
    if (value.is_object()) {
      std::string m = pick(value);
      if (!m.empty()) return m;
    }
  }
  return pick(j);
}

// A plain-text body (router 404s, proxies) reduced to one readable line.
std::string TextMessage(const std::string& body) {
  std::string line;
  bool space = false;
  for (char c : body) {
    if (c == '\n' || c == '\r' || c == '\t' || c == ' ') {
      space = !line.empty();
      continue;
    }
    if (space) line += ' ';
    space = false;
    line += c;
    if (line.size() > 200) return line + "...";
  }
  return line;
}

}  // namespace

Status ErrorFromResponse(const HttpResponse& response) {
  std::string message = FaultMessage(response.body);
  if (message.empty() && !response.body.empty() && response.body.front() != '{' &&
      response.body.find('<') == std::string::npos) {
    message = TextMessage(response.body);
  }
  if (message.empty()) message = ReasonPhrase(response.status);
  return Status(CodeForHttp(response.status),
                message + " (HTTP " + std::to_string(response.status) + ")");
}

std::string ApiClient::PathSegment(const std::string& s) { return CurlHttpClient::Escape(s); }

Result<nlohmann::json> ApiClient::Get(const std::string& path, const Query& query) {
  return Call("GET", path, query, nullptr);
}
Result<nlohmann::json> ApiClient::Post(const std::string& path, const nlohmann::json& body) {
  return Call("POST", path, {}, &body);
}
Result<nlohmann::json> ApiClient::Put(const std::string& path, const nlohmann::json& body) {
  return Call("PUT", path, {}, &body);
}
Result<nlohmann::json> ApiClient::Delete(const std::string& path, const Query& query) {
  return Call("DELETE", path, query, nullptr);
}

namespace {

// "3.60" -> {3, 60}; nullopt for anything else.
std::optional<std::pair<int, int>> ParseVersion(const std::string& s) {
  int major = 0, minor = 0;
  char dot = 0;
  std::istringstream in(s);
  if (!(in >> major >> dot >> minor) || dot != '.' || !in.eof()) return std::nullopt;
  return std::make_pair(major, minor);
}

// The "version" (maximum microversion) of the v3 entry of a version document: GET /v3/ answers
// {"versions": [...]} (Cinder and Scoria), some deployments {"version": {...}}.
std::optional<std::string> MaxVersionOf(const nlohmann::json& doc) {
  std::vector<nlohmann::json> entries;
  if (doc.contains("versions") && doc["versions"].is_array()) {
    for (const auto& v : doc["versions"]) entries.push_back(v);
  }
  if (doc.contains("version") && doc["version"].is_object()) entries.push_back(doc["version"]);
  for (const auto& v : entries) {
    if (!v.is_object() || v.value("id", "") != "v3.0") continue;
    if (v.contains("version") && v["version"].is_string()) return v["version"].get<std::string>();
  }
  return std::nullopt;
}

}  // namespace

void ApiClient::Negotiate() {
  negotiated_ = true;
  HttpRequest request;
  request.method = "GET";
  request.path = "/";
  request.headers["Accept"] = "application/json";
  request.headers["X-Auth-Token"] = options_.token;
  auto response = http_.Send(request);
  if (!response.ok() || response->status != 200) return;
  auto doc = nlohmann::json::parse(response->body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return;
  auto theirs_text = MaxVersionOf(doc);
  if (!theirs_text) return;
  auto theirs = ParseVersion(*theirs_text);
  auto ours = ParseVersion(options_.api_version);
  if (theirs && ours && theirs->first == 3 && *theirs < *ours) options_.api_version = *theirs_text;
}

Result<nlohmann::json> ApiClient::Call(const std::string& method, const std::string& path,
                                       const Query& query, const nlohmann::json* body) {
  if (options_.negotiate && !negotiated_) Negotiate();
  HttpRequest request;
  request.method = method;
  request.path = path;
  request.query = query;
  request.headers["Accept"] = "application/json";
  request.headers["X-Auth-Token"] = options_.token;
  request.headers["OpenStack-API-Version"] = "volume " + options_.api_version;
  // Scoria's additions to Cinder's views (backup progress, verification), which the CLI shows.
  request.headers["X-Scoria-Details"] = "true";
  if (body != nullptr) {
    request.body = body->dump();
    request.headers["Content-Type"] = "application/json";
  }
  ASSIGN_OR_RETURN(HttpResponse response, http_.Send(request));
  if (response.status < 200 || response.status >= 300) return ErrorFromResponse(response);
  if (response.body.empty()) return nlohmann::json();
  auto j = nlohmann::json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    return Internal("the server sent a body that is not JSON for " + method + " " + path +
                    " (HTTP " + std::to_string(response.status) + ")");
  }
  return j;
}

namespace {

std::string PercentDecode(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += s[i] == '+' ? ' ' : s[i];
    }
  }
  return out;
}

// The query of a "next" link, or nullopt when there is no next page.
std::optional<Query> NextPageQuery(const nlohmann::json& body, const std::string& key) {
  auto links = body.find(key + "_links");
  if (links == body.end() || !links->is_array()) return std::nullopt;
  for (const auto& link : *links) {
    if (!link.is_object() || link.value("rel", "") != "next") continue;
    std::string href = link.value("href", "");
    auto q = href.find('?');
    if (q == std::string::npos) return std::nullopt;
    Query query;
    std::string rest = href.substr(q + 1);
    size_t start = 0;
    while (start <= rest.size()) {
      size_t amp = rest.find('&', start);
      std::string pair =
          rest.substr(start, amp == std::string::npos ? std::string::npos : amp - start);
      if (!pair.empty()) {
        auto eq = pair.find('=');
        query.emplace_back(PercentDecode(pair.substr(0, eq)),
                           eq == std::string::npos ? "" : PercentDecode(pair.substr(eq + 1)));
      }
      if (amp == std::string::npos) break;
      start = amp + 1;
    }
    return query;
  }
  return std::nullopt;
}

}  // namespace

Result<nlohmann::json> AnswerMember(const nlohmann::json& body, const std::string& key,
                                    bool array) {
  if (body.is_object() && body.contains(key) &&
      (array ? body[key].is_array() : body[key].is_object())) {
    return body[key];
  }
  return Internal("the server's answer has no '" + key + "' " + (array ? "list" : "object"));
}

Result<nlohmann::json> ListAll(ApiClient& api, const std::string& path, Query query,
                               const std::string& key, bool follow_links) {
  nlohmann::json all = nlohmann::json::array();
  std::string last_marker;
  // The page cap only guards against a server that keeps returning the same link.
  for (int page = 0; page < 10000; ++page) {
    ASSIGN_OR_RETURN(nlohmann::json body, api.Get(path, query));
    if (!body.is_object() || !body.contains(key) || !body[key].is_array()) {
      return Internal("the server's answer to GET " + path + " has no '" + key + "' list");
    }
    for (auto& item : body[key]) all.push_back(std::move(item));
    if (!follow_links) break;
    auto next = NextPageQuery(body, key);
    if (!next) break;
    std::string marker;
    for (const auto& [k, v] : *next) {
      if (k == "marker") marker = v;
    }
    if (marker.empty() || marker == last_marker) break;
    last_marker = marker;
    query = std::move(*next);
  }
  return all;
}

}  // namespace scoria::cli
