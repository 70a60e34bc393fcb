#include "scheduler/expression.h"

#include <gtest/gtest.h>

#include "pool_builder.h"
#include "scheduler/pool_variables.h"
#include "scheduler/scheduler.h"

namespace scoria::scheduler {
namespace {

// Variables for these tests: a pool with capacities and nested capabilities, and a request.
struct Fixture {
  PoolState pool;
  RequestSpec request;
  Fixture() {
    pool = testing::ThickPool("host1@lvm#pool1", 500, 200, 120);
    pool.reserved_percentage = 5;
    pool.capabilities = {{"volume_backend_name", "LVM"},
                         {"storage_protocol", "iSCSI"},
                         {"vendor_name", "Open Source"},
                         {"multiattach", true},
                         {"iops", "1500"},
                         {"tier", {{"level", 2}}},
                         {"nothing", nullptr}};
    request.volume = {{"size", 10}, {"id", "vol-1"}, {"display_name", "db"}};
    request.extra_specs = {{"max_size", "100"}, {"flavor", "gold"}};
    request.qos = {{"maxIOPS", 2000}};
  }
};

Result<ExprValue> Eval(const std::string& text) {
  static const Fixture fx;
  ASSIGN_OR_RETURN(Expression e, Expression::Parse(text));
  return e.Evaluate(PoolVariables(fx.pool, fx.request));
}

struct ExprCase {
  const char* text;
  ExprValue expect;
};

void PrintTo(const ExprCase& c, std::ostream* os) { *os << "'" << c.text << "'"; }

class ExpressionValueTest : public ::testing::TestWithParam<ExprCase> {};

TEST_P(ExpressionValueTest, Evaluates) {
  const ExprCase& c = GetParam();
  Result<ExprValue> v = Eval(c.text);
  ASSERT_TRUE(v.ok()) << c.text << ": " << v.status().ToString();
  EXPECT_EQ(static_cast<int>(v->type), static_cast<int>(c.expect.type)) << c.text;
  EXPECT_DOUBLE_EQ(v->number, c.expect.number) << c.text;
  EXPECT_EQ(v->text, c.expect.text) << c.text;
}

ExprValue N(double v) { return ExprValue::Number(v); }
ExprValue B(bool v) { return ExprValue::Bool(v); }
ExprValue S(const char* v) { return ExprValue::String(v); }

INSTANTIATE_TEST_SUITE_P(
    Table, ExpressionValueTest,
    ::testing::Values(
        // Arithmetic and precedence.
        ExprCase{"1 + 2 * 3", N(7)}, ExprCase{"(1 + 2) * 3", N(9)}, ExprCase{"7 - 2 - 1", N(4)},
        ExprCase{"10 / 4", N(2.5)}, ExprCase{"8 / 2 / 2", N(2)}, ExprCase{"1.5 * 2", N(3)},
        ExprCase{"2 ^ 3", N(8)}, ExprCase{"2 ^ 3 ^ 2", N(512)}, ExprCase{"-2 ^ 2", N(-4)},
        ExprCase{"-3 + 5", N(2)}, ExprCase{"+4", N(4)}, ExprCase{"- -4", N(4)},
        ExprCase{"2 * -3", N(-6)},
        // Comparisons, chained like Python.
        ExprCase{"1 < 2", B(true)}, ExprCase{"2 <= 2", B(true)}, ExprCase{"3 > 4", B(false)},
        ExprCase{"4 >= 5", B(false)}, ExprCase{"2 == 2.0", B(true)}, ExprCase{"2 != 2", B(false)},
        ExprCase{"1 <> 2", B(true)}, ExprCase{"1 < 2 < 3", B(true)}, ExprCase{"3 > 2 > 2", B(false)},
        ExprCase{"'a' < 'b'", B(true)}, ExprCase{"'a' == \"a\"", B(true)}, ExprCase{"'1' == 1", B(false)},
        // not binds tighter than comparisons: (not 1) == 0.
        ExprCase{"not 1 == 0", B(true)}, ExprCase{"!0", B(true)}, ExprCase{"NOT 2", B(false)},
        ExprCase{"not not 3", B(true)},
        // and/or return an operand.
        ExprCase{"1 and 0", N(0)}, ExprCase{"2 and 3", N(3)}, ExprCase{"0 or 5", N(5)},
        ExprCase{"4 || 5", N(4)}, ExprCase{"1 && 2 || 0", N(2)}, ExprCase{"0 AND 1 OR 7", N(7)},
        // Ternary, tighter than and/or.
        ExprCase{"1 ? 10 : 20", N(10)}, ExprCase{"0 ? 10 : 20", N(20)},
        ExprCase{"1 < 2 ? 3 : 4", N(3)}, ExprCase{"0 and 1 ? 2 : 3", N(0)},
        ExprCase{"1 and 0 ? 2 : 3", N(3)},
        // Functions.
        ExprCase{"abs(-3)", N(3)}, ExprCase{"max(1, 5, 3)", N(5)}, ExprCase{"min(4, 2)", N(2)},
        ExprCase{"max(1, 2) + 1", N(3)}, ExprCase{"abs(2 - 7) * 2", N(10)},
        // Strings.
        ExprCase{"'a' + 'b'", S("ab")}, ExprCase{"iSCSI", S("iSCSI")},
        // Variables.
        ExprCase{"stats.free_capacity_gb", N(200)}, ExprCase{"stats.total_capacity_gb", N(500)},
        ExprCase{"stats.allocated_capacity_gb", N(120)}, ExprCase{"stats.reserved_percentage", N(5)},
        ExprCase{"stats.host", S("host1@lvm#pool1")}, ExprCase{"stats.vendor_name", S("Open Source")},
        ExprCase{"stats.storage_protocol == iSCSI", B(true)},
        ExprCase{"capabilities.iops", N(1500)},  // numeric string becomes a number
        ExprCase{"capabilities.multiattach", N(1)},  // booleans become 1/0
        ExprCase{"capabilities.tier.level", N(2)},
        ExprCase{"volume.size", N(10)}, ExprCase{"volume.display_name", S("db")},
        ExprCase{"extra.max_size", N(100)}, ExprCase{"extra.flavor == 'gold'", B(true)},
        ExprCase{"qos.maxIOPS / 2", N(1000)},
        ExprCase{"stats.free_capacity_gb / stats.total_capacity_gb * 100", N(40)},
        ExprCase{"volume.size < extra.max_size and stats.free_capacity_gb > 100", B(true)}));

class ExpressionErrorTest : public ::testing::TestWithParam<const char*> {};

TEST_P(ExpressionErrorTest, Fails) {
  Result<ExprValue> v = Eval(GetParam());
  ASSERT_FALSE(v.ok()) << GetParam();
  EXPECT_EQ(v.status().code(), StatusCode::kInvalidArgument);
}

INSTANTIATE_TEST_SUITE_P(
    Table, ExpressionErrorTest,
    ::testing::Values(
        // Syntax.
        "", "1 +", "(1", "1)", "'unterminated", "1 $ 2", "1 ? 2", "foo(1)", "abs(1, 2)",
        "unknown.var", "stats..x", "max()", "1 2",
        // Evaluation.
        "1 / 0", "stats.nope", "capabilities.missing", "capabilities.nothing",
        "capabilities.tier", "volume.missing", "extra.missing", "'a' < 1", "-'a'", "'a' * 2",
        "abs('x')", "max(1, 'a')",
        // No short circuit: an error on either side of and/or is an error (Cinder evaluates both).
        "0 and capabilities.missing", "1 or capabilities.missing", "10 ^ 400"));

TEST(ExpressionTest, ParseOnceEvaluateMany) {
  Result<Expression> e = Expression::Parse("stats.free_capacity_gb > volume.size * 10");
  ASSERT_TRUE(e.ok());
  Fixture fx;
  EXPECT_TRUE(e->Evaluate(PoolVariables(fx.pool, fx.request))->Truthy());
  fx.request.volume["size"] = 25;
  EXPECT_FALSE(e->Evaluate(PoolVariables(fx.pool, fx.request))->Truthy());
  fx.pool.free_capacity_gb = Capacity::Infinite();  // "infinite" is a string: cannot be ordered
  EXPECT_FALSE(e->Evaluate(PoolVariables(fx.pool, fx.request)).ok());
}

TEST(ExpressionTest, DeepNestingIsRejectedNotCrashing) {
  std::string deep(5000, '(');
  deep += "1";
  deep += std::string(5000, ')');
  EXPECT_FALSE(Expression::Parse(deep).ok());
  std::string nots(5000, '!');
  EXPECT_FALSE(Expression::Parse(nots + "1").ok());
}

TEST(ExpressionTest, ErrorMessageNamesOffset) {
  Result<Expression> e = Expression::Parse("1 + * 2");
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.status().message().find("offset 4"), std::string::npos) << e.status().message();
}

TEST(ExpressionTest, ValidateExpression) {
  EXPECT_TRUE(ValidateExpression("stats.free_capacity_gb > 10 ? 100 : 0").ok());
  EXPECT_TRUE(ValidateExpression("capabilities.anything").ok());  // variables resolve later
  Status bad = ValidateExpression("stats.free_capacity_gb >");
  EXPECT_EQ(bad.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ValidateExpression("pool.x").code(), StatusCode::kInvalidArgument);
}

TEST(ExpressionTest, FromStringConversions) {
  EXPECT_EQ(ExprValueFromString(" 12 "), ExprValue::Number(12));
  EXPECT_EQ(ExprValueFromString("1e3"), ExprValue::Number(1000));
  EXPECT_EQ(ExprValueFromString("0x10"), ExprValue::String("0x10"));
  EXPECT_EQ(ExprValueFromString("abc"), ExprValue::String("abc"));
}

}  // namespace
}  // namespace scoria::scheduler
