#include "api/policy/enforcer.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <initializer_list>
#include <set>
#include <thread>

#include "api/policy/defaults.h"

namespace scoria::api::policy {
namespace {

// Keystone's bootstrap roles imply one another (admin > member > reader), and Keystone sends
// the implied roles in the token, so the personas carry all of them.
Credentials Persona(std::vector<std::string> roles, std::string project) {
  Credentials c;
  c.user_id = "user-of-" + project;
  c.project_id = std::move(project);
  c.project_domain_id = "default";
  c.roles = std::move(roles);
  // Cinder's is_admin: the context_is_admin rule (role:admin).
  for (const auto& r : c.roles) c.is_admin = c.is_admin || r == "admin";
  return c;
}
Credentials Admin(std::string project) {
  return Persona({"admin", "member", "reader"}, std::move(project));
}
Credentials Member(std::string project) { return Persona({"member", "reader"}, project); }
Credentials Reader(std::string project) { return Persona({"reader"}, std::move(project)); }

Target Of(std::string project) { return {{"project_id", project}, {"user_id", "someone"}}; }

std::unique_ptr<const Enforcer> MustLoad(std::string_view text, bool new_defaults = true) {
  auto e = Enforcer::FromText(text, "test.yaml", new_defaults);
  EXPECT_TRUE(e.ok()) << e.status().ToString();
  return e.ok() ? std::move(*e) : nullptr;
}

Status LoadError(std::string_view text) {
  auto e = Enforcer::FromText(text, "test.yaml", true);
  return e.ok() ? Status::Ok() : e.status();
}

bool Allowed(const Enforcer& e, std::string_view rule, const Credentials& c, const Target& t) {
  Status st = e.Authorize(rule, c, t);
  EXPECT_TRUE(st.ok() || st.code() == StatusCode::kPermissionDenied) << st.ToString();
  return st.ok();
}

// A policy file on disk, removed at the end of the test.
class TempFile {
 public:
  TempFile(std::string_view suffix, std::string_view text) {
    path_ = ::testing::TempDir() + "policy_" + std::to_string(::getpid()) + "_" +
            std::to_string(counter_++) + std::string(suffix);
    std::ofstream(path_) << text;
  }
  ~TempFile() { std::remove(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  static inline int counter_ = 0;
  std::string path_;
};

TEST(PolicyDefaultsTest, TableIsWellFormed) {
  std::set<std::string_view> names;
  for (const RuleDefault& d : CinderRuleDefaults()) {
    EXPECT_TRUE(names.insert(d.name).second) << "duplicate " << d.name;
    EXPECT_FALSE(d.description.empty()) << d.name;
    EXPECT_TRUE(ParseCheck(d.check).ok()) << d.name;
    if (d.deprecated_check) {
      EXPECT_TRUE(ParseCheck(*d.deprecated_check).ok()) << d.name;
    }
    if (!d.deprecated_name.empty()) {
      EXPECT_TRUE(d.deprecated_check.has_value()) << d.name;
    }
  }
  EXPECT_EQ(names.size(), 166u);  // cinder 21.3.1: 6 base rules + 160 API rules
  for (const char* n :
       {"admin_or_owner", "system_or_domain_or_project_admin", "context_is_admin", "admin_api",
        "xena_system_admin_or_project_member", "volume:create", "volume:delete", "volume:get",
        "volume:get_all", "backup:create", "backup:get_all", "volume_extension:quotas:update",
        "volume_extension:volume_admin_actions:reset_status",
        "volume_extension:volume_admin_actions:force_delete", "volume_extension:type_create",
        "volume_extension:default_get_all"}) {
    EXPECT_TRUE(names.contains(n)) << n;
  }
}

TEST(PolicyEnforcerTest, DefaultsSpelledAsCinder) {
  auto e = MustLoad("");
  ASSERT_TRUE(e);
  EXPECT_EQ(*e->Describe("volume:delete"), "rule:xena_system_admin_or_project_member");
  EXPECT_EQ(*e->Describe("xena_system_admin_or_project_member"),
            "(role:admin or (role:member and project_id:%(project_id)s))");
  EXPECT_EQ(*e->Describe("admin_api"), "(is_admin:True or (role:admin and is_admin_project:True))");
  EXPECT_EQ(e->Describe("volume:nonesuch").status().code(), StatusCode::kNotFound);
}

// Each rule of `allowed` lets the caller act on the target, each of `denied` does not.
void ExpectVerdicts(const Enforcer& e, const Credentials& c, const Target& t,
                    std::initializer_list<const char*> allowed,
                    std::initializer_list<const char*> denied) {
  for (const char* rule : allowed) EXPECT_TRUE(Allowed(e, rule, c, t)) << rule;
  for (const char* rule : denied) EXPECT_FALSE(Allowed(e, rule, c, t)) << rule;
}

TEST(PolicyEnforcerTest, MemberOwnsItsVolumesButIsNoAdmin) {
  auto e = MustLoad("");
  ASSERT_TRUE(e);
  ExpectVerdicts(*e, Member("pa"), Of("pa"),
                 {"volume:create", "volume:delete", "volume:get", "volume:get_all", "volume:update",
                  "volume:extend", "volume:create_snapshot", "backup:create", "backup:restore",
                  "volume:attachment_create"},
                 {"volume_extension:volume_admin_actions:reset_status",
                  "volume_extension:volume_admin_actions:force_delete", "volume:force_delete",
                  "volume_extension:quotas:update", "volume_extension:type_create",
                  "volume_extension:services:index", "volume_extension:volume_host_attribute",
                  "backup:backup-import"});
}

TEST(PolicyEnforcerTest, ReaderReadsButDoesNotWrite) {
  auto e = MustLoad("");
  ASSERT_TRUE(e);
  ExpectVerdicts(*e, Reader("pa"), Of("pa"),
                 {"volume:get", "volume:get_all", "backup:get_all", "volume:get_all_snapshots",
                  "volume_extension:quotas:show", "limits_extension:used_limits",
                  "volume_extension:type_get_all"},
                 {"volume:create", "volume:delete", "volume:update", "backup:create",
                  "volume:create_snapshot", "volume:attachment_create"});
}

TEST(PolicyEnforcerTest, AdminMayDoEverything) {
  auto e = MustLoad("");
  ASSERT_TRUE(e);
  Credentials a = Admin("admin-project");
  Target t = Of("someone-else");
  t["domain_id"] = "default";
  for (const RuleDefault& d : CinderRuleDefaults()) {
    // A base rule no API rule uses in this mode: an admin of *another* project is not a
    // project or domain admin of this one (Cinder agrees).
    if (d.name == "system_or_domain_or_project_admin") continue;
    EXPECT_TRUE(Allowed(*e, d.name, a, t)) << d.name;
  }
}

TEST(PolicyEnforcerTest, OtherProjectIsDenied) {
  auto e = MustLoad("");
  ASSERT_TRUE(e);
  for (const Credentials& c : {Member("pb"), Reader("pb")}) {
    SCOPED_TRACE(c.roles.front());
    ExpectVerdicts(*e, c, Of("pa"), {},
                   {"volume:get", "volume:delete", "volume:update", "backup:restore",
                    "volume:create_snapshot", "volume_extension:quotas:show"});
  }
}

TEST(PolicyEnforcerTest, DeniedWithCindersMessage) {
  auto e = MustLoad("");
  ASSERT_TRUE(e);
  Status st =
      e->Authorize("volume_extension:volume_admin_actions:reset_status", Member("pa"), Of("pa"));
  EXPECT_EQ(st.code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(st.message(),
            "Policy doesn't allow volume_extension:volume_admin_actions:reset_status to be "
            "performed.");
}

TEST(PolicyEnforcerTest, UnknownRuleAtAuthorizeIsInternalNeverAllow) {
  auto e = MustLoad("");
  ASSERT_TRUE(e);
  Status st = e->Authorize("volume:dlete", Admin("pa"), Of("pa"));
  EXPECT_EQ(st.code(), StatusCode::kInternal);
  EXPECT_NE(st.message().find("volume:dlete"), std::string::npos);
}

// oslo.policy's default in Zed (enforce_new_defaults = False): the deprecated pre-Xena check is
// OR-ed in, so any role on the owning project passes admin_or_owner.
TEST(PolicyEnforcerTest, WithoutNewDefaultsDeprecatedChecksAreOredIn) {
  auto e = MustLoad("", /*new_defaults=*/false);
  ASSERT_TRUE(e);
  EXPECT_EQ(*e->Describe("volume:delete"),
            "(rule:xena_system_admin_or_project_member or rule:admin_or_owner)");
  EXPECT_EQ(*e->Describe("volume:create"), "(rule:xena_system_admin_or_project_member or @)");
  Credentials r = Reader("pa");
  EXPECT_TRUE(Allowed(*e, "volume:delete", r, Of("pa")));
  EXPECT_TRUE(Allowed(*e, "volume:create", r, Of("pa")));
  EXPECT_FALSE(Allowed(*e, "volume:delete", r, Of("pb")));
  // Admin-only rules had no deprecated check and stay admin-only.
  EXPECT_FALSE(
      Allowed(*e, "volume_extension:volume_admin_actions:force_delete", Member("pa"), Of("pa")));
}

TEST(PolicyEnforcerTest, FileOverridesADefault) {
  auto e = MustLoad(R"(
# volume deletion is for admins only here
"volume:delete": "rule:admin_api"
)");
  ASSERT_TRUE(e);
  EXPECT_FALSE(Allowed(*e, "volume:delete", Member("pa"), Of("pa")));
  EXPECT_TRUE(Allowed(*e, "volume:delete", Admin("pa"), Of("pa")));
  EXPECT_TRUE(Allowed(*e, "volume:create", Member("pa"), Of("pa")));  // untouched
}

TEST(PolicyEnforcerTest, OverrideWinsOverDeprecatedOr) {
  auto e = MustLoad("volume:delete: role:admin\n", /*new_defaults=*/false);
  ASSERT_TRUE(e);
  EXPECT_EQ(*e->Describe("volume:delete"), "role:admin");
  EXPECT_FALSE(Allowed(*e, "volume:delete", Member("pa"), Of("pa")));
}

TEST(PolicyEnforcerTest, OverridingABaseRuleChangesTheRulesUsingIt) {
  auto e = MustLoad("xena_system_admin_or_project_member: 'role:admin'\n");
  ASSERT_TRUE(e);
  EXPECT_FALSE(Allowed(*e, "volume:create", Member("pa"), Of("pa")));
  EXPECT_FALSE(Allowed(*e, "backup:delete", Member("pa"), Of("pa")));
  EXPECT_TRUE(Allowed(*e, "volume:get", Member("pa"), Of("pa")));
}

TEST(PolicyEnforcerTest, DeprecatedNameOverridesTheRulesThatReplacedIt) {
  auto e = MustLoad("\"volume_extension:types_manage\": \"role:type_manager\"\n");
  ASSERT_TRUE(e);
  Credentials tm = Persona({"type_manager"}, "pa");
  for (const char* rule : {"volume_extension:type_create", "volume_extension:type_update",
                           "volume_extension:type_delete"}) {
    EXPECT_TRUE(Allowed(*e, rule, tm, Of("pa"))) << rule;
    EXPECT_FALSE(Allowed(*e, rule, Admin("pa"), Of("pa"))) << rule;
  }
  // A new name set in the file beats the old one.
  e = MustLoad(
      "\"volume_extension:types_manage\": \"role:type_manager\"\n"
      "\"volume_extension:type_delete\": \"!\"\n");
  ASSERT_TRUE(e);
  EXPECT_TRUE(Allowed(*e, "volume_extension:type_create", tm, Of("pa")));
  EXPECT_FALSE(Allowed(*e, "volume_extension:type_delete", tm, Of("pa")));
}

TEST(PolicyEnforcerTest, FileMayDefineRulesForOthersToUse) {
  auto e = MustLoad(R"(
storage_admins: "role:storage_admin or rule:admin_api"
"volume_extension:volume_admin_actions:reset_status": "rule:storage_admins"
)");
  ASSERT_TRUE(e);
  Credentials sa = Persona({"storage_admin", "member"}, "pa");
  EXPECT_TRUE(Allowed(*e, "volume_extension:volume_admin_actions:reset_status", sa, Of("pb")));
  EXPECT_FALSE(Allowed(*e, "volume_extension:volume_admin_actions:force_delete", sa, Of("pb")));
}

TEST(PolicyEnforcerTest, JsonFileFromDisk) {
  TempFile f(".json", R"({
  "volume:delete": "role:admin",
  "volume:create": "role:member and project_id:%(project_id)s"
})");
  auto e = Enforcer::Load({f.path(), true});
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_FALSE(Allowed(**e, "volume:delete", Member("pa"), Of("pa")));
  EXPECT_TRUE(Allowed(**e, "volume:create", Member("pa"), Of("pa")));
}

TEST(PolicyEnforcerTest, YamlFileFromDisk) {
  TempFile f(".yaml", "---\n# comment\n\"volume:get_all\": \"!\"\nvolume:get: ''\n");
  auto e = Enforcer::Load({f.path(), true});
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_FALSE(Allowed(**e, "volume:get_all", Admin("pa"), Of("pa")));
  EXPECT_TRUE(Allowed(**e, "volume:get", Reader("pb"), Of("pa")));
}

TEST(PolicyEnforcerTest, EmptyOrCommentOnlyFileKeepsDefaults) {
  for (const char* text : {"", "# nothing yet\n", "{}", "---\n"}) {
    auto e = MustLoad(text);
    ASSERT_TRUE(e) << text;
    EXPECT_TRUE(Allowed(*e, "volume:create", Member("pa"), Of("pa")));
  }
}

TEST(PolicyEnforcerTest, MissingFileIsNotFound) {
  auto e = Enforcer::Load({::testing::TempDir() + "no-such-policy.yaml", true});
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().code(), StatusCode::kNotFound);
  EXPECT_NE(e.status().message().find("no-such-policy.yaml"), std::string::npos);
}

TEST(PolicyEnforcerTest, NoFileMeansDefaults) {
  auto e = Enforcer::Load({});
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_TRUE(Allowed(**e, "volume:create", Member("pa"), Of("pa")));
}

struct BadFile {
  const char* text;
  std::vector<const char*> parts;  // each must appear in the message
};

TEST(PolicyEnforcerTest, BadFilesAreRejectedNamingFileRuleAndProblem) {
  const BadFile cases[] = {
      {"\"volume:delete\": \"role:admin or\"\n",
       {"policy file test.yaml", "line 1", "\"volume:delete\"", "'or' at the end"}},
      {"a: '@'\n\"volume:delete\": \"rule:admins\"\n",
       {"test.yaml line 2", "\"volume:delete\"", "rule:admins names no rule"}},
      {"\"volume:delte\": \"role:admin\"\n",
       {"test.yaml", "line 1", "\"volume:delte\"", "not a Cinder policy and no rule refers"}},
      {"\"volume:delete\": \"rule:loop_a\"\nloop_a: rule:loop_b\nloop_b: rule:loop_a\n",
       {"test.yaml line 2", "\"loop_a\"", "cycle", "loop_a -> loop_b -> loop_a"}},
      {"self: \"rule:self\"\n\"volume:get\": \"rule:self\"\n", {"cycle", "self -> self"}},
      {"admin_api: \"rule:volume:force_delete\"\n", {"cycle", "admin_api", "volume:force_delete"}},
      {"\"volume:delete\":\n", {"line 1", "\"volume:delete\"", "has no check string"}},
      {"\"volume:delete\": [[\"role:admin\"]]\n", {"\"volume:delete\"", "legacy list form"}},
      {"- role:admin\n", {"test.yaml", "top level must be a mapping"}},
      {"\"volume:delete\": \"role:admin\"\n\"volume:delete\": \"@\"\n",
       {"line 2", "\"volume:delete\"", "set twice"}},
      {"{\"volume:delete\": \"role:admin\",\n", {"test.yaml", "not valid YAML or JSON"}},
      {"volume:delete: projet_id:%(project_id)s\n", {"\"volume:delete\"", "'projet_id'"}},
  };
  for (const BadFile& c : cases) {
    SCOPED_TRACE(c.text);
    Status st = LoadError(c.text);
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
    for (const char* part : c.parts) {
      EXPECT_NE(st.message().find(part), std::string::npos) << st.message() << "\n  " << part;
    }
  }
}

TEST(PolicyEnforcerTest, UnusedCustomRuleReferencedByAnotherCustomRuleIsAccepted) {
  // Helper rules that only other file rules use are not typos.
  auto e = MustLoad("base_helper: role:x\nhelper: rule:base_helper\n\"volume:get\": rule:helper\n");
  ASSERT_TRUE(e);
  EXPECT_TRUE(Allowed(*e, "volume:get", Persona({"x"}, "pz"), Of("pa")));
}

TEST(PolicyEnforcerTest, ConcurrentAuthorizeAgrees) {
  auto e = MustLoad("");
  ASSERT_TRUE(e);
  std::vector<std::thread> threads;
  std::atomic<int> wrong{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 2000; ++i) {
        if (!e->Authorize("volume:delete", Member("pa"), Of("pa")).ok()) ++wrong;
        if (e->Authorize("volume:delete", Member("pb"), Of("pa")).ok()) ++wrong;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(wrong.load(), 0);
}

}  // namespace
}  // namespace scoria::api::policy
