// Text Requests in full feature phase: SendTargets (RFC 7143 §6.3, Appendix C) and the text
// exchange around it, including continuation in both directions.
//
// Model: TextExchange is the per-connection state of one text negotiation. Each Text Request
// goes in, one Text Response comes out:
//   - a request with C=1 is buffered and answered with an empty response carrying a TTT;
//   - a complete request is answered: SendTargets builds the target list from the visible
//     targets the caller supplies (already filtered by ACL, with the address the connection
//     arrived on); other keys get NotUnderstood (FFP renegotiation is not supported);
//   - a reply longer than the initiator's MaxRecvDataSegmentLength is split: C=1, F=0 and a
//     TTT; the initiator asks for the rest with an empty request echoing the TTT; the last
//     part has F=1, TTT=0xffffffff. Short replies always go in one F=1 PDU (libiscsi 1.19
//     rejects a C bit it does not need).
// A new request with TTT=0xffffffff abandons any unfinished exchange.
//
// StatSN: every Text Response is status-bearing; the caller passes the StatSN to use and
// advances it after each call. Threading: owned by the connection's thread.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/status.h"
#include "target/params.h"
#include "target/pdu.h"
#include "target/pdu_build.h"
#include "target/text.h"

namespace scoria::target {

struct DiscoveryTarget {
  std::string name;                    // iqn
  std::vector<std::string> addresses;  // "ip:port,tpgt", IPv6 as "[addr]:port,tpgt"
};

// "TargetName=<n>\0TargetAddress=<a>\0..." for each target, in order.
std::vector<uint8_t> EncodeSendTargets(const std::vector<DiscoveryTarget>& targets);

// The reply to the keys of one (reassembled) Text Request. `visible` is called at most once,
// only for SendTargets.
//   Discovery session: SendTargets=All -> every visible target; SendTargets=<iqn> -> that one.
//   Normal session: SendTargets= (empty) -> the session's target; SendTargets=<iqn> -> that
//   one if visible; SendTargets=All -> SendTargets=Reject (RFC 7143 Appendix C).
std::vector<uint8_t> AnswerTextRequest(
    const TextList& keys, SessionType type, const std::string& session_target,
    const std::function<std::vector<DiscoveryTarget>()>& visible);

class TextExchange {
 public:
  struct Options {
    SessionType type = SessionType::kDiscovery;
    std::string session_target;                    // normal sessions
    uint32_t max_xmit_data_segment_length = 8192;  // the initiator's MRDSL
    TextLimits limits;                             // for the reassembled request
  };
  explicit TextExchange(Options options) : options_(std::move(options)) {}

  // One Text Request in, one Text Response out. InvalidArgument on a malformed request (bad
  // text, unknown TTT, request too long): the caller answers with Reject 0x09/0x04.
  Result<Pdu> OnRequest(const Pdu& request, const TargetSn& sn,
                        const std::function<std::vector<DiscoveryTarget>()>& visible);

  bool in_progress() const { return ttt_ != kReservedTag; }

 private:
  Pdu NextChunk(const Pdu& request, const TargetSn& sn);

  Options options_;
  std::vector<uint8_t> request_text_;
  std::vector<uint8_t> reply_;
  size_t reply_pos_ = 0;
  uint32_t ttt_ = kReservedTag;
  uint32_t next_ttt_ = 1;
};

}  // namespace scoria::target
