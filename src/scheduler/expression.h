// The filter_function / goodness_function expression language (§4.6; Cinder's
// cinder/scheduler/evaluator/evaluator.py), parsed once and evaluated many times.
//
// Model: Expression::Parse turns the text into an immutable tree; Evaluate walks it against a
// VariableSource that resolves `scope.name` variables for one pool and one request. Values are
// numbers, strings and booleans with Python's semantics as Cinder's evaluator has them:
//   - precedence, loosest first: `or`/`||`/`OR`, `and`/`&&`/`AND`, ternary `c ? a : b`
//     (left-assoc, binds tighter than and/or), comparisons `< <= > >= == != <>` (chained like
//     Python: a < b < c), `not`/`!`/`NOT` (binds tighter than comparisons: `not a == b` is
//     `(not a) == b`), `+ -`, `* /`, unary `+ -`, `^` (right-assoc, tighter than unary minus:
//     -2^2 == -4), function calls abs(x), max(a, ...), min(a, ...);
//   - `and`/`or` evaluate both sides and return an operand (Python `and`/`or`);
//   - variables resolving to numeric strings become numbers, booleans become 1/0;
//   - a bare word that is not a variable (`iSCSI`) is a string constant, as in Cinder;
//     quoted strings ('x' or "x") are string constants too.
// Evaluation errors (unknown variable, type mismatch, division by zero, non-finite result)
// are returned as InvalidArgument; callers decide what they mean (DriverFilter: fail the pool;
// GoodnessWeigher: goodness 0).
//
// Differences from Cinder, on purpose: variables may address nested dicts
// (capabilities.a.b) and names may contain digits; a word with a dot whose first part is not one
// of stats/capabilities/volume/extra/qos is a parse error instead of a runtime KeyError.
//
// Threading: an Expression is immutable after Parse and may be evaluated from any number of
// threads at once, provided each VariableSource is.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace scoria::scheduler {

struct ExprValue {
  enum class Type { kNumber, kString, kBool };
  Type type = Type::kNumber;
  double number = 0;  // kNumber, and kBool as 0/1
  std::string text;   // kString

  static ExprValue Number(double v) { return {Type::kNumber, v, {}}; }
  static ExprValue Bool(bool b) { return {Type::kBool, b ? 1.0 : 0.0, {}}; }
  static ExprValue String(std::string s) { return {Type::kString, 0, std::move(s)}; }

  bool is_numeric() const { return type != Type::kString; }  // Python: bool is an int
  bool Truthy() const { return type == Type::kString ? !text.empty() : number != 0; }
  bool operator==(const ExprValue&) const = default;
};

enum class VariableScope { kStats, kCapabilities, kVolume, kExtra, kQos };

// Resolves variables for one evaluation. `path` is the dotted name after the scope
// (["total_capacity_gb"] for stats.total_capacity_gb). Returns false when the variable does
// not exist or has no usable value (null, a dict, a list), which is an evaluation error.
class VariableSource {
 public:
  virtual ~VariableSource() = default;
  virtual bool Lookup(VariableScope scope, const std::vector<std::string>& path,
                      ExprValue* out) const = 0;
};

// Converts a reported JSON value the way Cinder's EvalConstant does: numbers stay numbers,
// numeric strings become numbers, booleans become 1/0, other strings stay strings. Returns false
// for null, objects and arrays.
bool ExprValueFromJson(const nlohmann::json& value, ExprValue* out);
// Same for a string value (extra specs are strings).
ExprValue ExprValueFromString(std::string_view text);

class Expression {
 public:
  // Parses `text`. InvalidArgument with the position and reason on a syntax error.
  [[nodiscard]] static Result<Expression> Parse(std::string_view text);

  // Evaluates against `vars`. InvalidArgument describing the first error.
  [[nodiscard]] Result<ExprValue> Evaluate(const VariableSource& vars) const;

  const std::string& text() const { return text_; }

  struct Node;  // defined in expression.cc

 private:
  std::string text_;
  std::shared_ptr<const std::vector<Node>> nodes_;  // root is the last node
};

}  // namespace scoria::scheduler
