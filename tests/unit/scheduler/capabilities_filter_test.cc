#include "scheduler/filters/capabilities_filter.h"

#include <gtest/gtest.h>

#include "pool_builder.h"
#include "scheduler/extra_specs_ops.h"

namespace scoria::scheduler {
namespace {

using json = nlohmann::json;

struct OpCase {
  json value;
  const char* req;
  bool expect;
};

void PrintTo(const OpCase& c, std::ostream* os) {
  *os << c.value.dump() << " vs '" << c.req << "' -> " << c.expect;
}

class ExtraSpecOpsTest : public ::testing::TestWithParam<OpCase> {};

TEST_P(ExtraSpecOpsTest, Matches) {
  const OpCase& c = GetParam();
  EXPECT_EQ(MatchExtraSpec(c.value, c.req), c.expect) << c.value.dump() << " vs '" << c.req << "'";
}

INSTANTIATE_TEST_SUITE_P(
    Table, ExtraSpecOpsTest,
    ::testing::Values(
        // No operator: exact equality with the whole string, JSON strings only.
        OpCase{"LVM", "LVM", true}, OpCase{"LVM", "lvm", false}, OpCase{true, "True", false},
        OpCase{"True", "True", true}, OpCase{10, "10", false}, OpCase{"a b", "a b", true},
        // "=" means numeric >= (sic).
        OpCase{10, "= 5", true}, OpCase{5, "= 5", true}, OpCase{4, "= 5", false},
        OpCase{"10", "= 5", true}, OpCase{"abc", "= 5", false}, OpCase{true, "= 1", true},
        OpCase{5, "== 5", true}, OpCase{5.0, "== 5.0", true}, OpCase{6, "== 5", false},
        OpCase{"5", "== 5", true},
        OpCase{6, "!= 5", true}, OpCase{5, "!= 5", false},
        OpCase{5, ">= 5", true}, OpCase{4, ">= 5", false}, OpCase{4.5, ">= 4.25", true},
        OpCase{5, "<= 5", true}, OpCase{6, "<= 5", false},
        OpCase{5, "== abc", false},
        // String comparisons, lexicographic.
        OpCase{"abc", "s== abc", true}, OpCase{"abd", "s== abc", false},
        OpCase{"abd", "s!= abc", true}, OpCase{"abc", "s!= abc", false},
        OpCase{"abc", "s< abd", true}, OpCase{"abd", "s< abc", false}, OpCase{"10", "s< 9", true},
        OpCase{"abc", "s<= abc", true}, OpCase{"abd", "s<= abc", false},
        OpCase{"abd", "s> abc", true}, OpCase{"abc", "s> abc", false},
        OpCase{"abc", "s>= abc", true}, OpCase{"abb", "s>= abc", false},
        OpCase{10, "s== 10", false}, OpCase{10, "s!= 10", true},
        // Substring.
        OpCase{"iSCSI,FC", "<in> FC", true}, OpCase{"iSCSI", "<in> FC", false},
        OpCase{"fast-ssd", "<in> ssd", true},
        // Booleans after bool_from_string.
        OpCase{true, "<is> True", true}, OpCase{false, "<is> True", false},
        OpCase{"yes", "<is> True", true}, OpCase{false, "<is> False", true},
        OpCase{1, "<is> true", true}, OpCase{"on", "<is> 1", true}, OpCase{"nope", "<is> True", false},
        // Alternatives.
        OpCase{"b", "<or> a <or> b", true}, OpCase{"c", "<or> a <or> b", false},
        OpCase{"a", "<or> a", true}, OpCase{"c", "<or> a <or> b <or> c", true},
        // Only the next word is the operand; an operator alone never matches.
        OpCase{5, ">= 3 junk", true}, OpCase{5, ">=", false}, OpCase{nullptr, "<is> False", false},
        OpCase{"anything", "", false}, OpCase{"", "", true}));

RequestSpec WithSpecs(std::map<std::string, std::string> specs) {
  RequestSpec r;
  r.extra_specs = std::move(specs);
  return r;
}

PoolState RichPool() {
  PoolState p = testing::ThickPool("h@b#p", 100, 100);
  p.capabilities = {{"volume_backend_name", "LVM_iSCSI"},
                    {"storage_protocol", "iSCSI"},
                    {"multiattach", true},
                    {"QoS_support", false},
                    {"tiers", json::array({"gold", "silver"})},
                    {"iops", 5000},
                    {"feature", {{"dedup", {{"enabled", "yes"}}}, {"compression", true}}}};
  return p;
}

struct FilterCase {
  const char* name;
  std::map<std::string, std::string> specs;
  bool expect;
};

class CapabilitiesFilterTest : public ::testing::TestWithParam<FilterCase> {};

TEST_P(CapabilitiesFilterTest, Decides) {
  const FilterCase& c = GetParam();
  RequestSpec req = WithSpecs(c.specs);
  CapabilitiesFilter f(req);
  EXPECT_EQ(f.Passes(RichPool()), c.expect) << c.name;
}

INSTANTIATE_TEST_SUITE_P(
    Table, CapabilitiesFilterTest,
    ::testing::Values(
        FilterCase{"no_specs", {}, true},
        FilterCase{"backend_name_match", {{"volume_backend_name", "LVM_iSCSI"}}, true},
        FilterCase{"backend_name_mismatch", {{"volume_backend_name", "LVM"}}, false},
        FilterCase{"other_scopes_ignored",
                   {{"provisioning:type", "thin"}, {"RESKEY:availability_zones", "az9"},
                    {"qos:maxIOPS", "9"}, {"vendor:thing", "x"}},
                   true},
        FilterCase{"missing_capability", {{"replication_enabled", "<is> True"}}, false},
        FilterCase{"bool_needs_is", {{"multiattach", "True"}}, false},
        FilterCase{"bool_with_is", {{"multiattach", "<is> True"}}, true},
        FilterCase{"capabilities_scope", {{"capabilities:iops", ">= 4000"}}, true},
        FilterCase{"capabilities_scope_fails", {{"capabilities:iops", ">= 6000"}}, false},
        FilterCase{"nested_walk", {{"capabilities:feature:dedup:enabled", "<is> True"}}, true},
        FilterCase{"nested_walk_bool", {{"capabilities:feature:compression", "<is> False"}}, false},
        FilterCase{"nested_walk_missing", {{"capabilities:feature:thin:enabled", "x"}}, false},
        FilterCase{"walk_into_scalar", {{"capabilities:iops:x", "1"}}, false},
        FilterCase{"list_any_element", {{"tiers", "silver"}}, true},
        FilterCase{"list_no_element", {{"tiers", "bronze"}}, false},
        FilterCase{"list_with_op", {{"capabilities:tiers", "<or> bronze <or> gold"}}, true},
        FilterCase{"protocol_variant", {{"storage_protocol", "iscsi"}}, true},
        FilterCase{"protocol_variant_in", {{"capabilities:storage_protocol", "<in> iscsi"}}, true},
        FilterCase{"protocol_other_family", {{"storage_protocol", "FC"}}, false},
        FilterCase{"all_must_pass", {{"volume_backend_name", "LVM_iSCSI"}, {"iops", "<= 10"}}, false}),
    [](const ::testing::TestParamInfo<FilterCase>& info) { return std::string(info.param.name); });

TEST(CapabilitiesFilterTest, FibreChannelVariants) {
  PoolState p = RichPool();
  p.capabilities["storage_protocol"] = "FC";
  for (const char* spelling : {"FC", "fc", "fibre_channel"}) {
    RequestSpec req = WithSpecs({{"storage_protocol", spelling}});
    EXPECT_TRUE(CapabilitiesFilter(req).Passes(p)) << spelling;
  }
  p.capabilities["storage_protocol"] = "nvmeof";
  RequestSpec nvme = WithSpecs({{"storage_protocol", "NVMe-oF"}});
  EXPECT_TRUE(CapabilitiesFilter(nvme).Passes(p));
  EXPECT_EQ(StorageProtocolVariants("RBD"), nullptr);
  ASSERT_NE(StorageProtocolVariants("fc"), nullptr);
  EXPECT_EQ(StorageProtocolVariants("fc")->size(), 3u);
}

TEST(CapabilitiesFilterTest, OnlineExtendOfAttachedVolume) {
  PoolState p = RichPool();
  p.online_extend_support = false;
  RequestSpec req;
  req.operation = RequestSpec::Operation::kExtend;
  req.volume_attached = true;
  EXPECT_FALSE(CapabilitiesFilter(req).Passes(p));
  req.volume_attached = false;
  EXPECT_TRUE(CapabilitiesFilter(req).Passes(p));
  req.operation = RequestSpec::Operation::kCreate;
  req.volume_attached = true;
  EXPECT_TRUE(CapabilitiesFilter(req).Passes(p));
  p.online_extend_support = true;
  req.operation = RequestSpec::Operation::kExtend;
  EXPECT_TRUE(CapabilitiesFilter(req).Passes(p));
}

TEST(ExtraSpecOpsTest, BoolFromStringAndPythonStr) {
  EXPECT_TRUE(BoolFromString(" YES "));
  EXPECT_TRUE(BoolFromString("t"));
  EXPECT_FALSE(BoolFromString("2"));
  EXPECT_EQ(PythonStr(json(true)), "True");
  EXPECT_EQ(PythonStr(json(10)), "10");
  EXPECT_EQ(PythonStr(json(10.0)), "10.0");
  EXPECT_EQ(PythonStr(json("x")), "x");
}

}  // namespace
}  // namespace scoria::scheduler
