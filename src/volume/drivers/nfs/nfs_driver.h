// The `nfs` driver (Cinder's NfsDriver): volumes are files on NFSv3 shares, reached through
// libnfs from user space (this daemon mounts nothing; no kernel NFS client is needed).
//
// Layout on a share (its export's root directory): volume `volume-<id>` (a raw file; sparse
// when nfs_sparsed_volumes, else zero-filled), snapshot `volume-<volume id>.snapshot-<id>`, and
// `.tmp-<name>` while a file is being made (a crash leaves at most such a file; it is never
// data, and a re-run replaces it). Every copy (snapshot, volume from snapshot, clone, revert) is
// made on the share holding the source, under the temporary name, COMMITted, then renamed into
// place, so a file of a final name is always complete. Copies skip all-zero blocks (the
// destination is a sparse file of the right size, so they read back as zeroes).
//
// Several shares (nfs_shares_config): a new volume goes to the reachable share with the most
// free space (FSSTAT); its share, "host:/export", is the provider_location. A volume is found
// again by looking for its file on every share (cached once found). Stats sum the shares that
// answer.
//
// Limits of NFSv3: it cannot report holes, so AllocatedRanges answers the whole file (a
// superset, which the contract allows; backups read everything), and changes are not tracked
// (ChangedRanges: NotImplemented, so incremental backups read everything and compare hashes).
//
// Errors: ResourceExhausted when the share is full (NFS3ERR_NOSPC), Unavailable when its server
// does not answer (refused, timed out), NotFound when a volume or snapshot is on no share.
// An operation that looks for a file and finds a share unreachable answers Unavailable, never
// NotFound: the file may be there.
//
// Threading: each share has a ClientPool (nfs/client.h); an operation takes one client for its
// duration, so calls for different volumes run concurrently on separate connections. Open
// devices own their own connection and thread (nfs_block_device.h).
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/config.h"
#include "nfs/client.h"
#include "volume/driver.h"

namespace scoria::volume {

class NfsDriver : public VolumeDriver {
 public:
  // `section` names the backend in messages.
  NfsDriver(std::string section, BackendConfig::NfsOptions options)
      : section_(std::move(section)), options_(std::move(options)) {}
  std::string name() const override { return "nfs"; }
  // Reads nfs_shares_config and the mount options (InvalidArgument naming the problem), then
  // mounts every share: Unavailable when none answers (shares that do not answer are logged).
  Status Setup() override;
  Status CreateVolume(const std::string& id, int64_t size_gb) override;
  Status DeleteVolume(const std::string& id) override;
  Status ExtendVolume(const std::string& id, int64_t new_size_gb) override;
  Result<std::vector<std::string>> ListVolumes() override;
  // The volume's share ("host:/export"), or "" when it is on no reachable share.
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
  Result<std::vector<std::string>> ListSnapshots() override;

  static std::string VolumeFile(const std::string& id) { return "volume-" + id; }
  static std::string SnapshotFile(const std::string& volume_id, const std::string& snapshot_id) {
    return "volume-" + volume_id + ".snapshot-" + snapshot_id;
  }
  // The shares in nfs_shares_config order (after Setup).
  std::vector<nfs::Share> shares() const;

 private:
  struct ShareState {
    nfs::Share share;
    nfs::MountOptions options;  // the backend's, overridden by the share line's
    std::unique_ptr<nfs::ClientPool> pool;
  };
  // Reads the shares file and mount options once (no network): Setup does it, and so does the
  // first call of a driver nobody set up (the backup service's own instance).
  Status Loaded() const;
  Status LoadShares() const;
  // Index of the share holding `file`; NotFound (or Unavailable, see the header) otherwise.
  // With `reachable_only`, shares that do not answer are skipped (a new volume's id cannot be
  // on them unless a crashed create put it there, and then its delete finds it later).
  Result<size_t> Find(const std::string& file, bool reachable_only = false) const;
  // Find for a volume, through the cache of volume -> share.
  Result<size_t> FindVolume(const std::string& id, bool reachable_only = false) const;
  // Makes `dst` on share `at` as a copy of `src` (same share) of at least min_size bytes; with
  // keep_larger the destination keeps its own size when larger (revert).
  Status Copy(size_t at, const std::string& src, const std::string& dst, uint64_t min_size,
              bool keep_larger, const CopyProgress& progress);
  // A new volume as a copy of `src_file` on the share of `src_volume`.
  Status CopyToNewVolume(const std::string& volume_id, int64_t size_gb,
                         const std::string& src_volume, const std::string& src_file);
  // Grows file `file` on share `at` to `bytes` (sparse, or zero-filled), COMMITted.
  Status GrowTo(size_t at, const std::string& file, uint64_t bytes);

  const std::string section_;
  const BackendConfig::NfsOptions options_;
  mutable std::once_flag load_once_;
  mutable Status load_status_;              // written once under load_once_
  mutable std::vector<ShareState> shares_;  // written once under load_once_, then fixed
  mutable std::mutex mu_;
  mutable std::map<std::string, size_t> volume_share_;  // guarded by mu_
};

}  // namespace scoria::volume
