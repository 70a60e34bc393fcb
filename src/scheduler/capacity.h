// Capacity figures and Cinder's unified capacity arithmetic (§4.3 of cinder-api.md).
//
// A driver reports each capacity either as a number of GiB or as "infinite" / "unknown", or
// not at all; Capacity keeps that distinction because the filter and the weigher treat the
// non-numeric kinds specially. CalculateCapacityFactors is the 2022 "fix and unify capacity
// calculations" formula that both CapacityFilter and CapacityWeigher use, over plain numbers so
// it can be tested on its own. Everything here is a pure function of its arguments.
#pragma once

namespace scoria::scheduler {

struct Capacity {
  enum class Kind { kNumber, kInfinite, kUnknown, kUnset };
  Kind kind = Kind::kUnset;
  double gb = 0;  // meaningful only when kind == kNumber

  static Capacity Gb(double v) { return {Kind::kNumber, v}; }
  static Capacity Infinite() { return {Kind::kInfinite, 0}; }
  static Capacity Unknown() { return {Kind::kUnknown, 0}; }

  bool is_number() const { return kind == Kind::kNumber; }
  // "infinite" or "unknown": the two values Cinder lets through the capacity checks.
  bool is_non_numeric() const { return kind == Kind::kInfinite || kind == Kind::kUnknown; }
  // Numeric value, or 0 for any other kind (Cinder's default for an unreported total).
  double value_or_zero() const { return is_number() ? gb : 0; }
};

// Cinder's default max_over_subscription_ratio, also what "auto" yields while nothing is
// provisioned yet.
inline constexpr double kDefaultMaxOverSubscriptionRatio = 20.0;

struct CapacityFactors {
  double total_reserved_available = 0;  // total − floor(total × reserved%)
  double total_available = 0;           // × mosr on the thin path
  double calculated_free = 0;           // total_available − provisioned
  double virtual_free = 0;              // thin: calculated_free; thick: min(free, calculated_free)
};

// `thin` is the request's provisioning type (provisioning:type != "thick"); the thin path is
// taken only when the pool also supports thin provisioning.
CapacityFactors CalculateCapacityFactors(double total_gb, double free_gb, double provisioned_gb,
                                         bool thin_provisioning_support, double mosr,
                                         int reserved_percentage, bool thin);

// max_over_subscription_ratio = "auto": 1 + provisioned / (total − free + 1), or 20 while
// provisioned is 0.
double AutoMaxOverSubscriptionRatio(double total_gb, double free_gb, double provisioned_gb);

}  // namespace scoria::scheduler
