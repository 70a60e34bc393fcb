// The snapshot hand-offs that the volume and snapshot handlers share: deleting a snapshot
// (alone or in a volume's cascade delete), the source of a new volume (snapshot_id or
// source_volid), and the 3.40 revert action. Each writes rows and tasks in the caller's
// transaction; the volume manager runs the tasks (volume/manager.h).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "api/resources/api_env.h"
#include "db/snapshots_repo.h"
#include "db/volumes_repo.h"

namespace scoria::api {

// "host@backend" of "host@backend#pool".
inline std::string BackendOfHost(const std::string& host) { return host.substr(0, host.find('#')); }

// Sets the snapshot `deleting` and queues delete_snapshot for its volume's backend (resource:
// the volume, so it runs in order with the volume's tasks). A snapshot whose volume was never
// placed is removed at once. FailedPrecondition while volumes are being created from it.
Status EnqueueSnapshotDelete(db::Transaction& tx, db::SnapshotRecord& s);

// A volume's snapshots stop its delete (400) unless `cascade`; with cascade every snapshot
// must be available or error (any state with force) and each gets its delete queued before
// the volume's, oldest first.
Status DeleteSnapshotsOfVolume(db::Transaction& tx, const db::VolumeRecord& v, bool cascade,
                               bool force);

// What a new volume is copied from, once checked.
struct VolumeSource {
  std::optional<std::string> snapshot_id;
  std::optional<std::string> source_volid;
  int64_t size = 0;               // GiB: the smallest the new volume may be
  std::string host;               // host@backend#pool the new volume must land on
  std::string volume_type_id;     // the default type of the new volume
  std::string availability_zone;  // the default AZ of the new volume
};

// The snapshot_id / source_volid of a create body (nulls ignored). nullopt when neither is
// given; 400 when both are, or when one is not a string.
Result<std::optional<VolumeSource>> ParseVolumeSource(const nlohmann::json& in);
// Loads and checks the source (404 when missing or not the caller's; 400 when its state
// forbids: a snapshot must be available, a volume available or in-use) and fills `src`.
Status LoadVolumeSource(db::Transaction& tx, const Request& req, VolumeSource& src);
// 400 when `size` is smaller than the source (Cinder's wording).
Status CheckSizeAgainstSource(const VolumeSource& src, int64_t size);

// POST /volumes/{id}/action {"revert": {"snapshot_id": ...}} (>= 3.40).
Response RevertVolumeAction(const ApiEnv& env, Request& req, const std::string& volume_id,
                            const nlohmann::json& args);

}  // namespace scoria::api
