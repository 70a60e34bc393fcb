// The `file` driver: each volume is a sparse raw file `volume-<id>` in file_volume_dir (a local
// filesystem or an NFS mount: Cinder's NFS driver's model). Creation and growth are
// ftruncate; space is allocated on first write, so the pool is thin-provisioned. Capacity comes
// from statvfs of the directory. Creations and deletions are made durable (file and directory
// fsync) before they are reported done, so the database never says "available" for a file a
// power cut can take back.
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

  std::string PathOf(const std::string& id) const { return dir_ + "/volume-" + id; }

 private:
  Status SyncDir();
  const std::string dir_;
};

}  // namespace scoria::volume
