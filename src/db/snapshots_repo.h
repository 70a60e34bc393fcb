// Snapshot rows and their metadata. Functions run inside the caller's transaction; a missing
// snapshot is NotFound with Cinder's message ("Snapshot <id> could not be found.").
//
// Snapshots are few per project compared with volumes, and their lists are filtered, sorted
// and paged in memory by the api (api/http/memory_page.h); the repository offers the project (or
// all) rows and a volume's rows.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "db/database.h"

namespace scoria::db {

struct SnapshotRecord {
  std::string id;
  std::string project_id;
  std::string user_id;
  std::string volume_id;
  std::optional<std::string> name;
  std::optional<std::string> description;
  int64_t size = 0;  // GiB: the volume's size when the snapshot was taken
  std::string status;
  std::string progress = "0%";
  std::optional<std::string> provider_location;
  int64_t created_at = 0;
  std::optional<int64_t> updated_at;
  std::map<std::string, std::string> metadata;
};

Result<SnapshotRecord> GetSnapshot(Transaction& tx, const std::string& id);
// Every snapshot of a project (nullopt: of every project), oldest first, with metadata.
Result<std::vector<SnapshotRecord>> ListSnapshots(Transaction& tx,
                                                  const std::optional<std::string>& project_id);
// A volume's snapshots, oldest first (created_at, then id), with metadata.
Result<std::vector<SnapshotRecord>> VolumeSnapshots(Transaction& tx, const std::string& volume_id);
Status InsertSnapshot(Transaction& tx, const SnapshotRecord& s);
// Writes name, description, status, progress, provider_location and updated_at (now).
// NotFound if the row is gone.
Status UpdateSnapshot(Transaction& tx, const SnapshotRecord& s);
// Removes the row and its metadata; a missing row is fine.
Status DeleteSnapshot(Transaction& tx, const std::string& id);

Status ReplaceSnapshotMetadata(Transaction& tx, const std::string& id,
                               const std::map<std::string, std::string>& md);
Status MergeSnapshotMetadata(Transaction& tx, const std::string& id,
                             const std::map<std::string, std::string>& md);
// NotFound when the key is absent.
Status DeleteSnapshotMetadataKey(Transaction& tx, const std::string& id, const std::string& key);

struct SnapshotUsage {
  int64_t snapshots = 0;
  int64_t gigabytes = 0;
};
// Snapshots and their GiB of one project (quota usage is counted, never cached).
Result<SnapshotUsage> ProjectSnapshotUsage(Transaction& tx, const std::string& project_id);
// The same for the project's snapshots of volumes of one volume type (per-type quotas).
Result<SnapshotUsage> ProjectTypeSnapshotUsage(Transaction& tx, const std::string& project_id,
                                               const std::string& type_id);
// Snapshots and GiB per project of the snapshots whose volume lives on a backend
// (host@backend, any pool).
Result<std::map<std::string, SnapshotUsage>> ProjectSnapshotUsageOnBackend(
    Transaction& tx, const std::string& backend);
// Ids of the snapshots whose volume lives on a backend (host@backend, any pool).
Result<std::vector<std::string>> SnapshotIdsOnBackend(Transaction& tx, const std::string& backend);

}  // namespace scoria::db
