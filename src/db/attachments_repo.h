// Attachment rows (Cinder's volume_attachment) and the volume status they imply.
//
// An attachment joins a volume to a host. Its attach_status moves
//
//   reserved --connector--> attaching --os-complete / os-attach--> attached
//       |                      |   \--export failed--> error_attaching
//       |                      |                                   |
//       +----------------------+-------- delete ------------------>+--> row removed
//                                                 (attached/attaching: through detaching
//                                                  while the volume service unexports)
//
// The volume's own status follows its attachments (VolumeStatusFor, Cinder's
// _get_statuses_from_attachments). Functions run inside the caller's transaction; a missing
// attachment is NotFound with Cinder's message. chap_secret is a secret: never log a record.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "db/database.h"
#include "db/volumes_repo.h"
#include "lifecycle/attach_status.h"

namespace scoria::db {

namespace attach_status = ::scoria::attach_status;  // lifecycle/attach_status.h

struct AttachmentRecord {
  std::string id;
  std::string volume_id;
  std::string project_id;
  std::string user_id;
  std::optional<std::string> instance_uuid;
  std::optional<std::string> attached_host;
  std::optional<std::string> mountpoint;
  std::optional<std::string> attach_mode;  // "rw" / "ro"; unset until a connector or os-attach
  std::string attach_status = attach_status::kReserved;
  std::optional<std::string> connector;        // JSON object as the client sent it
  std::optional<std::string> initiator;        // connector["initiator"]
  std::optional<std::string> chap_user;        // 20 characters, per attachment
  std::optional<std::string> chap_secret;      // 16 characters, per attachment
  // The target's own CHAP credentials, for an initiator that asks for mutual CHAP (the
  // initiator checks the target); per attachment, like chap_user/chap_secret.
  std::optional<std::string> target_chap_user;
  std::optional<std::string> target_chap_secret;
  std::optional<std::string> connection_info;  // JSON, written by the export task
  bool exported = false;  // the volume service published this row's access entry
  int64_t created_at = 0;
  std::optional<int64_t> updated_at;
  std::optional<int64_t> attach_time;
  std::optional<int64_t> detach_time;
};

struct AttachmentFilter {
  std::optional<std::string> project_id;  // nullopt: all projects
  std::optional<std::string> volume_id;
  std::optional<std::string> instance_uuid;
  std::optional<std::string> attach_status;
};

Result<AttachmentRecord> GetAttachment(Transaction& tx, const std::string& id);
// Newest first (created_at desc, id).
Result<std::vector<AttachmentRecord>> ListAttachments(Transaction& tx,
                                                      const AttachmentFilter& filter);
Result<std::vector<AttachmentRecord>> VolumeAttachments(Transaction& tx,
                                                        const std::string& volume_id);
// The attachments of several volumes at once (for volume listings), keyed by volume id.
Result<std::map<std::string, std::vector<AttachmentRecord>>> AttachmentsOfVolumes(
    Transaction& tx, const std::vector<std::string>& volume_ids);
// The same as a statement for Transaction::QueryAll, and its rows read back.
Statement AttachmentsOfVolumesQuery(const std::vector<std::string>& volume_ids);
std::map<std::string, std::vector<AttachmentRecord>> AttachmentsByVolume(
    const std::vector<Row>& rows);
// Exported attachments of the volumes on a backend (host@backend, any pool): what a volume
// manager re-publishes when it starts.
Result<std::vector<AttachmentRecord>> ExportedAttachmentsOnBackend(Transaction& tx,
                                                                   const std::string& backend);
Status InsertAttachment(Transaction& tx, const AttachmentRecord& a);
// Writes every mutable column; NotFound if the row is gone.
Status UpdateAttachment(Transaction& tx, const AttachmentRecord& a);
Status DeleteAttachment(Transaction& tx, const std::string& id);

// Whether task `task_id` is still in the queue (not finished). The api waits on this for the
// volume service's answer to an export or unexport (the synchronous RPC of Cinder).
Result<bool> TaskQueued(Transaction& tx, int64_t task_id);

// Cinder's rule for a volume's (status, attach_status) from its attachments: the
// alphabetically first attach_status that is not error_attaching wins; attached -> in-use,
// none -> available, any other -> the same word.
std::pair<std::string, std::string> VolumeStatusFor(const std::vector<AttachmentRecord>& atts);

// Applies VolumeStatusFor to the volume `v` from its current rows and saves it. A volume in
// the middle of an extend keeps the extend's status: its previous_status takes the new one.
Status RecomputeVolumeStatus(Transaction& tx, VolumeRecord& v);

}  // namespace scoria::db
