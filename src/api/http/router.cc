#include "api/http/router.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <exception>
#include <optional>
#include <string_view>

#include "api/http/fault.h"
#include "api/http/versions.h"
#include "common/ids.h"

namespace scoria::api {
namespace {

constexpr char kNotFoundMessage[] = "The resource could not be found.";

// "/a/b/" -> {"a", "b"}; nullopt if a segment is empty ("//").
std::optional<std::vector<std::string>> SplitPath(std::string_view p) {
  std::vector<std::string> out;
  if (!p.empty() && p.front() == '/') p.remove_prefix(1);
  if (!p.empty() && p.back() == '/') p.remove_suffix(1);
  if (p.empty()) return out;
  while (true) {
    size_t slash = p.find('/');
    std::string_view seg = p.substr(0, slash);
    if (seg.empty()) return std::nullopt;
    out.emplace_back(seg);
    if (slash == std::string_view::npos) break;
    p.remove_prefix(slash + 1);
  }
  return out;
}

bool IsJsonMediaType(std::string_view content_type) {
  std::string_view media = content_type.substr(0, content_type.find(';'));
  while (!media.empty() && (media.front() == ' ' || media.front() == '\t')) media.remove_prefix(1);
  while (!media.empty() && (media.back() == ' ' || media.back() == '\t')) media.remove_suffix(1);
  return EqualsIgnoreCase(media, "application/json");
}

}  // namespace

void Router::Add(std::string method, std::string pattern, Handler handler, ApiVersion min,
                 ApiVersion max) {
  Route r;
  r.method = std::move(method);
  r.pattern = std::move(pattern);
  for (std::string& seg : SplitPath(r.pattern).value_or(std::vector<std::string>{})) {
    bool param = seg.size() >= 2 && seg.front() == '{' && seg.back() == '}';
    r.is_param.push_back(param);
    r.segments.push_back(param ? seg.substr(1, seg.size() - 2) : std::move(seg));
  }
  if (!r.segments.empty() && !r.is_param[0]) collections_.insert(r.segments[0]);
  r.handler = std::move(handler);
  r.min = min;
  r.max = max;
  routes_.push_back(std::move(r));
}

void Router::Protect(std::string_view method, std::string_view pattern, std::string rule) {
  for (Route& r : routes_) {
    if (r.method == method && r.pattern == pattern) r.rule = rule;
  }
}

void Router::ProtectAction(std::string_view method, std::string_view pattern, std::string action,
                           std::string rule) {
  for (Route& r : routes_) {
    if (r.method == method && r.pattern == pattern) r.action_rules[action] = rule;
  }
}

std::vector<std::string> Router::Unprotected() const {
  std::vector<std::string> out;
  for (const Route& r : routes_) {
    if (r.rule.empty()) out.push_back(r.method + " " + r.pattern);
  }
  return out;
}

std::string_view Router::RuleFor(const Route& route, const Request& req, const PathParams& params) {
  if (auto it = params.find("action"); it != params.end()) {
    auto rule = route.action_rules.find(it->second);
    return rule != route.action_rules.end() ? std::string_view(rule->second) : route.rule;
  }
  if (!route.action_rules.empty()) {
    // {"os-extend": {...}}: the action is the body's only key. A body that is not one is the
    // handler's to refuse (400), under the route's own rule.
    auto body = nlohmann::json::parse(req.body, nullptr, /*allow_exceptions=*/false);
    if (body.is_object() && body.size() == 1) {
      auto it = route.action_rules.find(body.begin().key());
      if (it != route.action_rules.end()) return it->second;
    }
  }
  return route.rule;
}

Response Router::Dispatch(Request& req) const {
  std::string rid = NewRequestId();
  req.ctx.request_id = rid;
  Response resp;
  bool v3 = false;
  const std::string& path = req.path;
  if (path == "/" || path == "/v3" || path == "/v3/") {
    if (req.method != "GET") {
      resp = FaultResponse(405, "The method " + req.method + " is not allowed on " + path + ".");
      resp.SetHeader("Allow", "GET");
    } else {
      resp = JsonResponse(path == "/" ? 300 : 200, VersionsDocument(req.base_url));
    }
    if (path != "/") {
      // Discovery must always work: a bad version header is ignored here, not refused.
      auto version = NegotiateVersion(req.Header("OpenStack-API-Version"));
      if (version.ok()) req.version = *version;
      v3 = true;
    }
  } else if (path == "/healthcheck") {
    resp = req.method == "GET" ? TextResponse(200, "OK") : FaultResponse(405, "Use GET.");
  } else if (path.starts_with("/v3/")) {
    resp = DispatchV3(req);
    v3 = true;
  } else {
    resp = FaultResponse(404, kNotFoundMessage);
  }

  resp.SetHeader("x-openstack-request-id", rid);
  if (resp.status >= 400) resp.SetHeader("x-compute-request-id", rid);
  if (v3) {
    resp.SetHeader("OpenStack-API-Version", "volume " + req.version.ToString());
    resp.SetHeader("Vary", "OpenStack-API-Version");
  }
  return resp;
}

Response Router::DispatchV3(Request& req) const {
  std::string rid = req.ctx.request_id;
  auto ctx =
      auth_->Authenticate(AuthHeaders{req.Header("X-Auth-Token"), req.Header("X-Service-Token")});
  if (!ctx.ok()) {
    Response r = FaultResponse(ctx.status());
    if (r.status == 401) {
      if (std::string challenge = auth_->WwwAuthenticate(); !challenge.empty()) {
        r.SetHeader("WWW-Authenticate", std::move(challenge));
      }
    }
    return r;
  }
  req.ctx = std::move(*ctx);
  req.ctx.request_id = rid;

  // "/v3/volumes/" is a show with an empty id, which no resource has: 404 as Cinder (whose
  // routes need a non-empty {id}), not the collection.
  if (req.path.size() > 4 && req.path.back() == '/') return FaultResponse(404, kNotFoundMessage);
  auto segments = SplitPath(std::string_view(req.path).substr(3));
  if (!segments.has_value() || segments->empty()) return FaultResponse(404, kNotFoundMessage);
  if (!collections_.contains((*segments)[0])) {
    req.url_project = (*segments)[0];
    segments->erase(segments->begin());
  }
  std::vector<Match> matches = Matching(*segments);
  if (matches.empty()) return FaultResponse(404, kNotFoundMessage);

  if (!req.url_project.empty() && req.url_project != req.ctx.project_id) {
    return FaultResponse(400, "Malformed request url");
  }

  auto version = NegotiateVersion(req.Header("OpenStack-API-Version"));
  if (!version.ok()) return FaultResponse(version.status());
  req.version = *version;

  const Match* best = MostSpecific(matches, req.method);
  if (best == nullptr) return MethodNotAllowed(matches, req);
  const Match* chosen = nullptr;
  for (const Match& m : matches) {
    if (m.route->method == req.method && m.route->pattern == best->route->pattern &&
        req.version >= m.route->min && req.version <= m.route->max) {
      chosen = &m;
      break;
    }
  }
  if (chosen == nullptr) return FaultResponse(404, kNotFoundMessage);

  if ((req.method == "POST" || req.method == "PUT" || req.method == "PATCH") && !req.body.empty()) {
    auto content_type = req.Header("Content-Type");
    // No Content-Type: take the body as JSON, like Cinder's default deserializer.
    if (content_type.has_value() && !IsJsonMediaType(*content_type)) {
      return FaultResponse(415, "Invalid content type " + *content_type + ".");
    }
  }
  if (req.ctx.policy != nullptr) {
    std::string_view rule = RuleFor(*chosen->route, req, chosen->params);
    if (rule.empty()) {
      spdlog::error("{} {} {}: route has no policy rule", rid, req.method, chosen->route->pattern);
      return FaultResponse(Internal("route has no policy rule"));
    }
    auto project = chosen->params.find("project_id");
    const policy::Target target = {
        {"project_id", project != chosen->params.end() ? project->second : req.ctx.project_id},
        {"user_id", req.ctx.user_id}};
    if (rule != kOpenToAnyCaller) {
      if (Status st = Authorize(req.ctx, rule, target); !st.ok()) return FaultResponse(st);
    }
  }
  return CallHandler(*chosen->route, req, chosen->params);
}

std::vector<Router::Match> Router::Matching(const std::vector<std::string>& segments) const {
  std::vector<Match> matches;
  for (const Route& r : routes_) {
    if (r.segments.size() != segments.size()) continue;
    Match m{&r, {}};
    bool ok = true;
    for (size_t i = 0; i < r.segments.size() && ok; ++i) {
      if (r.is_param[i]) {
        m.params[r.segments[i]] = segments[i];
      } else {
        ok = r.segments[i] == segments[i];
      }
    }
    if (ok) matches.push_back(std::move(m));
  }
  return matches;
}

const Router::Match* Router::MostSpecific(const std::vector<Match>& matches,
                                          const std::string& method) {
  const Match* best = nullptr;
  for (const Match& m : matches) {
    if (m.route->method != method) continue;
    if (best == nullptr ||
        std::lexicographical_compare(m.route->is_param.begin(), m.route->is_param.end(),
                                     best->route->is_param.begin(), best->route->is_param.end())) {
      best = &m;
    }
  }
  return best;
}

Response Router::MethodNotAllowed(const std::vector<Match>& matches, const Request& req) {
  std::set<std::string> methods;
  for (const Match& m : matches) methods.insert(m.route->method);
  std::string allow;
  for (const std::string& m : methods) allow += (allow.empty() ? "" : ", ") + m;
  Response r =
      FaultResponse(405, "The method " + req.method + " is not allowed on " + req.path + ".");
  r.SetHeader("Allow", allow);
  return r;
}

Response Router::CallHandler(const Route& route, Request& req, const PathParams& params) const {
  try {
    return route.handler(req, params);
  } catch (const nlohmann::json::exception& e) {
    // Typically a body field of the wrong type reaching json::get<T>().
    spdlog::info("{} {} {}: handler rejected input: {}", req.ctx.request_id, req.method,
                 route.pattern, e.what());
    return FaultResponse(400, std::string("Invalid input received: ") + e.what());
  } catch (const std::exception& e) {
    spdlog::error("{} {} {}: handler threw: {}", req.ctx.request_id, req.method, route.pattern,
                  e.what());
  } catch (...) {
    spdlog::error("{} {} {}: handler threw a non-std exception", req.ctx.request_id, req.method,
                  route.pattern);
  }
  return FaultResponse(500, kInternalErrorMessage);
}

}  // namespace scoria::api
