#include "target/pdu_parser.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "target/digest.h"

namespace scoria::target {

const char* ParseErrorName(ParseError e) {
  switch (e) {
    case ParseError::kNone:
      return "none";
    case ParseError::kHeaderDigest:
      return "header digest error";
    case ParseError::kDataSegmentTooLong:
      return "data segment too long";
    case ParseError::kBadAhs:
      return "malformed AHS";
  }
  return "unknown";
}

Status PduParser::Fail(ParseError e, std::string msg) {
  error_ = e;
  return InvalidArgument(std::move(msg));
}

Result<size_t> PduParser::Feed(std::span<const uint8_t> in, std::vector<ReceivedPdu>* out,
                               size_t max_pdus) {
  if (error_ != ParseError::kNone) {
    return InvalidArgument(std::string("iSCSI stream already failed: ") + ParseErrorName(error_));
  }
  size_t pos = 0;
  size_t emitted = 0;
  while (emitted < max_pdus && pos < in.size()) {
    if (state_ == State::kBhs && have_ == 0) {
      // A new PDU: the options in force now apply to all of it.
      pdu_digests_ = options_.digests;
      want_ = kBhsLength;
    }
    uint8_t* dst = nullptr;
    switch (state_) {
      case State::kBhs:
        dst = bhs_.data();
        break;
      case State::kAhs:
        dst = ahs_.data();
        break;
      case State::kHeaderDigest:
      case State::kDataDigest:
        dst = digest_;
        break;
      case State::kData:
        dst = sink_data_ != nullptr ? sink_data_ : data_.data();
        break;
      case State::kPad:
        dst = pad_;
        break;
    }
    size_t n = std::min(want_ - have_, in.size() - pos);
    if (n > 0) {
      std::memcpy(dst + have_, in.data() + pos, n);
      have_ += n;
      pos += n;
    }
    if (have_ < want_) break;

    // The current part is complete: check it, then move to the next non-empty part.
    bool digest_error = false;
    switch (state_) {
      case State::kBhs: {
        data_length_ = (uint32_t{bhs_[5]} << 16) | (uint32_t{bhs_[6]} << 8) | bhs_[7];
        if (data_length_ > options_.max_data_segment_length) {
          return Fail(ParseError::kDataSegmentTooLong,
                      "DataSegmentLength " + std::to_string(data_length_) + " exceeds " +
                          std::to_string(options_.max_data_segment_length));
        }
        ahs_.assign(bhs_[4] * 4u, 0);
        break;
      }
      case State::kAhs:
        if (!AhsWellFormed(ahs_)) {
          return Fail(ParseError::kBadAhs, "AHS entries do not match TotalAHSLength");
        }
        break;
      case State::kHeaderDigest: {
        Crc32cState crc;
        crc.Update(bhs_);
        crc.Update(ahs_);
        if (crc.Finish() != LoadDigest(digest_)) {
          return Fail(ParseError::kHeaderDigest, "header digest mismatch");
        }
        break;
      }
      case State::kData:
      case State::kPad:
        break;
      case State::kDataDigest: {
        Crc32cState crc;
        crc.Update({sink_data_ != nullptr ? sink_data_ : data_.data(), data_length_});
        crc.Update({pad_, PaddedLength(data_length_) - data_length_});
        digest_error = crc.Finish() != LoadDigest(digest_);
        break;
      }
    }

    // Next part.
    State next = state_;
    bool done = false;
    for (;;) {
      if (next == State::kDataDigest) {
        done = true;
        break;
      }
      next = static_cast<State>(static_cast<int>(next) + 1);
      size_t size = 0;
      switch (next) {
        case State::kBhs:
          break;
        case State::kAhs:
          size = ahs_.size();
          break;
        case State::kHeaderDigest:
          size = pdu_digests_.header ? kDigestLength : 0;
          break;
        case State::kData:
          size = data_length_;
          break;
        case State::kPad:
          size = PaddedLength(data_length_) - data_length_;
          break;
        case State::kDataDigest:
          size = pdu_digests_.data && data_length_ > 0 ? kDigestLength : 0;
          break;
      }
      if (size > 0) {
        if (next == State::kData) {
          // Header checked: the data may go straight to its final place.
          std::span<uint8_t> dest = sink_ ? sink_(bhs_, data_length_) : std::span<uint8_t>();
          if (dest.size() == data_length_) {
            sink_data_ = dest.data();
          } else {
            data_.assign(size, 0);
          }
        }
        want_ = size;
        break;
      }
    }
    have_ = 0;
    if (done) {
      Emit(out, digest_error);
      ++emitted;
      state_ = State::kBhs;
      want_ = kBhsLength;
    } else {
      state_ = next;
    }
  }
  return pos;
}

void PduParser::Emit(std::vector<ReceivedPdu>* out, bool digest_error) {
  ReceivedPdu r{Pdu(bhs_), digest_error};
  if (!ahs_.empty()) r.pdu.set_ahs(std::move(ahs_));
  ahs_.clear();
  if (!digest_error && data_length_ > 0) {
    if (sink_data_ != nullptr) {
      r.pdu.set_data_view({sink_data_, data_length_});
    } else {
      r.pdu.set_data(std::move(data_));
    }
  }
  data_.clear();
  sink_data_ = nullptr;
  out->push_back(std::move(r));
}

}  // namespace scoria::target
