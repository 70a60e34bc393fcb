#include "api/http/auth.h"

#include "api/policy/enforcer.h"
#include "common/ids.h"

namespace scoria::api {

Result<RequestContext> AuthenticateNoauth(const std::optional<std::string>& token) {
  if (!token.has_value() || token->empty()) return InvalidArgument(kTokenRequiredMessage);
  RequestContext ctx;
  size_t colon = token->find(':');
  if (colon == std::string::npos) {
    ctx.user_id = *token;
    ctx.project_id = *token;
  } else {
    ctx.user_id = token->substr(0, colon);
    ctx.project_id = token->substr(colon + 1);
    if (ctx.project_id.empty()) ctx.project_id = ctx.user_id;
  }
  if (ctx.project_id.empty()) {
    return InvalidArgument("X-Auth-Token names no project (noauth: user[:project])");
  }
  ctx.is_admin = true;
  ctx.all_tenants_allowed = true;
  ctx.request_id = NewRequestId();
  return ctx;
}

Result<RequestContext> NoauthAuthenticator::Authenticate(const AuthHeaders& headers) const {
  auto ctx = AuthenticateNoauth(headers.auth_token);
  if (!ctx.ok()) return Unauthenticated(ctx.status().message());
  ctx->creds.user_id = ctx->user_id;
  ctx->creds.project_id = ctx->project_id;
  ctx->creds.is_admin = true;
  return ctx;
}

Status Authorize(const RequestContext& ctx, std::string_view rule, const policy::Target& target) {
  if (ctx.policy == nullptr) return Status::Ok();
  return ctx.policy->Authorize(rule, ctx.creds, target);
}

}  // namespace scoria::api
