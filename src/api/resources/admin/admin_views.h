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

// True while the service's last heartbeat is at most `down_time_s` seconds away from `now_us`
// (either direction, as Cinder uses abs()).
bool ServiceIsUp(const db::ServiceRecord& s, int64_t now_us, int down_time_s);

// One entry of GET /os-services. `backend_state` is used from 3.49 for cinder-volume only: the
// first pool's reported backend_state, "up" when it reports none, "down" when the service has
// reported no pools at all.
nlohmann::json ServiceView(const Request& req, const db::ServiceRecord& s, int64_t now_us,
                           int down_time_s);

// One entry of GET /messages and the body of GET /messages/{id}. Cinder calls the expiry
// `guaranteed_until`; Scoria also sends it as `expires_at`.
nlohmann::json MessageView(const Request& req, const db::MessageRecord& m);

}  // namespace scoria::api
