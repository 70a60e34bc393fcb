// The JSON shape of a snapshot (cinder/api/v3/views/snapshots.py plus the
// os-extended-snapshot-attributes extension), per microversion. Pure functions.
#pragma once

#include <nlohmann/json.hpp>

#include "api/http/http.h"
#include "db/snapshots_repo.h"

namespace scoria::api {

// id, created_at, updated_at, name, description, volume_id, status, size, metadata;
// group_snapshot_id (>= 3.14), user_id (>= 3.41), consumes_quota (>= 3.65). Cinder's
// extended-attributes extension adds os-extended-snapshot-attributes:project_id and :progress
// to show and /snapshots/detail only (SnapshotExtras::kWith); create, update and the plain
// list answer without them.
enum class SnapshotExtras { kWith, kWithout };
nlohmann::json SnapshotView(const Request& req, const db::SnapshotRecord& s,
                            SnapshotExtras extras = SnapshotExtras::kWith);

}  // namespace scoria::api
