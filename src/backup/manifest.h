// Manifest: the complete description of one backup (docs/format/backup.md "Manifests").
//
// Model: a manifest lists EVERY chunk index of the volume, 0 .. ceil(volume_size /
// chunk_size) - 1, as either a hole (reads back as zeroes; never stored) or a reference to a
// chunk object (its SHA-256 and the stored object's length). An incremental backup's manifest
// is as complete as a full one: it records parent_id for the API's bookkeeping only, and a
// restore or a verify never reads another manifest. Chunk i covers the volume bytes
// [i * chunk_size, min(volume_size, (i + 1) * chunk_size)).
//
// Encoding (frozen, version 1): a 128-byte ManifestHeaderV1 (magic "SCORIABM", version,
// sizes, counts, reserved bytes), the three ids as length-prefixed strings, one 40-byte
// ManifestEntryV1 per chunk index, and a trailing SHA-256 of everything before it. Decode
// refuses anything that does not check out (bad magic, unknown version, counts that do not
// match the volume size, trailing checksum) with InvalidArgument naming what was wrong.
//
// The JSON "record" (ManifestRecord) is the compact, human-readable metadata that the backup
// service puts into Cinder's export_record backup_url (cinder-api.md 5.3): enough to find the
// manifest in a repository again and to check it is the same one (its SHA-256).
//
// Threading: plain values and pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "backup/chunk.h"
#include "common/status.h"

namespace scoria::backup {

inline constexpr uint32_t kManifestVersion = 1;
inline constexpr char kManifestMagic[8] = {'S', 'C', 'O', 'R', 'I', 'A', 'B', 'M'};
inline constexpr std::string_view kManifestPrefix = "manifests/";

struct ChunkRef {
  bool hole = true;            // true: zeroes, nothing stored; id and stored_length unused (0)
  ChunkId id{};                // SHA-256 of the plaintext
  uint32_t stored_length = 0;  // bytes of the chunk object (header + payload)
  bool operator==(const ChunkRef&) const = default;
};

struct Manifest {
  uint32_t format_version = kManifestVersion;
  std::string backup_id;  // the API's backup id; also the manifest's object name
  std::string parent_id;  // "" for a full backup
  std::string volume_id;
  uint64_t volume_size = 0;  // bytes, a multiple of 512
  uint32_t chunk_size = kDefaultChunkSize;
  int64_t created_micros = 0;    // microseconds since the epoch, UTC
  std::vector<ChunkRef> chunks;  // exactly ChunkCount() entries

  uint64_t ChunkCount() const { return ChunkCountFor(volume_size, chunk_size); }
  static uint64_t ChunkCountFor(uint64_t volume_size, uint32_t chunk_size) {
    return chunk_size == 0 ? 0 : (volume_size + chunk_size - 1) / chunk_size;
  }
  // Plaintext bytes of chunk i (chunk_size except maybe the last one).
  uint32_t ChunkLength(uint64_t i) const;
  uint64_t ChunkOffset(uint64_t i) const { return i * chunk_size; }
  bool operator==(const Manifest&) const = default;
};

// Totals over a manifest (distinct = counted once per chunk id).
struct ManifestTotals {
  uint64_t data_chunks = 0;  // non-hole entries
  uint64_t hole_chunks = 0;
  uint64_t distinct_chunks = 0;  // distinct chunk ids referenced (Cinder's object_count)
  uint64_t stored_bytes = 0;     // sum of stored_length over distinct ids
  uint64_t data_bytes = 0;       // plaintext bytes of non-hole entries
};
ManifestTotals ComputeTotals(const Manifest& m);

// The on-disk header. Little-endian, written with memcpy.
struct ManifestHeaderV1 {
  char magic[8];         // "SCORIABM"
  uint32_t version;      // 1
  uint32_t header_size;  // 128: where the id strings start
  uint64_t volume_size;
  uint32_t chunk_size;
  uint32_t entry_size;   // 40: sizeof(ManifestEntryV1)
  uint64_t chunk_count;  // == ceil(volume_size / chunk_size)
  int64_t created_micros;
  uint32_t ids_length;   // bytes of the id strings block after the header
  uint32_t flags;        // 0; readers of version 1 refuse unknown flags
  uint8_t reserved[72];  // 0
};
static_assert(sizeof(ManifestHeaderV1) == 128, "manifest header is frozen at 128 bytes");

struct ManifestEntryV1 {
  uint8_t kind;            // 0 hole, 1 chunk
  uint8_t reserved[3];     // 0
  uint32_t stored_length;  // chunk: bytes of the chunk object; hole: 0
  uint8_t sha256[32];      // chunk: its id; hole: zeroes
};
static_assert(sizeof(ManifestEntryV1) == 40, "manifest entry is frozen at 40 bytes");

// Checks that `m` is well-formed (ids non-empty where required and valid object-name
// components, chunk size in [kMinChunkSize, kMaxChunkSize] and a multiple of 512, volume
// size a multiple of 512, chunks.size() == ChunkCount(), holes carry no id). InvalidArgument
// naming the first problem.
[[nodiscard]] Status ValidateManifest(const Manifest& m);

// Serialises a valid manifest (call ValidateManifest first; EncodeManifest does not).
std::vector<std::byte> EncodeManifest(const Manifest& m);
// Parses and checks an encoded manifest, including its trailing SHA-256 and ValidateManifest.
[[nodiscard]] Result<Manifest> DecodeManifest(std::span<const std::byte> data);
// SHA-256 of the encoded manifest (identifies one exact manifest in a record).
ChunkId ManifestDigest(std::span<const std::byte> encoded);

// What export_record carries about a backup's repository side.
struct ManifestRecord {
  uint32_t format_version = kManifestVersion;
  std::string backup_id;
  std::string parent_id;
  std::string volume_id;
  uint64_t volume_size = 0;
  uint32_t chunk_size = 0;
  int64_t created_micros = 0;
  uint64_t chunk_count = 0;
  uint64_t object_count = 0;    // distinct chunks referenced
  uint64_t stored_bytes = 0;    // their stored size
  std::string manifest_sha256;  // hex SHA-256 of the encoded manifest
  bool operator==(const ManifestRecord&) const = default;
};

ManifestRecord MakeRecord(const Manifest& m);
// {"format":"scoria-backup-manifest","format_version":1,"backup_id":...,...}: one line of
// JSON with sorted keys.
std::string RecordToJson(const ManifestRecord& r);
// InvalidArgument when `json` is not such an object (missing or mistyped field, unknown
// format or a newer format_version, bad sha256 hex). Unknown extra keys are ignored.
[[nodiscard]] Result<ManifestRecord> RecordFromJson(std::string_view json);

}  // namespace scoria::backup
