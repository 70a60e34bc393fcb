// Internal to common/: the one table of every option Scoria reads, and the types it is made of.
// Each row (an OptionSpec) gives an option's section, name, type, default, help text, the
// constraints its value must meet and the Config or BackendConfig field it is stored in. The
// table is the single source for parsing and validation (config.cc), for the defaults and for
// the documentation (DocumentedOptions, which docs/configuration.md is checked against); adding
// an option means adding a row here and a field in config.h, nothing else. Convert turns one
// option's interpolated text into a typed Value, or a Problem saying what was expected; it
// knows nothing of files, sections or $references, which config.cc handles.
//
// Not a public header: only config.cc includes it. Everything here is immutable after the
// first call to Table() (a function-local static), so any thread may use it.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "common/config.h"

namespace scoria::config_internal {

inline constexpr char kDefault[] = "DEFAULT";
inline constexpr char kDatabase[] = "database";
inline constexpr char kKeystoneAuthtoken[] = "keystone_authtoken";
inline constexpr char kOsloPolicy[] = "oslo_policy";
inline constexpr char kBackend[] = "backend";  // the table's name for "every backend section"

// The named sections besides [DEFAULT] and the backends: read whole, like [DEFAULT], whether or
// not they appear in the file.
inline bool IsFixedSection(std::string_view s) {
  return s == kDatabase || s == kKeystoneAuthtoken || s == kOsloPolicy;
}

enum class OptType { kString, kPath, kInt, kFloat, kBool, kList, kFloatOrAuto, kEnum };
// The name the docs use for a type: "string", "path", "int", ...
const char* TypeName(OptType t);

struct FloatOrAuto {
  bool is_auto = false;
  double value = 0;
};
using Value =
    std::variant<std::string, int64_t, double, bool, std::vector<std::string>, FloatOrAuto>;

template <typename T>
T As(const Value& v) {
  if constexpr (std::is_same_v<T, int>) {
    return static_cast<int>(std::get<int64_t>(v));  // int options have ranges inside int
  } else {
    return std::get<T>(v);
  }
}

// Why a value was rejected: the message becomes `expected <expected>, got "<value>"`, prefixed
// with `<not_yet> is not supported yet; ` when Cinder accepts the value and Scoria will later.
struct Problem {
  std::string expected;
  std::string not_yet;
};

// An extra check on a string (or on each list item): the "expected" text, or nullopt if fine.
using Check = std::function<std::optional<std::string>(const std::string&)>;

// One row of the option table. Built with the chainable setters below so each row reads as
// name, type, default, help, then its constraints and where the value goes.
struct OptionSpec {
  std::string section;  // kDefault, a fixed section (kDatabase, ...) or kBackend
  std::string name;
  OptType type = OptType::kString;
  std::string default_value;  // raw text, interpolated exactly like a value from the file
  std::string help;

  std::string default_doc;  // shown instead of default_value when the default is computed
  std::function<std::string()> dynamic_default;
  bool required = false;
  bool used = true;
  bool non_empty = false;
  bool unique_items = false;
  bool redact = false;  // a URL that may carry a password
  int64_t min = std::numeric_limits<int64_t>::min();
  int64_t max = std::numeric_limits<int64_t>::max();
  std::optional<double> fmin;
  std::vector<std::pair<std::string, std::string>> choices;  // spelling -> canonical value
  std::vector<std::string> not_yet;                          // enum values for later
  Check check;
  std::function<void(const Value&, Config&)> apply;
  std::function<void(const Value&, BackendConfig&)> apply_backend;

  OptionSpec&& Range(int64_t lo, int64_t hi) && {
    min = lo;
    max = hi;
    return std::move(*this);
  }
  OptionSpec&& AtLeast(int64_t lo) && {
    min = lo;
    return std::move(*this);
  }
  OptionSpec&& AtLeastF(double lo) && {
    fmin = lo;
    return std::move(*this);
  }
  OptionSpec&& Required() && {
    required = true;
    return std::move(*this);
  }
  OptionSpec&& NonEmpty() && {
    non_empty = true;
    return std::move(*this);
  }
  OptionSpec&& Unique() && {
    unique_items = true;
    return std::move(*this);
  }
  OptionSpec&& Redact() && {
    redact = true;
    return std::move(*this);
  }
  OptionSpec&& NotUsedYet() && {
    used = false;
    return std::move(*this);
  }
  OptionSpec&& Verify(Check c) && {
    check = std::move(c);
    return std::move(*this);
  }
  OptionSpec&& DefaultDoc(std::string d, std::function<std::string()> f = nullptr) && {
    default_doc = std::move(d);
    dynamic_default = std::move(f);
    return std::move(*this);
  }
  OptionSpec&& Choices(std::vector<std::pair<std::string, std::string>> c) && {
    choices = std::move(c);
    return std::move(*this);
  }
  OptionSpec&& Items(std::vector<std::string> items) && {
    for (auto& i : items) choices.emplace_back(i, i);
    return std::move(*this);
  }
  OptionSpec&& NotYet(std::vector<std::string> v) && {
    not_yet = std::move(v);
    return std::move(*this);
  }
  template <typename T>
  OptionSpec&& Into(T Config::*m) && {
    apply = [m](const Value& v, Config& c) { c.*m = As<T>(v); };
    return std::move(*this);
  }
  template <typename T>
  OptionSpec&& Into(T BackendConfig::*m) && {
    apply_backend = [m](const Value& v, BackendConfig& b) { b.*m = As<T>(v); };
    return std::move(*this);
  }
  OptionSpec&& IntoBackend(std::function<void(const Value&, BackendConfig&)> f) && {
    apply_backend = std::move(f);
    return std::move(*this);
  }
};

// The option table, in documentation order: [DEFAULT], [database], then backend options.
const std::vector<OptionSpec>& Table();
// The row of option `name` in `section` (kDefault, kDatabase or kBackend), or nullptr.
const OptionSpec* FindOption(std::string_view section, std::string_view name);
// Turns interpolated text into a typed value, or says what was expected.
std::variant<Value, Problem> Convert(const OptionSpec& o, const std::string& text);

// The accepted spellings of an enum or list option, in table order.
std::vector<std::string> Spellings(const OptionSpec& o);
std::string Join(const std::vector<std::string>& items, const char* sep = ", ");

}  // namespace scoria::config_internal
