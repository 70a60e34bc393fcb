#include "volume/drivers/file/change_map.h"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <iterator>

namespace scoria::volume {
namespace {

static_assert(std::endian::native == std::endian::little, "the format is little-endian");

struct ChangeMapHeaderV1 {
  char magic[8];
  uint32_t version;
  uint32_t granule_shift;
  uint32_t flags;        // kFlagOpen
  uint32_t epoch_count;  // closed epochs; the live one follows them
  uint64_t reserved;
};
static_assert(sizeof(ChangeMapHeaderV1) == 32);

struct ChangeEpochV1 {
  char snapshot_id[kMaxChangeIdLength];  // NUL-padded
  char base_id[kMaxChangeIdLength];
  uint32_t flags;  // kEpochValid
  uint32_t reserved;
  uint64_t word_count;  // bitmap words (uint64_t) that follow
};
static_assert(sizeof(ChangeEpochV1) == 96);

constexpr uint32_t kFlagOpen = 1;
constexpr uint32_t kEpochValid = 1;
constexpr size_t kDigestSize = 32;
constexpr uint32_t kMinGranuleShift = 9, kMaxGranuleShift = 40;

std::array<std::byte, kDigestSize> Sha256(std::span<const std::byte> data) {
  std::array<std::byte, kDigestSize> out{};
  unsigned len = 0;
  EVP_Digest(data.data(), data.size(), reinterpret_cast<unsigned char*>(out.data()), &len,
             EVP_sha256(), nullptr);
  return out;
}

template <typename T>
void Append(std::vector<std::byte>& out, const T& v) {
  const auto* p = reinterpret_cast<const std::byte*>(&v);
  out.insert(out.end(), p, p + sizeof v);
}

void PutId(char (&field)[kMaxChangeIdLength], const std::string& id) {
  std::memset(field, 0, sizeof field);
  std::memcpy(field, id.data(), std::min(id.size(), sizeof field));
}

std::string GetId(const char (&field)[kMaxChangeIdLength]) {
  return std::string(field, strnlen(field, sizeof field));
}

void Or(std::vector<uint64_t>& into, const std::vector<uint64_t>& from) {
  if (into.size() < from.size()) into.resize(from.size(), 0);
  for (size_t i = 0; i < from.size(); ++i) into[i] |= from[i];
}

}  // namespace

void ChangeMap::Mark(uint64_t offset, uint64_t length) {
  if (length == 0) return;
  const uint64_t first = offset >> granule_shift;
  const uint64_t last = (offset + length - 1) >> granule_shift;
  if (live.bits.size() <= last / 64) live.bits.resize(last / 64 + 1, 0);
  for (uint64_t g = first; g <= last; ++g) live.bits[g / 64] |= uint64_t{1} << (g % 64);
}

bool ChangeMap::HasBoundary(const std::string& snapshot_id) const {
  return std::any_of(epochs.begin(), epochs.end(),
                     [&](const ChangeEpoch& e) { return e.snapshot_id == snapshot_id; });
}

void ChangeMap::Checkpoint(const std::string& snapshot_id) {
  if (HasBoundary(snapshot_id)) return;
  ChangeEpoch closed = std::move(live);
  closed.snapshot_id = snapshot_id;
  epochs.push_back(std::move(closed));
  live = ChangeEpoch{};
  live.base_id = snapshot_id;
  while (epochs.size() > kMaxChangeEpochs) {
    // The oldest boundary goes: its changes belong to the next epoch from now on.
    ChangeEpoch& next = epochs[1];
    Or(next.bits, epochs[0].bits);
    next.valid = next.valid && epochs[0].valid;
    next.base_id = epochs[0].base_id;
    epochs.erase(epochs.begin());
  }
}

Result<std::vector<ByteRange>> ChangeMap::Changed(const std::string& from_id,
                                                  const std::string& to_id, uint64_t size) const {
  auto to = std::find_if(epochs.begin(), epochs.end(),
                         [&](const ChangeEpoch& e) { return e.snapshot_id == to_id; });
  if (to == epochs.end()) return NotFound("no change record ends at snapshot " + to_id);
  if (from_id == to_id) return std::vector<ByteRange>{};
  std::vector<uint64_t> bits;
  for (auto e = to;; --e) {
    if (!e->valid) {
      return FailedPrecondition("the changes before snapshot " + e->snapshot_id +
                                " were not all recorded (the volume was open in a process that "
                                "stopped without closing it)");
    }
    Or(bits, e->bits);
    if (e->base_id == from_id) break;
    if (e == epochs.begin() || std::prev(e)->snapshot_id != e->base_id) {
      return FailedPrecondition("no change record since snapshot " + from_id + " (older than the " +
                                std::to_string(kMaxChangeEpochs) +
                                " snapshots kept, or not of this volume)");
    }
  }
  std::vector<ByteRange> out;
  const uint64_t g = granule();
  const uint64_t granules = (size + g - 1) / g;
  for (uint64_t i = 0; i < granules && i / 64 < bits.size(); ++i) {
    if ((bits[i / 64] >> (i % 64) & 1) == 0) continue;
    const uint64_t start = i * g, end = std::min(size, start + g);
    if (!out.empty() && out.back().offset + out.back().length == start) {
      out.back().length += end - start;
    } else {
      out.push_back({start, end - start});
    }
  }
  return out;
}

std::vector<std::byte> EncodeChangeMap(const ChangeMap& map, bool open) {
  std::vector<std::byte> out;
  ChangeMapHeaderV1 h{};
  std::memcpy(h.magic, kChangeMapMagic, sizeof h.magic);
  h.version = kChangeMapVersion;
  h.granule_shift = map.granule_shift;
  h.flags = open ? kFlagOpen : 0;
  h.epoch_count = static_cast<uint32_t>(map.epochs.size());
  Append(out, h);
  auto put_epoch = [&](const ChangeEpoch& e) {
    ChangeEpochV1 r{};
    PutId(r.snapshot_id, e.snapshot_id);
    PutId(r.base_id, e.base_id);
    r.flags = e.valid ? kEpochValid : 0;
    r.word_count = e.bits.size();
    Append(out, r);
    for (uint64_t w : e.bits) Append(out, w);
  };
  for (const ChangeEpoch& e : map.epochs) put_epoch(e);
  put_epoch(map.live);
  const auto digest = Sha256(out);
  out.insert(out.end(), digest.begin(), digest.end());
  return out;
}

Result<DecodedChangeMap> DecodeChangeMap(std::span<const std::byte> data) {
  if (data.size() < sizeof(ChangeMapHeaderV1) + kDigestSize) {
    return InvalidArgument("change map too short (" + std::to_string(data.size()) + " bytes)");
  }
  const auto body = data.first(data.size() - kDigestSize);
  const auto digest = Sha256(body);
  if (std::memcmp(digest.data(), data.data() + body.size(), kDigestSize) != 0) {
    return InvalidArgument("change map checksum mismatch");
  }
  ChangeMapHeaderV1 h{};
  std::memcpy(&h, body.data(), sizeof h);
  if (std::memcmp(h.magic, kChangeMapMagic, sizeof h.magic) != 0) {
    return InvalidArgument("not a change map (bad magic)");
  }
  if (h.version != kChangeMapVersion) {
    return InvalidArgument("change map version " + std::to_string(h.version) + " is unknown");
  }
  if (h.granule_shift < kMinGranuleShift || h.granule_shift > kMaxGranuleShift) {
    return InvalidArgument("change map granule 2^" + std::to_string(h.granule_shift) +
                           " is out of range");
  }
  DecodedChangeMap d;
  d.open = (h.flags & kFlagOpen) != 0;
  d.map.granule_shift = h.granule_shift;
  size_t pos = sizeof h;
  auto get_epoch = [&](ChangeEpoch* e) -> Status {
    ChangeEpochV1 r{};
    if (body.size() - pos < sizeof r) return InvalidArgument("change map epoch truncated");
    std::memcpy(&r, body.data() + pos, sizeof r);
    pos += sizeof r;
    if (r.word_count > (body.size() - pos) / sizeof(uint64_t)) {
      return InvalidArgument("change map bitmap truncated");
    }
    e->snapshot_id = GetId(r.snapshot_id);
    e->base_id = GetId(r.base_id);
    e->valid = (r.flags & kEpochValid) != 0;
    e->bits.resize(r.word_count);
    if (r.word_count > 0) {  // an empty vector's data() may be null: no memcpy from/to it
      std::memcpy(e->bits.data(), body.data() + pos, r.word_count * sizeof(uint64_t));
    }
    pos += r.word_count * sizeof(uint64_t);
    return Status::Ok();
  };
  if (h.epoch_count > kMaxChangeEpochs) {
    return InvalidArgument("change map holds " + std::to_string(h.epoch_count) + " epochs");
  }
  d.map.epochs.resize(h.epoch_count);
  for (ChangeEpoch& e : d.map.epochs) RETURN_IF_ERROR(get_epoch(&e));
  RETURN_IF_ERROR(get_epoch(&d.map.live));
  if (pos != body.size()) return InvalidArgument("change map has trailing bytes");
  return d;
}

}  // namespace scoria::volume
