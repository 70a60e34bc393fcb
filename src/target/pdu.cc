#include "target/pdu.h"

#include <algorithm>
#include <cstring>
#include <utility>

namespace scoria::target {

const char* OpcodeName(uint8_t raw_opcode) {
  switch (raw_opcode & kOpcodeMask) {
    case 0x00:
      return "NOP-Out";
    case 0x01:
      return "SCSI Command";
    case 0x02:
      return "Task Management Request";
    case 0x03:
      return "Login Request";
    case 0x04:
      return "Text Request";
    case 0x05:
      return "SCSI Data-Out";
    case 0x06:
      return "Logout Request";
    case 0x10:
      return "SNACK";
    case 0x20:
      return "NOP-In";
    case 0x21:
      return "SCSI Response";
    case 0x22:
      return "Task Management Response";
    case 0x23:
      return "Login Response";
    case 0x24:
      return "Text Response";
    case 0x25:
      return "SCSI Data-In";
    case 0x26:
      return "Logout Response";
    case 0x31:
      return "R2T";
    case 0x32:
      return "Asynchronous Message";
    case 0x3f:
      return "Reject";
  }
  return "Unknown";
}

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

uint64_t EncodeLun(uint16_t lun) {
  if (lun < 256) return static_cast<uint64_t>(lun) << 48;
  // Flat space addressing (SAM-5 §4.7.7), method 01b.
  uint64_t b0 = 0x40 | ((lun >> 8) & 0x3f);
  return b0 << 56 | static_cast<uint64_t>(lun & 0xff) << 48;
}

uint16_t DecodeLun(uint64_t field) {
  uint8_t b0 = static_cast<uint8_t>(field >> 56);
  uint8_t b1 = static_cast<uint8_t>(field >> 48);
  switch (b0 >> 6) {
    case 0:  // peripheral device addressing; a non-zero bus id gives a LUN >= 256 we never map
    case 1:  // flat space addressing
      return static_cast<uint16_t>((b0 & 0x3f) << 8 | b1);
    default:
      return 0xffff;  // logical unit / extended addressing: not used by our initiators
  }
}

Isid Pdu::isid() const {
  Isid v;
  std::memcpy(v.data(), &bhs_[8], v.size());
  return v;
}

void Pdu::set_isid(const Isid& v) { std::memcpy(&bhs_[8], v.data(), v.size()); }

void Pdu::set_ahs(std::vector<uint8_t> ahs) {
  ahs_ = std::move(ahs);
  bhs_[4] = static_cast<uint8_t>(ahs_.size() / 4);
}

void Pdu::set_data(std::vector<uint8_t> data) {
  data_ = std::move(data);
  view_.reset();
  Set24(5, static_cast<uint32_t>(data_.size()));
}

void Pdu::set_data_view(std::span<const uint8_t> data) {
  data_.clear();
  view_ = data;
  Set24(5, static_cast<uint32_t>(data.size()));
}

std::vector<uint8_t> Pdu::TakeData() {
  std::vector<uint8_t> d = std::move(data_);
  data_.clear();
  view_.reset();
  Set24(5, 0);
  return d;
}

namespace {

// Walks the AHS entries (RFC 7143 §11.2.2: AHSLength(2) AHSType(1) AHS-Specific(AHSLength),
// padded to 4). Calls fn(type, specific) for each; false if the entries do not tile exactly.
template <typename Fn>
bool WalkAhs(std::span<const uint8_t> ahs, Fn&& fn) {
  size_t off = 0;
  while (off < ahs.size()) {
    if (ahs.size() - off < 4) return false;
    size_t len = static_cast<size_t>(ahs[off]) << 8 | ahs[off + 1];
    size_t entry = PaddedLength(static_cast<uint32_t>(3 + len));
    if (entry > ahs.size() - off) return false;
    fn(ahs[off + 2], ahs.subspan(off + 3, len));
    off += entry;
  }
  return true;
}

}  // namespace

Result<std::vector<uint8_t>> Pdu::FullCdb() const {
  std::vector<uint8_t> cdb(bhs_.begin() + 32, bhs_.end());
  bool bad = false;
  bool ok = WalkAhs(ahs_, [&](uint8_t type, std::span<const uint8_t> spec) {
    if (type != kAhsExtendedCdb) return;
    // The specific part starts with a reserved byte, then CDB bytes 16 onwards.
    if (spec.empty()) {
      bad = true;
      return;
    }
    cdb.insert(cdb.end(), spec.begin() + 1, spec.end());
  });
  if (!ok || bad) return InvalidArgument("malformed extended CDB AHS");
  return cdb;
}

// ---------------------------------------------------------------------------------------------
// Encoding.

size_t EncodedSize(const Pdu& pdu, DigestConfig digests) {
  size_t n = kBhsLength + pdu.ahs().size() + (digests.header ? kDigestLength : 0);
  size_t d = pdu.data().size();
  if (d > 0) n += PaddedLength(static_cast<uint32_t>(d)) + (digests.data ? kDigestLength : 0);
  return n;
}

EncodedPdu::EncodedPdu(const Pdu& pdu, DigestConfig digests) : data_(pdu.data()) {
  head_len_ = kBhsLength + pdu.ahs().size() + (digests.header ? kDigestLength : 0);
  if (!pdu.ahs().empty()) big_head_.resize(head_len_);
  uint8_t* h = head();
  std::memcpy(h, pdu.bhs().data(), kBhsLength);
  h[4] = static_cast<uint8_t>(pdu.ahs().size() / 4);
  uint32_t dsl = static_cast<uint32_t>(data_.size());
  h[5] = static_cast<uint8_t>(dsl >> 16);
  h[6] = static_cast<uint8_t>(dsl >> 8);
  h[7] = static_cast<uint8_t>(dsl);
  if (!pdu.ahs().empty()) std::memcpy(h + kBhsLength, pdu.ahs().data(), pdu.ahs().size());
  if (digests.header) {
    size_t hlen = kBhsLength + pdu.ahs().size();
    StoreDigest(Crc32c(std::span<const uint8_t>(h, hlen)), h + hlen);
  }
  if (!data_.empty()) {
    size_t pad = PaddedLength(dsl) - dsl;
    tail_len_ = pad;  // tail_ is zero-initialised
    if (digests.data) {
      Crc32cState crc;
      crc.Update(data_);
      crc.Update(std::span<const uint8_t>(tail_.data(), pad));
      StoreDigest(crc.Finish(), tail_.data() + pad);
      tail_len_ += kDigestLength;
    }
  }
}

void EncodedPdu::AppendIovecs(std::vector<iovec>* out) const {
  out->push_back({const_cast<uint8_t*>(head()), head_len_});
  if (!data_.empty()) out->push_back({const_cast<uint8_t*>(data_.data()), data_.size()});
  if (tail_len_ > 0) out->push_back({const_cast<uint8_t*>(tail_.data()), tail_len_});
}

std::vector<uint8_t> EncodedPdu::Flatten() const {
  std::vector<uint8_t> out;
  out.reserve(size());
  out.insert(out.end(), head(), head() + head_len_);
  out.insert(out.end(), data_.begin(), data_.end());
  out.insert(out.end(), tail_.begin(), tail_.begin() + static_cast<ptrdiff_t>(tail_len_));
  return out;
}

void EncodeTo(const Pdu& pdu, DigestConfig digests, std::vector<uint8_t>* out) {
  EncodedPdu e(pdu, digests);
  std::vector<iovec> iov;
  e.AppendIovecs(&iov);
  out->reserve(out->size() + e.size());
  for (const iovec& v : iov) {
    const auto* p = static_cast<const uint8_t*>(v.iov_base);
    out->insert(out->end(), p, p + v.iov_len);
  }
}

// ---------------------------------------------------------------------------------------------
// Parser.

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
        if (!WalkAhs(ahs_, [](uint8_t, std::span<const uint8_t>) {})) {
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
