#include "api/http/auth.h"

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

}  // namespace scoria::api
