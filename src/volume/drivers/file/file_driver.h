// The `file` driver: each volume is a sparse raw file `volume-<id>` in file_volume_dir (a local
// filesystem or an NFS mount: Cinder's NFS driver's model). Creation and growth are
// ftruncate; space is allocated on first write, so the pool is thin-provisioned. Capacity comes
// from statvfs of the directory. Creations and deletions are made durable (file and directory
// fsync) before they are reported done, so the database never shows a volume as available
// whose file a power cut can take back.
//
// Snapshots are files `snapshot-<id>` next to the volumes, made by file_copy.h's CopyImage:
// a reflink (FICLONE) where the filesystem can (XFS with reflink=1, btrfs), else a sparse copy
// of the allocated ranges. Volumes from a snapshot, clones and reverts are the same copy in the
// other direction. Every copy goes through a temporary file and a rename, so a crash never
// leaves a partial `snapshot-*` or `volume-*` file; which method ran is logged (info).
//
// Changed-block tracking (change_tracker.h): every device Open hands out marks its writes in
// the volume's ChangeMap (`changes-<id>`), each snapshot closes an epoch of it, and
// ChangedRanges answers from the persisted map, so an incremental backup reads only the
// granules written since its parent's snapshot.
#pragma once

#include <string>

#include "volume/driver.h"

namespace scoria::volume {

class FileDriver : public VolumeDriver {
 public:
  explicit FileDriver(std::string dir) : dir_(std::move(dir)) {}
  std::string name() const override { return "file"; }
  Status Setup() override;
  Status CreateVolume(const std::string& id, int64_t size_gb) override;
  Status DeleteVolume(const std::string& id) override;
  Status ExtendVolume(const std::string& id, int64_t new_size_gb) override;
  Result<std::vector<std::string>> ListVolumes() override;
  std::string ProviderLocation(const std::string& id) const override { return PathOf(id); }
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

  std::string PathOf(const std::string& id) const { return dir_ + "/volume-" + id; }
  std::string SnapshotPathOf(const std::string& id) const { return dir_ + "/snapshot-" + id; }
  // Tests: force the sparse-copy path even where reflinks work.
  void set_no_reflink(bool v) { no_reflink_ = v; }

 private:
  Status SyncDir();
  // A new volume `volume_id` of size_gb GiB as a copy of `src` (idempotent: kept if present).
  Status CopyToNewVolume(const std::string& src, const std::string& volume_id, int64_t size_gb,
                         const std::string& what);
  const std::string dir_;
  bool no_reflink_ = false;
};

}  // namespace scoria::volume
