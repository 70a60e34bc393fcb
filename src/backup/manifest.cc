// Manifest encoding, checks and the JSON record (manifest.h; docs/format/backup.md).
#include "backup/manifest.h"

#include <cstring>
#include <nlohmann/json.hpp>
#include <unordered_set>

#include "backup/store.h"

namespace scoria::backup {
namespace {

struct ChunkIdHash {
  size_t operator()(const ChunkId& id) const {
    size_t h;
    std::memcpy(&h, id.data(), sizeof h);  // already uniformly distributed
    return h;
  }
};

constexpr size_t kMaxIdLength = 255;

Status CheckId(std::string_view what, const std::string& id, bool required) {
  if (id.empty()) {
    return required ? InvalidArgument(std::string(what) + " is empty") : Status::Ok();
  }
  if (id.size() > kMaxIdLength || id.find('/') != std::string::npos || !CheckObjectName(id).ok()) {
    return InvalidArgument(std::string(what) + " '" + id +
                           "' is not a valid name (up to 255 of [A-Za-z0-9._-], not starting "
                           "with '.')");
  }
  return Status::Ok();
}

void PutString(std::vector<std::byte>& out, const std::string& s) {
  uint16_t n = static_cast<uint16_t>(s.size());
  const auto* p = reinterpret_cast<const std::byte*>(&n);
  out.insert(out.end(), p, p + 2);
  const auto* d = reinterpret_cast<const std::byte*>(s.data());
  out.insert(out.end(), d, d + s.size());
}

bool GetString(std::span<const std::byte>& in, std::string& s) {
  if (in.size() < 2) return false;
  uint16_t n;
  std::memcpy(&n, in.data(), 2);
  if (in.size() < 2u + n) return false;
  s.assign(reinterpret_cast<const char*>(in.data() + 2), n);
  in = in.subspan(2u + n);
  return true;
}

}  // namespace

uint32_t Manifest::ChunkLength(uint64_t i) const {
  uint64_t off = ChunkOffset(i);
  if (off >= volume_size) return 0;
  return static_cast<uint32_t>(std::min<uint64_t>(chunk_size, volume_size - off));
}

ManifestTotals ComputeTotals(const Manifest& m) {
  ManifestTotals t;
  std::unordered_set<ChunkId, ChunkIdHash> seen;
  for (uint64_t i = 0; i < m.chunks.size(); ++i) {
    const ChunkRef& c = m.chunks[i];
    if (c.hole) {
      ++t.hole_chunks;
      continue;
    }
    ++t.data_chunks;
    t.data_bytes += m.ChunkLength(i);
    if (seen.insert(c.id).second) {
      ++t.distinct_chunks;
      t.stored_bytes += c.stored_length;
    }
  }
  return t;
}

Status ValidateManifest(const Manifest& m) {
  if (m.format_version != kManifestVersion) {
    return InvalidArgument("manifest format version " + std::to_string(m.format_version) +
                           " is not supported (this build reads version " +
                           std::to_string(kManifestVersion) + ")");
  }
  RETURN_IF_ERROR(CheckId("backup id", m.backup_id, true));
  RETURN_IF_ERROR(CheckId("parent id", m.parent_id, false));
  RETURN_IF_ERROR(CheckId("volume id", m.volume_id, true));
  if (m.chunk_size < kMinChunkSize || m.chunk_size > kMaxChunkSize || m.chunk_size % 512 != 0) {
    return InvalidArgument("chunk size " + std::to_string(m.chunk_size) +
                           " is outside [64 KiB, 64 MiB] or not a multiple of 512");
  }
  if (m.volume_size % 512 != 0) {
    return InvalidArgument("volume size " + std::to_string(m.volume_size) +
                           " is not a multiple of 512");
  }
  if (m.chunks.size() != m.ChunkCount()) {
    return InvalidArgument("manifest has " + std::to_string(m.chunks.size()) +
                           " chunk entries, the volume size needs " +
                           std::to_string(m.ChunkCount()));
  }
  for (uint64_t i = 0; i < m.chunks.size(); ++i) {
    const ChunkRef& c = m.chunks[i];
    if (c.hole && (c.stored_length != 0 || c.id != ChunkId{})) {
      return InvalidArgument("hole entry " + std::to_string(i) + " carries a chunk id");
    }
    if (!c.hole && c.stored_length < sizeof(ChunkHeaderV1)) {
      return InvalidArgument("chunk entry " + std::to_string(i) + " has stored length " +
                             std::to_string(c.stored_length));
    }
  }
  return Status::Ok();
}

std::vector<std::byte> EncodeManifest(const Manifest& m) {
  std::vector<std::byte> ids;
  PutString(ids, m.backup_id);
  PutString(ids, m.parent_id);
  PutString(ids, m.volume_id);

  ManifestHeaderV1 h{};
  std::memcpy(h.magic, kManifestMagic, sizeof h.magic);
  h.version = kManifestVersion;
  h.header_size = sizeof h;
  h.volume_size = m.volume_size;
  h.chunk_size = m.chunk_size;
  h.entry_size = sizeof(ManifestEntryV1);
  h.chunk_count = m.chunks.size();
  h.created_micros = m.created_micros;
  h.ids_length = static_cast<uint32_t>(ids.size());

  std::vector<std::byte> out;
  out.reserve(sizeof h + ids.size() + m.chunks.size() * sizeof(ManifestEntryV1) + 32);
  const auto* hp = reinterpret_cast<const std::byte*>(&h);
  out.insert(out.end(), hp, hp + sizeof h);
  out.insert(out.end(), ids.begin(), ids.end());
  for (const ChunkRef& c : m.chunks) {
    ManifestEntryV1 e{};
    e.kind = c.hole ? 0 : 1;
    if (!c.hole) {
      e.stored_length = c.stored_length;
      std::memcpy(e.sha256, c.id.data(), 32);
    }
    const auto* ep = reinterpret_cast<const std::byte*>(&e);
    out.insert(out.end(), ep, ep + sizeof e);
  }
  ChunkId digest = Sha256(out);
  const auto* dp = reinterpret_cast<const std::byte*>(digest.data());
  out.insert(out.end(), dp, dp + digest.size());
  return out;
}

ChunkId ManifestDigest(std::span<const std::byte> encoded) { return Sha256(encoded); }

Result<Manifest> DecodeManifest(std::span<const std::byte> data) {
  if (data.size() < sizeof(ManifestHeaderV1) + 32) {
    return InvalidArgument("manifest of " + std::to_string(data.size()) + " bytes is truncated");
  }
  ManifestHeaderV1 h;
  std::memcpy(&h, data.data(), sizeof h);
  if (std::memcmp(h.magic, kManifestMagic, sizeof h.magic) != 0) {
    return InvalidArgument("not a manifest (bad magic)");
  }
  if (h.version != kManifestVersion) {
    return InvalidArgument("manifest format version " + std::to_string(h.version) +
                           " is not supported (this build reads version " +
                           std::to_string(kManifestVersion) + ")");
  }
  std::span<const std::byte> body = data.first(data.size() - 32);
  ChunkId want;
  std::memcpy(want.data(), data.data() + body.size(), 32);
  if (Sha256(body) != want) return InvalidArgument("manifest checksum mismatch (corrupted)");
  if (h.header_size != sizeof h || h.entry_size != sizeof(ManifestEntryV1) || h.flags != 0) {
    return InvalidArgument("manifest header has unknown sizes or flags");
  }
  const uint64_t entries_bytes = h.chunk_count * sizeof(ManifestEntryV1);
  if (h.chunk_count > (1ull << 40) ||
      body.size() != sizeof h + uint64_t{h.ids_length} + entries_bytes) {
    return InvalidArgument("manifest length does not match its header");
  }
  Manifest m;
  m.format_version = h.version;
  m.volume_size = h.volume_size;
  m.chunk_size = h.chunk_size;
  m.created_micros = h.created_micros;
  std::span<const std::byte> ids = body.subspan(sizeof h, h.ids_length);
  if (!GetString(ids, m.backup_id) || !GetString(ids, m.parent_id) ||
      !GetString(ids, m.volume_id) || !ids.empty()) {
    return InvalidArgument("manifest id block is malformed");
  }
  m.chunks.resize(h.chunk_count);
  const std::byte* p = body.data() + sizeof h + h.ids_length;
  for (uint64_t i = 0; i < h.chunk_count; ++i, p += sizeof(ManifestEntryV1)) {
    ManifestEntryV1 e;
    std::memcpy(&e, p, sizeof e);
    ChunkRef& c = m.chunks[i];
    if (e.kind > 1) return InvalidArgument("entry " + std::to_string(i) + " has unknown kind");
    c.hole = e.kind == 0;
    c.stored_length = e.stored_length;
    std::memcpy(c.id.data(), e.sha256, 32);
  }
  RETURN_IF_ERROR(ValidateManifest(m));
  return m;
}

ManifestRecord MakeRecord(const Manifest& m) {
  ManifestTotals t = ComputeTotals(m);
  ManifestRecord r;
  r.format_version = m.format_version;
  r.backup_id = m.backup_id;
  r.parent_id = m.parent_id;
  r.volume_id = m.volume_id;
  r.volume_size = m.volume_size;
  r.chunk_size = m.chunk_size;
  r.created_micros = m.created_micros;
  r.chunk_count = m.chunks.size();
  r.object_count = t.distinct_chunks;
  r.stored_bytes = t.stored_bytes;
  r.manifest_sha256 = ToHex(ManifestDigest(EncodeManifest(m)));
  return r;
}

namespace {
constexpr std::string_view kRecordFormat = "scoria-backup-manifest";
}

std::string RecordToJson(const ManifestRecord& r) {
  nlohmann::json j = {
      {"format", kRecordFormat},        {"format_version", r.format_version},
      {"backup_id", r.backup_id},       {"parent_id", r.parent_id},
      {"volume_id", r.volume_id},       {"volume_size", r.volume_size},
      {"chunk_size", r.chunk_size},     {"created_micros", r.created_micros},
      {"chunk_count", r.chunk_count},   {"object_count", r.object_count},
      {"stored_bytes", r.stored_bytes}, {"manifest_sha256", r.manifest_sha256},
  };
  return j.dump();  // nlohmann's object keeps keys sorted
}

Result<ManifestRecord> RecordFromJson(std::string_view json) {
  nlohmann::json j = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return InvalidArgument("backup record is not a JSON object");
  auto str = [&](const char* k, std::string& out) -> Status {
    auto it = j.find(k);
    if (it == j.end() || !it->is_string()) {
      return InvalidArgument(std::string("backup record: '") + k + "' missing or not a string");
    }
    out = it->get<std::string>();
    return Status::Ok();
  };
  auto num = [&]<typename T>(const char* k, T& out) -> Status {
    auto it = j.find(k);
    if (it == j.end() || !it->is_number_integer()) {
      return InvalidArgument(std::string("backup record: '") + k + "' missing or not an integer");
    }
    if constexpr (std::is_unsigned_v<T>) {
      if (!it->is_number_unsigned()) {
        return InvalidArgument(std::string("backup record: '") + k + "' is negative");
      }
      out = static_cast<T>(it->get<uint64_t>());
      if (static_cast<uint64_t>(out) != it->get<uint64_t>()) {
        return InvalidArgument(std::string("backup record: '") + k + "' is out of range");
      }
    } else {
      out = static_cast<T>(it->get<int64_t>());
    }
    return Status::Ok();
  };
  std::string format;
  RETURN_IF_ERROR(str("format", format));
  if (format != kRecordFormat) {
    return InvalidArgument("backup record: format '" + format + "' is not " +
                           std::string(kRecordFormat));
  }
  ManifestRecord r;
  RETURN_IF_ERROR(num("format_version", r.format_version));
  if (r.format_version != kManifestVersion) {
    return InvalidArgument("backup record: format version " + std::to_string(r.format_version) +
                           " is not supported");
  }
  RETURN_IF_ERROR(str("backup_id", r.backup_id));
  RETURN_IF_ERROR(str("parent_id", r.parent_id));
  RETURN_IF_ERROR(str("volume_id", r.volume_id));
  RETURN_IF_ERROR(num("volume_size", r.volume_size));
  RETURN_IF_ERROR(num("chunk_size", r.chunk_size));
  RETURN_IF_ERROR(num("created_micros", r.created_micros));
  RETURN_IF_ERROR(num("chunk_count", r.chunk_count));
  RETURN_IF_ERROR(num("object_count", r.object_count));
  RETURN_IF_ERROR(num("stored_bytes", r.stored_bytes));
  RETURN_IF_ERROR(str("manifest_sha256", r.manifest_sha256));
  if (!ChunkIdFromHex(r.manifest_sha256).ok()) {
    return InvalidArgument("backup record: manifest_sha256 is not 64 hex digits");
  }
  RETURN_IF_ERROR(CheckId("backup id", r.backup_id, true));
  RETURN_IF_ERROR(CheckId("parent id", r.parent_id, false));
  RETURN_IF_ERROR(CheckId("volume id", r.volume_id, true));
  return r;
}

}  // namespace scoria::backup
