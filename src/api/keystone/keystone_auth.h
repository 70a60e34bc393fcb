// auth_strategy = keystone: the Authenticator that asks Keystone who a token belongs to
// (TokenValidator) and carries the policy Enforcer the rules are checked with.
//
// The context it builds is Cinder's RequestContext from keystonemiddleware's headers: the
// token's user and project, its roles and domains, is_admin from the `context_is_admin` rule
// (role:admin by default), all_tenants allowed to admins only. A token scoped to no project
// (domain- or system-scoped) is refused: every Block Storage resource belongs to a project.
// Thread-safe; Authenticate blocks on a token-cache miss (one Keystone round trip).
#pragma once

#include <memory>

#include "api/http/auth.h"
#include "api/keystone/token_validator.h"
#include "api/policy/enforcer.h"

namespace scoria::api::keystone {

class KeystoneAuthenticator : public Authenticator {
 public:
  // Both are owned from here on; `policy` is what every context's Authorize checks.
  KeystoneAuthenticator(std::unique_ptr<TokenValidator> validator,
                        std::unique_ptr<const policy::Enforcer> policy);

  Result<RequestContext> Authenticate(const AuthHeaders& headers) const override;
  std::string WwwAuthenticate() const override { return validator_->WwwAuthenticateHeader(); }

 private:
  std::unique_ptr<TokenValidator> validator_;
  std::unique_ptr<const policy::Enforcer> policy_;
};

}  // namespace scoria::api::keystone
