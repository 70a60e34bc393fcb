// JSON shapes of the admin resources, as Cinder builds them: services
// (cinder/api/contrib/services.py index), pools (cinder/api/views/scheduler_stats.py) and user
// messages (cinder/api/v3/views/messages.py). Pure functions of a record, the request (version,
// links) and, for services, the clock.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "api/http/http.h"
#include "db/messages_repo.h"
#include "db/services_repo.h"

namespace scoria::api {

// One entry of GET /os-services (up: db::ServiceIsUp). `frozen` (volume services only, every
// version, as Cinder's os-extended-services) is the os-services/freeze flag. `backend_state` is
// used from 3.49 for cinder-volume only: the first pool's reported backend_state, "up" when it
// reports none, "down" when the service has reported no pools at all.
nlohmann::json ServiceView(const Request& req, const db::ServiceRecord& s, int64_t now_us,
                           int down_time_s);

// One entry of GET /messages and the body of GET /messages/{id}. Cinder calls the expiry
// `guaranteed_until`; Scoria also sends it as `expires_at`.
nlohmann::json MessageView(const Request& req, const db::MessageRecord& m);

// One entry of GET /os-hosts (cinder/api/contrib/hosts.py _list_hosts): host_name, service
// (the binary, Cinder's topic), zone, service-status (whether it is up, in Cinder's words),
// service-state (enabled or disabled) and last-update.
nlohmann::json HostView(const db::ServiceRecord& s, int64_t now_us, int down_time_s);

// One usage row of GET /os-hosts/{host}: Cinder sends the counts as strings.
struct HostResource {
  std::string project;  // a project id, or "(total)"
  int64_t volume_count = 0, volume_gb = 0, snapshot_count = 0, snapshot_gb = 0;
};
nlohmann::json HostResourceView(const std::string& host, const HostResource& r);

}  // namespace scoria::api
