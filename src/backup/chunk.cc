// Chunk ids, the chunk object encoding and its checks (chunk.h; docs/format/backup.md).
#include "backup/chunk.h"

#include <openssl/evp.h>
#include <zstd.h>

#include <algorithm>
#include <cstddef>
#include <cstring>

namespace scoria::backup {
namespace {

constexpr char kHexDigits[] = "0123456789abcdef";

uint32_t HeaderCheck(const ChunkHeaderV1& h) {
  ChunkId d = Sha256(
      std::span(reinterpret_cast<const std::byte*>(&h), offsetof(ChunkHeaderV1, header_check)));
  uint32_t v;
  std::memcpy(&v, d.data(), sizeof v);
  return v;
}

}  // namespace

std::string ToHex(const ChunkId& id) {
  std::string s(64, '0');
  for (size_t i = 0; i < id.size(); ++i) {
    s[2 * i] = kHexDigits[id[i] >> 4];
    s[2 * i + 1] = kHexDigits[id[i] & 15];
  }
  return s;
}

Result<ChunkId> ChunkIdFromHex(std::string_view hex) {
  if (hex.size() != 64) return InvalidArgument("chunk id must be 64 hex digits");
  ChunkId id{};
  for (size_t i = 0; i < 64; ++i) {
    char c = hex[i];
    int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (v < 0) return InvalidArgument("chunk id must be 64 lower-case hex digits");
    id[i / 2] = static_cast<uint8_t>(id[i / 2] | (i % 2 ? v : v << 4));
  }
  return id;
}

std::string ChunkObjectName(const ChunkId& id) {
  std::string hex = ToHex(id);
  return std::string(kChunkPrefix) + hex.substr(0, 2) + "/" + hex;
}

ChunkId Sha256(std::span<const std::byte> data) {
  ChunkId out{};
  unsigned int len = 0;
  // EVP_Digest picks the SHA-NI implementation when the CPU has it.
  EVP_Digest(data.data(), data.size(), out.data(), &len, EVP_sha256(), nullptr);
  return out;
}

bool IsAllZero(std::span<const std::byte> data) {
  // Word-at-a-time scan; the compiler vectorises the loop.
  const std::byte* p = data.data();
  size_t n = data.size();
  size_t i = 0;
  for (; i + 64 <= n; i += 64) {
    uint64_t acc = 0;
    for (size_t k = 0; k < 64; k += 8) {
      uint64_t w;
      std::memcpy(&w, p + i + k, 8);
      acc |= w;
    }
    if (acc != 0) return false;
  }
  for (; i < n; ++i) {
    if (p[i] != std::byte{0}) return false;
  }
  return true;
}

ChunkCodec::ChunkCodec(int zstd_level)
    : level_(zstd_level), cctx_(ZSTD_createCCtx()), dctx_(ZSTD_createDCtx()) {}

ChunkCodec::~ChunkCodec() {
  ZSTD_freeCCtx(cctx_);
  ZSTD_freeDCtx(dctx_);
}

Status ChunkCodec::Encode(std::span<const std::byte> raw, std::vector<std::byte>& out) {
  if (raw.size() > kMaxChunkSize) return InvalidArgument("chunk larger than the maximum");
  if (cctx_ == nullptr) return Internal("zstd: cannot allocate a compression context");
  const size_t bound = ZSTD_compressBound(raw.size());
  out.resize(sizeof(ChunkHeaderV1) + std::max(bound, raw.size()));
  std::byte* payload = out.data() + sizeof(ChunkHeaderV1);
  size_t n = ZSTD_compressCCtx(cctx_, payload, bound, raw.data(), raw.size(), level_);
  if (ZSTD_isError(n)) return Internal(std::string("zstd compress: ") + ZSTD_getErrorName(n));
  ChunkHeaderV1 h{};
  std::memcpy(h.magic, kChunkMagic, sizeof h.magic);
  h.version = kChunkVersion;
  if (n < raw.size()) {
    h.codec = static_cast<uint8_t>(ChunkCodecId::kZstd);
  } else {
    // Incompressible: keep the plaintext (no decompression cost on restore).
    h.codec = static_cast<uint8_t>(ChunkCodecId::kNone);
    std::memcpy(payload, raw.data(), raw.size());
    n = raw.size();
  }
  h.raw_length = static_cast<uint32_t>(raw.size());
  h.payload_length = static_cast<uint32_t>(n);
  h.header_check = HeaderCheck(h);
  std::memcpy(out.data(), &h, sizeof h);
  out.resize(sizeof h + n);
  return Status::Ok();
}

Status ChunkCodec::Decode(std::span<const std::byte> object, const ChunkId& expected,
                          uint32_t expected_raw_length, std::vector<std::byte>& out) {
  if (object.size() < sizeof(ChunkHeaderV1)) {
    return Internal("object of " + std::to_string(object.size()) +
                    " bytes is shorter than a chunk header");
  }
  ChunkHeaderV1 h;
  std::memcpy(&h, object.data(), sizeof h);
  if (std::memcmp(h.magic, kChunkMagic, sizeof h.magic) != 0) return Internal("bad magic");
  if (h.header_check != HeaderCheck(h)) return Internal("header checksum mismatch");
  if (h.version != kChunkVersion) {
    return Internal("unknown chunk version " + std::to_string(h.version));
  }
  if (h.payload_length != object.size() - sizeof h) {
    return Internal("payload is " + std::to_string(object.size() - sizeof h) +
                    " bytes, header says " + std::to_string(h.payload_length));
  }
  if (h.raw_length != expected_raw_length) {
    return Internal("length " + std::to_string(h.raw_length) + ", expected " +
                    std::to_string(expected_raw_length));
  }
  std::span<const std::byte> payload = object.subspan(sizeof h);
  out.resize(h.raw_length);
  switch (static_cast<ChunkCodecId>(h.codec)) {
    case ChunkCodecId::kNone:
      if (payload.size() != h.raw_length) return Internal("raw payload length mismatch");
      std::memcpy(out.data(), payload.data(), payload.size());
      break;
    case ChunkCodecId::kZstd: {
      if (dctx_ == nullptr) return Internal("zstd: cannot allocate a decompression context");
      size_t n = ZSTD_decompressDCtx(dctx_, out.data(), out.size(), payload.data(), payload.size());
      if (ZSTD_isError(n)) return Internal(std::string("zstd: ") + ZSTD_getErrorName(n));
      if (n != h.raw_length) {
        return Internal("decompressed " + std::to_string(n) + " bytes, expected " +
                        std::to_string(h.raw_length));
      }
      break;
    }
    default:
      return Internal("unknown codec " + std::to_string(h.codec));
  }
  ChunkId got = Sha256(out);
  if (got != expected) return Internal("sha256 mismatch: content is " + ToHex(got));
  return Status::Ok();
}

}  // namespace scoria::backup
