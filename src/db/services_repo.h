// Service rows: one per (host, binary). Volume services are named host@backend and carry the
// backend's last stats report (JSON) in `capabilities`. A service is up while its last
// heartbeat is younger than service_down_time. A frozen volume service (os-services/freeze)
// keeps serving its volumes but takes no management operation and no new volume.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "db/database.h"

namespace scoria::db {

inline constexpr const char* kVolumeBinary = "cinder-volume";
inline constexpr const char* kSchedulerBinary = "cinder-scheduler";
inline constexpr const char* kBackupBinary = "cinder-backup";

struct ServiceRecord {
  std::string host;
  std::string binary;
  std::string availability_zone;
  bool disabled = false;
  std::optional<std::string> disabled_reason;
  bool frozen = false;
  std::optional<std::string> capabilities;  // JSON
  int64_t report_count = 0;
  int64_t created_at = 0;
  std::optional<int64_t> updated_at;  // last heartbeat
};

// True while the service's last heartbeat (or its creation, before the first) is at most
// `down_time_s` seconds away from `now_us`, in either direction (Cinder's abs()). A heartbeat
// older than `missed_until` counts as taken then (the scheduler's allowance for a database
// outage, scheduler_service.h). Being disabled is a separate matter, left to the caller.
bool ServiceIsUp(const ServiceRecord& s, int64_t now_us, int down_time_s,
                 int64_t missed_until = 0);

// Inserts or refreshes the row: updated_at = now, report_count + 1, capabilities when given.
Status Heartbeat(Transaction& tx, const std::string& host, const std::string& binary,
                 const std::string& az, const std::optional<std::string>& capabilities);
Result<std::vector<ServiceRecord>> ListServices(Transaction& tx,
                                                const std::optional<std::string>& host,
                                                const std::optional<std::string>& binary);
// NotFound when no such service.
Status SetServiceDisabled(Transaction& tx, const std::string& host, const std::string& binary,
                          bool disabled, const std::optional<std::string>& reason);
// Freezes or thaws a service and sets its disabled flag and reason in the same update, as
// Cinder's volume manager does on freeze ("frozen", disabled) and thaw ("", enabled).
// NotFound when no such service.
Status SetServiceFrozen(Transaction& tx, const std::string& host, const std::string& binary,
                        bool frozen, bool disabled, const std::string& reason);
// True when the volume service of `volume_host`'s backend (host@backend; a #pool suffix is
// ignored) is frozen; false when it is not or has no service row.
Result<bool> IsBackendFrozen(Transaction& tx, const std::string& volume_host);
// Removes a service row (scoriad --manage service remove). NotFound when no such service.
Status DeleteService(Transaction& tx, const std::string& host, const std::string& binary);

}  // namespace scoria::db
