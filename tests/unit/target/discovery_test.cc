#include "target/discovery.h"

#include <gtest/gtest.h>

namespace scoria::target {
namespace {

const TargetSn kSn{5, 10, 137};

std::vector<DiscoveryTarget> Targets(int n) {
  std::vector<DiscoveryTarget> v;
  for (int i = 0; i < n; ++i) {
    v.push_back({"iqn.2010-10.org.openstack:volume-" + std::to_string(i),
                 {"192.0.2.1:3260,1", "[2001:db8::1]:3260,1"}});
  }
  return v;
}

Pdu TextReq(const TextList& keys, uint32_t ttt = kReservedTag, bool c = false) {
  Pdu p(Opcode::kTextRequest);
  p.set_immediate(true);
  p.set_flags(c ? kContinueBit : kFinalBit);
  p.set_itt(0x44);
  p.set_ttt(ttt);
  p.set_data(SerializeText(keys));
  return p;
}

TextList Keys(std::span<const uint8_t> d) { return *ParseText(d); }

TEST(DiscoveryTest, EncodeSendTargets) {
  auto text = EncodeSendTargets(Targets(2));
  TextList l = Keys(text);
  ASSERT_EQ(l.size(), 6u);
  EXPECT_EQ(l[0], (KeyValue{"TargetName", "iqn.2010-10.org.openstack:volume-0"}));
  EXPECT_EQ(l[1], (KeyValue{"TargetAddress", "192.0.2.1:3260,1"}));
  EXPECT_EQ(l[2].value, "[2001:db8::1]:3260,1");
  EXPECT_EQ(l[3].value, "iqn.2010-10.org.openstack:volume-1");
}

TEST(DiscoveryTest, AnswerRules) {
  auto vis = [] { return Targets(3); };
  auto all = Keys(AnswerTextRequest({{"SendTargets", "All"}}, SessionType::kDiscovery, "", vis));
  EXPECT_EQ(all.size(), 9u);
  auto one = Keys(AnswerTextRequest({{"SendTargets", "iqn.2010-10.org.openstack:volume-1"}},
                                    SessionType::kDiscovery, "", vis));
  ASSERT_EQ(one.size(), 3u);
  EXPECT_EQ(one[0].value, "iqn.2010-10.org.openstack:volume-1");
  auto own = Keys(AnswerTextRequest({{"SendTargets", ""}}, SessionType::kNormal,
                                    "iqn.2010-10.org.openstack:volume-2", vis));
  ASSERT_EQ(own.size(), 3u);
  EXPECT_EQ(own[0].value, "iqn.2010-10.org.openstack:volume-2");
  auto rej = Keys(AnswerTextRequest({{"SendTargets", "All"}}, SessionType::kNormal, "x", vis));
  EXPECT_EQ(rej, (TextList{{"SendTargets", "Reject"}}));
  auto unk = Keys(AnswerTextRequest({{"X-foo", "1"}}, SessionType::kDiscovery, "", vis));
  EXPECT_EQ(unk, (TextList{{"X-foo", "NotUnderstood"}}));
  auto none = AnswerTextRequest({{"SendTargets", "All"}}, SessionType::kDiscovery, "",
                                [] { return std::vector<DiscoveryTarget>{}; });
  EXPECT_TRUE(none.empty());
}

TEST(DiscoveryTest, SmallReplyInOnePduWithoutContinue) {
  TextExchange x({SessionType::kDiscovery, "", 8192, {}});
  auto r = x.OnRequest(TextReq({{"SendTargets", "All"}}), kSn, [] { return Targets(2); });
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->opcode(), Opcode::kTextResponse);
  EXPECT_EQ(r->flags(), kFinalBit);  // libiscsi 1.19 rejects C when not needed
  EXPECT_EQ(r->ttt(), kReservedTag);
  EXPECT_EQ(r->itt(), 0x44u);
  EXPECT_EQ(r->stat_sn(), 5u);
  EXPECT_EQ(Keys(r->data()).size(), 6u);
  EXPECT_FALSE(x.in_progress());
}

TEST(DiscoveryTest, LargeReplyUsesContinuation) {
  auto targets = Targets(500);
  auto expected = EncodeSendTargets(targets);
  TextExchange x({SessionType::kDiscovery, "", 8192, {}});
  auto r = x.OnRequest(TextReq({{"SendTargets", "All"}}), kSn, [&] { return targets; });
  ASSERT_TRUE(r.ok());
  std::vector<uint8_t> got(r->data().begin(), r->data().end());
  int pdus = 1;
  while (!r->final_bit()) {
    EXPECT_TRUE(r->continue_bit());
    EXPECT_NE(r->ttt(), kReservedTag);
    EXPECT_LE(r->data().size(), 8192u);
    r = x.OnRequest(TextReq({}, r->ttt()), kSn, nullptr);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    got.insert(got.end(), r->data().begin(), r->data().end());
    ++pdus;
  }
  EXPECT_FALSE(r->continue_bit());
  EXPECT_EQ(r->ttt(), kReservedTag);
  EXPECT_EQ(got, expected);
  EXPECT_GT(pdus, 5);
  EXPECT_FALSE(x.in_progress());
}

TEST(DiscoveryTest, UnknownTttIsAnError) {
  TextExchange x({SessionType::kDiscovery, "", 8192, {}});
  EXPECT_FALSE(x.OnRequest(TextReq({}, 1234), kSn, nullptr).ok());
}

TEST(DiscoveryTest, InitiatorContinuationIsReassembled) {
  TextExchange x({SessionType::kDiscovery, "", 8192, {}});
  std::vector<uint8_t> text = SerializeText({{"SendTargets", "All"}});
  Pdu p1 = TextReq({}, kReservedTag, true);
  p1.set_data(std::vector<uint8_t>(text.begin(), text.begin() + 5));
  auto r1 = x.OnRequest(p1, kSn, nullptr);
  ASSERT_TRUE(r1.ok());
  EXPECT_TRUE(r1->data().empty());
  EXPECT_FALSE(r1->final_bit());
  EXPECT_NE(r1->ttt(), kReservedTag);
  Pdu p2 = TextReq({}, r1->ttt());
  p2.set_data(std::vector<uint8_t>(text.begin() + 5, text.end()));
  auto r2 = x.OnRequest(p2, kSn, [] { return Targets(1); });
  ASSERT_TRUE(r2.ok()) << r2.status().ToString();
  EXPECT_TRUE(r2->final_bit());
  EXPECT_EQ(Keys(r2->data()).size(), 3u);
}

TEST(DiscoveryTest, NewRequestAbandonsUnfinishedReply) {
  TextExchange x({SessionType::kDiscovery, "", 512, {}});
  auto r = x.OnRequest(TextReq({{"SendTargets", "All"}}), kSn, [] { return Targets(50); });
  ASSERT_TRUE(r.ok());
  ASSERT_FALSE(r->final_bit());
  auto r2 = x.OnRequest(TextReq({{"SendTargets", "All"}}), kSn, [] { return Targets(1); });
  ASSERT_TRUE(r2.ok());
  EXPECT_TRUE(r2->final_bit());
}

}  // namespace
}  // namespace scoria::target
