// ChangeTracker: the live ChangeMap of one `file` volume, kept in memory while the volume is
// open and persisted as `changes-<volume id>` next to the volume file (change_map.h has the
// model, docs/format/changes.md the format).
//
// Crash safety without a write per write: marks are made in memory only. Before the first
// write is accepted, the persisted map is rewritten with its `open` flag set (durably); a
// clean close rewrites it with the flag cleared. A map found open at load time belonged to a
// process that died with the volume open: its live epoch is then invalid, so the changes since
// the newest snapshot are unknown and the next incremental backup reads everything. Epochs
// closed by a snapshot are persisted at that snapshot and survive such a crash.
//
// One process at a time: a tracker holds an exclusive flock(2) on the volume file while it
// lives, so a second process on the host cannot write the volume behind this one's map
// (Acquire answers Unavailable there). Within a process, every Acquire of one volume returns
// the same tracker (a registry keyed by the map's path); it closes when the last holder drops
// it.
//
// Threading: Acquire, Checkpoint, MarkAll and the last release block on file I/O (control
// plane). MarkWritten takes a mutex for a few bit operations and may be called from the data
// path (the target's reactors), concurrently.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "common/status.h"
#include "volume/block_device.h"
#include "volume/drivers/file/change_map.h"

namespace scoria::volume {

class ChangeTracker {
 public:
  // The tracker of volume `volume_id` in directory `dir` (its file `volume-<id>` must exist:
  // NotFound otherwise). On first acquisition the map is loaded (a missing map starts empty;
  // an unreadable one starts with an invalid live epoch, logged) and persisted open.
  // Unavailable when another process holds the volume.
  static Result<std::shared_ptr<ChangeTracker>> Acquire(const std::string& dir,
                                                        const std::string& volume_id);

  ~ChangeTracker();
  ChangeTracker(const ChangeTracker&) = delete;
  ChangeTracker& operator=(const ChangeTracker&) = delete;

  // Records that [offset, offset + length) is about to be written (called before the write is
  // issued, so a write that then fails is only a superset).
  void MarkWritten(uint64_t offset, uint64_t length);
  // Ends the live epoch at `snapshot_id` (idempotent) and persists the map. The caller
  // guarantees no write is in flight (the volume is quiesced for its snapshot).
  Status Checkpoint(const std::string& snapshot_id);
  // Records the whole volume (`size` bytes) as written, and persists.
  Status MarkAll(uint64_t size);
  // A copy of the current map (tests, diagnostics).
  ChangeMap map() const;

 private:
  struct Registry;
  ChangeTracker(std::string dir, std::string volume_id, int lock_fd, ChangeMap map);
  Status Persist(bool open);

  const std::string dir_;
  const std::string volume_id_;
  const int lock_fd_;      // the volume file, flock'd exclusively
  std::mutex persist_mu_;  // one persist at a time, in order; taken before mu_
  mutable std::mutex mu_;
  ChangeMap map_;  // guarded by mu_
};

// The persisted map of a volume, read without taking the volume (another process may hold
// it). NotFound when the volume has no map (never opened nor snapshotted by a tracker).
Result<DecodedChangeMap> LoadChangeMap(const std::string& dir, const std::string& volume_id);

// Removes a volume's map (the volume is being deleted). Idempotent.
Status RemoveChangeMap(const std::string& dir, const std::string& volume_id);

// `inner` with every Write, Discard and WriteZeroes marked in `tracker` before it is issued.
std::shared_ptr<BlockDevice> NewTrackedBlockDevice(std::shared_ptr<BlockDevice> inner,
                                                   std::shared_ptr<ChangeTracker> tracker);

}  // namespace scoria::volume
