#include "target/login.h"

#include <utility>

namespace scoria::target {

namespace {

constexpr size_t kMaxLoginText = 65536;      // all C-bit continuations of one request
constexpr uint32_t kLoginMaxSegment = 8192;  // initiator's MRDSL during login (default)
// A real login takes 1 (libiscsi) to 4 (open-iscsi with CHAP) requests, plus C-bit
// continuations; an initiator that keeps going without transiting is stalling.
constexpr int kMaxLoginRequests = 64;

bool IsSecurityKey(const std::string& k) { return k == "AuthMethod" || k.rfind("CHAP_", 0) == 0; }

}  // namespace

Pdu BuildLoginFailure(const Pdu& request, uint16_t status, const TargetSn& sn) {
  LoginResponseFields f;
  f.csg = request.csg();
  f.isid = request.isid();
  f.tsih = request.tsih();
  f.itt = request.itt();
  f.sn = sn;
  f.status_class = static_cast<uint8_t>(status >> 8);
  f.status_detail = static_cast<uint8_t>(status);
  return BuildLoginResponse(f, {});
}

LoginNegotiator::LoginNegotiator(TargetParams params, LoginOptions options, LoginPolicy* policy)
    : params_(std::move(params)),
      options_(std::move(options)),
      policy_(policy),
      chap_(options_.chap_algorithms) {}

LoginStep LoginNegotiator::Fail(const Pdu& req, uint16_t status, Status why) {
  state_ = State::kFailed;
  TargetSn sn{stat_sn_, cmd_sn_, cmd_sn_ + params_.queue_depth - 1};
  LoginStep step;
  step.outcome = LoginOutcome::kFailed;
  step.response = BuildLoginFailure(req, status, sn);
  step.status = status;
  step.error = why.ok() ? InvalidArgument("login failed") : std::move(why);
  ++stat_sn_;
  info_.next_stat_sn = stat_sn_;
  return step;
}

LoginStep LoginNegotiator::Respond(const Pdu& req, bool transit, uint8_t nsg,
                                   const TextList& answer, LoginOutcome outcome) {
  // A key must appear once per response: our declarations (TargetPortalGroupTag,
  // MaxRecvDataSegmentLength, TargetAlias) and an answer to the same key sent by the initiator
  // ("Reject") would otherwise both go out. The first occurrence wins.
  TextList unique;
  for (const auto& kv : answer) {
    if (FindKey(unique, kv.key) == nullptr) unique.push_back(kv);
  }
  std::vector<uint8_t> text = SerializeText(unique);
  if (text.size() > kLoginMaxSegment) {
    return Fail(req, kLoginTargetError, Internal("login response text too long"));
  }
  LoginResponseFields f;
  f.transit = transit;
  f.csg = req.csg();
  f.nsg = transit ? nsg : 0;
  f.isid = info_.isid;
  f.tsih = info_.tsih;
  f.itt = req.itt();
  f.sn = TargetSn{stat_sn_, cmd_sn_, cmd_sn_ + params_.queue_depth - 1};
  LoginStep step;
  step.outcome = outcome;
  step.response = BuildLoginResponse(f, std::move(text));
  ++stat_sn_;
  info_.next_stat_sn = stat_sn_;
  first_response_ = false;
  return step;
}

Status LoginNegotiator::HandleFirst(const TextList& keys, uint16_t* status) {
  const std::string* iname = FindKey(keys, "InitiatorName");
  if (iname == nullptr || iname->empty()) {
    *status = kLoginMissingParameter;
    return InvalidArgument("first login request without InitiatorName");
  }
  info_.initiator_name = *iname;
  if (const std::string* alias = FindKey(keys, "InitiatorAlias")) info_.initiator_alias = *alias;
  const std::string* type = FindKey(keys, "SessionType");
  if (type == nullptr || *type == "Normal") {
    info_.type = SessionType::kNormal;
  } else if (*type == "Discovery" && options_.allow_discovery) {
    info_.type = SessionType::kDiscovery;
  } else {
    *status = kLoginSessionTypeUnsupported;
    return InvalidArgument("unsupported SessionType");
  }
  ops_.emplace(params_, info_.type);

  if (info_.type == SessionType::kNormal) {
    const std::string* tname = FindKey(keys, "TargetName");
    if (tname == nullptr || tname->empty()) {
      *status = kLoginMissingParameter;
      return InvalidArgument("normal session login without TargetName");
    }
    info_.target_name = *tname;
    access_ = policy_->Lookup(info_.target_name, info_.initiator_name);
    if (!access_.exists) {
      *status = kLoginTargetNotFound;
      return NotFound("target " + info_.target_name + " not found");
    }
    if (!access_.allowed) {
      *status = kLoginForbidden;
      return FailedPrecondition("initiator " + info_.initiator_name + " may not log in to " +
                                info_.target_name);
    }
  } else if (options_.discovery_auth) {
    access_ = policy_->Lookup("", info_.initiator_name);
    if (!access_.allowed) {
      *status = kLoginForbidden;
      return FailedPrecondition("initiator " + info_.initiator_name + " may not discover");
    }
  } else {
    access_ = TargetAccess{true, true, std::nullopt, std::nullopt};
  }
  auth_required_ = access_.chap.has_value();
  return Status::Ok();
}

Status LoginNegotiator::HandleSecurity(const TextList& keys, TextList* answer, uint16_t* status) {
  *status = kLoginAuthFailed;
  if (state_ == State::kSecurity) {
    if (const std::string* methods = FindKey(keys, "AuthMethod")) {
      bool chap = false;
      bool none = false;
      for (auto m : SplitList(*methods)) {
        // First acceptable value in the initiator's order (list negotiation).
        if (m == "CHAP" && access_.chap && !chap && !none) chap = true;
        if (m == "None" && !auth_required_ && !chap && !none) none = true;
      }
      if (!chap && !none) {
        answer->push_back({"AuthMethod", "Reject"});
        return InvalidArgument(auth_required_ ? "initiator does not offer CHAP"
                                              : "initiator offers no usable AuthMethod");
      }
      answer->push_back({"AuthMethod", chap ? "CHAP" : "None"});
      if (none) {
        state_ = State::kSecurityDone;
      } else {
        state_ = State::kChapAlgorithm;
      }
    }
  }
  if (state_ == State::kChapAlgorithm) {
    if (const std::string* a = FindKey(keys, "CHAP_A")) {
      RETURN_IF_ERROR(chap_.OnAlgorithms(*a, answer));
      state_ = State::kChapResponse;
      return Status::Ok();  // CHAP_N/R cannot be in the same PDU as CHAP_A
    }
  }
  if (state_ == State::kChapResponse) {
    if (FindKey(keys, "CHAP_R") != nullptr || FindKey(keys, "CHAP_N") != nullptr) {
      RETURN_IF_ERROR(chap_.OnResponse(keys, *access_.chap, access_.mutual, answer));
      info_.authenticated = true;
      state_ = State::kSecurityDone;
      return Status::Ok();
    }
  }
  // Stray CHAP keys out of sequence.
  for (const auto& kv : keys) {
    if (kv.key.rfind("CHAP_", 0) == 0 && state_ != State::kChapAlgorithm &&
        state_ != State::kChapResponse) {
      return InvalidArgument("unexpected " + kv.key);
    }
  }
  *status = kLoginSuccess;
  return Status::Ok();
}

LoginStep LoginNegotiator::OnRequest(const Pdu& req) {
  if (state_ == State::kFullFeature || state_ == State::kFailed) {
    return Fail(req, kLoginInvalidDuringLogin, FailedPrecondition("login already finished"));
  }
  if (++requests_ > kMaxLoginRequests) {
    return Fail(req, kLoginInitiatorError, InvalidArgument("too many login requests"));
  }
  if (req.opcode() != Opcode::kLoginRequest) {
    return Fail(req, kLoginInvalidDuringLogin,
                InvalidArgument(std::string("unexpected ") + OpcodeName(req.raw_opcode()) +
                                " during login"));
  }
  const bool first = state_ == State::kStart && pending_text_.empty();
  if (first) {
    stat_sn_ = req.exp_stat_sn();
    cmd_sn_ = req.cmd_sn();
    info_.isid = req.isid();
    info_.tsih = req.tsih();
    info_.cid = req.cid();
    info_.exp_cmd_sn = cmd_sn_;
    // We speak version 0x00 only (RFC 7143 §11.12.4).
    if (req.version_min() > 0x00) {
      return Fail(req, kLoginUnsupportedVersion, InvalidArgument("unsupported iSCSI version"));
    }
  } else if (req.isid() != info_.isid || req.tsih() != info_.tsih) {
    return Fail(req, kLoginInvalidDuringLogin, InvalidArgument("ISID/TSIH changed during login"));
  }
  if (req.transit() && req.continue_bit()) {
    return Fail(req, kLoginInvalidDuringLogin, InvalidArgument("login request with T and C"));
  }
  if (req.csg() == 2 || req.csg() == 3) {
    return Fail(req, kLoginInvalidDuringLogin, InvalidArgument("invalid CSG"));
  }
  if (req.transit() && (req.nsg() == 2 || req.nsg() <= req.csg())) {
    return Fail(req, kLoginInvalidDuringLogin, InvalidArgument("invalid NSG"));
  }

  // C bit: collect, answer with an empty response, wait for the rest.
  auto d = req.data();
  if (pending_text_.size() + d.size() > kMaxLoginText) {
    return Fail(req, kLoginInitiatorError, InvalidArgument("login text too long"));
  }
  pending_text_.insert(pending_text_.end(), d.begin(), d.end());
  if (req.continue_bit()) {
    LoginResponseFields f;
    f.csg = req.csg();
    f.isid = info_.isid;
    f.tsih = info_.tsih;
    f.itt = req.itt();
    f.sn = TargetSn{stat_sn_, cmd_sn_, cmd_sn_ + params_.queue_depth - 1};
    LoginStep step;
    step.response = BuildLoginResponse(f, {});
    ++stat_sn_;
    info_.next_stat_sn = stat_sn_;
    return step;
  }
  auto parsed = ParseText(pending_text_);
  pending_text_.clear();
  if (!parsed.ok()) return Fail(req, kLoginInitiatorError, parsed.status());
  const TextList& keys = *parsed;

  if (state_ == State::kStart) {
    uint16_t status = kLoginSuccess;
    Status st = HandleFirst(keys, &status);
    if (!st.ok()) return Fail(req, status, std::move(st));
    if (req.csg() == kStageOperational) {
      // Skipping security (libiscsi without credentials) is legal unless we require CHAP.
      if (auth_required_) {
        return Fail(req, kLoginAuthFailed,
                    InvalidArgument("CHAP required but the initiator skipped security"));
      }
      state_ = State::kOperational;
    } else {
      state_ = State::kSecurity;
    }
  }

  const bool in_security = state_ != State::kOperational;
  if ((in_security && req.csg() != kStageSecurity) ||
      (!in_security && req.csg() != kStageOperational)) {
    return Fail(req, kLoginInvalidDuringLogin, InvalidArgument("CSG does not match login stage"));
  }

  TextList answer;
  if (first_response_ && info_.type == SessionType::kNormal) {
    // RFC 7143 §13.9: in the first response of a normal session.
    answer.push_back({"TargetPortalGroupTag", std::to_string(options_.target_portal_group_tag)});
  }
  if (in_security) {
    uint16_t status = kLoginSuccess;
    Status st = HandleSecurity(keys, &answer, &status);
    if (!st.ok()) return Fail(req, status, std::move(st));
  } else {
    for (const auto& kv : keys) {
      if (IsSecurityKey(kv.key)) {
        return Fail(req, kLoginInitiatorError,
                    InvalidArgument(kv.key + " in operational negotiation"));
      }
    }
  }
  // Operational keys: answered in either stage (some initiators send them early).
  if (Status st = ops_->Negotiate(keys, &answer); !st.ok()) {
    return Fail(req, kLoginInitiatorError, std::move(st));
  }

  bool transit = false;
  uint8_t nsg = 0;
  if (req.transit()) {
    if (in_security && state_ != State::kSecurityDone) {
      if (state_ == State::kSecurity && !auth_required_ && FindKey(keys, "AuthMethod") == nullptr) {
        state_ = State::kSecurityDone;  // no AuthMethod offered and none needed
      } else if (state_ == State::kSecurity && auth_required_) {
        return Fail(req, kLoginAuthFailed,
                    InvalidArgument("initiator left security stage without authenticating"));
      }
    }
    if (!in_security || state_ == State::kSecurityDone) {
      transit = true;
      nsg = req.nsg();
    }
  }
  if (!in_security || (transit && nsg == kStageFullFeature)) ops_->AppendDeclarations(&answer);

  LoginOutcome outcome = LoginOutcome::kContinue;
  if (transit && nsg == kStageFullFeature) {
    state_ = State::kFullFeature;
    info_.params = ops_->params();
    outcome = LoginOutcome::kCompleted;
  } else if (transit && nsg == kStageOperational) {
    state_ = State::kOperational;
  }
  LoginStep step = Respond(req, transit, nsg, answer, outcome);
  if (outcome == LoginOutcome::kCompleted && step.outcome == LoginOutcome::kFailed) {
    state_ = State::kFailed;
  }
  return step;
}

}  // namespace scoria::target
