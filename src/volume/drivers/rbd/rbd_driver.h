// The `rbd` driver: each volume is a Ceph RBD image `volume-<id>` in the backend's pool
// (rbd_pool), reached through librbd/librados's C API over one cluster connection
// (rbd_cluster.h). Cinder's RBDDriver's model and names, so a pool Cinder filled reads the same:
//
//   volume-<id>                    a volume (layering, exclusive-lock, object-map, fast-diff,
//                                  deep-flatten: Ceph's default features)
//   volume-<id>@snapshot-<id>      a snapshot; protected while clones hang from it
//   volume-<src>@volume-<new>.clone_snap
//                                  CloneVolume's snapshot of the source, the parent of the clone
//   <name>.deleted                 an image or snapshot deleted while clones still hang from it
//
// Volumes from snapshots and clones are RBD layered clones (copy-on-write, instant). A clone
// is flattened (its parent's data copied in, the link cut) when rbd_flatten_volume_from_snapshot
// says so for volumes from snapshots, or when its chain of parents would be deeper than
// rbd_max_clone_depth (0: every clone is flattened, i.e. a full copy).
//
// Deleting something clones still depend on is deferred, as Cinder does: a snapshot with
// children is renamed `snapshot-<id>.deleted`; a volume whose snapshots have children is
// renamed `volume-<id>.deleted` (hidden from ListVolumes). Deleting or flattening the last
// child removes them (and, up the chain, every deferred ancestor left without children). The
// user sees the deletion at once; the space comes back with the last child.
//
// A deleted snapshot without clones is hidden the same way, and the newest such one of each
// volume is kept: it is the base of the volume's next incremental backup (the backup service
// deletes the snapshot it read, and RBD can only diff two snapshots). An older one is removed
// when a newer one replaces it, all of them with the volume.
//
// Capacity (Stats) comes from the cluster: the pool's `max_avail` and `bytes_used` from the
// monitors' `df` (replication and quotas accounted), provisioned from librbd's pool stats
// (the sum of image sizes). Thin provisioning is reported.
//
// Changed ranges come from `rbd_diff_iterate2` between two snapshots (whole_object off: the
// extents the OSDs know were written, not whole 4 MiB objects); allocated ranges from the same
// against nothing. Both are exact, not supersets, and survive daemon restarts (RBD keeps them).
//
// Threading: every method may be called concurrently for different volumes (librados is
// thread-safe; each call opens the images it needs). Setup() connects; a driver that was not
// set up (the backup service's) connects on its first call.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "common/config.h"
#include "volume/driver.h"
#include "volume/drivers/rbd/rbd_cluster.h"

namespace scoria::volume {

class RbdDriver : public VolumeDriver {
 public:
  RbdDriver(std::string section, BackendConfig::RbdOptions options)
      : section_(std::move(section)), options_(std::move(options)) {}
  std::string name() const override { return "rbd"; }
  // Connects to the cluster and opens rbd_pool. Unavailable when the monitors cannot be
  // reached; FailedPrecondition for a refused key, missing caps or a missing pool.
  Status Setup() override;
  Status CreateVolume(const std::string& id, int64_t size_gb) override;
  Status DeleteVolume(const std::string& id) override;
  Status ExtendVolume(const std::string& id, int64_t new_size_gb) override;
  Result<std::vector<std::string>> ListVolumes() override;
  // "<pool>/volume-<id>", the image spec rbd and qemu take.
  std::string ProviderLocation(const std::string& id) const override;
  Result<DriverStats> Stats() override;
  Result<std::shared_ptr<BlockDevice>> Open(const std::string& id) override;

  Status CreateSnapshot(const std::string& volume_id, const std::string& snapshot_id,
                        const CopyProgress& progress) override;
  Status DeleteSnapshot(const std::string& volume_id, const std::string& snapshot_id) override;
  Status CreateVolumeFromSnapshot(const std::string& volume_id, int64_t size_gb,
                                  const std::string& source_volume_id,
                                  const std::string& snapshot_id) override;
  Status CloneVolume(const std::string& volume_id, int64_t size_gb,
                     const std::string& source_volume_id) override;
  Status RevertToSnapshot(const std::string& volume_id, const std::string& snapshot_id) override;
  Result<std::shared_ptr<BlockDevice>> OpenSnapshot(const std::string& volume_id,
                                                    const std::string& snapshot_id) override;
  Result<std::vector<ByteRange>> AllocatedRanges(const std::string& volume_id,
                                                 const std::string& snapshot_id) override;
  Result<std::vector<ByteRange>> ChangedRanges(const std::string& volume_id,
                                               const std::string& from_snapshot_id,
                                               const std::string& to_snapshot_id) override;
  Result<std::vector<std::string>> ListSnapshots() override;
  // Cinder's `rbd` connection_info data: name "<pool>/volume-<id>", the monitors' hosts and
  // ports (from `mon dump`), auth_enabled/auth_username (cephx), secret_type "ceph" and
  // rbd_secret_uuid, discard = report_discard_supported.
  Result<NativeConnection> NativeConnectionInfo(const std::string& volume_id) override;

  static std::string ImageName(const std::string& volume_id) { return "volume-" + volume_id; }
  static std::string SnapName(const std::string& snapshot_id) {
    return "snapshot-" + snapshot_id;
  }
  // How deep `image`'s chain of parents is (0: not a clone). Tests check flattening with it.
  Result<int> CloneDepth(const std::string& image);
  // The connection (after Setup); tests use it to look behind the driver's back.
  const std::shared_ptr<RbdCluster>& cluster() const { return cluster_; }

 private:
  // Connects unless connected (Setup, or the first call of a driver nobody set up). After it
  // succeeded cluster_ is set for good, so the caller may read it without the lock.
  Status CheckReady();
  Status ConnectLocked();
  // Makes `child` a clone of parent@snap (protecting snap), then the size and flattening
  // rules; idempotent (a child left by a crash is finished, not made again).
  Status MakeClone(const std::string& parent, const std::string& snap, const std::string& child,
                   int64_t size_gb, bool flatten_anyway);
  // After `child` stopped depending on parent@snap (deleted or flattened): unprotects the
  // snapshot when no child is left, removes it when it is deferred or a clone snapshot, and
  // removes a deferred parent image left without snapshots, up the chain.
  Status ReleaseParent(std::string parent, std::string snap);
  // Removes the deleted (hidden) snapshots of an image that no clone needs, but the newest.
  Status PruneDeletedSnapshots(const RbdImage& img, const std::string& name);
  // "snapshot-<id>", or with include_deleted "snapshot-<id>.deleted" when it was deleted and
  // kept (a diff base, or clones hang from it); NotFound when neither exists.
  Result<std::string> FindSnapshot(const RbdImage& image, const std::string& volume_id,
                                   const std::string& snapshot_id, bool include_deleted);

  const std::string section_;
  const BackendConfig::RbdOptions options_;
  std::mutex connect_mu_;
  std::shared_ptr<RbdCluster> cluster_;  // set once, under connect_mu_
};

}  // namespace scoria::volume
