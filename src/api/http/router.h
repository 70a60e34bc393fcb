// The v3 router: maps (method, path, microversion) to a handler and does everything Cinder's
// WSGI stack does around it, so handlers only see authenticated, version-negotiated requests.
//
// Dispatch, for one request:
//   GET /              -> 300 versions document (no auth)
//   GET /v3, /v3/      -> 200 versions document (no auth)
//   GET /healthcheck   -> 200 "OK"
//   /v3/[<project>/]<route>:
//     X-Auth-Token (the Authenticator) missing/invalid  -> 401 unauthorized (+ WWW-Authenticate)
//                                      Keystone down    -> 503 serviceUnavailable
//     first segment a known collection? else it is the project id (any non-empty segment; Cinder
//       only allows hex) stored in Request::url_project
//     path matches no pattern          -> 404 itemNotFound (fast; OSC probes /v3/servers/detail)
//     url_project != token's project   -> 400 "Malformed request url"
//     OpenStack-API-Version            -> 400 / 406 (see microversion.h)
//     no route for this method         -> 405 badMethod (with Allow)
//     no route at this microversion    -> 404 itemNotFound (deliberately as Cinder)
//     POST/PUT/PATCH body not JSON     -> 415 badMediaType (Content-Type parameters ignored)
//     the route's policy rule (Protect; for .../action routes the rule of the body's action,
//       ProtectAction) denies the caller on its own project, or the {project_id} of the
//       path                           -> 403 forbidden; a route with no rule at all -> 500
//       (CheckProtected finds those at start). Rules that depend on the resource (its owner)
//       are the handlers' business: they load only rows the caller may see (visibility.h).
//     handler; an exception escaping it is caught: nlohmann::json::exception -> 400
//       "Invalid input received: ...", anything else -> 500 (logged)
//   anything else      -> 404 itemNotFound
// Every response carries x-openstack-request-id (errors also x-compute-request-id); v3
// responses carry OpenStack-API-Version: volume X.Y and Vary: OpenStack-API-Version.
//
// Patterns are relative to /v3 and literal segments win over {params}: with GET
// /volumes/detail and GET /volumes/{volume_id}, "/volumes/detail" goes to the first. Several
// routes may share a method and pattern with disjoint version ranges; the first registered
// range containing the request's version wins.
//
// Threading: Add() only before the server starts; Dispatch() is const and may run on many
// threads at once (handlers must be thread-safe themselves).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "api/http/http.h"
#include "api/http/microversion.h"

namespace scoria::api {

// Values of the {name} segments of the matched pattern, decoded.
using PathParams = std::map<std::string, std::string, std::less<>>;

// A handler fills a Response; errors are `return FaultResponse(status);`. It may block (database
// work). It should not throw; if it does, Dispatch answers 400/500 as above.
using Handler = std::function<Response(Request&, const PathParams&)>;

// A Handler that calls `method` on the resource object `api`, which the handler co-owns (the
// resource classes register their member functions this way).
template <class Api>
Handler BindMethod(std::shared_ptr<Api> api, Response (Api::*method)(Request&, const PathParams&)) {
  return [api = std::move(api), method](Request& req, const PathParams& p) {
    return ((*api).*method)(req, p);
  };
}

class Router {
 public:
  // Registers `handler` for `method` (upper case) on `pattern` ("/volumes/{volume_id}/action",
  // relative to /v3, no trailing slash) for versions in [min, max]. The first literal segment
  // of each pattern becomes a collection name that is never taken for a project id.
  void Add(std::string method, std::string pattern, Handler handler, ApiVersion min = kMinVersion,
           ApiVersion max = kMaxVersion);

  // Who is calling (default: NoauthAuthenticator). Shared: it outlives every request.
  void SetAuthenticator(std::shared_ptr<const Authenticator> auth) { auth_ = std::move(auth); }

  // The policy rule checked before the handler of every route `method` `pattern` (all its
  // version ranges); kOpenToAnyCaller for routes Cinder checks no rule on (any authenticated
  // caller). For an action route, `rule` applies to actions without their own.
  static constexpr char kOpenToAnyCaller[] = "@";
  void Protect(std::string_view method, std::string_view pattern, std::string rule);
  // The rule of one action of an action route: the single key of its body ("os-extend"), or
  // the {action} segment of its path (PUT /os-services/{action}).
  void ProtectAction(std::string_view method, std::string_view pattern, std::string action,
                     std::string rule);
  // "METHOD pattern" of every route without a rule: to be fixed before serving.
  std::vector<std::string> Unprotected() const;

  // Answers `req` (built by MakeRequest). Fills req.version, req.ctx and req.url_project
  // before calling the handler. Never throws.
  Response Dispatch(Request& req) const;

  // The collection names derived from the registered patterns ("volumes", "types"...).
  const std::set<std::string, std::less<>>& collections() const { return collections_; }

 private:
  struct Route {
    std::string method;
    std::string pattern;
    std::vector<std::string> segments;  // literal text, or the param name for {params}
    std::vector<bool> is_param;
    Handler handler;
    ApiVersion min;
    ApiVersion max;
    std::string rule;                                              // Protect
    std::map<std::string, std::string, std::less<>> action_rules;  // ProtectAction
  };

  // A route whose pattern matches a path, with the values of its {params}.
  struct Match {
    const Route* route;
    PathParams params;
  };

  Response DispatchV3(Request& req) const;
  // Every route whose pattern matches `segments`, whatever its method and versions.
  std::vector<Match> Matching(const std::vector<std::string>& segments) const;
  // Among `matches`, the most specific pattern with `method`: a literal segment beats a
  // param, leftmost first. nullptr when no route of the path has the method.
  static const Match* MostSpecific(const std::vector<Match>& matches, const std::string& method);
  // The 405 for a path whose routes have other methods only, with their Allow header.
  static Response MethodNotAllowed(const std::vector<Match>& matches, const Request& req);
  Response CallHandler(const Route& route, Request& req, const PathParams& params) const;
  // The rule that guards this request on `route`, or empty when the route has none.
  static std::string_view RuleFor(const Route& route, const Request& req, const PathParams& params);

  std::vector<Route> routes_;
  std::set<std::string, std::less<>> collections_;
  std::shared_ptr<const Authenticator> auth_ = std::make_shared<NoauthAuthenticator>();
};

}  // namespace scoria::api
