#include "api/resources/visibility.h"

namespace scoria::api {
namespace {

// The one visibility rule, for any row with a project_id.
template <class Record>
Result<Record> IfVisible(Result<Record> row, const Request& req, const char* kind,
                         const std::string& id) {
  if (!row.ok()) return row.status();
  if (!req.ctx.is_admin && row->project_id != req.ctx.project_id) {
    return NotFound(std::string(kind) + " " + id + " could not be found.");
  }
  return row;
}

}  // namespace

Result<db::VolumeRecord> LoadVisibleVolume(db::Transaction& tx, const Request& req,
                                           const std::string& id) {
  return IfVisible(db::GetVolume(tx, id), req, "Volume", id);
}

Result<db::SnapshotRecord> LoadVisibleSnapshot(db::Transaction& tx, const Request& req,
                                               const std::string& id) {
  return IfVisible(db::GetSnapshot(tx, id), req, "Snapshot", id);
}

Result<db::BackupRecord> LoadVisibleBackup(db::Transaction& tx, const Request& req,
                                           const std::string& id) {
  return IfVisible(db::GetBackup(tx, id), req, "Backup", id);
}

}  // namespace scoria::api
