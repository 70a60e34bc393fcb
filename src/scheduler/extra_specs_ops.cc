#include "scheduler/extra_specs_ops.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <sstream>

namespace scoria::scheduler {
namespace {

using Op = ExtraSpecRequirement::Op;

std::vector<std::string> SplitWords(std::string_view s) {
  std::vector<std::string> words;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    size_t j = i;
    while (j < s.size() && !std::isspace(static_cast<unsigned char>(s[j]))) ++j;
    if (j > i) words.emplace_back(s.substr(i, j - i));
    i = j;
  }
  return words;
}

// Python float(): decimal/exponent/inf/nan with surrounding whitespace, not hex.
bool ParseFloat(std::string_view s, double* out) {
  std::string t(s);
  t.erase(0, t.find_first_not_of(" \t\n\r\f\v"));
  t.erase(t.find_last_not_of(" \t\n\r\f\v") + 1);
  if (t.empty() || t.find_first_of("xX") != std::string::npos) return false;
  char* end = nullptr;
  *out = std::strtod(t.c_str(), &end);
  return end == t.c_str() + t.size();
}

// float(value) for a capability: numbers and booleans convert, strings are parsed.
bool JsonToFloat(const nlohmann::json& v, double* out) {
  if (v.is_boolean()) {
    *out = v.get<bool>() ? 1 : 0;
    return true;
  }
  if (v.is_number()) {
    *out = v.get<double>();
    return true;
  }
  if (v.is_string()) return ParseFloat(v.get_ref<const std::string&>(), out);
  return false;
}

}  // namespace

bool BoolFromString(std::string_view s) {
  std::string t(s);
  t.erase(0, t.find_first_not_of(" \t\n\r\f\v"));
  t.erase(t.find_last_not_of(" \t\n\r\f\v") + 1);
  std::transform(t.begin(), t.end(), t.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return t == "1" || t == "t" || t == "true" || t == "on" || t == "y" || t == "yes";
}

std::string PythonStr(const nlohmann::json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_boolean()) return value.get<bool>() ? "True" : "False";
  if (value.is_null()) return "None";
  if (value.is_number_float()) {
    const double d = value.get<double>();
    if (std::floor(d) == d && std::fabs(d) < 1e16) {  // Python prints 10.0, not 10
      std::ostringstream os;
      os << static_cast<long long>(d) << ".0";
      return os.str();
    }
  }
  return value.dump();
}

ExtraSpecRequirement ExtraSpecRequirement::Parse(std::string_view req) {
  ExtraSpecRequirement r;
  r.raw_ = std::string(req);
  std::vector<std::string> words = SplitWords(req);
  if (words.empty()) return r;  // exact match with the (blank) string
  static const std::pair<std::string_view, Op> kOps[] = {
      {"=", Op::kNumAtLeast}, {"==", Op::kNumEq},  {"!=", Op::kNumNe},  {">=", Op::kNumGe},
      {"<=", Op::kNumLe},     {"s==", Op::kStrEq}, {"s!=", Op::kStrNe}, {"s<", Op::kStrLt},
      {"s<=", Op::kStrLe},    {"s>", Op::kStrGt},  {"s>=", Op::kStrGe}, {"<in>", Op::kIn},
      {"<is>", Op::kIs},      {"<or>", Op::kOr}};
  auto it = std::find_if(std::begin(kOps), std::end(kOps),
                         [&](const auto& p) { return p.first == words[0]; });
  if (it == std::end(kOps)) return r;
  r.op_ = it->second;
  if (r.op_ == Op::kOr) {
    // "<or> a <or> b <or> c": every other word after the first operator is an alternative.
    for (size_t k = 1; k < words.size(); k += 2) r.operands_.push_back(words[k]);
    return r;
  }
  if (words.size() > 1) {
    r.operands_.push_back(words[1]);
    r.operand_is_number_ = ParseFloat(words[1], &r.operand_number_);
    r.operand_bool_ = BoolFromString(words[1]);
  }
  return r;
}

bool ExtraSpecRequirement::MatchesString(std::string_view v) const {
  if (op_ == Op::kExact) return v == raw_;
  if (op_ == Op::kOr) return std::find(operands_.begin(), operands_.end(), v) != operands_.end();
  if (operands_.empty()) return false;
  const std::string& operand = operands_[0];
  switch (op_) {
    case Op::kStrEq: return v == operand;
    case Op::kStrNe: return v != operand;
    case Op::kStrLt: return v < operand;
    case Op::kStrLe: return v <= operand;
    case Op::kStrGt: return v > operand;
    case Op::kStrGe: return v >= operand;
    case Op::kIn: return v.find(operand) != std::string_view::npos;
    case Op::kIs: return BoolFromString(v) == operand_bool_;
    default: {
      double cap = 0;
      if (!operand_is_number_ || !ParseFloat(v, &cap)) return false;
      switch (op_) {
        case Op::kNumAtLeast:
        case Op::kNumGe: return cap >= operand_number_;
        case Op::kNumEq: return cap == operand_number_;
        case Op::kNumNe: return cap != operand_number_;
        default: return cap <= operand_number_;
      }
    }
  }
}

bool ExtraSpecRequirement::Matches(const nlohmann::json& value) const {
  if (value.is_string()) return MatchesString(value.get_ref<const std::string&>());
  if (op_ == Op::kExact) return value.is_string() && value.get_ref<const std::string&>() == raw_;
  if (value.is_null()) return false;
  if (op_ == Op::kOr) {
    if (!value.is_string()) return false;
    const std::string& v = value.get_ref<const std::string&>();
    return std::find(operands_.begin(), operands_.end(), v) != operands_.end();
  }
  if (operands_.empty()) return false;  // an operator without an operand never matches
  const std::string& operand = operands_[0];
  switch (op_) {
    case Op::kNumAtLeast:
    case Op::kNumEq:
    case Op::kNumNe:
    case Op::kNumGe:
    case Op::kNumLe: {
      double cap = 0;
      if (!operand_is_number_ || !JsonToFloat(value, &cap)) return false;
      const double want = operand_number_;
      switch (op_) {
        case Op::kNumAtLeast:
        case Op::kNumGe: return cap >= want;
        case Op::kNumEq: return cap == want;
        case Op::kNumNe: return cap != want;
        default: return cap <= want;
      }
    }
    case Op::kStrEq:
    case Op::kStrNe:
    case Op::kStrLt:
    case Op::kStrLe:
    case Op::kStrGt:
    case Op::kStrGe: {
      // Python compares a non-string with a string as unequal, and cannot order them.
      if (!value.is_string()) return op_ == Op::kStrNe;
      const int c = value.get_ref<const std::string&>().compare(operand);
      switch (op_) {
        case Op::kStrEq: return c == 0;
        case Op::kStrNe: return c != 0;
        case Op::kStrLt: return c < 0;
        case Op::kStrLe: return c <= 0;
        case Op::kStrGt: return c > 0;
        default: return c >= 0;
      }
    }
    case Op::kIn:
      return value.is_string() &&
             value.get_ref<const std::string&>().find(operand) != std::string::npos;
    case Op::kIs:
      if (value.is_boolean()) return value.get<bool>() == operand_bool_;
      return BoolFromString(PythonStr(value)) == operand_bool_;
    default:
      return false;
  }
}

bool MatchExtraSpec(const nlohmann::json& value, std::string_view req) {
  return ExtraSpecRequirement::Parse(req).Matches(value);
}

}  // namespace scoria::scheduler
