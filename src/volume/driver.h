// VolumeDriver: what a storage backend must do for the volume manager. Every operation is
// idempotent (DESIGN.md): creating what exists, deleting what is gone and extending to a size
// already reached all succeed, so a task re-run after a crash converges.
//
// Errors: ResourceExhausted when the backend is out of space, Unavailable when it is
// unreachable and a retry may succeed, NotFound when a volume that must exist does not,
// Internal otherwise. Messages name the volume, never secrets.
//
// Snapshots (Cinder's model): a snapshot is a point-in-time, read-only copy of one volume's
// bytes, kept by the same backend as its volume and named by the snapshot's id. Volumes made
// from a snapshot (CreateVolumeFromSnapshot) or from another volume (CloneVolume) live on the
// source's backend; they are independent of their source afterwards (the source may be
// deleted). The caller guarantees the source is quiescent for the instant of a
// CreateSnapshot/CloneVolume/RevertToSnapshot (the manager gates an exported volume's I/O and
// flushes it first); the driver only copies.
//
// Threading: called from the volume manager's task threads (and the backup service's, for
// OpenSnapshot/AllocatedRanges); implementations must allow concurrent calls for different
// volumes and snapshots.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/config.h"
#include "common/status.h"
#include "volume/block_device.h"

namespace scoria::volume {

inline constexpr int64_t kGiB = 1024LL * 1024 * 1024;

struct DriverStats {
  double total_capacity_gb = 0;
  double free_capacity_gb = 0;
  double provisioned_capacity_gb = 0;  // sum of volume sizes on the backend
  double used_capacity_gb = 0;         // bytes actually allocated (thin)
  bool thin_provisioning_support = false;
  bool thick_provisioning_support = true;
  std::string storage_protocol = "iSCSI";
  std::string driver_version = "1.0";
};

// A byte range of a volume or snapshot: [offset, offset + length).
struct ByteRange {
  uint64_t offset = 0;
  uint64_t length = 0;
  bool operator==(const ByteRange&) const = default;
};

// Progress of a long copy (a snapshot made by copying): bytes copied of the bytes to copy.
using CopyProgress = std::function<void(uint64_t done, uint64_t total)>;

class VolumeDriver {
 public:
  virtual ~VolumeDriver() = default;
  virtual std::string name() const = 0;
  // Checks the backend is usable (directory exists and is writable...). Called at start.
  virtual Status Setup() = 0;
  virtual Status CreateVolume(const std::string& id, int64_t size_gb) = 0;
  virtual Status DeleteVolume(const std::string& id) = 0;
  // Grows to new_size_gb; never shrinks.
  virtual Status ExtendVolume(const std::string& id, int64_t new_size_gb) = 0;
  // Ids of the volumes the backend holds (for start-up consistency checks).
  virtual Result<std::vector<std::string>> ListVolumes() = 0;
  // Where the volume lives, stored as provider_location (e.g. the file path).
  virtual std::string ProviderLocation(const std::string& id) const = 0;
  virtual Result<DriverStats> Stats() = 0;
  // Opens the volume's bytes for the target (attach). The caller shares ownership; the device
  // stays usable until the last reference goes. NotFound when the volume does not exist.
  // The default is for drivers that cannot be attached (NotImplemented).
  virtual Result<std::shared_ptr<BlockDevice>> Open(const std::string& id) {
    return NotImplemented("the " + name() + " driver cannot attach volume " + id);
  }

  // ---- Snapshots and clones. Defaults answer NotImplemented (a driver without snapshots).

  // Makes snapshot `snapshot_id` of volume `volume_id`: afterwards the snapshot holds exactly
  // the volume's bytes at the time of the call, durably (survives a power cut once this
  // returns). Idempotent: a complete snapshot of that id is left as it is (OK); a partial one
  // left by a crash is replaced by a complete one. NotFound when the volume does not exist.
  // `progress` (may be empty) is called on the calling thread as a long copy advances.
  virtual Status CreateSnapshot(const std::string& volume_id, const std::string& snapshot_id,
                                const CopyProgress& progress) {
    (void)progress;
    return NotImplemented("the " + name() + " driver cannot snapshot volume " + volume_id +
                          " (snapshot " + snapshot_id + ")");
  }
  // Removes the snapshot durably. Idempotent: a snapshot that is gone is OK.
  virtual Status DeleteSnapshot(const std::string& volume_id, const std::string& snapshot_id) {
    return NotImplemented("the " + name() + " driver cannot delete snapshot " + snapshot_id +
                          " of volume " + volume_id);
  }
  // Makes a new volume `volume_id` of size_gb GiB holding the snapshot's bytes (the rest, when
  // size_gb exceeds the snapshot's size, reads as zeroes). Durable when it returns.
  // Idempotent: a partial volume left by a crash is replaced; a complete one is kept.
  // InvalidArgument when size_gb is smaller than the snapshot; NotFound when the snapshot is
  // missing.
  virtual Status CreateVolumeFromSnapshot(const std::string& volume_id, int64_t size_gb,
                                          const std::string& source_volume_id,
                                          const std::string& snapshot_id) {
    return NotImplemented("the " + name() + " driver cannot create volume " + volume_id +
                          " from snapshot " + snapshot_id + " of " + source_volume_id);
  }
  // Makes a new volume `volume_id` of size_gb GiB holding the bytes of volume
  // `source_volume_id` (its current contents; the caller quiesces it). Same idempotence,
  // durability and errors as CreateVolumeFromSnapshot.
  virtual Status CloneVolume(const std::string& volume_id, int64_t size_gb,
                             const std::string& source_volume_id) {
    return NotImplemented("the " + name() + " driver cannot clone volume " + source_volume_id +
                          " into " + volume_id);
  }
  // Replaces volume `volume_id`'s bytes by its snapshot's, durably (the volume keeps its size:
  // a volume extended after the snapshot stays at its larger size, the tail reading as
  // zeroes). The snapshot is unchanged. Idempotent: re-running after a crash mid-way ends
  // with the snapshot's bytes. The caller quiesces the volume (not exported, or gated).
  // NotFound when the volume or snapshot is missing.
  virtual Status RevertToSnapshot(const std::string& volume_id, const std::string& snapshot_id) {
    return NotImplemented("the " + name() + " driver cannot revert volume " + volume_id +
                          " to snapshot " + snapshot_id);
  }
  // Opens a snapshot's bytes read-only (backups read snapshots through this). Writes,
  // Discard and WriteZeroes fail with FailedPrecondition; Flush succeeds. Shared ownership as
  // for Open; the snapshot must not be deleted while a device is open. NotFound when the
  // snapshot does not exist.
  virtual Result<std::shared_ptr<BlockDevice>> OpenSnapshot(const std::string& volume_id,
                                                            const std::string& snapshot_id) {
    return NotImplemented("the " + name() + " driver cannot open snapshot " + snapshot_id +
                          " of volume " + volume_id);
  }
  // The byte ranges worth reading of a volume (snapshot_id empty) or of one of its snapshots:
  // every byte outside them reads as zero. Sorted, non-overlapping, within the size;
  // a superset is allowed (a driver that cannot tell answers one range covering everything),
  // a subset never is. Ranges are aligned to 512 bytes. NotFound when the object is missing.
  virtual Result<std::vector<ByteRange>> AllocatedRanges(const std::string& volume_id,
                                                         const std::string& snapshot_id) {
    return NotImplemented(
        "the " + name() + " driver cannot list allocated ranges of " +
        (snapshot_id.empty() ? "volume " + volume_id : "snapshot " + snapshot_id));
  }
  // Changed-block tracking (incremental backups): the byte ranges of snapshot `to_snapshot_id`
  // that may differ from snapshot `from_snapshot_id`, an earlier snapshot of the same volume
  // (which may have been deleted since). Every byte outside them is the same in both, and
  // bytes beyond `from`'s end that no range covers read as zero. Sorted, non-overlapping,
  // 512-aligned, within `to`'s size; a superset is allowed, a subset never is.
  // FailedPrecondition when the driver cannot tell for these two (no record reaches back to
  // `from`, or a crash lost track of some writes): the caller reads everything instead.
  // NotFound when `to` is not a snapshot the driver knows. Default: NotImplemented.
  virtual Result<std::vector<ByteRange>> ChangedRanges(const std::string& volume_id,
                                                       const std::string& from_snapshot_id,
                                                       const std::string& to_snapshot_id) {
    return NotImplemented("the " + name() + " driver does not track changes (volume " + volume_id +
                          ", snapshots " + from_snapshot_id + " to " + to_snapshot_id + ")");
  }
  // ---- Native attachment: a host opens the volume itself, without the target (Cinder's
  // non-iSCSI connection_info, e.g. `rbd` for QEMU's and Nova's librbd). The connection_info's
  // driver_volume_type and its `data` object (JSON text); no secret is put in it (hosts hold
  // their keys). Default: NotImplemented, the volume attaches over iSCSI only.
  struct NativeConnection {
    std::string driver_volume_type;
    std::string data_json;
  };
  virtual Result<NativeConnection> NativeConnectionInfo(const std::string& volume_id) {
    return NotImplemented("the " + name() + " driver attaches volume " + volume_id +
                          " over iSCSI only");
  }

  // Ids of the snapshots the backend holds (start-up consistency checks). Default: none known.
  virtual Result<std::vector<std::string>> ListSnapshots() { return std::vector<std::string>{}; }
};

// Builds the driver named in the backend's config (already validated).
Result<std::unique_ptr<VolumeDriver>> MakeDriver(const BackendConfig& backend);

}  // namespace scoria::volume
