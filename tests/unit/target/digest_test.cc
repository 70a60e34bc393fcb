#include "target/digest.h"

#include <gtest/gtest.h>

#include <numeric>
#include <string>
#include <vector>

namespace scoria::target {
namespace {

// RFC 3720 Appendix B.4 / RFC 7143 test vectors.
TEST(Crc32cTest, Rfc3720Vectors) {
  std::vector<uint8_t> zeros(32, 0);
  EXPECT_EQ(Crc32c(zeros), 0x8a9136aau);
  std::vector<uint8_t> ones(32, 0xff);
  EXPECT_EQ(Crc32c(ones), 0x62a8ab43u);
  std::vector<uint8_t> inc(32);
  std::iota(inc.begin(), inc.end(), 0);
  EXPECT_EQ(Crc32c(inc), 0x46dd794eu);
  std::vector<uint8_t> dec(inc.rbegin(), inc.rend());
  EXPECT_EQ(Crc32c(dec), 0x113fdb5cu);
  std::string s = "123456789";
  EXPECT_EQ(Crc32c({reinterpret_cast<const uint8_t*>(s.data()), s.size()}), 0xe3069283u);
}

TEST(Crc32cTest, IncrementalMatchesOneShot) {
  std::vector<uint8_t> inc(32);
  std::iota(inc.begin(), inc.end(), 0);
  for (size_t split = 0; split <= inc.size(); ++split) {
    Crc32cState s;
    s.Update({inc.data(), split});
    s.Update({inc.data() + split, inc.size() - split});
    EXPECT_EQ(s.Finish(), 0x46dd794eu) << split;
  }
}

TEST(Crc32cTest, EmptyIsZero) { EXPECT_EQ(Crc32c({}), 0u); }

TEST(Crc32cTest, WireOrderIsLeastSignificantByteFirst) {
  uint8_t b[4];
  StoreDigest(0x8a9136aau, b);
  EXPECT_EQ(b[0], 0xaa);
  EXPECT_EQ(b[1], 0x36);
  EXPECT_EQ(b[2], 0x91);
  EXPECT_EQ(b[3], 0x8a);
  EXPECT_EQ(LoadDigest(b), 0x8a9136aau);
}

}  // namespace
}  // namespace scoria::target
