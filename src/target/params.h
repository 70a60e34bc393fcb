// Operational parameters of an iSCSI session and connection, and the rules for negotiating
// them at login (RFC 7143 §6.2, §13; reference notes 1.4).
//
// Model: the target never offers; it only answers what the initiator offers, plus
// declarations (MaxRecvDataSegmentLength) that need no answer. So one round trip always
// suffices, which libiscsi relies on (it logs in with CSG=1 -> FFP in one PDU).
// OperationalNegotiator consumes the initiator's keys (possibly over several Login PDUs),
// appends an answer for every key that needs one, and produces SessionParams at the end.
// Rules:
//   list    HeaderDigest, DataDigest, TaskReporting: first value in the initiator's list that
//           we allow; none -> "Reject". HeaderDigest/DataDigest are always answered when
//           offered (libiscsi treats a missing answer as CRC32C).
//   min     FirstBurstLength, MaxBurstLength, MaxOutstandingR2T, ErrorRecoveryLevel,
//           MaxConnections, DefaultTime2Retain, iSCSIProtocolLevel.
//   max     DefaultTime2Wait.
//   OR      InitialR2T, DataPDUInOrder, DataSequenceInOrder.
//   AND     ImmediateData, IFMarker, OFMarker (we say No to markers: RFC 7143 removed them).
//   declarative  MaxRecvDataSegmentLength (the initiator's receive limit: our send limit),
//           InitiatorName, InitiatorAlias, TargetName, SessionType: not answered.
//   Reject  IFMarkInt/OFMarkInt; target-only keys sent by the initiator (TargetAlias,
//           TargetAddress, TargetPortalGroupTag); out-of-range or malformed values (except
//           MaxRecvDataSegmentLength, whose bad value is an initiator error).
//   Irrelevant  session keys in a Discovery session (RFC 7143 §13: MaxConnections,
//           InitialR2T, ImmediateData, MaxBurstLength, FirstBurstLength, MaxOutstandingR2T,
//           DataPDUInOrder, DataSequenceInOrder); FirstBurstLength when InitialR2T=Yes and
//           ImmediateData=No.
//   NotUnderstood  everything else, including X-* and X#* extension keys.
// A key offered twice in one login is an initiator error (RFC 7143 §6.2: Login reject).
//
// Threading: plain values; one negotiator per login, used by the connection's thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "target/text.h"

namespace scoria::target {

enum class SessionType { kNormal, kDiscovery };
const char* SessionTypeName(SessionType t);

// What the target offers and accepts. One place documents each option's meaning and default.
struct TargetParams {
  // Our receive limit for data segments, declared to the initiator. Larger = fewer PDUs per
  // write, more memory per connection buffer. 512..16777215.
  uint32_t max_recv_data_segment_length = 262144;
  // Upper bound for unsolicited data (immediate + unsolicited Data-Out) per command; bounds
  // the buffer a write may take before we have chosen to accept it.
  uint32_t first_burst_length = 262144;
  // Upper bound for one solicited burst (one R2T) and one Data-In sequence.
  uint32_t max_burst_length = 1048576;
  // false = allow unsolicited Data-Out (saves a round trip per write); the result is the OR.
  bool initial_r2t = false;
  // true = allow data in the SCSI Command PDU; the result is the AND.
  bool immediate_data = true;
  uint32_t max_outstanding_r2t = 1;
  // Allowed digests. A digest costs CPU per byte (ISA-L: cheap); None must stay allowed for
  // initiators that cannot digest.
  bool allow_header_digest_crc32c = true;
  bool allow_header_digest_none = true;
  bool allow_data_digest_crc32c = true;
  bool allow_data_digest_none = true;
  uint32_t max_connections = 1;  // no MC/S
  uint32_t error_recovery_level = 0;
  uint32_t default_time2wait = 2;
  uint32_t default_time2retain = 20;
  // Command window advertised via MaxCmdSN (not a text key; used by the session layer).
  uint32_t queue_depth = 128;
  // Optional TargetAlias declared in the final login response of a normal session.
  std::string target_alias;
};

// The negotiated result. Defaults are RFC 7143's, which apply to keys nobody sent.
struct SessionParams {
  bool header_digest = false;  // CRC32C on headers, both directions, after login
  bool data_digest = false;
  // Our limit for received data segments (what we declared).
  uint32_t max_recv_data_segment_length = 8192;
  // The initiator's limit: our Data-In / Text Response segments must not exceed it.
  uint32_t max_xmit_data_segment_length = 8192;
  uint32_t first_burst_length = 65536;
  uint32_t max_burst_length = 262144;
  bool initial_r2t = true;
  bool immediate_data = true;
  uint32_t max_outstanding_r2t = 1;
  bool data_pdu_in_order = true;
  bool data_sequence_in_order = true;
  uint32_t error_recovery_level = 0;
  uint32_t max_connections = 1;
  uint32_t default_time2wait = 2;
  uint32_t default_time2retain = 20;
};

class OperationalNegotiator {
 public:
  OperationalNegotiator(const TargetParams& target, SessionType type);

  // Negotiates every key in `offer` except the login-level ones (InitiatorName, TargetName,
  // SessionType, InitiatorAlias, AuthMethod, CHAP_*), which the caller handles and must not
  // pass. Appends answers to *answer. InvalidArgument if a key was already negotiated in this
  // login or MaxRecvDataSegmentLength is out of range (the caller fails the login with 0x0200).
  Status Negotiate(const TextList& offer, TextList* answer);

  // Declarations the target makes once per login (MaxRecvDataSegmentLength; TargetAlias for
  // normal sessions). Appends them the first time it is called, nothing afterwards.
  void AppendDeclarations(TextList* answer);

  // The result so far (complete once the login reaches full feature phase).
  const SessionParams& params() const { return params_; }

 private:
  const TargetParams target_;
  const SessionType type_;
  SessionParams params_;
  std::vector<std::string> seen_;
  bool declared_ = false;
  bool first_burst_offered_ = false;
};

}  // namespace scoria::target
