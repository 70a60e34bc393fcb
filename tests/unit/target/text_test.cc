#include "target/text.h"

#include <gtest/gtest.h>

#include <string>

namespace scoria::target {
namespace {

std::vector<uint8_t> Bytes(const std::string& s) { return {s.begin(), s.end()}; }

TEST(TextTest, ParsesPairsInOrder) {
  auto r = ParseText(Bytes(std::string("InitiatorName=iqn.x\0SessionType=Normal\0", 39)));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0], (KeyValue{"InitiatorName", "iqn.x"}));
  EXPECT_EQ((*r)[1], (KeyValue{"SessionType", "Normal"}));
}

TEST(TextTest, EmptyValueAndPaddingNulsAndMissingFinalNul) {
  auto r = ParseText(Bytes(std::string("SendTargets=\0\0\0A=b", 19)));
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].value, "");
  EXPECT_EQ((*r)[1].value, "b");
  EXPECT_TRUE(ParseText({}).ok());
}

TEST(TextTest, ValueMayContainEquals) {
  auto r = ParseText(Bytes(std::string("CHAP_C=0bAAA=\0", 14)));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)[0].value, "0bAAA=");
}

TEST(TextTest, Errors) {
  EXPECT_FALSE(ParseText(Bytes(std::string("NoEquals\0", 9))).ok());
  EXPECT_FALSE(ParseText(Bytes(std::string("=v\0", 3))).ok());
  EXPECT_FALSE(ParseText(Bytes(std::string("Bad Key=v\0", 10))).ok());
  EXPECT_FALSE(ParseText(Bytes(std::string(64, 'K') + "=v")).ok());
  EXPECT_TRUE(ParseText(Bytes(std::string(63, 'K') + "=v")).ok());
  EXPECT_FALSE(ParseText(Bytes("K=\xff\xfe")).ok());    // not UTF-8
  EXPECT_FALSE(ParseText(Bytes("K=\xc0\x80")).ok());    // overlong NUL
  EXPECT_TRUE(ParseText(Bytes("K=caf\xc3\xa9")).ok());  // é
  TextLimits small;
  small.max_value_length = 4;
  EXPECT_FALSE(ParseText(Bytes("K=12345"), small).ok());
  small.max_total_length = 3;
  EXPECT_TRUE(ParseText(Bytes("K=1"), small).ok());
  EXPECT_FALSE(ParseText(Bytes("K=12"), small).ok());
}

TEST(TextTest, DuplicateKeysRejectedExceptRepeatable) {
  EXPECT_FALSE(ParseText(Bytes(std::string("A=1\0A=2\0", 8))).ok());
  EXPECT_TRUE(ParseText(Bytes(std::string("TargetName=a\0TargetAddress=x\0TargetName=b\0"
                                          "TargetAddress=y\0",
                                          58)))
                  .ok());
}

TEST(TextTest, TooManyPairs) {
  std::vector<uint8_t> t;
  for (int i = 0; i < 300; ++i) AppendText("K" + std::to_string(i), "v", &t);
  EXPECT_FALSE(ParseText(t).ok());
}

TEST(TextTest, SerializeRoundTrip) {
  TextList l = {{"HeaderDigest", "None"}, {"MaxRecvDataSegmentLength", "262144"}};
  auto bytes = SerializeText(l);
  EXPECT_EQ(bytes.back(), 0);
  auto r = ParseText(bytes);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, l);
}

TEST(TextTest, Numbers) {
  EXPECT_EQ(*ParseNumber("262144", 16777215), 262144u);
  EXPECT_EQ(*ParseNumber("0x10", 100), 16u);
  EXPECT_FALSE(ParseNumber("16777216", 16777215).ok());
  EXPECT_FALSE(ParseNumber("", 10).ok());
  EXPECT_FALSE(ParseNumber("12a", 1000).ok());
  EXPECT_FALSE(ParseNumber("5", 2).ok());
  EXPECT_FALSE(ParseNumber("99999999999999999999999", ~0ull).ok());
}

TEST(TextTest, SplitList) {
  auto v = SplitList("CHAP,None");
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[0], "CHAP");
  EXPECT_EQ(v[1], "None");
}

}  // namespace
}  // namespace scoria::target
