#include "target/chap.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>

namespace scoria::target {
namespace {

std::vector<uint8_t> Md5(const std::vector<uint8_t>& in) {
  std::vector<uint8_t> out(16);
  unsigned int len = 0;
  EVP_Digest(in.data(), in.size(), out.data(), &len, EVP_md5(), nullptr);
  return out;
}

const std::string* Get(const TextList& l, const std::string& k) { return FindKey(l, k); }

TEST(ChapTest, Md5KnownAnswer) {
  std::vector<uint8_t> challenge = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
  std::string secret = "secretsecret";
  std::vector<uint8_t> in = {0x2a};
  in.insert(in.end(), secret.begin(), secret.end());
  in.insert(in.end(), challenge.begin(), challenge.end());
  auto r = ChapResponse(ChapAlgorithm::kMd5, 0x2a, secret, challenge);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, Md5(in));
  // RFC 1321 anchor: MD5("") = d41d8cd98f00b204e9800998ecf8427e, here id=0 secret="" is one byte.
  EXPECT_EQ(ChapResponse(ChapAlgorithm::kSha256, 0, "", {})->size(), 32u);
  EXPECT_EQ(ChapResponse(ChapAlgorithm::kSha1, 0, "", {})->size(), 20u);
}

TEST(ChapTest, HexAndBase64Decoding) {
  EXPECT_EQ(EncodeChapHex(std::vector<uint8_t>{0x00, 0xab, 0xff}), "0x00abff");
  EXPECT_EQ(*DecodeChapBinary("0x00ABff"), (std::vector<uint8_t>{0x00, 0xab, 0xff}));
  EXPECT_EQ(*DecodeChapBinary("0xabc"), (std::vector<uint8_t>{0x0a, 0xbc}));
  EXPECT_EQ(*DecodeChapBinary("0bAAEC"), (std::vector<uint8_t>{0, 1, 2}));
  EXPECT_EQ(*DecodeChapBinary("0bAAE="), (std::vector<uint8_t>{0, 1}));
  EXPECT_FALSE(DecodeChapBinary("abcd").ok());
  EXPECT_FALSE(DecodeChapBinary("0xzz").ok());
  EXPECT_FALSE(DecodeChapBinary("0b!!!!").ok());
  EXPECT_FALSE(DecodeChapBinary("0bAAE").ok());
  EXPECT_FALSE(DecodeChapBinary("0x").ok());
}

class ChapFlowTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auth_.SetChallengeForTesting(7, challenge_);
    TextList a;
    ASSERT_TRUE(auth_.OnAlgorithms("7,5", &a).ok());
    EXPECT_EQ(*Get(a, "CHAP_A"), "7");  // initiator's order wins
    EXPECT_EQ(*Get(a, "CHAP_I"), "7");
    EXPECT_EQ(*Get(a, "CHAP_C"), EncodeChapHex(challenge_));
  }
  std::string Response(const std::string& secret) {
    return EncodeChapHex(*ChapResponse(ChapAlgorithm::kSha256, 7, secret, challenge_));
  }
  std::vector<uint8_t> challenge_ = std::vector<uint8_t>(16, 0x5a);
  ChapAuthenticator auth_;
  ChapSecret in_{"user", "initiator-secret-123"};
  ChapSecret out_{"target", "target-secret-4567"};
};

TEST_F(ChapFlowTest, OneWaySuccess) {
  TextList a;
  EXPECT_TRUE(
      auth_
          .OnResponse({{"CHAP_N", "user"}, {"CHAP_R", Response(in_.secret)}}, in_, std::nullopt, &a)
          .ok());
  EXPECT_TRUE(a.empty());
}

TEST_F(ChapFlowTest, WrongSecretWrongUserAndReplayFail) {
  TextList a;
  Status st = auth_.OnResponse({{"CHAP_N", "user"}, {"CHAP_R", Response("wrong-secret-xx")}}, in_,
                               std::nullopt, &a);
  EXPECT_FALSE(st.ok());
  EXPECT_EQ(st.message().find(in_.secret), std::string::npos);  // never leak secrets
  // The challenge is single use: even the right answer now fails.
  EXPECT_FALSE(
      auth_
          .OnResponse({{"CHAP_N", "user"}, {"CHAP_R", Response(in_.secret)}}, in_, std::nullopt, &a)
          .ok());
}

TEST_F(ChapFlowTest, WrongUserFails) {
  TextList a;
  EXPECT_FALSE(auth_
                   .OnResponse({{"CHAP_N", "other"}, {"CHAP_R", Response(in_.secret)}}, in_,
                               std::nullopt, &a)
                   .ok());
}

TEST_F(ChapFlowTest, MutualSuccess) {
  std::vector<uint8_t> their = {9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 1, 2, 3, 4, 5, 6};
  TextList a;
  ASSERT_TRUE(auth_
                  .OnResponse({{"CHAP_N", "user"},
                               {"CHAP_R", Response(in_.secret)},
                               {"CHAP_I", "33"},
                               {"CHAP_C", EncodeChapHex(their)}},
                              in_, out_, &a)
                  .ok());
  EXPECT_EQ(*Get(a, "CHAP_N"), "target");
  EXPECT_EQ(*Get(a, "CHAP_R"),
            EncodeChapHex(*ChapResponse(ChapAlgorithm::kSha256, 33, out_.secret, their)));
}

TEST_F(ChapFlowTest, MutualReflectionRejected) {
  TextList a;
  EXPECT_FALSE(auth_
                   .OnResponse({{"CHAP_N", "user"},
                                {"CHAP_R", Response(in_.secret)},
                                {"CHAP_I", "7"},
                                {"CHAP_C", EncodeChapHex(challenge_)}},
                               in_, out_, &a)
                   .ok());
  EXPECT_TRUE(a.empty());
}

TEST_F(ChapFlowTest, MutualWithoutConfiguredCredentialsFails) {
  TextList a;
  EXPECT_FALSE(auth_
                   .OnResponse({{"CHAP_N", "user"},
                                {"CHAP_R", Response(in_.secret)},
                                {"CHAP_I", "1"},
                                {"CHAP_C", "0x0102030405060708090a0b0c0d0e0f10"}},
                               in_, std::nullopt, &a)
                   .ok());
}

TEST_F(ChapFlowTest, MutualWithSameSecretFails) {
  TextList a;
  ChapSecret same{"target", in_.secret};
  EXPECT_FALSE(auth_
                   .OnResponse({{"CHAP_N", "user"},
                                {"CHAP_R", Response(in_.secret)},
                                {"CHAP_I", "1"},
                                {"CHAP_C", "0x0102030405060708090a0b0c0d0e0f10"}},
                               in_, same, &a)
                   .ok());
}

TEST(ChapTest, UnsupportedAlgorithm) {
  ChapAuthenticator auth;
  TextList a;
  EXPECT_FALSE(auth.OnAlgorithms("8,99", &a).ok());
  EXPECT_EQ(*FindKey(a, "CHAP_A"), "Reject");
}

TEST(ChapTest, RandomChallengeIs16BytesHexAndFresh) {
  ChapAuthenticator a1, a2;
  TextList t1, t2;
  ASSERT_TRUE(a1.OnAlgorithms("5", &t1).ok());
  ASSERT_TRUE(a2.OnAlgorithms("5", &t2).ok());
  const std::string& c1 = *FindKey(t1, "CHAP_C");
  EXPECT_EQ(c1.substr(0, 2), "0x");
  EXPECT_EQ(c1.size(), 2u + 2 * kChapChallengeLength);
  EXPECT_NE(c1, *FindKey(t2, "CHAP_C"));
}

}  // namespace
}  // namespace scoria::target
