// Who is calling, and what they may do: the RequestContext every handler sees, the
// Authenticator the Router asks for it (noauth here; Keystone in api/keystone/keystone_auth.h),
// and Authorize, the one call that checks a policy rule against it.
//
// noauth, Cinder's keystone-less mode: the caller names itself in X-Auth-Token as "user[:project]";
// nothing is verified. As in Cinder's NoAuthMiddleware every such caller is an admin (all policies
// pass), but listings are still scoped to the token's project unless the caller asks for
// all_tenants. Unlike Cinder, a v3 call without a token is refused with 401 rather than answered
// with the legacy auth-1.1 204 handshake (docs cinder-api.md §2.1). The RequestContext is the
// identity handlers see.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "api/policy/check.h"
#include "common/status.h"

namespace scoria::api {

namespace policy {
class Enforcer;
}

struct RequestContext {
  std::string user_id;
  std::string project_id;
  bool is_admin = false;
  std::string request_id;            // "req-<uuid4>", also sent as x-openstack-request-id
  bool all_tenants_allowed = false;  // may list other projects' resources (all_tenants=1)
  // What the policy rules see (roles, domains, scope). Under noauth only ids are set.
  policy::Credentials creds;
  // The rules to check, owned by the Authenticator; null under noauth, where every caller is
  // an admin and every rule passes (Cinder's noauth context is an admin context).
  const policy::Enforcer* policy = nullptr;
};

// The request headers authentication reads.
struct AuthHeaders {
  std::optional<std::string> auth_token;     // X-Auth-Token
  std::optional<std::string> service_token;  // X-Service-Token
};

// How a v3 request gets its RequestContext. Errors: Unauthenticated (401, with
// WwwAuthenticate() as the WWW-Authenticate header when it is not empty), Unavailable (503:
// the identity service cannot answer). Implementations are thread-safe; Authenticate may block
// (a Keystone round trip).
class Authenticator {
 public:
  virtual ~Authenticator() = default;
  virtual Result<RequestContext> Authenticate(const AuthHeaders& headers) const = 0;
  virtual std::string WwwAuthenticate() const { return {}; }
};

// auth_strategy = noauth: AuthenticateNoauth for every request.
class NoauthAuthenticator : public Authenticator {
 public:
  Result<RequestContext> Authenticate(const AuthHeaders& headers) const override;
};

// Whether policy rule `rule` lets the caller act on `target`, which carries at least the
// project_id the action touches (the resource's, or the caller's own for a create or a list).
// Ok, or PermissionDenied with Cinder's "Policy doesn't allow <rule> to be performed.". Always
// Ok under noauth. Any thread.
[[nodiscard]] Status Authorize(const RequestContext& ctx, std::string_view rule,
                               const policy::Target& target);

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
