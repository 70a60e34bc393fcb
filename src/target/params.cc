#include "target/params.h"

#include <algorithm>
#include <array>
#include <optional>

namespace scoria::target {

const char* SessionTypeName(SessionType t) {
  return t == SessionType::kDiscovery ? "Discovery" : "Normal";
}

namespace {

constexpr uint64_t kMaxSegment = 16777215;

bool IsLoginLevelKey(std::string_view k) {
  return k == "InitiatorName" || k == "TargetName" || k == "SessionType" || k == "InitiatorAlias" ||
         k == "AuthMethod" || k.rfind("CHAP_", 0) == 0;
}

// Keys RFC 7143 §13 declares Irrelevant in a Discovery session.
bool IrrelevantInDiscovery(std::string_view k) {
  static constexpr std::array<std::string_view, 8> kKeys = {
      "MaxConnections",   "InitialR2T",        "ImmediateData",  "MaxBurstLength",
      "FirstBurstLength", "MaxOutstandingR2T", "DataPDUInOrder", "DataSequenceInOrder"};
  return std::find(kKeys.begin(), kKeys.end(), k) != kKeys.end();
}

std::optional<bool> ParseBool(std::string_view v) {
  if (v == "Yes") return true;
  if (v == "No") return false;
  return std::nullopt;
}

const char* YesNo(bool b) { return b ? "Yes" : "No"; }

// Answers a digest list: the first offered value we allow. Returns the chosen value or
// nullopt (-> Reject).
std::optional<bool> PickDigest(std::string_view offer, bool allow_crc, bool allow_none) {
  for (std::string_view v : SplitList(offer)) {
    if (v == "CRC32C" && allow_crc) return true;
    if (v == "None" && allow_none) return false;
  }
  return std::nullopt;
}

}  // namespace

OperationalNegotiator::OperationalNegotiator(const TargetParams& target, SessionType type)
    : target_(target), type_(type) {}

Status OperationalNegotiator::Negotiate(const TextList& offer, TextList* answer) {
  std::optional<size_t> first_burst_answer;
  for (const KeyValue& kv : offer) {
    const std::string& k = kv.key;
    const std::string& v = kv.value;
    if (IsLoginLevelKey(k)) continue;
    // Answers to offers we never made ("NotUnderstood", "Reject", "Irrelevant") need nothing.
    if (v == "NotUnderstood" || v == "Irrelevant" || v == "Reject") continue;
    if (std::find(seen_.begin(), seen_.end(), k) != seen_.end()) {
      return InvalidArgument("key " + k + " negotiated twice");
    }
    if (seen_.size() < 1024) seen_.push_back(k);

    auto reply = [&](std::string value) { answer->push_back({k, std::move(value)}); };
    auto number = [&](uint64_t lo, uint64_t hi) -> std::optional<uint32_t> {
      auto n = ParseNumber(v, hi);
      if (!n.ok() || *n < lo) return std::nullopt;
      return static_cast<uint32_t>(*n);
    };

    if (type_ == SessionType::kDiscovery && IrrelevantInDiscovery(k)) {
      reply("Irrelevant");
      continue;
    }
    if (k == "HeaderDigest" || k == "DataDigest") {
      bool hdr = k == "HeaderDigest";
      auto pick =
          hdr ? PickDigest(v, target_.allow_header_digest_crc32c, target_.allow_header_digest_none)
              : PickDigest(v, target_.allow_data_digest_crc32c, target_.allow_data_digest_none);
      if (!pick) {
        reply("Reject");
        continue;
      }
      (hdr ? params_.header_digest : params_.data_digest) = *pick;
      reply(*pick ? "CRC32C" : "None");
    } else if (k == "MaxRecvDataSegmentLength") {
      // Declarative: the initiator's receive limit. Not answered (our own declaration uses the
      // same key, so "Reject" would read as a second declaration): a bad value fails the login.
      auto n = number(512, kMaxSegment);
      if (!n) return InvalidArgument("invalid MaxRecvDataSegmentLength " + v);
      params_.max_xmit_data_segment_length = *n;
    } else if (k == "FirstBurstLength") {
      auto n = number(512, kMaxSegment);
      if (!n) {
        reply("Reject");
        continue;
      }
      params_.first_burst_length = std::min(*n, target_.first_burst_length);
      first_burst_offered_ = true;
      first_burst_answer = answer->size();
      reply(std::to_string(params_.first_burst_length));
    } else if (k == "MaxBurstLength") {
      auto n = number(512, kMaxSegment);
      if (!n) {
        reply("Reject");
        continue;
      }
      params_.max_burst_length = std::min(*n, target_.max_burst_length);
      reply(std::to_string(params_.max_burst_length));
    } else if (k == "InitialR2T" || k == "ImmediateData" || k == "DataPDUInOrder" ||
               k == "DataSequenceInOrder" || k == "IFMarker" || k == "OFMarker") {
      auto b = ParseBool(v);
      if (!b) {
        reply("Reject");
        continue;
      }
      bool r;
      if (k == "InitialR2T") {
        r = params_.initial_r2t = *b || target_.initial_r2t;
      } else if (k == "ImmediateData") {
        r = params_.immediate_data = *b && target_.immediate_data;
      } else if (k == "DataPDUInOrder") {
        r = params_.data_pdu_in_order = true;  // OR with our Yes
      } else if (k == "DataSequenceInOrder") {
        r = params_.data_sequence_in_order = true;
      } else {
        r = false;  // markers: AND with our No
      }
      reply(YesNo(r));
    } else if (k == "MaxOutstandingR2T") {
      auto n = number(1, 65535);
      if (!n) {
        reply("Reject");
        continue;
      }
      params_.max_outstanding_r2t = std::min(*n, target_.max_outstanding_r2t);
      reply(std::to_string(params_.max_outstanding_r2t));
    } else if (k == "ErrorRecoveryLevel") {
      auto n = number(0, 2);
      if (!n) {
        reply("Reject");
        continue;
      }
      params_.error_recovery_level = std::min(*n, target_.error_recovery_level);
      reply(std::to_string(params_.error_recovery_level));
    } else if (k == "MaxConnections") {
      auto n = number(1, 65535);
      if (!n) {
        reply("Reject");
        continue;
      }
      params_.max_connections = std::min(*n, target_.max_connections);
      reply(std::to_string(params_.max_connections));
    } else if (k == "DefaultTime2Wait") {
      auto n = number(0, 3600);
      if (!n) {
        reply("Reject");
        continue;
      }
      params_.default_time2wait = std::max(*n, target_.default_time2wait);
      reply(std::to_string(params_.default_time2wait));
    } else if (k == "DefaultTime2Retain") {
      auto n = number(0, 3600);
      if (!n) {
        reply("Reject");
        continue;
      }
      params_.default_time2retain = std::min(*n, target_.default_time2retain);
      reply(std::to_string(params_.default_time2retain));
    } else if (k == "IFMarkInt" || k == "OFMarkInt") {
      reply("Reject");  // RFC 7143 §13.25: obsolete; Reject
    } else if (k == "iSCSIProtocolLevel") {
      auto n = number(0, 31);
      if (!n) {
        reply("Reject");
        continue;
      }
      reply(std::to_string(std::min<uint32_t>(*n, 1)));  // 1 = RFC 7143 (RFC 7144 §2.1)
    } else if (k == "TaskReporting") {
      // RFC 7144 §13.23: list; we implement plain RFC 3720 semantics only.
      bool ok = false;
      for (auto item : SplitList(v)) ok = ok || item == "RFC3720";
      reply(ok ? "RFC3720" : "Reject");
    } else if (k == "TargetAlias" || k == "TargetAddress" || k == "TargetPortalGroupTag") {
      reply("Reject");  // the target declares these; an initiator may not
    } else {
      reply("NotUnderstood");
    }
  }
  // RFC 7143 §13.14: FirstBurstLength is Irrelevant when InitialR2T=Yes and ImmediateData=No,
  // and must not exceed MaxBurstLength.
  if (first_burst_answer) {
    if (params_.initial_r2t && !params_.immediate_data) {
      (*answer)[*first_burst_answer].value = "Irrelevant";
    } else if (params_.first_burst_length > params_.max_burst_length) {
      params_.first_burst_length = params_.max_burst_length;
      (*answer)[*first_burst_answer].value = std::to_string(params_.first_burst_length);
    }
  }
  if (!first_burst_offered_ && params_.first_burst_length > params_.max_burst_length) {
    params_.first_burst_length = params_.max_burst_length;
  }
  return Status::Ok();
}

void OperationalNegotiator::AppendDeclarations(TextList* answer) {
  if (declared_) return;
  declared_ = true;
  params_.max_recv_data_segment_length = target_.max_recv_data_segment_length;
  answer->push_back(
      {"MaxRecvDataSegmentLength", std::to_string(target_.max_recv_data_segment_length)});
  if (type_ == SessionType::kNormal && !target_.target_alias.empty()) {
    answer->push_back({"TargetAlias", target_.target_alias});
  }
}

}  // namespace scoria::target
