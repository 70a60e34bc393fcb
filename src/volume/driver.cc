#include "volume/driver.h"

#include "volume/drivers/file/file_driver.h"

namespace scoria::volume {

Result<std::unique_ptr<VolumeDriver>> MakeDriver(const BackendConfig& backend) {
  if (backend.volume_driver == "file") {
    return std::unique_ptr<VolumeDriver>(new FileDriver(backend.file_volume_dir));
  }
  return InvalidArgument("[" + backend.section + "] unknown volume_driver " +
                         backend.volume_driver);
}

}  // namespace scoria::volume
