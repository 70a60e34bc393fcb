// Service rows: one per (host, binary). Volume services are named host@backend and carry the
// backend's last stats report (JSON) in `capabilities`. A service is up while its last
// heartbeat is younger than service_down_time.
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
  std::optional<std::string> capabilities;  // JSON
  int64_t report_count = 0;
  int64_t created_at = 0;
  std::optional<int64_t> updated_at;  // last heartbeat
};

// Inserts or refreshes the row: updated_at = now, report_count + 1, capabilities when given.
Status Heartbeat(Transaction& tx, const std::string& host, const std::string& binary,
                 const std::string& az, const std::optional<std::string>& capabilities);
Result<std::vector<ServiceRecord>> ListServices(Transaction& tx,
                                                const std::optional<std::string>& host,
                                                const std::optional<std::string>& binary);
// Whether the service's last heartbeat is at most `service_down_time` seconds older than `now`
// (micros): the service counts as up. A heartbeat older than `missed_until` counts as taken then
// (the scheduler's allowance for a database outage, scheduler_service.h). Being disabled is a
// separate matter, left to the caller.
bool HeartbeatFresh(const ServiceRecord& s, int service_down_time, int64_t now,
                    int64_t missed_until = 0);
// NotFound when no such service.
Status SetServiceDisabled(Transaction& tx, const std::string& host, const std::string& binary,
                          bool disabled, const std::optional<std::string>& reason);

}  // namespace scoria::db
