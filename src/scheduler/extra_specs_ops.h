// Extra-spec requirement matching (§4.4; Cinder's cinder/scheduler/filters/extra_specs_ops.py).
//
// A requirement string such as "<is> True", ">= 10", "<or> a <or> b" or "LVM_iSCSI" is parsed
// once into an ExtraSpecRequirement and then matched against many reported capability values.
// Grammar: the first whitespace-separated word is the operator; only the next word is the
// operand. A first word that is not an operator means exact equality of the capability with
// the whole string (a JSON string only: boolean true never equals "True", the number 10 never
// equals "10"; use <is> or == for those). Numeric operators parse both sides as floats and fail
// the match when either does not parse. Matching a list is the caller's business
// (CapabilitiesFilter matches any element). Pure functions; objects are immutable after Parse.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace scoria::scheduler {

class ExtraSpecRequirement {
 public:
  enum class Op {
    kExact,      // no operator: value == whole string
    kNumAtLeast, // "=" : float(cap) >= float(operand)  (sic, Cinder)
    kNumEq, kNumNe, kNumGe, kNumLe,
    kStrEq, kStrNe, kStrLt, kStrLe, kStrGt, kStrGe,
    kIn,         // "<in>": operand is a substring of the capability
    kIs,         // "<is>": oslo bool_from_string equality
    kOr,         // "<or> a <or> b": string equality with any alternative
  };

  static ExtraSpecRequirement Parse(std::string_view req);

  // Whether one scalar capability value satisfies the requirement.
  bool Matches(const nlohmann::json& value) const;
  // Same, for a capability that is a string (avoids building a JSON value).
  bool MatchesString(std::string_view value) const;

  Op op() const { return op_; }
  const std::string& raw() const { return raw_; }

 private:
  Op op_ = Op::kExact;
  std::string raw_;
  std::vector<std::string> operands_;  // one for binary operators; the alternatives for <or>
  bool operand_is_number_ = false;
  double operand_number_ = 0;
  bool operand_bool_ = false;
};

// oslo_utils.strutils.bool_from_string(x, default=False): "1", "t", "true", "on", "y", "yes"
// (case-insensitive, surrounding whitespace ignored) are true, anything else false.
bool BoolFromString(std::string_view s);

// Python's str() of a scalar JSON value, as Cinder would see it: True/False, 10, 1.5, text.
std::string PythonStr(const nlohmann::json& value);

// Convenience: ExtraSpecRequirement::Parse(req).Matches(value).
bool MatchExtraSpec(const nlohmann::json& value, std::string_view req);

}  // namespace scoria::scheduler
