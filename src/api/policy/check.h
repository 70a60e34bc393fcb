// oslo.policy check strings: parsed once into an immutable tree, then evaluated per request.
//
// A check string is what a policy rule's value is in Cinder's defaults and in policy.yaml:
// "rule:xena_system_admin_or_project_member", "role:admin and project_id:%(project_id)s",
// "is_admin:True or not role:reader", "@", "!", "". The grammar and the meaning of each check
// follow oslo.policy (_parser.py, _checks.py): tokens are split on whitespace, with leading '('
// and trailing ')' peeled off a token; `not` binds tighter than `and`, which binds tighter than
// `or` ("a or b and c" is "a or (b and c)"); keywords are case-insensitive. The checks:
//   @  always            !  never            ""  (the whole string empty) always
//   role:<name>          the caller has that role, compared case-insensitively
//   rule:<name>          the named rule's check (bound by the Enforcer, see RuleRef)
//   <field>:<match>      a credential field (Credentials below) equals <match> as text:
//                        bools read "True"/"False", roles matches any one role exactly
//   <literal>:<match>    True, False, None, an integer or a quoted 'string' equals <match>
// In <match>, "%(key)s" is replaced by the target's value for key ("%%" is a '%'); a key the
// target lacks makes the check false, never an error, as in oslo.
//
// Deliberate differences from oslo.policy, all at parse time: oslo logs a malformed string and
// turns it into "!" (deny everything, silently); here it is an InvalidArgument naming the
// problem, so a bad policy file stops the service at start. For the same reason a generic check
// on a credential field Scoria never supplies (a typo such as "projet_id:...", or oslo's nested
// "a.b" paths, which Cinder's flat credentials never fill) is rejected rather than left to be
// always false, and so is a '%' in <match> other than "%(key)s" or "%%" (oslo would raise at
// evaluation). Role names compare ASCII-case-insensitively (oslo lowercases Unicode).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace scoria::api::policy {

// Who is calling, as oslo.context's to_policy_values() plus Cinder's is_admin. An empty string
// field is "not set" (oslo's None): a check against it is false whatever the match.
struct Credentials {
  std::string user_id;
  std::string user_domain_id;
  std::string project_id;          // the project the token is scoped to
  std::string project_domain_id;   // that project's domain
  std::string domain_id;           // set only for a domain-scoped token (oslo's meaning)
  std::vector<std::string> roles;  // as Keystone sent them (admin implies member implies reader)
  std::string system_scope;        // "all" for a system-scoped token, else empty
  // Cinder's context.is_admin: whether the caller passes the context_is_admin rule (role:admin
  // by default); computed by whoever builds the credentials, not by the check.
  bool is_admin = false;
  // keystonemiddleware's X-Is-Admin-Project; true when Keystone does not say (oslo.context's
  // default, which makes admin_api pass for any admin when no admin project is configured).
  bool is_admin_project = true;
};

// The object of the operation: Cinder passes the resource (or {project_id, user_id} of the
// caller for a create). Only string values: that is all the check strings compare.
using Target = std::map<std::string, std::string, std::less<>>;

class Check;

// A named rule as a `rule:` check sees it. The Enforcer owns one per rule name and sets `check`
// once every rule is parsed, so evaluation follows a pointer instead of looking a name up.
// Unbound (check == nullptr) evaluates to false.
struct RuleRef {
  std::string name;
  const Check* check = nullptr;
};

// Returns the RuleRef a `rule:<name>` check should point to; called once per such check while
// parsing. The returned pointer must outlive the parsed tree.
using RuleBinder = std::function<RuleRef*(std::string_view name)>;

// A node of a parsed check string. Immutable once built; Evaluate is const and touches no
// shared mutable state, so one tree may be evaluated from any number of threads.
class Check {
 public:
  virtual ~Check() = default;

  // True when the credentials pass the check for this target. Never fails: a missing target
  // key or unset credential makes the check false.
  virtual bool Evaluate(const Credentials& creds, const Target& target) const = 0;

  // A canonical text form that parses back to an equivalent tree: "and"/"or" groups are
  // parenthesized, so "a or b and c" reads "(a or (b and c))". Equal for equivalent spellings
  // of the same string (whitespace, keyword case, redundant parentheses).
  virtual std::string ToString() const = 0;
};

// Parses a check string. `bind` resolves `rule:` references; without it each `rule:` check has
// its own unbound RuleRef and is always false. Fails with InvalidArgument whose message quotes
// the string and names the problem, e.g.
//   check string "role:admin and" is invalid: 'and' at the end needs a check after it
// The caller owns the returned tree (and must keep the RuleRefs `bind` returned alive).
[[nodiscard]] Result<std::unique_ptr<const Check>> ParseCheck(std::string_view text,
                                                              const RuleBinder& bind = nullptr);

}  // namespace scoria::api::policy
