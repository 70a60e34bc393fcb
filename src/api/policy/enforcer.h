// The policy Enforcer: Cinder's rules, optionally overridden by a policy file, resolved once.
//
// At construction every rule (Cinder's defaults from defaults.h plus the file's) is parsed into
// a check tree and every `rule:` reference is bound to the referenced tree, so Authorize is one
// map lookup and a walk of const nodes: no parsing, no name lookups, no locks. The effective
// check of a Cinder rule is chosen as oslo.policy does:
//   1. the file sets the rule's name: the file's check string, alone;
//   2. else the file sets the rule's deprecated name (volume_extension:types_manage for
//      volume_extension:type_create, ...) to something other than the deprecated default or
//      "rule:<new name>": that check string;
//   3. else, unless enforce_new_defaults, the default OR the deprecated default (Zed's
//      upgrade behaviour: "rule:xena_system_admin_or_project_member or rule:admin_or_owner");
//   4. else the default.
// A file may also define rules of its own for other rules to reference.
//
// Where oslo.policy logs and carries on, construction fails instead (the service should not
// start on a policy it misread): a malformed check string (oslo: silently "!"), a `rule:` naming
// no rule (oslo: false at evaluation), a cycle of rule references (oslo: recursion error at
// evaluation), and a file rule that is neither a Cinder rule nor referenced by any rule (a typo
// such as "volume:delte" would otherwise be a silent no-op). Every message names the file, the
// rule and the problem.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "api/policy/check.h"
#include "common/status.h"

namespace scoria::api::policy {

struct EnforcerOptions {
  // [oslo_policy] policy_file: a YAML (or JSON, which is YAML) mapping of rule name to check
  // string. Empty: Cinder's defaults only.
  std::string policy_file;
  // [oslo_policy] enforce_new_defaults. oslo.policy's (and so Cinder 21's) default is false,
  // which ORs each rule's pre-Xena check into it: any role on the project (a reader too) may
  // then create and delete its volumes through rule:admin_or_owner. Scoria defaults to true so
  // that a reader is read-only, as Keystone's default roles intend; false gives Cinder 21's
  // out-of-the-box behaviour.
  bool enforce_new_defaults = true;
};

class Enforcer {
 public:
  // Builds the rules from Cinder's defaults and options.policy_file. Fails with NotFound when
  // the file cannot be read, InvalidArgument for any of the problems in the model above. The
  // caller owns the result; it is immutable.
  [[nodiscard]] static Result<std::unique_ptr<const Enforcer>> Load(const EnforcerOptions& options);

  // The same from policy file contents already in memory; `source` names them in messages.
  [[nodiscard]] static Result<std::unique_ptr<const Enforcer>> FromText(std::string_view text,
                                                                        std::string_view source,
                                                                        bool enforce_new_defaults);

  // Whether the rule allows the caller to act on the target. Ok, or PermissionDenied with
  // Cinder's PolicyNotAuthorized message "Policy doesn't allow <rule> to be performed.", or
  // Internal when no rule has that name (a caller's typo: never an allow). The target carries
  // what the check strings substitute, at least project_id (Cinder passes the resource, or the
  // caller's {project_id, user_id} for a create). Cinder computes Credentials::is_admin as
  // Authorize("context_is_admin", creds, <creds as target>). Any thread, concurrently.
  [[nodiscard]] Status Authorize(std::string_view rule, const Credentials& creds,
                                 const Target& target) const;

  // The effective check of a rule in Check::ToString form, or NotFound. For logs and tests.
  [[nodiscard]] Result<std::string> Describe(std::string_view rule) const;

  Enforcer(const Enforcer&) = delete;
  Enforcer& operator=(const Enforcer&) = delete;

 private:
  struct Rule {
    RuleRef ref;                         // what `rule:<name>` checks point to
    std::unique_ptr<const Check> check;  // owned here; ref.check points to it
  };

  Enforcer() = default;

  // Keyed by name; each Rule is heap-allocated so RuleRef addresses stay fixed.
  std::map<std::string, std::unique_ptr<Rule>, std::less<>> rules_;
};

}  // namespace scoria::api::policy
