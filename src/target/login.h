// The login phase of one iSCSI connection (RFC 7143 §6, §11.12-11.13): a state machine fed one
// Login Request PDU at a time, answering each with exactly one Login Response.
//
//   kStart --first PDU, CSG=0--------------------------> kSecurity
//   kStart --first PDU, CSG=1 (no auth required)--------> kOperational  (libiscsi w/o creds)
//   kStart --first PDU, CSG=1, CHAP required------------> kFailed 0x0201
//   kSecurity --AuthMethod=None [T=1 NSG=1]-------------> kSecurity / kOperational
//   kSecurity --AuthMethod=CHAP (reply T=0)-------------> kChapAlgorithm
//   kChapAlgorithm --CHAP_A (reply CHAP_A/I/C, T=0)-----> kChapResponse
//   kChapResponse --CHAP_N/R ok [mutual: +CHAP_I/C]-----> kSecurityDone (T=1: next stage)
//   kSecurity(Done) --T=1 NSG=3-------------------------> kFullFeature (completed)
//   kOperational --T=0: answer keys---------------------> kOperational
//   kOperational --T=1 NSG=3----------------------------> kFullFeature (completed)
//   any state --bad PDU/keys/auth/ACL-------------------> kFailed (status in the response)
//
// Who does what:
//  - The caller frames the TCP stream (PduParser with max_pdus=1 during login), passes each
//    Login Request PDU to OnRequest and sends the returned response. The negotiator handles
//    the C bit (text continuation) itself: it buffers partial text and answers each C=1 PDU
//    with an empty response, as RFC 7143 §6.3 requires.
//  - On kFailed the response already carries the status class/detail; the caller sends it
//    and closes the connection.
//  - On kCompleted the caller owns session admission: TSIH assignment (the response carries
//    the TSIH the initiator sent; for a new session, TSIH 0, the caller must call
//    step.response.set_tsih(new) before sending), session reinstatement (same InitiatorName +
//    ISID), and refusing (replace the response with BuildLoginFailure, e.g. 0x020a for an
//    unknown non-zero TSIH or 0x0206 for a second connection). After sending it switches the
//    parser to the negotiated digests and MaxRecvDataSegmentLength.
//  - StatSN: the first response uses the initiator's ExpStatSN; each response advances it by
//    one; info().next_stat_sn is what the session continues with. ExpCmdSN = the login's
//    CmdSN (login PDUs are immediate), MaxCmdSN = CmdSN + queue_depth - 1.
//  - Access control and credentials come from LoginPolicy, called once on the first PDU.
//  - Limits: 64 KiB of text per request (all continuations), 64 requests per login (then
//    0x0200). A wall-clock login timeout is the caller's (no timers here).
//
// Threading: one negotiator per connection, used only by that connection's thread. The
// LoginPolicy is called on that thread and must outlive the negotiator.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "common/status.h"
#include "target/chap.h"
#include "target/params.h"
#include "target/pdu.h"
#include "target/pdu_build.h"
#include "target/text.h"

namespace scoria::target {

// Login status, Status-Class << 8 | Status-Detail (RFC 7143 §11.13.5).
inline constexpr uint16_t kLoginSuccess = 0x0000;
inline constexpr uint16_t kLoginRedirectTemporary = 0x0101;
inline constexpr uint16_t kLoginRedirectPermanent = 0x0102;
inline constexpr uint16_t kLoginInitiatorError = 0x0200;
inline constexpr uint16_t kLoginAuthFailed = 0x0201;
inline constexpr uint16_t kLoginForbidden = 0x0202;
inline constexpr uint16_t kLoginTargetNotFound = 0x0203;
inline constexpr uint16_t kLoginTargetRemoved = 0x0204;
inline constexpr uint16_t kLoginUnsupportedVersion = 0x0205;
inline constexpr uint16_t kLoginTooManyConnections = 0x0206;
inline constexpr uint16_t kLoginMissingParameter = 0x0207;
inline constexpr uint16_t kLoginCannotIncludeInSession = 0x0208;
inline constexpr uint16_t kLoginSessionTypeUnsupported = 0x0209;
inline constexpr uint16_t kLoginSessionDoesNotExist = 0x020a;
inline constexpr uint16_t kLoginInvalidDuringLogin = 0x020b;
inline constexpr uint16_t kLoginTargetError = 0x0300;
inline constexpr uint16_t kLoginServiceUnavailable = 0x0301;
inline constexpr uint16_t kLoginOutOfResources = 0x0302;

// What the policy says about an initiator logging in to a target.
struct TargetAccess {
  bool exists = false;               // false -> 0x0203
  bool allowed = false;              // false -> 0x0202
  std::optional<ChapSecret> chap;    // required one-way credentials for this initiator, if any
  std::optional<ChapSecret> mutual;  // target's credentials for mutual CHAP, if configured
};

class LoginPolicy {
 public:
  virtual ~LoginPolicy() = default;
  // Normal session: target_name is the TargetName key. Discovery session with
  // LoginOptions::discovery_auth: target_name is empty and only `allowed` and `chap`/`mutual`
  // are used. Must not block for long (runs on the connection thread).
  virtual TargetAccess Lookup(const std::string& target_name,
                              const std::string& initiator_name) = 0;
};

struct LoginOptions {
  uint16_t target_portal_group_tag = 1;
  // Require CHAP in discovery sessions when the policy returns credentials for ("", name).
  // Off by default: discovery is then open (the reply is filtered by ACL anyway).
  bool discovery_auth = false;
  bool allow_discovery = true;  // false -> 0x0209 for SessionType=Discovery
  std::vector<ChapAlgorithm> chap_algorithms = {ChapAlgorithm::kMd5, ChapAlgorithm::kSha1,
                                                ChapAlgorithm::kSha256};
};

// Everything the session layer needs once the login completes.
struct LoginInfo {
  SessionType type = SessionType::kNormal;
  std::string target_name;  // empty for discovery
  std::string initiator_name;
  std::string initiator_alias;
  Isid isid{};
  uint16_t tsih = 0;  // as requested: 0 = new session
  uint16_t cid = 0;
  bool authenticated = false;  // CHAP succeeded
  SessionParams params;
  uint32_t exp_cmd_sn = 0;    // the session's CmdSN window starts here
  uint32_t next_stat_sn = 0;  // StatSN of the next status-bearing PDU on this connection
};

enum class LoginOutcome { kContinue, kCompleted, kFailed };

struct LoginStep {
  LoginOutcome outcome = LoginOutcome::kContinue;
  Pdu response;  // always exactly one Login Response to send
  uint16_t status = kLoginSuccess;
  Status error;  // why it failed (safe to log: no secrets); OK otherwise
};

class LoginNegotiator {
 public:
  enum class State {
    kStart,
    kSecurity,
    kChapAlgorithm,
    kChapResponse,
    kSecurityDone,
    kOperational,
    kFullFeature,
    kFailed,
  };

  LoginNegotiator(TargetParams params, LoginOptions options, LoginPolicy* policy);

  // Feeds one Login Request (any other PDU fails the login with 0x020b). Precondition: state()
  // is neither kFullFeature nor kFailed (otherwise returns kFailed with 0x020b).
  LoginStep OnRequest(const Pdu& request);

  State state() const { return state_; }
  // Valid once OnRequest returned kCompleted (partially filled before).
  const LoginInfo& info() const { return info_; }

  // Tests only: forwarded to the CHAP authenticator.
  void SetChapChallengeForTesting(uint8_t id, std::vector<uint8_t> challenge) {
    chap_.SetChallengeForTesting(id, std::move(challenge));
  }

 private:
  LoginStep Fail(const Pdu& req, uint16_t status, Status why);
  LoginStep Respond(const Pdu& req, bool transit, uint8_t nsg, const TextList& answer,
                    LoginOutcome outcome);
  Status HandleFirst(const TextList& keys, uint16_t* status);
  // Security stage keys; sets *status on failure.
  Status HandleSecurity(const TextList& keys, TextList* answer, uint16_t* status);

  const TargetParams params_;
  const LoginOptions options_;
  LoginPolicy* const policy_;
  std::optional<OperationalNegotiator> ops_;  // created when the session type is known
  ChapAuthenticator chap_;
  State state_ = State::kStart;
  LoginInfo info_;
  TargetAccess access_;
  bool auth_required_ = false;
  bool first_response_ = true;
  uint32_t stat_sn_ = 0;
  uint32_t cmd_sn_ = 0;
  std::vector<uint8_t> pending_text_;  // C-bit reassembly
  int requests_ = 0;
};

// A failed Login Response for `request` (status class/detail, no text), for the caller to
// send instead of a negotiator's response (session admission failures).
Pdu BuildLoginFailure(const Pdu& request, uint16_t status, const TargetSn& sn);

}  // namespace scoria::target
