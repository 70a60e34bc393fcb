// VolumeDriver: what a storage backend must do for the volume manager. Every operation is
// idempotent (DESIGN.md): creating what exists, deleting what is gone and extending to a size
// already reached all succeed, so a task re-run after a crash converges.
//
// Errors: ResourceExhausted when the backend is out of space, Unavailable when it is
// unreachable and a retry may succeed, NotFound when a volume that must exist does not,
// Internal otherwise. Messages name the volume, never secrets.
//
// Threading: called from the volume manager's task threads; implementations must allow
// concurrent calls for different volumes.
#pragma once

#include <cstdint>
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
};

// Builds the driver named in the backend's config (already validated).
Result<std::unique_ptr<VolumeDriver>> MakeDriver(const BackendConfig& backend);

}  // namespace scoria::volume
