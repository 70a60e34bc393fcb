#include "target/params.h"

#include <gtest/gtest.h>

namespace scoria::target {
namespace {

std::string Answer(const TextList& a, const std::string& key) {
  const std::string* v = FindKey(a, key);
  return v ? *v : "<absent>";
}

TextList Negotiate(const TextList& offer, SessionType type = SessionType::kNormal,
                   TargetParams tp = {}, SessionParams* out = nullptr) {
  OperationalNegotiator n(tp, type);
  TextList answer;
  EXPECT_TRUE(n.Negotiate(offer, &answer).ok());
  if (out) *out = n.params();
  return answer;
}

// libiscsi 1.19's operational offer (iscsi_login_add_* in lib/login.c, reference 1.4).
const TextList kLibiscsiOffer = {{"HeaderDigest", "None,CRC32C"},
                                 {"DataDigest", "None"},
                                 {"InitialR2T", "No"},
                                 {"ImmediateData", "Yes"},
                                 {"MaxBurstLength", "262144"},
                                 {"FirstBurstLength", "262144"},
                                 {"MaxRecvDataSegmentLength", "262144"},
                                 {"DataPDUInOrder", "Yes"},
                                 {"DataSequenceInOrder", "Yes"},
                                 {"DefaultTime2Wait", "2"},
                                 {"DefaultTime2Retain", "0"},
                                 {"IFMarker", "No"},
                                 {"OFMarker", "No"},
                                 {"ErrorRecoveryLevel", "0"},
                                 {"MaxConnections", "1"},
                                 {"MaxOutstandingR2T", "1"}};

// open-iscsi (Debian iscsid.conf defaults).
const TextList kOpenIscsiOffer = {{"HeaderDigest", "None"},
                                  {"DataDigest", "None"},
                                  {"DefaultTime2Wait", "2"},
                                  {"DefaultTime2Retain", "0"},
                                  {"IFMarker", "No"},
                                  {"OFMarker", "No"},
                                  {"ErrorRecoveryLevel", "0"},
                                  {"InitialR2T", "No"},
                                  {"ImmediateData", "Yes"},
                                  {"MaxBurstLength", "16776192"},
                                  {"FirstBurstLength", "262144"},
                                  {"MaxOutstandingR2T", "1"},
                                  {"MaxConnections", "1"},
                                  {"DataPDUInOrder", "Yes"},
                                  {"DataSequenceInOrder", "Yes"},
                                  {"MaxRecvDataSegmentLength", "262144"}};

TEST(ParamsTest, LibiscsiOffer) {
  SessionParams sp;
  TextList a = Negotiate(kLibiscsiOffer, SessionType::kNormal, {}, &sp);
  EXPECT_EQ(Answer(a, "HeaderDigest"), "None");  // always answered: libiscsi trap
  EXPECT_EQ(Answer(a, "DataDigest"), "None");
  EXPECT_EQ(Answer(a, "InitialR2T"), "No");
  EXPECT_EQ(Answer(a, "ImmediateData"), "Yes");
  EXPECT_EQ(Answer(a, "MaxBurstLength"), "262144");
  EXPECT_EQ(Answer(a, "FirstBurstLength"), "262144");
  EXPECT_EQ(Answer(a, "MaxRecvDataSegmentLength"), "<absent>");  // declarative
  EXPECT_EQ(Answer(a, "DefaultTime2Wait"), "2");
  EXPECT_EQ(Answer(a, "DefaultTime2Retain"), "0");
  EXPECT_EQ(Answer(a, "IFMarker"), "No");
  EXPECT_EQ(Answer(a, "ErrorRecoveryLevel"), "0");
  EXPECT_EQ(Answer(a, "MaxConnections"), "1");
  EXPECT_EQ(Answer(a, "MaxOutstandingR2T"), "1");
  EXPECT_EQ(a.size(), kLibiscsiOffer.size() - 1);  // every non-declarative key answered
  EXPECT_FALSE(sp.header_digest);
  EXPECT_FALSE(sp.initial_r2t);
  EXPECT_TRUE(sp.immediate_data);
  EXPECT_EQ(sp.max_xmit_data_segment_length, 262144u);
  EXPECT_EQ(sp.max_burst_length, 262144u);
  EXPECT_EQ(sp.default_time2retain, 0u);
}

TEST(ParamsTest, OpenIscsiOffer) {
  SessionParams sp;
  TextList a = Negotiate(kOpenIscsiOffer, SessionType::kNormal, {}, &sp);
  EXPECT_EQ(Answer(a, "MaxBurstLength"), "1048576");  // min(16776192, ours)
  EXPECT_EQ(sp.max_burst_length, 1048576u);
  EXPECT_EQ(sp.first_burst_length, 262144u);
  EXPECT_EQ(a.size(), kOpenIscsiOffer.size() - 1);
}

TEST(ParamsTest, ListPicksFirstSupportedInOfferersOrder) {
  EXPECT_EQ(Answer(Negotiate({{"HeaderDigest", "CRC32C,None"}}), "HeaderDigest"), "CRC32C");
  EXPECT_EQ(Answer(Negotiate({{"HeaderDigest", "None,CRC32C"}}), "HeaderDigest"), "None");
  EXPECT_EQ(Answer(Negotiate({{"DataDigest", "Foo,CRC32C"}}), "DataDigest"), "CRC32C");
  TargetParams no_crc;
  no_crc.allow_header_digest_crc32c = false;
  EXPECT_EQ(
      Answer(Negotiate({{"HeaderDigest", "CRC32C"}}, SessionType::kNormal, no_crc), "HeaderDigest"),
      "Reject");
  SessionParams sp;
  Negotiate({{"HeaderDigest", "CRC32C"}, {"DataDigest", "CRC32C"}}, SessionType::kNormal, {}, &sp);
  EXPECT_TRUE(sp.header_digest);
  EXPECT_TRUE(sp.data_digest);
}

TEST(ParamsTest, NumericMinMax) {
  SessionParams sp;
  auto a = Negotiate({{"MaxBurstLength", "4096"},
                      {"ErrorRecoveryLevel", "2"},
                      {"DefaultTime2Wait", "0"},
                      {"DefaultTime2Retain", "3600"},
                      {"MaxOutstandingR2T", "8"}},
                     SessionType::kNormal, {}, &sp);
  EXPECT_EQ(Answer(a, "MaxBurstLength"), "4096");
  EXPECT_EQ(Answer(a, "ErrorRecoveryLevel"), "0");
  EXPECT_EQ(Answer(a, "DefaultTime2Wait"), "2");     // max
  EXPECT_EQ(Answer(a, "DefaultTime2Retain"), "20");  // min
  EXPECT_EQ(Answer(a, "MaxOutstandingR2T"), "1");
  // FirstBurstLength defaults to 65536 and must not exceed MaxBurstLength.
  EXPECT_EQ(sp.first_burst_length, 4096u);
}

TEST(ParamsTest, FirstBurstClampedToMaxBurst) {
  SessionParams sp;
  auto a = Negotiate({{"FirstBurstLength", "262144"}, {"MaxBurstLength", "65536"}},
                     SessionType::kNormal, {}, &sp);
  EXPECT_EQ(Answer(a, "FirstBurstLength"), "65536");
  EXPECT_EQ(sp.first_burst_length, 65536u);
}

TEST(ParamsTest, OutOfRangeAndMalformedAreRejected) {
  auto a = Negotiate({{"MaxBurstLength", "100"},
                      {"ErrorRecoveryLevel", "3"},
                      {"InitialR2T", "Maybe"},
                      {"MaxConnections", "0"}});
  EXPECT_EQ(Answer(a, "MaxBurstLength"), "Reject");
  EXPECT_EQ(Answer(a, "ErrorRecoveryLevel"), "Reject");
  EXPECT_EQ(Answer(a, "InitialR2T"), "Reject");
  EXPECT_EQ(Answer(a, "MaxConnections"), "Reject");
}

// Regression (login_fuzz): "MaxRecvDataSegmentLength=Reject" plus our declaration repeated
// the key in one response.
TEST(ParamsTest, BadMaxRecvDataSegmentLengthIsAnInitiatorError) {
  OperationalNegotiator n({}, SessionType::kNormal);
  TextList a;
  EXPECT_FALSE(n.Negotiate({{"MaxRecvDataSegmentLength", "99999999"}}, &a).ok());
  OperationalNegotiator m({}, SessionType::kNormal);
  EXPECT_FALSE(m.Negotiate({{"MaxRecvDataSegmentLength", "511"}}, &a).ok());
}

TEST(ParamsTest, BooleanOrAnd) {
  SessionParams sp;
  auto a = Negotiate({{"InitialR2T", "Yes"}, {"ImmediateData", "No"}, {"DataPDUInOrder", "No"}},
                     SessionType::kNormal, {}, &sp);
  EXPECT_EQ(Answer(a, "InitialR2T"), "Yes");      // OR
  EXPECT_EQ(Answer(a, "ImmediateData"), "No");    // AND
  EXPECT_EQ(Answer(a, "DataPDUInOrder"), "Yes");  // OR with our Yes
  EXPECT_TRUE(sp.initial_r2t);
  EXPECT_FALSE(sp.immediate_data);
  TargetParams no_imm;
  no_imm.immediate_data = false;
  EXPECT_EQ(
      Answer(Negotiate({{"ImmediateData", "Yes"}}, SessionType::kNormal, no_imm), "ImmediateData"),
      "No");
}

TEST(ParamsTest, FirstBurstIrrelevantWithInitialR2TAndNoImmediateData) {
  auto a =
      Negotiate({{"FirstBurstLength", "65536"}, {"InitialR2T", "Yes"}, {"ImmediateData", "No"}});
  EXPECT_EQ(Answer(a, "FirstBurstLength"), "Irrelevant");
}

TEST(ParamsTest, DiscoverySessionKeysIrrelevant) {
  auto a = Negotiate({{"MaxBurstLength", "262144"},
                      {"InitialR2T", "No"},
                      {"HeaderDigest", "None"},
                      {"MaxRecvDataSegmentLength", "32768"}},
                     SessionType::kDiscovery);
  EXPECT_EQ(Answer(a, "MaxBurstLength"), "Irrelevant");
  EXPECT_EQ(Answer(a, "InitialR2T"), "Irrelevant");
  EXPECT_EQ(Answer(a, "HeaderDigest"), "None");
}

TEST(ParamsTest, MarkersUnknownAndTargetOnlyKeys) {
  auto a = Negotiate({{"IFMarker", "Yes"},
                      {"OFMarkInt", "2048~8192"},
                      {"X-com.example.Foo", "1"},
                      {"X#Bar", "1"},
                      {"Frobnicate", "1"},
                      {"TargetAlias", "x"},
                      {"iSCSIProtocolLevel", "2"},
                      {"TaskReporting", "ResponseFence,RFC3720"}});
  EXPECT_EQ(Answer(a, "IFMarker"), "No");
  EXPECT_EQ(Answer(a, "OFMarkInt"), "Reject");
  EXPECT_EQ(Answer(a, "X-com.example.Foo"), "NotUnderstood");
  EXPECT_EQ(Answer(a, "X#Bar"), "NotUnderstood");
  EXPECT_EQ(Answer(a, "Frobnicate"), "NotUnderstood");
  EXPECT_EQ(Answer(a, "TargetAlias"), "Reject");
  EXPECT_EQ(Answer(a, "iSCSIProtocolLevel"), "1");
  EXPECT_EQ(Answer(a, "TaskReporting"), "RFC3720");
}

TEST(ParamsTest, RenegotiationIsAnError) {
  OperationalNegotiator n({}, SessionType::kNormal);
  TextList a;
  ASSERT_TRUE(n.Negotiate({{"MaxBurstLength", "262144"}}, &a).ok());
  EXPECT_FALSE(n.Negotiate({{"MaxBurstLength", "65536"}}, &a).ok());
}

TEST(ParamsTest, DeclarationsOnce) {
  TargetParams tp;
  tp.target_alias = "vol";
  OperationalNegotiator n(tp, SessionType::kNormal);
  TextList a;
  n.AppendDeclarations(&a);
  n.AppendDeclarations(&a);
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(Answer(a, "MaxRecvDataSegmentLength"), "262144");
  EXPECT_EQ(Answer(a, "TargetAlias"), "vol");
  EXPECT_EQ(n.params().max_recv_data_segment_length, 262144u);
}

TEST(ParamsTest, DefaultsWhenNothingOffered) {
  SessionParams sp;
  auto a = Negotiate({}, SessionType::kNormal, {}, &sp);
  EXPECT_TRUE(a.empty());
  EXPECT_TRUE(sp.initial_r2t);  // RFC default, not our preference
  EXPECT_EQ(sp.max_xmit_data_segment_length, 8192u);
  EXPECT_EQ(sp.max_burst_length, 262144u);
  EXPECT_EQ(sp.first_burst_length, 65536u);
}

}  // namespace
}  // namespace scoria::target
