#include <ctime>
#include <limits>
#include <random>
#include <set>
#include <vector>

#include <gtest/gtest.h>

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

// FormatIsoTime writes its digits by hand: it must agree with gmtime_r everywhere, including
// before 1970 (negative micros), leap days and the last microsecond of a day.
TEST(Clock, FormatAgreesWithGmtime) {
  std::mt19937_64 rng(11);
  std::vector<int64_t> cases = {-1, -1000000, 951782400000000 /* 2000-02-29 */,
                                86400000000 - 1, 253402300799999999 /* 9999-12-31 */};
  for (int i = 0; i < 20000; ++i) {
    cases.push_back(static_cast<int64_t>(rng() % 253402300800000000ULL) - 62135596800000000LL / 2);
  }
  for (int64_t micros : cases) {
    int64_t secs = micros / 1000000, frac = micros % 1000000;
    if (frac < 0) frac += 1000000, --secs;
    time_t tt = static_cast<time_t>(secs);
    struct tm tm {};
    gmtime_r(&tt, &tm);
    char want[64];
    std::snprintf(want, sizeof want, "%04d-%02d-%02dT%02d:%02d:%02d.%06lld", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                  static_cast<long long>(frac));
    ASSERT_EQ(FormatIsoTime(micros), want) << micros;
    ASSERT_EQ(ParseIsoTime(want), micros) << want;
  }
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

// A corrupt row's timestamp outside four-digit years is written as a shorter date, never past
// IsoTimeText's buffer (FormatIsoTime shares the code).
TEST(Clock, OutOfRangeYearsStayInTheBuffer) {
  const int64_t kYear10000 = 253402300800000000LL;
  EXPECT_EQ(FormatIsoTime(kYear10000), "10000-01-01");
  EXPECT_EQ(IsoTimeText(kYear10000).view(), "10000-01-01");
  // Past what std::chrono::year holds (+-32767) the year wraps: garbage, but inside the buffer.
  EXPECT_LT(IsoTimeText(std::numeric_limits<int64_t>::max()).view().size(), 32u);
  EXPECT_LT(IsoTimeText(std::numeric_limits<int64_t>::min()).view().size(), 32u);
  EXPECT_EQ(IsoTimeText(-62167219200000000LL - 1).view(), "-1-12-31");  // before year 0
}

}  // namespace
}  // namespace scoria
