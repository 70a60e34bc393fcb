#include "api/http/list_filters.h"

#include <gtest/gtest.h>

namespace scoria::api {
namespace {

ListParams With(std::map<std::string, std::string> filters) {
  ListParams p;
  p.filters = std::move(filters);
  return p;
}

FilterSpec NameAndStatus(bool metadata = false, bool times = false) {
  FilterSpec spec;
  spec.column = [](const std::string& key) -> std::optional<std::string> {
    if (key == "name") return "display_name";
    if (key == "status") return key;
    return std::nullopt;
  };
  spec.metadata = metadata;
  spec.time_ranges = times;
  return spec;
}

TEST(ListFiltersTest, MapsColumnsSplitsLikeAndDropsUnknownKeys) {
  auto f = SplitFilters(With({{"name~", "db"}, {"status", "available"}, {"zone", "x"}}),
                        NameAndStatus());
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->equals, (std::map<std::string, std::string>{{"status", "available"}}));
  EXPECT_EQ(f->like, (std::map<std::string, std::string>{{"display_name", "db"}}));
  EXPECT_TRUE(f->metadata.empty());
}

TEST(ListFiltersTest, MetadataTakesPythonDictsAndJsonOnlyWhereAllowed) {
  auto f = SplitFilters(With({{"metadata", "{'k': 'v', 'n': 1}"}}), NameAndStatus(true));
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->metadata, (std::map<std::string, std::string>{{"k", "v"}, {"n", "1"}}));
  auto bad = SplitFilters(With({{"metadata", "[1]"}}), NameAndStatus(true));
  ASSERT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.status().message(),
            "Invalid input received: metadata filter must be a dict, got [1]");
  // A collection without metadata filters maps the key like any other (here: dropped).
  auto off = SplitFilters(With({{"metadata", "[1]"}}), NameAndStatus(false));
  ASSERT_TRUE(off.ok());
  EXPECT_TRUE(off->metadata.empty());
}

TEST(ListFiltersTest, TimeRangesTakeOperatorsAndRejectGarbage) {
  auto f = SplitFilters(
      With({{"created_at", "gt:2020-01-01T00:00:00,lte:2020-01-02T00:00:00"}}),
      NameAndStatus(false, true));
  ASSERT_TRUE(f.ok());
  ASSERT_EQ(f->time_ranges.size(), 2u);
  EXPECT_EQ(f->time_ranges[0].first, "created_at");
  EXPECT_EQ(f->time_ranges[0].second.first, "gt");
  EXPECT_EQ(f->time_ranges[1].second.first, "lte");
  EXPECT_LT(f->time_ranges[0].second.second, f->time_ranges[1].second.second);
  auto bad = SplitFilters(With({{"updated_at", "soon:2020-01-01T00:00:00"}}),
                          NameAndStatus(false, true));
  ASSERT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.status().message(),
            "Invalid input received: invalid time filter updated_at=soon:2020-01-01T00:00:00");
}

}  // namespace
}  // namespace scoria::api
