#include "api/http/query.h"

#include <gtest/gtest.h>

namespace scoria::api {
namespace {

Request Make(std::string target, ApiVersion version = {3, 0}, bool admin = false) {
  auto r = MakeRequest("GET", std::move(target), {{"Host", "h:8776"}}, "");
  EXPECT_TRUE(r.ok());
  Request req = std::move(r).value();
  req.version = version;
  req.ctx.project_id = "p1";
  req.ctx.is_admin = admin;
  req.ctx.all_tenants_allowed = admin;
  return req;
}

const ListSpec kVolumes{{"name", "size", "status", "id"}, {"name", "status", "metadata"}, 1000};

TEST(QueryTest, Defaults) {
  auto p = ParseListParams(Make("/v3/volumes"), kVolumes);
  ASSERT_TRUE(p.ok());
  EXPECT_FALSE(p->limit.has_value());
  EXPECT_EQ(p->page_size, 1000);
  EXPECT_FALSE(p->marker.has_value());
  EXPECT_EQ(p->offset, 0);
  EXPECT_TRUE(p->sort.empty());
  EXPECT_FALSE(p->with_count);
  EXPECT_FALSE(p->all_tenants);
  EXPECT_TRUE(p->filters.empty());
}

TEST(QueryTest, Table) {
  struct Case {
    std::string target;
    ApiVersion version;
    bool admin;
    bool ok;
    std::string message_part;
  };
  const Case cases[] = {
      {"/v?limit=10", {3, 0}, false, true, ""},
      {"/v?limit=0", {3, 0}, false, true, ""},
      {"/v?limit=-1", {3, 0}, false, false, "limit param must be positive"},
      {"/v?limit=abc", {3, 0}, false, false, "limit param must be an integer"},
      {"/v?limit=1.5", {3, 0}, false, false, "integer"},
      {"/v?limit=", {3, 0}, false, false, "integer"},
      {"/v?offset=5", {3, 0}, false, true, ""},
      {"/v?offset=-5", {3, 0}, false, false, "offset param must be positive"},
      {"/v?sort=name:asc,size", {3, 0}, false, true, ""},
      {"/v?sort=name:up", {3, 0}, false, false, "sort direction"},
      {"/v?sort=bogus", {3, 0}, false, false, "Invalid sort key bogus"},
      {"/v?sort=name&sort_key=size", {3, 0}, false, false, "cannot be used with the 'sort'"},
      {"/v?sort=name&sort_dir=asc", {3, 0}, false, false, "cannot be used with the 'sort'"},
      {"/v?sort_key=size&sort_dir=asc", {3, 0}, false, true, ""},
      {"/v?sort_key=bogus", {3, 0}, false, false, "Invalid sort key"},
      {"/v?with_count=true", {3, 45}, false, true, ""},
      {"/v?with_count=maybe", {3, 45}, false, false, "Unrecognized value"},
      {"/v?with_count=maybe", {3, 44}, false, true, ""},  // not a parameter before 3.45
      {"/v?all_tenants=maybe", {3, 0}, true, false, "all_tenants"},
      {"/v?status=available", {3, 31}, false, true, ""},
      {"/v?name~=vol", {3, 34}, false, true, ""},
      {"/v?bogus=1&worse=2", {3, 31}, false, false,
       "Invalid filters bogus, worse are found in query options."},
      {"/v?bogus=1", {3, 30}, false, true, ""},  // dropped before 3.31
      {"/v?bogus=1", {3, 31}, true, true, ""},   // admins filter on anything
      {"/v?all_tenants=1&name=x", {3, 31}, false, true, ""},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.target + " @" + c.version.ToString() + (c.admin ? " admin" : ""));
    auto p = ParseListParams(Make(c.target, c.version, c.admin), kVolumes);
    EXPECT_EQ(p.ok(), c.ok) << p.status().ToString();
    if (!p.ok()) {
      EXPECT_EQ(p.status().code(), StatusCode::kInvalidArgument);
      EXPECT_NE(p.status().message().find(c.message_part), std::string::npos)
          << p.status().message();
    }
  }
}

TEST(QueryTest, Values) {
  auto p = ParseListParams(
      Make("/v?limit=5000&marker=m1&offset=3&sort=name:asc,size:DESC,status&with_count=yes&"
           "all_tenants=1&status=error&name~=db",
           {3, 45}, true),
      kVolumes);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->limit, 1000);  // clamped
  EXPECT_EQ(p->page_size, 1000);
  EXPECT_EQ(p->marker, "m1");
  EXPECT_EQ(p->offset, 3);
  EXPECT_EQ(p->sort, (std::vector<SortKey>{{"name", false}, {"size", true}, {"status", true}}));
  EXPECT_TRUE(p->with_count);
  EXPECT_TRUE(p->all_tenants);
  EXPECT_EQ(p->filters, (std::map<std::string, std::string>{{"status", "error"}, {"name~", "db"}}));
}

TEST(QueryTest, LimitAndLegacySort) {
  auto p = ParseListParams(Make("/v?limit=7&sort_key=size,name&sort_dir=asc"), kVolumes);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->limit, 7);
  EXPECT_EQ(p->page_size, 7);
  EXPECT_EQ(p->sort, (std::vector<SortKey>{{"size", false}, {"name", false}}));
  p = ParseListParams(Make("/v?sort_dir=asc"), kVolumes);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->sort, (std::vector<SortKey>{{"created_at", false}}));
}

TEST(QueryTest, AllTenantsNeedsPermission) {
  auto p = ParseListParams(Make("/v?all_tenants=1&name=x", {3, 31}, false), kVolumes);
  ASSERT_TRUE(p.ok());
  EXPECT_FALSE(p->all_tenants);
  EXPECT_EQ(p->filters, (std::map<std::string, std::string>{{"name", "x"}}));
  p = ParseListParams(Make("/v?all_tenants=0", {3, 31}, true), kVolumes);
  ASSERT_TRUE(p.ok());
  EXPECT_FALSE(p->all_tenants);
}

TEST(QueryTest, StrictBool) {
  for (const char* t : {"true", "TRUE", "1", "yes", "On", "t", "Y", " true "}) {
    EXPECT_EQ(ParseStrictBool(t).value(), true) << t;
  }
  for (const char* f : {"false", "False", "0", "no", "off", "F", "n"}) {
    EXPECT_EQ(ParseStrictBool(f).value(), false) << f;
  }
  for (const char* bad : {"", "2", "truee", "nope", "-1"}) {
    EXPECT_FALSE(ParseStrictBool(bad).ok()) << bad;
  }
}

TEST(QueryTest, NextLink) {
  Request req = Make("/v3/p1/volumes/detail?limit=2&name=a+b&marker=old&sort=size:asc");
  req.url_project = "p1";
  EXPECT_EQ(NextLink(req, "volumes/detail", "id-2"),
            "http://h:8776/v3/p1/volumes/detail?limit=2&name=a+b&sort=size%3Aasc&marker=id-2");
  req.url_project.clear();
  EXPECT_EQ(NextLink(req, "volumes", "id-2", 1000),
            "http://h:8776/v3/volumes?name=a+b&sort=size%3Aasc&limit=1000&marker=id-2");
  Request bare = Make("/v3/volumes");
  EXPECT_EQ(NextLink(bare, "volumes", "x"), "http://h:8776/v3/volumes?marker=x");
}

}  // namespace
}  // namespace scoria::api
