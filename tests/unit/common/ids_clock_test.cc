#include <gtest/gtest.h>

#include <set>

#include "common/clock.h"
#include "common/ids.h"

namespace scoria {
namespace {

TEST(Ids, UuidShapeAndUniqueness) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    std::string u = NewUuid();
    ASSERT_TRUE(IsUuid(u)) << u;
    EXPECT_EQ(u[14], '4');
    EXPECT_TRUE(seen.insert(u).second);
  }
  EXPECT_FALSE(IsUuid("not-a-uuid"));
  EXPECT_FALSE(IsUuid("3f2a0000-0000-4000-8000-00000000000g"));
  EXPECT_TRUE(IsUuid("3F2A0000-0000-4000-8000-000000000000"));
  EXPECT_EQ(NewRequestId().rfind("req-", 0), 0u);
  EXPECT_EQ(RandomAlnum(20).size(), 20u);
}

TEST(Clock, FormatAndParseRoundTrip) {
  EXPECT_EQ(FormatIsoTime(0), "1970-01-01T00:00:00.000000");
  EXPECT_EQ(FormatIsoTime(1543474207770785), "2018-11-29T06:50:07.770785");
  EXPECT_EQ(ParseIsoTime("2018-11-29T06:50:07.770785"), 1543474207770785);
  EXPECT_EQ(ParseIsoTime("2018-11-29T06:50:07Z"), 1543474207000000);
  EXPECT_EQ(ParseIsoTime("2018-11-29T07:50:07+01:00"), 1543474207000000);
  EXPECT_FALSE(ParseIsoTime("2018-11-29 06:50:07").has_value());
  EXPECT_FALSE(ParseIsoTime("2018-13-29T06:50:07").has_value());
  EXPECT_FALSE(ParseIsoTime("2018-11-29T06:50:07.").has_value());
}

}  // namespace
}  // namespace scoria
