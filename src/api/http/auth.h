// Request identity under auth_strategy = noauth, Cinder's keystone-less mode.
//
// The caller names itself in X-Auth-Token as "user[:project]"; nothing is verified. As in
// Cinder's NoAuthMiddleware every such caller is an admin (all policies pass), but listings are
// still scoped to the token's project unless the caller asks for all_tenants. Unlike Cinder,
// a v3 call without a token is refused with 401 rather than answered with the legacy auth-1.1
// 204 handshake (docs cinder-api.md §2.1). The RequestContext is the identity handlers see.
#pragma once

#include <optional>
#include <string>

#include "common/status.h"

namespace scoria::api {

struct RequestContext {
  std::string user_id;
  std::string project_id;
  bool is_admin = false;
  std::string request_id;            // "req-<uuid4>", also sent as x-openstack-request-id
  bool all_tenants_allowed = false;  // may list other projects' resources (all_tenants=1)
};

// The 401 message for a v3 call without X-Auth-Token.
inline constexpr char kTokenRequiredMessage[] = "X-Auth-Token is required (noauth: user[:project])";

// Builds the context from the raw X-Auth-Token value. The token is split on the first ':':
//   "admin:abc123" -> user "admin", project "abc123"
//   "notused"      -> user = project = "notused"
//   ":abc123"      -> user "", project "abc123"
//   "u:"           -> user = project = "u"
// Fails (the caller answers 401 unauthorized with the message) when the token is absent or
// empty, or yields an empty project. The context gets a fresh request id; is_admin and
// all_tenants_allowed are true. Pure apart from the random id; any thread.
Result<RequestContext> AuthenticateNoauth(const std::optional<std::string>& token);

}  // namespace scoria::api
