// Cinder's policy rules and their default check strings, as Cinder 21 (Zed) registers them.
//
// Each row is one oslo.policy RuleDefault of cinder/policies/*.py: the rule name Cinder's code
// authorizes, its default check string, and the deprecated rule oslo.policy still honours in
// Zed. Zed's defaults were written for the Keystone default roles (admin > member > reader,
// project scoped: the xena_* base rules); the deprecated check strings are the pre-Xena ones
// (mostly rule:admin_or_owner, "" for creates). oslo.policy ORs a rule's deprecated check into
// its default unless [oslo_policy] enforce_new_defaults is set, and a policy file that sets a
// deprecated rule *name* (e.g. volume_extension:types_manage) overrides the rules that replaced
// it; Enforcer (enforcer.h) applies both. The table is data only: nothing here parses.
#pragma once

#include <optional>
#include <span>
#include <string_view>

namespace scoria::api::policy {

struct RuleDefault {
  std::string_view name;
  std::string_view check;        // the default check string
  std::string_view description;  // Cinder's description, on one line
  // The deprecated rule's check string, when the rule has one ("" is a real value: anyone).
  std::optional<std::string_view> deprecated_check = std::nullopt;
  // The deprecated rule's name when it differs from `name` (a renamed rule); else empty.
  std::string_view deprecated_name = {};
};

// All of Cinder 21.3.1's rules, base rules first, in the order cinder.policies.list_rules()
// registers them. Static storage; any thread.
std::span<const RuleDefault> CinderRuleDefaults();

}  // namespace scoria::api::policy
