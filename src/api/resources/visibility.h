// Which rows a caller may see: a project's own volumes, snapshots and backups, or every
// project's for an admin. A row the caller may not see is answered exactly like a missing one
// (404 "<Kind> <id> could not be found."), as Cinder's project-scoped queries do, so a caller
// cannot probe another project's ids.
#pragma once

#include <string>

#include "api/http/http.h"
#include "common/status.h"
#include "db/backups_repo.h"
#include "db/database.h"
#include "db/snapshots_repo.h"
#include "db/volumes_repo.h"

namespace scoria::api {

// The row with this id, if the caller (req.ctx) may see it. NotFound "<Kind> <id> could not be
// found." when it is missing or another project's; any other database error as it came.
// Runs inside the caller's transaction; it reads only.
[[nodiscard]] Result<db::VolumeRecord> LoadVisibleVolume(db::Transaction& tx, const Request& req,
                                                         const std::string& id);
[[nodiscard]] Result<db::SnapshotRecord> LoadVisibleSnapshot(db::Transaction& tx,
                                                             const Request& req,
                                                             const std::string& id);
[[nodiscard]] Result<db::BackupRecord> LoadVisibleBackup(db::Transaction& tx, const Request& req,
                                                         const std::string& id);

}  // namespace scoria::api
