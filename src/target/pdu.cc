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

bool AhsWellFormed(std::span<const uint8_t> ahs) {
  return WalkAhs(ahs, [](uint8_t, std::span<const uint8_t>) {});
}

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
  iovec parts[3];
  const size_t n = Iovecs(parts);
  out->insert(out->end(), parts, parts + n);
}

size_t EncodedPdu::Iovecs(iovec (&out)[3]) const {
  size_t n = 0;
  out[n++] = {const_cast<uint8_t*>(head()), head_len_};
  if (!data_.empty()) out[n++] = {const_cast<uint8_t*>(data_.data()), data_.size()};
  if (tail_len_ > 0) out[n++] = {const_cast<uint8_t*>(tail_.data()), tail_len_};
  return n;
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

}  // namespace scoria::target
