#include "api/policy/enforcer.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <deque>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>
#include <utility>
#include <vector>

#include "api/policy/defaults.h"

namespace scoria::api::policy {
namespace {

struct FileRule {
  std::string name;
  std::string text;
  int line;
};

std::string Quoted(std::string_view s) { return "\"" + std::string(s) + "\""; }

// oslo.policy reads the file with yaml.safe_load, so JSON is read as the YAML it is.
Result<std::vector<FileRule>> ReadRules(std::string_view text, const std::string& where) {
  std::vector<FileRule> out;
  try {
    YAML::Node root = YAML::Load(std::string(text));
    if (!root || root.IsNull()) return out;  // empty, or only comments: no overrides
    if (!root.IsMap()) {
      return InvalidArgument(where + ": the top level must be a mapping of rule name to check " +
                             "string");
    }
    std::set<std::string, std::less<>> seen;
    for (const auto& kv : root) {
      int line = kv.first.Mark().line + 1;
      std::string at = where + " line " + std::to_string(line);
      if (!kv.first.IsScalar()) return InvalidArgument(at + ": a rule name must be a string");
      std::string name = kv.first.Scalar();
      // PyYAML keeps the last of two equal keys; one of them is surely a mistake.
      if (!seen.insert(name).second) {
        return InvalidArgument(at + ": rule " + Quoted(name) + " is set twice");
      }
      const YAML::Node& value = kv.second;
      if (value.IsNull()) {
        // oslo reads a null rule as the empty list, which allows everyone.
        return InvalidArgument(at + ": rule " + Quoted(name) +
                               " has no check string (write \"\" to allow everyone or \"!\" "
                               "to allow no one)");
      }
      if (!value.IsScalar()) {
        return InvalidArgument(at + ": rule " + Quoted(name) +
                               " must be a check string (oslo's legacy list form is not "
                               "supported)");
      }
      out.push_back({std::move(name), value.Scalar(), line});
    }
  } catch (const YAML::Exception& e) {
    return InvalidArgument(where + " line " + std::to_string(e.mark.line + 1) +
                           ": not valid YAML or JSON: " + e.msg);
  }
  return out;
}

// The canonical form of a check string that parses (for oslo's "same as the deprecated
// default" comparisons).
std::string Canonical(std::string_view text) {
  Result<std::unique_ptr<const Check>> c = ParseCheck(text);
  return c.ok() ? (*c)->ToString() : std::string(text);
}

std::string OrDeprecated(std::string_view check, std::string_view deprecated) {
  auto group = [](std::string_view s) { return "(" + std::string(s.empty() ? "@" : s) + ")"; };
  return group(check) + " or " + group(deprecated);
}

struct Effective {
  std::string text;
  std::string origin;  // "Cinder's default", or "policy file <path> line <n>"
};

}  // namespace

Result<std::unique_ptr<const Enforcer>> Enforcer::FromText(std::string_view text,
                                                           std::string_view source,
                                                           bool enforce_new_defaults) {
  const std::string where = "policy file " + std::string(source);
  ASSIGN_OR_RETURN(std::vector<FileRule> file_rules, ReadRules(text, where));

  auto at = [&](const FileRule& r) { return where + " line " + std::to_string(r.line); };
  std::map<std::string, const FileRule*, std::less<>> in_file;
  for (const FileRule& r : file_rules) {
    Result<std::unique_ptr<const Check>> parsed = ParseCheck(r.text);
    if (!parsed.ok()) {
      return InvalidArgument(at(r) + ": rule " + Quoted(r.name) + ": " + parsed.status().message());
    }
    in_file[r.name] = &r;
  }

  // Which check each rule gets: the four cases of the header, in order.
  std::map<std::string, Effective, std::less<>> effective;
  std::set<std::string_view, std::less<>> cinder_names;
  const std::string kDefault = "Cinder's default";
  for (const RuleDefault& d : CinderRuleDefaults()) {
    cinder_names.insert(d.name);
    if (!d.deprecated_name.empty()) cinder_names.insert(d.deprecated_name);
    Effective e{std::string(d.check), kDefault};
    if (auto it = in_file.find(d.name); it != in_file.end()) {
      e = {it->second->text, at(*it->second)};
    } else if (auto old = in_file.find(d.deprecated_name);
               !d.deprecated_name.empty() && old != in_file.end() &&
               Canonical(old->second->text) != Canonical(d.deprecated_check.value_or("")) &&
               Canonical(old->second->text) != "rule:" + std::string(d.name)) {
      e = {old->second->text, at(*old->second) + " (as " + Quoted(d.deprecated_name) + ")"};
    } else if (!enforce_new_defaults && d.deprecated_check && *d.deprecated_check != d.check) {
      e.text = OrDeprecated(d.check, *d.deprecated_check);
    }
    effective[std::string(d.name)] = std::move(e);
  }
  for (const FileRule& r : file_rules) {
    if (!effective.contains(r.name)) effective[r.name] = {r.text, at(r)};
  }

  std::unique_ptr<Enforcer> enf(new Enforcer());
  for (const auto& [name, e] : effective) {
    auto rule = std::make_unique<Rule>();
    rule->ref.name = name;
    enf->rules_[name] = std::move(rule);
  }

  // Parse with every `rule:` bound to its Rule, noting the references for the checks below.
  std::map<std::string, std::vector<std::string>, std::less<>> refs;
  std::set<std::string, std::less<>> referenced;
  std::deque<RuleRef> unbound;  // stand-ins for undefined names, reported before any use
  for (const auto& [rule_name, e] : effective) {
    const std::string& name = rule_name;  // a plain reference the binder can capture
    std::vector<std::string> missing;
    RuleBinder bind = [&](std::string_view target) -> RuleRef* {
      refs[name].emplace_back(target);
      referenced.emplace(target);
      auto it = enf->rules_.find(target);
      if (it != enf->rules_.end()) return &it->second->ref;
      missing.emplace_back(target);
      return &unbound.emplace_back(RuleRef{std::string(target), nullptr});
    };
    Result<std::unique_ptr<const Check>> parsed = ParseCheck(e.text, bind);
    if (!parsed.ok()) {
      return Internal(e.origin + ": rule " + Quoted(name) + ": " + parsed.status().message());
    }
    if (!missing.empty()) {
      return InvalidArgument(e.origin + ": rule " + Quoted(name) + ": rule:" + missing.front() +
                             " names no rule");
    }
    enf->rules_[name]->check = std::move(*parsed);
  }

  for (const FileRule& r : file_rules) {
    if (!cinder_names.contains(r.name) && !referenced.contains(r.name)) {
      return InvalidArgument(at(r) + ": rule " + Quoted(r.name) +
                             " is not a Cinder policy and no rule refers to it (a misspelt "
                             "name would be silently ignored)");
    }
  }

  // A cycle would recurse forever at evaluation. Depth-first search, colouring each rule while
  // it is on the path; every rule is finished once, so this is linear in rules + references.
  enum Colour { kWhite, kGrey, kBlack };
  std::map<std::string_view, Colour, std::less<>> colour;
  std::vector<std::string_view> path;
  std::string cycle;
  std::string_view cycle_start;
  std::function<bool(std::string_view)> visit = [&](std::string_view name) {
    colour[name] = kGrey;
    path.push_back(name);
    if (auto it = refs.find(name); it != refs.end()) {
      for (const std::string& next : it->second) {
        Colour c = colour[next];
        if (c == kGrey) {
          auto start = std::find(path.begin(), path.end(), std::string_view(next));
          for (auto p = start; p != path.end(); ++p) cycle += std::string(*p) + " -> ";
          cycle += next;
          cycle_start = *start;
          return true;
        }
        if (c == kWhite && visit(next)) return true;
      }
    }
    path.pop_back();
    colour[name] = kBlack;
    return false;
  };
  for (const auto& [name, e] : effective) {
    if (colour[name] == kWhite && visit(name)) {
      const std::string& origin = effective.find(cycle_start)->second.origin;
      return InvalidArgument(origin + ": rule " + Quoted(cycle_start) +
                             " is part of a cycle of rule references: " + cycle);
    }
  }

  for (auto& [name, rule] : enf->rules_) rule->ref.check = rule->check.get();
  return std::unique_ptr<const Enforcer>(std::move(enf));
}

Result<std::unique_ptr<const Enforcer>> Enforcer::Load(const EnforcerOptions& options) {
  if (options.policy_file.empty()) return FromText("", "(none)", options.enforce_new_defaults);
  std::ifstream in(options.policy_file, std::ios::binary);
  if (!in) {
    return NotFound("policy file " + options.policy_file +
                    ": cannot be read: " + std::strerror(errno));
  }
  std::ostringstream text;
  text << in.rdbuf();
  return FromText(text.str(), options.policy_file, options.enforce_new_defaults);
}

Status Enforcer::Authorize(std::string_view rule, const Credentials& creds,
                           const Target& target) const {
  auto it = rules_.find(rule);
  if (it == rules_.end()) {
    return Internal("policy rule " + Quoted(rule) + " is not defined (a caller's mistake)");
  }
  if (it->second->check->Evaluate(creds, target)) return Status::Ok();
  // cinder.exception.PolicyNotAuthorized's message, which clients show as is.
  return PermissionDenied("Policy doesn't allow " + std::string(rule) + " to be performed.");
}

Result<std::string> Enforcer::Describe(std::string_view rule) const {
  auto it = rules_.find(rule);
  if (it == rules_.end()) return NotFound("policy rule " + Quoted(rule) + " is not defined");
  return it->second->check->ToString();
}

}  // namespace scoria::api::policy
