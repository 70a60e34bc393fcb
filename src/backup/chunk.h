// Chunks: the unit of deduplication and of integrity in a backup repository.
// Format frozen in docs/format/backup.md ("Chunk objects"); this header is its code.
//
// Model: a volume is cut into fixed chunks of RepositoryConfig::chunk_size bytes (4 MiB by
// default; the last chunk of a volume may be shorter). A chunk's id is the SHA-256 of its
// plaintext bytes; it is stored once per repository as the object "chunks/<2 hex>/<64 hex>"
// whatever backup or volume it came from. The object is a 32-byte header (ChunkHeaderV1:
// magic, version, codec, raw and payload lengths, reserved bytes and a checksum of the header
// itself; the payload needs none, the id already checks the plaintext) followed by the payload: the
// zstd frame of the plaintext, or the plaintext itself when zstd does not make it smaller. An
// all-zero chunk is never stored (the manifest records a hole).
//
// Integrity: DecodeChunk checks the header, decompresses, and requires the plaintext's
// length and SHA-256 to be the ones the caller expects (from the manifest), so a corrupted,
// truncated or swapped object is always detected, never returned.
//
// Threading: ChunkCodec holds zstd contexts: one per thread (not thread-safe); the free
// functions are thread-safe.
#pragma once

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

struct ZSTD_CCtx_s;
struct ZSTD_DCtx_s;

namespace scoria::backup {

static_assert(std::endian::native == std::endian::little,
              "on-disk structs are little-endian and written with memcpy");

inline constexpr uint32_t kDefaultChunkSize = 4u << 20;  // 4 MiB
inline constexpr uint32_t kMinChunkSize = 64u << 10;     // 64 KiB
inline constexpr uint32_t kMaxChunkSize = 64u << 20;     // 64 MiB

// SHA-256 of a chunk's plaintext.
using ChunkId = std::array<uint8_t, 32>;

std::string ToHex(const ChunkId& id);
// InvalidArgument unless `hex` is 64 lower-case hex digits.
[[nodiscard]] Result<ChunkId> ChunkIdFromHex(std::string_view hex);
// "chunks/ab/ab12...ef".
std::string ChunkObjectName(const ChunkId& id);
inline constexpr std::string_view kChunkPrefix = "chunks/";

// SHA-256 (OpenSSL EVP; SHA-NI where the CPU has it).
ChunkId Sha256(std::span<const std::byte> data);
// True when every byte is zero (such a chunk is a hole, never stored).
bool IsAllZero(std::span<const std::byte> data);

enum class ChunkCodecId : uint8_t {
  kNone = 0,  // payload is the plaintext
  kZstd = 1,  // payload is one zstd frame
};

// The header of a chunk object. Little-endian, written and read with memcpy.
struct ChunkHeaderV1 {
  char magic[4];            // "SCCK"
  uint16_t version;         // 1
  uint8_t codec;            // ChunkCodecId
  uint8_t reserved0;        // 0
  uint32_t raw_length;      // plaintext bytes
  uint32_t payload_length;  // bytes after the header
  uint8_t reserved[12];     // 0; readers of version 1 ignore them
  uint32_t header_check;    // first 4 bytes (little-endian) of SHA-256 of the 28 bytes above
};
static_assert(sizeof(ChunkHeaderV1) == 32, "chunk header is frozen at 32 bytes");
inline constexpr char kChunkMagic[4] = {'S', 'C', 'C', 'K'};
inline constexpr uint16_t kChunkVersion = 1;

// Encodes and decodes chunk objects. Holds one zstd compression and one decompression
// context, reused across calls (allocating them per chunk costs more than compressing a
// small chunk). Not thread-safe: one per worker thread.
class ChunkCodec {
 public:
  explicit ChunkCodec(int zstd_level = 1);
  ~ChunkCodec();
  ChunkCodec(const ChunkCodec&) = delete;
  ChunkCodec& operator=(const ChunkCodec&) = delete;

  // The chunk object for `raw` (header + payload), zstd-compressed at the codec's level, or
  // stored raw when that is not smaller. `out` is reused (resized). Internal on a zstd error.
  [[nodiscard]] Status Encode(std::span<const std::byte> raw, std::vector<std::byte>& out);

  // Checks and decodes a chunk object into `out` (resized to the plaintext): the header
  // (magic, version, codec, header checksum, payload length = object length - 32), the
  // plaintext length (must be expected_raw_length) and its SHA-256 (must be `expected`).
  // Any mismatch is an Internal error whose message says what was wrong ("bad magic",
  // "length 4194304, expected 1048576", "sha256 mismatch: content is <hex>"); the caller adds
  // which chunk and which volume offset.
  [[nodiscard]] Status Decode(std::span<const std::byte> object, const ChunkId& expected,
                              uint32_t expected_raw_length, std::vector<std::byte>& out);

 private:
  int level_;
  ZSTD_CCtx_s* cctx_ = nullptr;
  ZSTD_DCtx_s* dctx_ = nullptr;
};

}  // namespace scoria::backup
