#include "api/keystone/keystone_auth.h"

#include "common/ids.h"

namespace scoria::api::keystone {

KeystoneAuthenticator::KeystoneAuthenticator(std::unique_ptr<TokenValidator> validator,
                                             std::unique_ptr<const policy::Enforcer> policy)
    : validator_(std::move(validator)), policy_(std::move(policy)) {}

Result<RequestContext> KeystoneAuthenticator::Authenticate(const AuthHeaders& headers) const {
  if (!headers.auth_token.has_value() || headers.auth_token->empty()) {
    return Unauthenticated("The request you have made requires authentication.");
  }
  std::optional<std::string_view> service;
  if (headers.service_token.has_value()) service = *headers.service_token;
  ASSIGN_OR_RETURN(Identity id, validator_->Validate(*headers.auth_token, service));
  if (id.project_id.empty()) {
    return Unauthenticated(
        "A project-scoped token is required: Block Storage resources "
        "belong to projects.");
  }
  RequestContext ctx;
  ctx.user_id = id.user_id;
  ctx.project_id = id.project_id;
  ctx.request_id = NewRequestId();
  ctx.creds.user_id = id.user_id;
  ctx.creds.user_domain_id = id.user_domain_id;
  ctx.creds.project_id = id.project_id;
  ctx.creds.project_domain_id = id.project_domain_id;
  ctx.creds.roles = id.roles;
  ctx.creds.system_scope = id.system_scope;
  ctx.creds.is_admin_project = id.is_admin_project;
  // Cinder: context.is_admin = policy.check_is_admin(context), the context_is_admin rule with
  // the caller's own credentials as the target.
  const policy::Target self = {{"project_id", id.project_id}, {"user_id", id.user_id}};
  ctx.creds.is_admin = policy_->Authorize("context_is_admin", ctx.creds, self).ok();
  ctx.is_admin = ctx.creds.is_admin;
  ctx.all_tenants_allowed = ctx.is_admin;
  ctx.policy = policy_.get();
  return ctx;
}

}  // namespace scoria::api::keystone
