#include "volume/driver.h"

#include "volume/drivers/file/file_driver.h"
#include "volume/drivers/nfs/nfs_driver.h"
#include "volume/drivers/rbd/rbd_driver.h"

namespace scoria::volume {

Result<std::unique_ptr<VolumeDriver>> MakeDriver(const BackendConfig& backend) {
  if (backend.volume_driver == "file") {
    return std::unique_ptr<VolumeDriver>(new FileDriver(backend.file_volume_dir));
  }
  if (backend.volume_driver == "nfs") {
    return std::unique_ptr<VolumeDriver>(new NfsDriver(backend.section, backend.nfs));
  }
  if (backend.volume_driver == "rbd") {
    return std::unique_ptr<VolumeDriver>(new RbdDriver(backend.section, backend.rbd));
  }
  return InvalidArgument("[" + backend.section + "] unknown volume_driver " +
                         backend.volume_driver);
}

}  // namespace scoria::volume
