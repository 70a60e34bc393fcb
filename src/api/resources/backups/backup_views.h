// The JSON shapes of backups (cinder/api/views/backups.py), per microversion, plus Scoria's
// progress and verification fields (docs/api.md "Backups"). Pure functions of a record and the
// request.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "api/http/http.h"
#include "db/backups_repo.h"

namespace scoria::api {

// {"id", "name", "links"}.
nlohmann::json BackupSummaryView(const Request& req, const db::BackupRecord& b);
// Cinder's detail: id, status, size, object_count, availability_zone, container, created_at,
// updated_at, name, description, fail_reason, volume_id, links, is_incremental,
// has_dependent_backups, snapshot_id, data_timestamp; >= 3.18 (admins)
// os-backup-project-attr:project_id; >= 3.43 metadata; >= 3.56 user_id; >= 3.64
// encryption_key_id (always null). With X-Scoria-Details, Scoria adds parent_id, progress
// ({operation, bytes_done, bytes_total, percent} while a job runs, else null), verify_result
// and verified_at.
nlohmann::json BackupDetailView(const Request& req, const db::BackupRecord& b,
                                int64_t dependent_backups);
// The progress object alone (null when no job runs).
nlohmann::json BackupProgressView(const db::BackupRecord& b);

}  // namespace scoria::api
