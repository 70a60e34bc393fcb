// ChangeMap: which parts of a `file` volume were written between its snapshots (changed-block
// tracking), so an incremental backup reads what changed instead of the whole volume.
//
// Model: a volume's life is cut into epochs by its snapshots. An epoch records, as a bitmap of
// granules (4 MiB by default), every granule written between its start boundary (`base_id`:
// the snapshot before it; "" for the volume's creation) and its end boundary (`snapshot_id`).
// The live epoch is the one still running: it starts at the newest snapshot and has no end.
// Epochs form one chain, oldest first: epochs[i + 1].base_id == epochs[i].snapshot_id, and
// live.base_id is the last epoch's snapshot_id. A boundary outlives its snapshot (a backup's
// temporary snapshot is deleted right after the backup, and the next incremental asks for the
// changes since it); only the oldest epochs are merged away, beyond kMaxChangeEpochs.
//
// An epoch is `valid` when every write of its period is in its bitmap. A process that dies
// with the volume open loses its in-memory marks: the live epoch it had becomes invalid, and
// so does any epoch it is merged into. Changed() refuses a span that crosses an invalid epoch,
// and the caller reads everything instead (always correct, only slower).
//
// Encoding (frozen, version 1; docs/format/changes.md): a 32-byte ChangeMapHeaderV1, one
// ChangeEpochV1 record + bitmap words per epoch, the live epoch last, then a SHA-256 of all
// that precedes it. Little-endian.
//
// Threading: plain values and pure functions; thread-safe as values are.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "common/status.h"
#include "volume/driver.h"

namespace scoria::volume {

inline constexpr uint32_t kChangeMapVersion = 1;
inline constexpr char kChangeMapMagic[8] = {'S', 'C', 'O', 'R', 'I', 'A', 'C', 'M'};
inline constexpr uint32_t kDefaultChangeGranuleShift = 22;  // 4 MiB: the backup chunk size
// Epochs kept per volume (one per snapshot, a backup makes one): beyond this, the oldest is
// merged into the next, and the changes since its boundary can no longer be told apart.
inline constexpr size_t kMaxChangeEpochs = 64;
inline constexpr size_t kMaxChangeIdLength = 40;  // ids are UUIDs (36)

struct ChangeEpoch {
  std::string snapshot_id;  // end boundary; "" for the live epoch
  std::string base_id;      // start boundary; "" for the volume's creation (or unknown)
  bool valid = true;
  std::vector<uint64_t> bits;  // bit g of word g / 64: granule g was written

  bool operator==(const ChangeEpoch&) const = default;
};

struct ChangeMap {
  uint32_t granule_shift = kDefaultChangeGranuleShift;
  std::vector<ChangeEpoch> epochs;  // closed epochs, oldest first
  ChangeEpoch live;

  uint64_t granule() const { return uint64_t{1} << granule_shift; }
  // Records a write of [offset, offset + length) in the live epoch (length 0: nothing).
  void Mark(uint64_t offset, uint64_t length);
  // Records the whole volume of `size` bytes as written (a revert rewrote it).
  void MarkAll(uint64_t size) { Mark(0, size); }
  // Ends the live epoch at boundary `snapshot_id` and starts a new, empty one from it. A no-op
  // when an epoch of that id exists (a re-run snapshot). Merges the oldest epochs beyond
  // kMaxChangeEpochs.
  void Checkpoint(const std::string& snapshot_id);
  bool HasBoundary(const std::string& snapshot_id) const;
  // Granule-aligned ranges, clipped to `size`, that hold every byte written after boundary
  // `from_id` up to boundary `to_id`. FailedPrecondition when `from_id` is not a boundary
  // before `to_id` in the chain, or an epoch between them is invalid; NotFound when `to_id`
  // is no boundary. `from_id == to_id`: no ranges.
  Result<std::vector<ByteRange>> Changed(const std::string& from_id, const std::string& to_id,
                                         uint64_t size) const;

  bool operator==(const ChangeMap&) const = default;
};

// The persisted form; `open` is set while a process has the volume open for writing.
std::vector<std::byte> EncodeChangeMap(const ChangeMap& map, bool open);

struct DecodedChangeMap {
  ChangeMap map;
  bool open = false;
};
// InvalidArgument naming what does not check out (magic, version, sizes, checksum).
Result<DecodedChangeMap> DecodeChangeMap(std::span<const std::byte> data);

}  // namespace scoria::volume
