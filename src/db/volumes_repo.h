// Volume rows and their metadata. Functions run inside the caller's transaction; a missing
// volume is NotFound with Cinder's message ("Volume <id> could not be found.").
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "db/database.h"
#include "lifecycle/volume_status.h"

namespace scoria::db {

struct VolumeRecord {
  std::string id;
  std::string project_id;
  std::string user_id;
  std::optional<std::string> name;
  std::optional<std::string> description;
  int64_t size = 0;  // GiB
  std::string status;
  std::optional<std::string> previous_status;
  std::string attach_status = volume_attach_status::kDetached;
  std::optional<std::string> migration_status;
  std::optional<std::string> host;  // host@backend#pool once scheduled
  std::string availability_zone;
  std::string volume_type_id;
  bool bootable = false;
  bool readonly = false;
  bool multiattach = false;
  std::optional<std::string> snapshot_id;
  std::optional<std::string> source_volid;
  std::optional<std::string> provider_location;
  int64_t scheduling_attempts = 0;
  int64_t created_at = 0;
  std::optional<int64_t> updated_at;
  std::optional<int64_t> launched_at;
  std::map<std::string, std::string> metadata;
};

struct SortKey {
  std::string column;  // a column of the volumes table (validated by the caller's whitelist)
  bool desc = true;
};

// Filters an API list turns into SQL. Every field is optional; all given ones must match.
struct VolumeFilter {
  std::optional<std::string> project_id;      // nullopt: all projects
  std::map<std::string, std::string> equals;  // column -> value (name, status, ...)
  std::map<std::string, std::string> like;    // column -> substring (3.34 `name~`)
  std::map<std::string, std::string> metadata;
  std::vector<std::pair<std::string, std::pair<std::string, int64_t>>> time_ranges;  // col, op, t
  std::optional<std::string> host_prefix;  // "host@backend" matches "host@backend#pool"
};

struct VolumePage {
  std::vector<SortKey> sort;  // empty: created_at desc; id is always the final tiebreaker
  std::optional<int64_t> limit;
  std::optional<std::string> marker;  // id of the last item of the previous page
  int64_t offset = 0;
};

// The columns a filter or sort may name (public names are mapped by the API).
bool IsVolumeColumn(const std::string& column);

// with_metadata = false (GetVolumeState) leaves `metadata` empty and saves a query: the
// services' task handlers never read a volume's metadata, only the api's views do.
Result<VolumeRecord> GetVolume(Transaction& tx, const std::string& id, bool with_metadata = true);
inline Result<VolumeRecord> GetVolumeState(Transaction& tx, const std::string& id) {
  return GetVolume(tx, id, /*with_metadata=*/false);
}
Result<std::vector<VolumeRecord>> ListVolumes(Transaction& tx, const VolumeFilter& filter,
                                              const VolumePage& page, bool with_metadata = true);
// The metadata of `vols` as a statement for Transaction::QueryAll, and its rows added to them
// (a listing read with with_metadata = false batches it with its other queries).
Statement VolumeMetadataQuery(const std::vector<VolumeRecord>& vols);
void AddVolumeMetadata(const std::vector<Row>& rows, std::vector<VolumeRecord>& vols);
Result<int64_t> CountVolumes(Transaction& tx, const VolumeFilter& filter);
Status InsertVolume(Transaction& tx, const VolumeRecord& v);
// Writes every mutable column (not metadata). NotFound if the row is gone.
Status UpdateVolume(Transaction& tx, const VolumeRecord& v);
Status DeleteVolume(Transaction& tx, const std::string& id);

Status ReplaceVolumeMetadata(Transaction& tx, const std::string& id,
                             const std::map<std::string, std::string>& md);
Status MergeVolumeMetadata(Transaction& tx, const std::string& id,
                           const std::map<std::string, std::string>& md);
// NotFound when the key is absent.
Status DeleteVolumeMetadataKey(Transaction& tx, const std::string& id, const std::string& key);

struct BackendUsage {
  int64_t volumes = 0;
  int64_t gigabytes = 0;
};
// Volumes and GiB per host string (host@backend#pool), for the scheduler and stats.
Result<std::map<std::string, BackendUsage>> UsageByHost(Transaction& tx);
// Volumes and GiB of one project (quota usage is counted, never cached).
Result<BackendUsage> ProjectUsage(Transaction& tx, const std::string& project_id);
// The same for the project's volumes of one volume type (per-type quotas).
Result<BackendUsage> ProjectTypeUsage(Transaction& tx, const std::string& project_id,
                                      const std::string& type_id);
// True when a volume host string (host@backend or host@backend#pool) is on `backend`.
inline bool HostOnBackend(const std::string& host, const std::string& backend) {
  return host.size() >= backend.size() && host.compare(0, backend.size(), backend) == 0 &&
         (host.size() == backend.size() || host[backend.size()] == '#');
}
// Count and sum of `size` per project over the rows of `sql`, which selects (project_id, host,
// size) and takes the parameters (backend, backend + "#%") for `host = ? OR host LIKE ?`; rows
// whose host is not on `backend` (LIKE's '_' matches any character) are skipped.
Result<std::map<std::string, BackendUsage>> CountByProjectOnBackend(Transaction& tx,
                                                                    std::string_view sql,
                                                                    const std::string& backend);
// Volumes and GiB per project of the volumes on a backend (host@backend, any pool).
Result<std::map<std::string, BackendUsage>> ProjectUsageOnBackend(Transaction& tx,
                                                                  const std::string& backend);
// Ids of volumes on a backend (host@backend, any pool).
Result<std::vector<std::string>> VolumeIdsOnBackend(Transaction& tx, const std::string& backend);

}  // namespace scoria::db
