#include "target/login.h"

#include <gtest/gtest.h>

#include <map>

namespace scoria::target {
namespace {

constexpr char kTarget[] = "iqn.2010-10.org.openstack:volume-1";
constexpr char kInitiator[] = "iqn.2008-11.org.linux-kvm";
const Isid kIsid = {0x80, 0x12, 0x34, 0x56, 0x78, 0x9a};

class FakePolicy : public LoginPolicy {
 public:
  TargetAccess Lookup(const std::string& target, const std::string& initiator) override {
    ++lookups;
    auto it = targets.find(target);
    if (it == targets.end()) return {};
    TargetAccess a = it->second;
    if (denied == initiator) a.allowed = false;
    return a;
  }
  std::map<std::string, TargetAccess> targets;
  std::string denied;
  int lookups = 0;
};

Pdu LoginReq(bool t, uint8_t csg, uint8_t nsg, const TextList& keys, bool c = false,
             uint32_t itt = 1) {
  Pdu p(Opcode::kLoginRequest);
  p.set_immediate(true);
  p.set_login_flags(t, c, csg, nsg);
  p.set_isid(kIsid);
  p.set_itt(itt);
  p.set_cmd_sn(10);
  p.set_exp_stat_sn(0);
  p.set_data(SerializeText(keys));
  return p;
}

TextList Keys(const Pdu& p) {
  auto r = ParseText(p.data());
  EXPECT_TRUE(r.ok());
  return r.ok() ? *r : TextList{};
}

std::string Get(const Pdu& p, const std::string& k) {
  TextList l = Keys(p);
  const std::string* v = FindKey(l, k);
  return v ? *v : "<absent>";
}

uint16_t StatusOf(const Pdu& p) {
  return static_cast<uint16_t>(p.status_class() << 8 | p.status_detail());
}

const TextList kLibiscsiOps = {{"HeaderDigest", "None,CRC32C"},
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
                               {"ErrorRecoveryLevel", "0"},
                               {"MaxConnections", "1"},
                               {"MaxOutstandingR2T", "1"}};

TextList Concat(TextList a, const TextList& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

class LoginTest : public ::testing::Test {
 protected:
  LoginTest() { policy_.targets[kTarget] = TargetAccess{true, true, std::nullopt, std::nullopt}; }
  LoginNegotiator Make(LoginOptions o = {}) { return LoginNegotiator(TargetParams{}, o, &policy_); }
  void RequireChap(bool mutual = false) {
    auto& a = policy_.targets[kTarget];
    a.chap = ChapSecret{"user", "initiator-secret-123"};
    if (mutual) a.mutual = ChapSecret{"tuser", "target-secret-45678"};
  }
  // Drives the CHAP stage up to the challenge; returns (id, challenge).
  std::pair<uint8_t, std::vector<uint8_t>> StartChap(LoginNegotiator& n) {
    auto s1 = n.OnRequest(LoginReq(true, 0, 1,
                                   {{"InitiatorName", kInitiator},
                                    {"TargetName", kTarget},
                                    {"SessionType", "Normal"},
                                    {"AuthMethod", "CHAP,None"}}));
    EXPECT_EQ(s1.outcome, LoginOutcome::kContinue);
    EXPECT_FALSE(s1.response.transit());  // target withholds transit until authenticated
    EXPECT_EQ(Get(s1.response, "AuthMethod"), "CHAP");
    EXPECT_EQ(Get(s1.response, "TargetPortalGroupTag"), "1");
    auto s2 = n.OnRequest(LoginReq(false, 0, 0, {{"CHAP_A", "5"}}, false, 2));
    EXPECT_EQ(s2.outcome, LoginOutcome::kContinue);
    EXPECT_EQ(Get(s2.response, "CHAP_A"), "5");
    auto id = ParseNumber(Get(s2.response, "CHAP_I"), 255);
    auto c = DecodeChapBinary(Get(s2.response, "CHAP_C"));
    EXPECT_TRUE(id.ok() && c.ok());
    return {static_cast<uint8_t>(id.ok() ? *id : 0), c.ok() ? *c : std::vector<uint8_t>{}};
  }
  FakePolicy policy_;
};

TEST_F(LoginTest, LibiscsiNoAuthStraightToFullFeature) {
  auto n = Make();
  auto s = n.OnRequest(LoginReq(
      true, 1, 3,
      Concat({{"InitiatorName", kInitiator}, {"TargetName", kTarget}, {"SessionType", "Normal"}},
             kLibiscsiOps)));
  ASSERT_EQ(s.outcome, LoginOutcome::kCompleted) << s.error.ToString();
  const Pdu& r = s.response;
  EXPECT_EQ(r.opcode(), Opcode::kLoginResponse);
  EXPECT_TRUE(r.transit());
  EXPECT_EQ(r.csg(), 1);
  EXPECT_EQ(r.nsg(), 3);
  EXPECT_EQ(StatusOf(r), kLoginSuccess);
  EXPECT_EQ(r.isid(), kIsid);
  EXPECT_EQ(r.tsih(), 0);  // caller assigns
  EXPECT_EQ(r.itt(), 1u);
  EXPECT_EQ(r.exp_cmd_sn(), 10u);
  EXPECT_EQ(r.max_cmd_sn(), 10u + 127);
  EXPECT_EQ(Get(r, "TargetPortalGroupTag"), "1");
  EXPECT_EQ(Get(r, "HeaderDigest"), "None");
  EXPECT_EQ(Get(r, "MaxRecvDataSegmentLength"), "262144");
  EXPECT_EQ(Get(r, "InitialR2T"), "No");
  EXPECT_EQ(n.state(), LoginNegotiator::State::kFullFeature);
  const LoginInfo& i = n.info();
  EXPECT_EQ(i.type, SessionType::kNormal);
  EXPECT_EQ(i.target_name, kTarget);
  EXPECT_EQ(i.initiator_name, kInitiator);
  EXPECT_EQ(i.isid, kIsid);
  EXPECT_EQ(i.tsih, 0);
  EXPECT_FALSE(i.authenticated);
  EXPECT_EQ(i.params.max_xmit_data_segment_length, 262144u);
  EXPECT_EQ(i.params.max_recv_data_segment_length, 262144u);
  EXPECT_FALSE(i.params.initial_r2t);
  EXPECT_EQ(i.next_stat_sn, 1u);
  EXPECT_EQ(i.exp_cmd_sn, 10u);
  // Caller patches the TSIH.
  s.response.set_tsih(5);
  EXPECT_EQ(s.response.tsih(), 5);
  // Nothing more is accepted.
  EXPECT_EQ(n.OnRequest(LoginReq(true, 1, 3, {})).outcome, LoginOutcome::kFailed);
}

TEST_F(LoginTest, OpenIscsiStyleNoAuthThroughSecurityStage) {
  auto n = Make();
  auto s1 = n.OnRequest(LoginReq(true, 0, 1,
                                 {{"InitiatorName", kInitiator},
                                  {"TargetName", kTarget},
                                  {"SessionType", "Normal"},
                                  {"AuthMethod", "None"}}));
  ASSERT_EQ(s1.outcome, LoginOutcome::kContinue);
  EXPECT_TRUE(s1.response.transit());
  EXPECT_EQ(s1.response.csg(), 0);
  EXPECT_EQ(s1.response.nsg(), 1);
  EXPECT_EQ(Get(s1.response, "AuthMethod"), "None");
  auto s2 = n.OnRequest(LoginReq(true, 1, 3, kLibiscsiOps, false, 2));
  ASSERT_EQ(s2.outcome, LoginOutcome::kCompleted) << s2.error.ToString();
  EXPECT_EQ(Get(s2.response, "TargetPortalGroupTag"), "<absent>");  // first response only
  EXPECT_EQ(s2.response.stat_sn(), 1u);
}

TEST_F(LoginTest, ChapFlowOpenIscsiStyle) {
  RequireChap();
  auto n = Make();
  auto [id, challenge] = StartChap(n);
  EXPECT_EQ(challenge.size(), kChapChallengeLength);
  auto resp = *ChapResponse(ChapAlgorithm::kMd5, id, "initiator-secret-123", challenge);
  auto s3 = n.OnRequest(
      LoginReq(true, 0, 1, {{"CHAP_N", "user"}, {"CHAP_R", EncodeChapHex(resp)}}, false, 3));
  ASSERT_EQ(s3.outcome, LoginOutcome::kContinue) << s3.error.ToString();
  EXPECT_TRUE(s3.response.transit());
  EXPECT_EQ(s3.response.nsg(), 1);
  auto s4 = n.OnRequest(LoginReq(true, 1, 3, kLibiscsiOps, false, 4));
  ASSERT_EQ(s4.outcome, LoginOutcome::kCompleted) << s4.error.ToString();
  EXPECT_TRUE(n.info().authenticated);
  EXPECT_EQ(n.info().next_stat_sn, 4u);
}

TEST_F(LoginTest, MutualChap) {
  RequireChap(true);
  auto n = Make();
  auto [id, challenge] = StartChap(n);
  auto resp = *ChapResponse(ChapAlgorithm::kMd5, id, "initiator-secret-123", challenge);
  std::vector<uint8_t> mine(16, 0x33);
  auto s3 = n.OnRequest(LoginReq(true, 0, 1,
                                 {{"CHAP_N", "user"},
                                  {"CHAP_R", EncodeChapHex(resp)},
                                  {"CHAP_I", "77"},
                                  {"CHAP_C", EncodeChapHex(mine)}},
                                 false, 3));
  ASSERT_EQ(s3.outcome, LoginOutcome::kContinue) << s3.error.ToString();
  EXPECT_EQ(Get(s3.response, "CHAP_N"), "tuser");
  EXPECT_EQ(Get(s3.response, "CHAP_R"),
            EncodeChapHex(*ChapResponse(ChapAlgorithm::kMd5, 77, "target-secret-45678", mine)));
  EXPECT_TRUE(s3.response.transit());
}

TEST_F(LoginTest, WrongChapSecretFails0201) {
  RequireChap();
  auto n = Make();
  auto [id, challenge] = StartChap(n);
  auto resp = *ChapResponse(ChapAlgorithm::kMd5, id, "not-the-secret", challenge);
  auto s = n.OnRequest(
      LoginReq(true, 0, 1, {{"CHAP_N", "user"}, {"CHAP_R", EncodeChapHex(resp)}}, false, 3));
  EXPECT_EQ(s.outcome, LoginOutcome::kFailed);
  EXPECT_EQ(s.status, kLoginAuthFailed);
  EXPECT_EQ(StatusOf(s.response), kLoginAuthFailed);
  EXPECT_EQ(s.error.message().find("initiator-secret-123"), std::string::npos);
  EXPECT_EQ(n.state(), LoginNegotiator::State::kFailed);
}

TEST_F(LoginTest, ChapRequiredButInitiatorSkipsSecurity0201) {
  RequireChap();
  auto n = Make();
  auto s = n.OnRequest(LoginReq(
      true, 1, 3, Concat({{"InitiatorName", kInitiator}, {"TargetName", kTarget}}, kLibiscsiOps)));
  EXPECT_EQ(s.outcome, LoginOutcome::kFailed);
  EXPECT_EQ(StatusOf(s.response), kLoginAuthFailed);
}

TEST_F(LoginTest, ChapRequiredButOnlyNoneOffered0201) {
  RequireChap();
  auto n = Make();
  auto s = n.OnRequest(
      LoginReq(true, 0, 1,
               {{"InitiatorName", kInitiator}, {"TargetName", kTarget}, {"AuthMethod", "None"}}));
  EXPECT_EQ(StatusOf(s.response), kLoginAuthFailed);
}

TEST_F(LoginTest, ChapRequiredButTransitWithoutAuthMethod0201) {
  RequireChap();
  auto n = Make();
  auto s =
      n.OnRequest(LoginReq(true, 0, 1, {{"InitiatorName", kInitiator}, {"TargetName", kTarget}}));
  EXPECT_EQ(StatusOf(s.response), kLoginAuthFailed);
}

TEST_F(LoginTest, AclDenied0202) {
  policy_.denied = kInitiator;
  auto n = Make();
  auto s =
      n.OnRequest(LoginReq(true, 1, 3, {{"InitiatorName", kInitiator}, {"TargetName", kTarget}}));
  EXPECT_EQ(s.outcome, LoginOutcome::kFailed);
  EXPECT_EQ(StatusOf(s.response), kLoginForbidden);
}

TEST_F(LoginTest, UnknownTarget0203) {
  auto n = Make();
  auto s = n.OnRequest(
      LoginReq(true, 1, 3, {{"InitiatorName", kInitiator}, {"TargetName", "iqn.nope"}}));
  EXPECT_EQ(StatusOf(s.response), kLoginTargetNotFound);
}

TEST_F(LoginTest, MissingInitiatorName0207) {
  auto n = Make();
  auto s = n.OnRequest(LoginReq(true, 1, 3, {{"TargetName", kTarget}}));
  EXPECT_EQ(StatusOf(s.response), kLoginMissingParameter);
  EXPECT_EQ(policy_.lookups, 0);
}

TEST_F(LoginTest, MissingTargetNameInNormalSession0207) {
  auto n = Make();
  auto s = n.OnRequest(LoginReq(true, 1, 3, {{"InitiatorName", kInitiator}}));
  EXPECT_EQ(StatusOf(s.response), kLoginMissingParameter);
}

TEST_F(LoginTest, UnsupportedVersion0205) {
  auto n = Make();
  Pdu p = LoginReq(true, 1, 3, {{"InitiatorName", kInitiator}, {"TargetName", kTarget}});
  p.set_versions(2, 1);
  EXPECT_EQ(StatusOf(n.OnRequest(p).response), kLoginUnsupportedVersion);
}

TEST_F(LoginTest, BadSessionType0209) {
  auto n = Make();
  auto s = n.OnRequest(LoginReq(true, 1, 3, {{"InitiatorName", kInitiator}, {"SessionType", "X"}}));
  EXPECT_EQ(StatusOf(s.response), kLoginSessionTypeUnsupported);
}

TEST_F(LoginTest, NonLoginPdu020b) {
  auto n = Make();
  Pdu p(Opcode::kScsiCommand);
  EXPECT_EQ(StatusOf(n.OnRequest(p).response), kLoginInvalidDuringLogin);
}

TEST_F(LoginTest, InvalidStageTransitions020b) {
  {
    auto n = Make();
    EXPECT_EQ(StatusOf(n.OnRequest(LoginReq(true, 1, 1, {{"InitiatorName", kInitiator}})).response),
              kLoginInvalidDuringLogin);
  }
  {
    auto n = Make();
    EXPECT_EQ(StatusOf(n.OnRequest(LoginReq(true, 0, 1, {}, true)).response),
              kLoginInvalidDuringLogin);  // T and C together
  }
  {
    auto n = Make();
    ASSERT_EQ(n.OnRequest(LoginReq(false, 0, 0,
                                   {{"InitiatorName", kInitiator},
                                    {"TargetName", kTarget},
                                    {"AuthMethod", "None"}}))
                  .outcome,
              LoginOutcome::kContinue);
    // Still in security; a CSG=1 request now is out of sequence.
    EXPECT_EQ(StatusOf(n.OnRequest(LoginReq(true, 1, 3, {})).response), kLoginInvalidDuringLogin);
  }
}

TEST_F(LoginTest, SecurityKeysInOperationalStage0200) {
  auto n = Make();
  auto s = n.OnRequest(LoginReq(
      false, 1, 0, {{"InitiatorName", kInitiator}, {"TargetName", kTarget}, {"CHAP_A", "5"}}));
  EXPECT_EQ(StatusOf(s.response), kLoginInitiatorError);
}

TEST_F(LoginTest, KeyRenegotiatedAcrossPdus0200) {
  auto n = Make();
  ASSERT_EQ(n.OnRequest(LoginReq(false, 1, 0,
                                 {{"InitiatorName", kInitiator},
                                  {"TargetName", kTarget},
                                  {"MaxBurstLength", "65536"}}))
                .outcome,
            LoginOutcome::kContinue);
  EXPECT_EQ(StatusOf(n.OnRequest(LoginReq(true, 1, 3, {{"MaxBurstLength", "4096"}})).response),
            kLoginInitiatorError);
}

TEST_F(LoginTest, ContinuationBitReassemblesText) {
  auto n = Make();
  std::vector<uint8_t> text =
      SerializeText(Concat({{"InitiatorName", kInitiator}, {"TargetName", kTarget}}, kLibiscsiOps));
  size_t half = 37;  // split in the middle of a key
  Pdu p1 = LoginReq(false, 1, 3, {}, true);
  p1.set_data(std::vector<uint8_t>(text.begin(), text.begin() + half));
  auto s1 = n.OnRequest(p1);
  ASSERT_EQ(s1.outcome, LoginOutcome::kContinue) << s1.error.ToString();
  EXPECT_TRUE(s1.response.data().empty());
  EXPECT_FALSE(s1.response.transit());
  Pdu p2 = LoginReq(true, 1, 3, {}, false, 2);
  p2.set_data(std::vector<uint8_t>(text.begin() + half, text.end()));
  auto s2 = n.OnRequest(p2);
  ASSERT_EQ(s2.outcome, LoginOutcome::kCompleted) << s2.error.ToString();
  EXPECT_EQ(Get(s2.response, "TargetPortalGroupTag"), "1");
}

TEST_F(LoginTest, OperationalStageWithoutTransitThenTransit) {
  auto n = Make();
  auto s1 = n.OnRequest(LoginReq(
      false, 1, 0, Concat({{"InitiatorName", kInitiator}, {"TargetName", kTarget}}, kLibiscsiOps)));
  ASSERT_EQ(s1.outcome, LoginOutcome::kContinue);
  EXPECT_FALSE(s1.response.transit());
  EXPECT_EQ(Get(s1.response, "MaxRecvDataSegmentLength"), "262144");
  auto s2 = n.OnRequest(LoginReq(true, 1, 3, {}, false, 2));
  ASSERT_EQ(s2.outcome, LoginOutcome::kCompleted);
  EXPECT_EQ(Get(s2.response, "MaxRecvDataSegmentLength"), "<absent>");  // declared once
}

TEST_F(LoginTest, DiscoverySessionNoTargetNameNoChap) {
  RequireChap();  // a normal target's CHAP does not apply to discovery
  auto n = Make();
  auto s1 = n.OnRequest(LoginReq(
      true, 0, 1,
      {{"InitiatorName", kInitiator}, {"SessionType", "Discovery"}, {"AuthMethod", "None"}}));
  ASSERT_EQ(s1.outcome, LoginOutcome::kContinue) << s1.error.ToString();
  EXPECT_EQ(Get(s1.response, "TargetPortalGroupTag"), "<absent>");
  auto s2 = n.OnRequest(LoginReq(true, 1, 3,
                                 {{"HeaderDigest", "None"},
                                  {"MaxRecvDataSegmentLength", "32768"},
                                  {"MaxBurstLength", "262144"}},
                                 false, 2));
  ASSERT_EQ(s2.outcome, LoginOutcome::kCompleted) << s2.error.ToString();
  EXPECT_EQ(Get(s2.response, "MaxBurstLength"), "Irrelevant");
  EXPECT_EQ(n.info().type, SessionType::kDiscovery);
  EXPECT_TRUE(n.info().target_name.empty());
  EXPECT_EQ(n.info().params.max_xmit_data_segment_length, 32768u);
  EXPECT_EQ(policy_.lookups, 0);
}

TEST_F(LoginTest, DiscoveryWithAuthEnabledUsesPolicy) {
  policy_.targets[""] = TargetAccess{true, true, ChapSecret{"d", "discovery-secret-1"}, {}};
  LoginOptions o;
  o.discovery_auth = true;
  auto n = Make(o);
  auto s = n.OnRequest(LoginReq(
      true, 0, 1,
      {{"InitiatorName", kInitiator}, {"SessionType", "Discovery"}, {"AuthMethod", "None"}}));
  EXPECT_EQ(StatusOf(s.response), kLoginAuthFailed);
  EXPECT_EQ(policy_.lookups, 1);
}

TEST_F(LoginTest, DiscoveryDisabled0209) {
  LoginOptions o;
  o.allow_discovery = false;
  auto n = Make(o);
  auto s = n.OnRequest(
      LoginReq(true, 1, 3, {{"InitiatorName", kInitiator}, {"SessionType", "Discovery"}}));
  EXPECT_EQ(StatusOf(s.response), kLoginSessionTypeUnsupported);
}

TEST_F(LoginTest, MalformedTextFails0200) {
  auto n = Make();
  Pdu p = LoginReq(true, 1, 3, {});
  p.set_data({'n', 'o', 'e', 'q', 0});
  EXPECT_EQ(StatusOf(n.OnRequest(p).response), kLoginInitiatorError);
}

TEST_F(LoginTest, IsidChangeDuringLogin020b) {
  auto n = Make();
  ASSERT_EQ(
      n.OnRequest(LoginReq(false, 0, 0, {{"InitiatorName", kInitiator}, {"TargetName", kTarget}}))
          .outcome,
      LoginOutcome::kContinue);
  Pdu p = LoginReq(true, 0, 1, {{"AuthMethod", "None"}});
  p.set_isid({1, 2, 3, 4, 5, 6});
  EXPECT_EQ(StatusOf(n.OnRequest(p).response), kLoginInvalidDuringLogin);
}

// Regression (login_fuzz): an initiator sending a key the target declares made the response
// carry it twice.
TEST_F(LoginTest, NoDuplicateKeysWhenInitiatorSendsTargetKeys) {
  auto n = Make();
  auto s = n.OnRequest(LoginReq(
      true, 1, 3,
      {{"InitiatorName", kInitiator}, {"TargetName", kTarget}, {"TargetPortalGroupTag", "7"}}));
  ASSERT_EQ(s.outcome, LoginOutcome::kCompleted);
  EXPECT_TRUE(ParseText(s.response.data()).ok());
  EXPECT_EQ(Get(s.response, "TargetPortalGroupTag"), "1");
}

TEST_F(LoginTest, EndlessLoginIsCut) {
  auto n = Make();
  LoginStep s =
      n.OnRequest(LoginReq(false, 1, 0, {{"InitiatorName", kInitiator}, {"TargetName", kTarget}}));
  for (int i = 0; i < 100 && s.outcome == LoginOutcome::kContinue; ++i) {
    s = n.OnRequest(LoginReq(false, 1, 0, {}));
  }
  EXPECT_EQ(s.outcome, LoginOutcome::kFailed);
  EXPECT_EQ(StatusOf(s.response), kLoginInitiatorError);
}

TEST(LoginFailureTest, BuildLoginFailureEchoesRequest) {
  Pdu req = LoginReq(true, 1, 3, {});
  req.set_tsih(9);
  Pdu r = BuildLoginFailure(req, kLoginSessionDoesNotExist, {3, 10, 137});
  EXPECT_EQ(r.status_class(), 2);
  EXPECT_EQ(r.status_detail(), 0x0a);
  EXPECT_EQ(r.tsih(), 9);
  EXPECT_EQ(r.isid(), kIsid);
  EXPECT_EQ(r.stat_sn(), 3u);
  EXPECT_FALSE(r.transit());
}

}  // namespace
}  // namespace scoria::target
