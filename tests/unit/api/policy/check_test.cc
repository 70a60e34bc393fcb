#include "api/policy/check.h"

#include <gtest/gtest.h>

#include <map>

namespace scoria::api::policy {
namespace {

Credentials Member(std::string project) {
  Credentials c;
  c.user_id = "u1";
  c.project_id = std::move(project);
  c.project_domain_id = "default";
  c.roles = {"member", "reader"};
  return c;
}

// Parses `text` (which must parse) and evaluates it.
bool Eval(std::string_view text, const Credentials& creds, const Target& target = {}) {
  auto check = ParseCheck(text);
  EXPECT_TRUE(check.ok()) << text << ": " << check.status().ToString();
  if (!check.ok()) return false;
  return (*check)->Evaluate(creds, target);
}

std::string Canonical(std::string_view text) {
  auto check = ParseCheck(text);
  EXPECT_TRUE(check.ok()) << text << ": " << check.status().ToString();
  return check.ok() ? (*check)->ToString() : "";
}

TEST(PolicyCheckTest, ConstantChecks) {
  Credentials nobody;
  EXPECT_TRUE(Eval("@", nobody));
  EXPECT_FALSE(Eval("!", nobody));
  EXPECT_TRUE(Eval("", nobody));  // oslo: the empty rule allows everyone
}

TEST(PolicyCheckTest, RoleIsCaseInsensitive) {
  Credentials c = Member("p1");
  c.roles = {"Member"};
  EXPECT_TRUE(Eval("role:member", c));
  EXPECT_TRUE(Eval("role:MEMBER", c));
  EXPECT_FALSE(Eval("role:admin", c));
  EXPECT_FALSE(Eval("role:membe", c));
  EXPECT_FALSE(Eval("role:members", c));
  Credentials none;
  EXPECT_FALSE(Eval("role:member", none));
}

TEST(PolicyCheckTest, RoleSubstitutesFromTarget) {
  Credentials c = Member("p1");
  EXPECT_TRUE(Eval("role:%(needed)s", c, {{"needed", "READER"}}));
  EXPECT_FALSE(Eval("role:%(needed)s", c, {{"needed", "admin"}}));
  EXPECT_FALSE(Eval("role:%(needed)s", c, {}));
}

TEST(PolicyCheckTest, ProjectIdSubstitution) {
  Credentials c = Member("p1");
  EXPECT_TRUE(Eval("project_id:%(project_id)s", c, {{"project_id", "p1"}}));
  EXPECT_FALSE(Eval("project_id:%(project_id)s", c, {{"project_id", "p2"}}));
  EXPECT_FALSE(Eval("project_id:%(project_id)s", c, {{"project_id", "p11"}}));
  EXPECT_FALSE(Eval("project_id:%(project_id)s", c, {{"project_id", "P1"}}));
  // Literal text around a substitution, and a literal match.
  EXPECT_TRUE(Eval("project_id:p%(n)s", c, {{"n", "1"}}));
  EXPECT_TRUE(Eval("project_id:p1", c));
  EXPECT_FALSE(Eval("project_id:p2", c));
}

TEST(PolicyCheckTest, MissingTargetKeyIsFalseNotAnError) {
  Credentials c = Member("p1");
  EXPECT_FALSE(Eval("project_id:%(project_id)s", c, {{"user_id", "u1"}}));
  EXPECT_TRUE(Eval("not project_id:%(project_id)s", c, {}));
  EXPECT_FALSE(Eval("True:%(enabled)s", c, {}));
}

TEST(PolicyCheckTest, UnsetCredentialNeverMatches) {
  Credentials c;  // no project: even an empty target value must not match
  EXPECT_FALSE(Eval("project_id:%(project_id)s", c, {{"project_id", ""}}));
  EXPECT_FALSE(Eval("system_scope:all", c));
  c.system_scope = "all";
  EXPECT_TRUE(Eval("system_scope:all", c));
}

TEST(PolicyCheckTest, DomainAndUserFields) {
  Credentials c = Member("p1");
  c.domain_id = "d1";
  EXPECT_TRUE(Eval("domain_id:%(domain_id)s", c, {{"domain_id", "d1"}}));
  EXPECT_FALSE(Eval("domain_id:%(domain_id)s", c, {{"domain_id", "default"}}));
  EXPECT_TRUE(Eval("project_domain_id:default", c));
  EXPECT_TRUE(Eval("user_id:%(user_id)s", c, {{"user_id", "u1"}}));
  EXPECT_FALSE(Eval("user_id:%(user_id)s", c, {{"user_id", "u2"}}));
}

TEST(PolicyCheckTest, BooleanFieldsReadAsPythonPrintsThem) {
  Credentials c;
  EXPECT_FALSE(Eval("is_admin:True", c));
  EXPECT_TRUE(Eval("is_admin:False", c));
  c.is_admin = true;
  EXPECT_TRUE(Eval("is_admin:True", c));
  EXPECT_FALSE(Eval("is_admin:true", c));  // oslo compares str(True): case matters
  EXPECT_TRUE(Eval("is_admin_project:True", c));
  c.is_admin_project = false;
  EXPECT_FALSE(Eval("is_admin_project:True", c));
}

TEST(PolicyCheckTest, RolesFieldMatchesAnyRoleExactly) {
  Credentials c = Member("p1");
  EXPECT_TRUE(Eval("roles:reader", c));
  EXPECT_FALSE(Eval("roles:Reader", c));  // generic checks do not lowercase, role: does
}

TEST(PolicyCheckTest, LiteralKinds) {
  Credentials c;
  EXPECT_TRUE(Eval("True:%(enabled)s", c, {{"enabled", "True"}}));
  EXPECT_FALSE(Eval("True:%(enabled)s", c, {{"enabled", "False"}}));
  EXPECT_TRUE(Eval("'member':%(name)s", c, {{"name", "member"}}));
  EXPECT_TRUE(Eval("\"member\":%(name)s", c, {{"name", "member"}}));
  EXPECT_FALSE(Eval("'member':%(name)s", c, {{"name", "'member'"}}));
  EXPECT_TRUE(Eval("42:%(n)s", c, {{"n", "42"}}));
  EXPECT_TRUE(Eval("-0:%(n)s", c, {{"n", "0"}}));
  EXPECT_TRUE(Eval("None:%(v)s", c, {{"v", "None"}}));
}

TEST(PolicyCheckTest, PercentEscape) {
  Credentials c;
  EXPECT_TRUE(Eval("'50%':50%%", c));
  EXPECT_FALSE(Eval("'50%':50%%%%", c));
}

TEST(PolicyCheckTest, RuleWithoutBinderIsFalse) {
  EXPECT_FALSE(Eval("rule:anything", Member("p1")));
  EXPECT_TRUE(Eval("not rule:anything", Member("p1")));
}

TEST(PolicyCheckTest, RuleFollowsTheBoundReference) {
  std::map<std::string, RuleRef, std::less<>> refs;
  RuleBinder bind = [&](std::string_view name) {
    auto [it, inserted] = refs.try_emplace(std::string(name), RuleRef{std::string(name)});
    return &it->second;
  };
  auto check = ParseCheck("rule:owner or role:admin", bind);
  ASSERT_TRUE(check.ok()) << check.status().ToString();
  ASSERT_EQ(refs.size(), 1u);
  Credentials c = Member("p1");
  Target mine{{"project_id", "p1"}};
  EXPECT_FALSE((*check)->Evaluate(c, mine));  // unbound yet
  auto owner = ParseCheck("project_id:%(project_id)s");
  ASSERT_TRUE(owner.ok());
  refs["owner"].check = owner->get();
  EXPECT_TRUE((*check)->Evaluate(c, mine));
  EXPECT_FALSE((*check)->Evaluate(c, {{"project_id", "p2"}}));
}

TEST(PolicyCheckTest, NotAndOr) {
  Credentials c = Member("p1");
  EXPECT_TRUE(Eval("role:member and role:reader", c));
  EXPECT_FALSE(Eval("role:member and role:admin", c));
  EXPECT_TRUE(Eval("role:admin or role:reader", c));
  EXPECT_FALSE(Eval("role:admin or !", c));
  EXPECT_FALSE(Eval("not role:member", c));
  EXPECT_TRUE(Eval("not role:admin", c));
  EXPECT_TRUE(Eval("not not role:member", c));
  EXPECT_TRUE(Eval("role:admin OR role:member AND NOT role:admin", c));
}

// oslo: not binds tighter than and, and tighter than or.
TEST(PolicyCheckTest, Precedence) {
  Credentials c;
  // a or b and c: with a true and c false, "(a or b) and c" would be false.
  EXPECT_TRUE(Eval("@ or ! and !", c));
  EXPECT_FALSE(Eval("(@ or !) and !", c));
  // a and b or c
  EXPECT_TRUE(Eval("! and ! or @", c));
  EXPECT_FALSE(Eval("! and (! or @)", c));
  // not a and b: (not a) and b
  EXPECT_FALSE(Eval("not @ and @", c));
  EXPECT_TRUE(Eval("not (! and @)", c));
  // not a or b: (not a) or b
  EXPECT_TRUE(Eval("not @ or @", c));
  EXPECT_FALSE(Eval("not (@ or @)", c));
  EXPECT_EQ(Canonical("user_id:1 or project_id:2 and domain_id:3"),
            "(user_id:1 or (project_id:2 and domain_id:3))");
  EXPECT_EQ(Canonical("True:1 or 'b':2 and 3:3"), "(True:1 or ('b':2 and 3:3))");
}

TEST(PolicyCheckTest, Parentheses) {
  Credentials c = Member("p1");
  Target t{{"project_id", "p1"}};
  EXPECT_TRUE(Eval("(role:admin) or (role:member and project_id:%(project_id)s)", c, t));
  EXPECT_FALSE(Eval("(role:admin) or (role:member and project_id:%(project_id)s)", c,
                    {{"project_id", "p2"}}));
  EXPECT_TRUE(Eval("((role:member))", c));
  EXPECT_TRUE(Eval("( role:member )", c));
  EXPECT_TRUE(Eval("(not (role:admin))", c));
}

TEST(PolicyCheckTest, CanonicalForm) {
  EXPECT_EQ(Canonical(""), "@");
  EXPECT_EQ(Canonical("  role:admin\t"), "role:admin");
  EXPECT_EQ(Canonical("(role:admin)"), "role:admin");
  EXPECT_EQ(Canonical("role:a AND role:b and (role:c and role:d)"),
            "(role:a and role:b and role:c and role:d)");
  EXPECT_EQ(Canonical("not (role:a or role:b)"), "not (role:a or role:b)");
  // Parses back to itself.
  std::string c = Canonical(
      "is_admin:True or (role:admin and is_admin_project:True) or "
      "project_id:%(project_id)s");
  EXPECT_EQ(Canonical(c), c);
}

TEST(PolicyCheckTest, MalformedStringsAreRejectedWithTheProblem) {
  struct Case {
    const char* text;
    const char* problem;
  };
  const Case cases[] = {
      {"role:admin and", "'and' at the end needs a check after it"},
      {"or role:admin", "'or' has no check before it"},
      {"role:admin or and role:member", "'and' follows 'or' where a check was expected"},
      {"role:admin role:member", "'role:member' follows 'role:admin' without 'and' or 'or'"},
      {"(role:admin", "a '(' is never closed"},
      {"role:admin)", "a ')' closes nothing"},
      {")", "a ')' closes nothing"},
      {"()", "'()' holds no check"},
      {"not", "'not' at the end needs a check after it"},
      {"admin", "'admin' is not a check (expected kind:match, '@' or '!')"},
      {"'admin'", "the quoted string 'admin' is not a check"},
      {"role:", "'role:' has nothing after ':'"},
      {":admin", "':admin' has no kind before ':'"},
      {"projet_id:%(project_id)s", "checks 'projet_id', which is not a credential"},
      {"user.enabled:True", "checks 'user.enabled', which is not a credential"},
      {"project_id:%(project_id)", "must start a %(key)s substitution"},
      {"project_id:50%", "must start a %(key)s substitution"},
      {"project_id:%()s", "must start a %(key)s substitution"},
      {"1.5:%(x)s", "checks '1.5'"},
      {"   ", "only whitespace"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.text);
    auto check = ParseCheck(c.text);
    ASSERT_FALSE(check.ok());
    EXPECT_EQ(check.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(check.status().message().find(c.problem), std::string::npos)
        << check.status().message();
    EXPECT_TRUE(check.status().message().starts_with("check string \"" + std::string(c.text) +
                                                     "\" is invalid: "))
        << check.status().message();
  }
}

TEST(PolicyCheckTest, DeepNestingIsRejectedNotOverflowed) {
  std::string deep(100000, '(');
  deep += "@";
  deep += std::string(100000, ')');
  auto check = ParseCheck(deep);
  ASSERT_FALSE(check.ok());
  EXPECT_NE(check.status().message().find("nest deeper"), std::string::npos);
  std::string nots;
  for (int i = 0; i < 100000; ++i) nots += "not ";
  check = ParseCheck(nots + "@");
  ASSERT_FALSE(check.ok());
  EXPECT_NE(check.status().message().find("nest deeper"), std::string::npos);
}

}  // namespace
}  // namespace scoria::api::policy
