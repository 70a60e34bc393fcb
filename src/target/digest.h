// CRC32C (Castagnoli) for iSCSI header and data digests (RFC 7143 §13.1, test vectors RFC 3720
// B.4), computed with ISA-L's crc32_iscsi.
//
// Model: the digest is the standard CRC-32C: initial register 0xffffffff, reflected polynomial
// 0x82F63B78, final XOR 0xffffffff. ISA-L's crc32_iscsi(buf, len, init) takes and returns the
// raw (un-inverted) register, so Crc32c() passes 0xffffffff and inverts the result; an
// incremental computation chains the raw register (Crc32cState). On the wire the 4 digest
// bytes travel least-significant byte first (libiscsi, Linux and FreeBSD all assemble the
// received digest that way), unlike every other multi-byte iSCSI field, which is big-endian.
//
// Threading: pure functions, callable from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace scoria::target {

inline constexpr size_t kDigestLength = 4;

// CRC32C of `data` (final value, ready to store with StoreDigest).
uint32_t Crc32c(std::span<const uint8_t> data);

// Incremental CRC32C over several buffers (BHS + AHS, or data + padding).
class Crc32cState {
 public:
  void Update(std::span<const uint8_t> data);
  uint32_t Finish() const { return ~reg_; }

 private:
  uint32_t reg_ = 0xffffffffu;
};

// Wire form of a digest: least-significant byte first.
inline void StoreDigest(uint32_t crc, uint8_t out[kDigestLength]) {
  out[0] = static_cast<uint8_t>(crc);
  out[1] = static_cast<uint8_t>(crc >> 8);
  out[2] = static_cast<uint8_t>(crc >> 16);
  out[3] = static_cast<uint8_t>(crc >> 24);
}
inline uint32_t LoadDigest(const uint8_t in[kDigestLength]) {
  return static_cast<uint32_t>(in[0]) | static_cast<uint32_t>(in[1]) << 8 |
         static_cast<uint32_t>(in[2]) << 16 | static_cast<uint32_t>(in[3]) << 24;
}

}  // namespace scoria::target
