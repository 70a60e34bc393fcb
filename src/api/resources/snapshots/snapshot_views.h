// The JSON shape of a snapshot (cinder/api/v3/views/snapshots.py plus the
// os-extended-snapshot-attributes extension), per microversion. Pure functions.
#pragma once

#include <nlohmann/json.hpp>

#include "api/http/http.h"
#include "db/snapshots_repo.h"

namespace scoria::api {

// id, created_at, updated_at, name, description, volume_id, status, size, metadata;
// os-extended-snapshot-attributes:project_id and :progress; group_snapshot_id (>= 3.14),
// user_id (>= 3.41), consumes_quota (>= 3.65). Cinder shows the same object in lists,
// details and single gets.
nlohmann::json SnapshotView(const Request& req, const db::SnapshotRecord& s);

}  // namespace scoria::api
