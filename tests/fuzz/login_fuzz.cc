// libFuzzer target for the login state machine, text parsing, operational negotiation, CHAP
// and the SendTargets exchange (tests/fuzz/run.sh).
//
// Input: byte 0 picks the policy (bit 0 CHAP required, bit 1 mutual CHAP configured, bit 2
// discovery_auth, bit 3 a tiny initiator MaxRecvDataSegmentLength for SendTargets), then
// records of [u16 big-endian length][bytes]: the first 48 bytes are a BHS (zero padded), the
// rest its data segment. Records go to the LoginNegotiator until the login completes or
// fails; after completion they go to a TextExchange as Text Requests. The CHAP challenge is
// fixed (id 1, 16 x 0x11) so seeds can carry a valid CHAP_R for secret "initiator-secret-1".
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <optional>
#include <vector>

#include "target/discovery.h"
#include "target/login.h"

using namespace scoria::target;

namespace {

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

class FixedPolicy : public LoginPolicy {
 public:
  explicit FixedPolicy(uint8_t mode) : mode_(mode) {}
  TargetAccess Lookup(const std::string& target, const std::string& initiator) override {
    TargetAccess a;
    if (target != "iqn.2024-01.io.scoria:vol1" && !(target.empty() && (mode_ & 4))) return a;
    a.exists = true;
    a.allowed = initiator != "iqn.denied";
    if (mode_ & 1) a.chap = ChapSecret{"user", "initiator-secret-1"};
    if (mode_ & 2) a.mutual = ChapSecret{"target", "target-secret-123"};
    return a;
  }

 private:
  uint8_t mode_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  uint8_t mode = data[0];
  FixedPolicy policy(mode);
  LoginOptions options;
  options.discovery_auth = mode & 4;
  LoginNegotiator login(TargetParams{}, options, &policy);
  login.SetChapChallengeForTesting(1, std::vector<uint8_t>(16, 0x11));
  std::optional<TextExchange> text;
  uint32_t stat_sn = 0;

  size_t pos = 1;
  while (pos + 2 <= size) {
    size_t len = static_cast<size_t>(data[pos]) << 8 | data[pos + 1];
    pos += 2;
    len = std::min(len, size - pos);
    Bhs bhs{};
    std::memcpy(bhs.data(), data + pos, std::min(len, kBhsLength));
    Pdu pdu(bhs);
    if (len > kBhsLength) {
      pdu.set_data(std::vector<uint8_t>(data + pos + kBhsLength, data + pos + len));
    }
    pos += len;

    if (!text) {
      LoginStep step = login.OnRequest(pdu);
      Check(step.response.opcode() == Opcode::kLoginResponse);
      Check(step.response.data().size() <= 8192);
      if (auto t = ParseText(step.response.data()); !t.ok()) {
        std::fprintf(stderr, "unparsable login response (%s): ", t.status().ToString().c_str());
        std::fwrite(step.response.data().data(), 1, step.response.data().size(), stderr);
        std::fprintf(stderr, "\n");
        __builtin_trap();
      }
      std::vector<uint8_t> wire;
      EncodeTo(step.response, {}, &wire);
      if (step.outcome == LoginOutcome::kFailed) {
        Check(step.response.status_class() != 0);
        Check(login.state() == LoginNegotiator::State::kFailed);
        break;
      }
      Check(step.response.status_class() == 0);
      if (step.outcome == LoginOutcome::kCompleted) {
        const LoginInfo& info = login.info();
        Check(!info.initiator_name.empty());
        Check(info.type == SessionType::kDiscovery || !info.target_name.empty());
        Check(!(mode & 1) || info.type == SessionType::kDiscovery || info.authenticated);
        stat_sn = info.next_stat_sn;
        TextExchange::Options o;
        o.type = info.type;
        o.session_target = info.target_name;
        o.max_xmit_data_segment_length =
            (mode & 8) ? 512 : info.params.max_xmit_data_segment_length;
        text.emplace(o);
      }
    } else {
      auto r = text->OnRequest(pdu, {stat_sn++, 0, 127}, [] {
        std::vector<DiscoveryTarget> v;
        for (int i = 0; i < 40; ++i) {
          v.push_back({"iqn.2024-01.io.scoria:vol" + std::to_string(i), {"192.0.2.7:3260,1"}});
        }
        return v;
      });
      if (r.ok()) {
        Check(r->opcode() == Opcode::kTextResponse);
        Check(!(r->final_bit() && r->continue_bit()));
        Check(r->final_bit() == (r->ttt() == kReservedTag));
      }
    }
  }
  return 0;
}
