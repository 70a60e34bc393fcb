#include "target/discovery.h"

#include <algorithm>

namespace scoria::target {

std::vector<uint8_t> EncodeSendTargets(const std::vector<DiscoveryTarget>& targets) {
  std::vector<uint8_t> out;
  for (const auto& t : targets) {
    AppendText("TargetName", t.name, &out);
    for (const auto& a : t.addresses) AppendText("TargetAddress", a, &out);
  }
  return out;
}

std::vector<uint8_t> AnswerTextRequest(
    const TextList& keys, SessionType type, const std::string& session_target,
    const std::function<std::vector<DiscoveryTarget>()>& visible) {
  std::vector<uint8_t> out;
  for (const auto& kv : keys) {
    if (kv.key != "SendTargets") {
      AppendText(kv.key, "NotUnderstood", &out);
      continue;
    }
    std::string want;
    if (kv.value == "All") {
      if (type != SessionType::kDiscovery) {
        AppendText(kv.key, "Reject", &out);
        continue;
      }
    } else if (kv.value.empty()) {
      if (type == SessionType::kDiscovery) {
        AppendText(kv.key, "Reject", &out);
        continue;
      }
      want = session_target;
    } else {
      want = kv.value;
    }
    std::vector<DiscoveryTarget> targets = visible ? visible() : std::vector<DiscoveryTarget>{};
    if (!want.empty()) {
      std::erase_if(targets, [&](const DiscoveryTarget& t) { return t.name != want; });
    }
    std::vector<uint8_t> text = EncodeSendTargets(targets);
    out.insert(out.end(), text.begin(), text.end());
  }
  return out;
}

Pdu TextExchange::NextChunk(const Pdu& request, const TargetSn& sn) {
  size_t left = reply_.size() - reply_pos_;
  size_t n = std::min<size_t>(left, options_.max_xmit_data_segment_length);
  std::vector<uint8_t> chunk(reply_.begin() + static_cast<ptrdiff_t>(reply_pos_),
                             reply_.begin() + static_cast<ptrdiff_t>(reply_pos_ + n));
  reply_pos_ += n;
  bool last = reply_pos_ == reply_.size();
  if (last) {
    ttt_ = kReservedTag;
    reply_.clear();
    reply_pos_ = 0;
  } else if (ttt_ == kReservedTag) {
    ttt_ = next_ttt_++;
    if (next_ttt_ == kReservedTag) next_ttt_ = 1;
  }
  return BuildTextResponse(request.itt(), last ? kReservedTag : ttt_, last, !last, request.lun(),
                           sn, std::move(chunk));
}

Result<Pdu> TextExchange::OnRequest(const Pdu& request, const TargetSn& sn,
                                    const std::function<std::vector<DiscoveryTarget>()>& visible) {
  if (request.opcode() != Opcode::kTextRequest) return InvalidArgument("not a Text Request");
  if (request.ttt() == kReservedTag) {
    // A new exchange (abandons an unfinished one).
    if (request_text_.empty()) {
      reply_.clear();
      reply_pos_ = 0;
      ttt_ = kReservedTag;
    }
  } else if (request.ttt() != ttt_) {
    return InvalidArgument("Text Request with an unknown TTT");
  } else if (!reply_.empty()) {
    // The initiator asks for the next part of our reply.
    return NextChunk(request, sn);
  }

  auto d = request.data();
  if (request_text_.size() + d.size() > options_.limits.max_total_length) {
    request_text_.clear();
    return InvalidArgument("Text Request too long");
  }
  request_text_.insert(request_text_.end(), d.begin(), d.end());
  if (request.continue_bit()) {
    if (ttt_ == kReservedTag) {
      ttt_ = next_ttt_++;
      if (next_ttt_ == kReservedTag) next_ttt_ = 1;
    }
    return BuildTextResponse(request.itt(), ttt_, false, false, request.lun(), sn, {});
  }
  auto keys = ParseText(request_text_, options_.limits);
  request_text_.clear();
  ttt_ = kReservedTag;
  if (!keys.ok()) return keys.status();
  reply_ = AnswerTextRequest(*keys, options_.type, options_.session_target, visible);
  reply_pos_ = 0;
  return NextChunk(request, sn);
}

}  // namespace scoria::target
