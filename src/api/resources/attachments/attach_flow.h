// The api side of attach/detach, shared by the attachments API (attachments_handler.cc) and
// the legacy volume actions (volumes_handler.cc).
//
// DESIGN: the api never exports. It writes the attachment row and an export_attachment or
// unexport_attachment task for the volume's backend (resource_id = the volume id, so the task
// is ordered with the volume's other tasks) in one transaction, wakes the workers, and then
// waits for that task to leave the queue (WaitForTask), as Cinder's attachment_update waits
// for its synchronous RPC. The volume service's side is volume/manager.h.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "api/http/http.h"
#include "common/config.h"
#include "common/status.h"
#include "db/attachments_repo.h"
#include "db/database.h"
#include "db/volumes_repo.h"

namespace scoria::api {

// A connector must be a JSON object with a non-empty string "initiator" (the iSCSI IQN; the
// only protocol served). InvalidArgument (400) otherwise.
Status ValidateConnector(const nlohmann::json& connector);

// "ro" / "rw" (3.54 `mode`, or the connector's "mode"); InvalidArgument otherwise.
Status ValidateMode(const std::string& mode);

// A new reserved row for `v`, owned by the caller's project, with its own CHAP user (20
// characters) and secret (16 characters).
db::AttachmentRecord NewAttachmentRow(const Request& req, const db::VolumeRecord& v);

// Whether the volume service of `v`'s backend has a fresh heartbeat (db::ServiceIsUp).
// FailedPrecondition when the volume has no backend yet.
Result<bool> VolumeServiceIsUp(db::Transaction& tx, const Config& config,
                               const db::VolumeRecord& v);

// Sets the row's connector, initiator and mode (explicit mode, else the row's, else the
// connector's, else ro for a read-only volume, else rw), marks it attaching and not exported,
// saves it and enqueues export_attachment. Returns the task id. FailedPrecondition when the
// volume has no backend yet; Unavailable (503) when its volume service is down (no heartbeat
// for service_down_time): only that host can export it, so the request fails at once, with
// nothing written, rather than after WaitForTask's timeout with an attachment left behind.
// keep_attached: an attached row stays attached (legacy os-initialize_connection of an
// attached volume, e.g. after a host reboot).
Result<int64_t> EnqueueExport(db::Transaction& tx, const Config& config, db::AttachmentRecord& a,
                              const db::VolumeRecord& v, const nlohmann::json& connector,
                              const std::optional<std::string>& mode, bool keep_attached = false);

// Enqueues unexport_attachment for the row (delete_row: the task also removes the row and
// recomputes the volume's status). Returns the task id.
Result<int64_t> EnqueueUnexport(db::Transaction& tx, const db::AttachmentRecord& a,
                                const db::VolumeRecord& v, bool delete_row);

inline constexpr char kExportTimeoutMessage[] =
    "The volume service did not export the volume in time";
inline constexpr char kUnexportTimeoutMessage[] =
    "The volume service did not unexport the volume in time";

// The volume actions of the attach API before 3.27 (cinder-api.md §1.5): os-reserve,
// os-unreserve, os-initialize_connection, os-terminate_connection, os-attach,
// os-begin_detaching, os-roll_detaching, os-detach. volume_attach_actions.cc.
bool IsLegacyAttachAction(const std::string& action);
struct ApiEnv;
Response LegacyAttachAction(const ApiEnv& env, Request& req, const std::string& volume_id,
                            const std::string& action, const nlohmann::json& args);

// Polls (every 2 ms, up to 30 s) until task `task_id` has left the queue. Unavailable (503)
// with `timeout_message` when it has not: the task stays queued and will still run.
// Blocks the calling (api io) thread.
Status WaitForTask(db::Database& db, int64_t task_id, const std::string& timeout_message);

}  // namespace scoria::api
