// The operations on volumes, snapshots, attachments and backups as one table: for each, the
// statuses it may start from, the status the row shows while it runs, and what it leaves on
// success and on failure. The API's state checks ask `Can` before they accept a request; the
// workers (volume manager, scheduler, backup service) read `during`/`success`/`failure` from the
// same rows when they claim and finish the work, so the two sides cannot drift apart.
//
//   api: Can(op, status)? -> row.status = during, enqueue task
//   worker: row.status == during? -> run -> row.status = After(op, ok, row.previous_status)
//
// The table describes what Scoria does, which is what Cinder does (cinder/volume/api.py's
// expected statuses, cinder/volume/manager.py's end states); tests/unit/lifecycle checks every
// (operation, status) pair against an independent spelling of those rules.
// Thread-safety: the table is immutable; every function may be called from any thread.
#pragma once

#include <string_view>
#include <vector>

namespace scoria::lifecycle {

// Placeholders in a Transition: the row keeps (kSame) or goes back to (kPrevious, the row's
// previous_status) the status it had; the row is deleted (kGone).
inline constexpr std::string_view kSame = "<same>";
inline constexpr std::string_view kPrevious = "<previous>";
inline constexpr std::string_view kGone = "<gone>";

struct Transition {
  std::string_view name;                           // in messages and tests ("extend")
  std::vector<std::string_view> from;              // statuses the operation may start from
  std::vector<std::string_view> also_multiattach;  // ... and these too on a multiattach volume
  std::string_view during;                         // the row's status while it runs (or kSame)
  std::string_view success;                        // a status, kSame, kPrevious or kGone
  std::string_view failure;                        // a status, kSame or kPrevious
};

enum class VolumeOp {
  kCreate,                // POST /volumes (empty, from a snapshot, a clone or an image)
  kDelete,                // DELETE /volumes/{id}
  kExtend,                // os-extend of a detached volume
  kExtendAttached,        // os-extend of an attached one (3.42)
  kRevert,                // revert to its latest snapshot (3.40)
  kSnapshot,              // source of POST /snapshots
  kSnapshotForce,         // ... with force=true (an attached volume too)
  kBackup,                // source of POST /backups (in-use needs force; checked by the api)
  kRestore,               // target of a restore into an existing volume
  kRestoreIntoNew,        // target of a restore that created its volume
  kReserve,               // os-reserve (legacy attach, step 1)
  kUnreserve,             // os-unreserve
  kAttach,                // os-attach (legacy attach, step 2)
  kInitializeConnection,  // os-initialize_connection
  kBeginDetaching,        // os-begin_detaching
  kRollDetaching,         // os-roll_detaching
  kCreateAttachment,      // POST /attachments (3.27)
  kTransfer,              // POST /volume-transfers: awaiting-transfer until accepted or deleted
};

enum class SnapshotOp {
  kCreate,            // POST /snapshots
  kDelete,            // DELETE /snapshots/{id}
  kCreateVolumeFrom,  // source of a volume created from it
  kRevertTo,          // the snapshot a volume reverts to
  kBackup,            // source of a backup taken from it
};

enum class AttachmentOp {
  kUpdate,    // PUT /attachments/{id} with a connector: the export task publishes the access entry
  kComplete,  // POST /attachments/{id}/action os-complete
  kDelete,    // DELETE /attachments/{id}: the unexport task removes the entry, then the row
};

enum class BackupOp {
  kCreate,   // POST /backups
  kRestore,  // POST /backups/{id}/restore
  kDelete,   // DELETE /backups/{id}
};

const Transition& Of(VolumeOp op);
const Transition& Of(SnapshotOp op);
const Transition& Of(AttachmentOp op);
const Transition& Of(BackupOp op);

// Whether the operation may start on a row in `status` (`multiattach`: the volume's flag).
bool Can(const Transition& t, std::string_view status, bool multiattach = false);
template <typename Op>
bool Can(Op op, std::string_view status, bool multiattach = false) {
  return Can(Of(op), status, multiattach);
}

// The status a row is left in when the operation ends: `previous` is the row's status before
// the operation (its previous_status column), used by kSame and kPrevious. kGone for a row that
// is deleted.
std::string_view After(const Transition& t, bool ok, std::string_view previous);
template <typename Op>
std::string_view After(Op op, bool ok, std::string_view previous) {
  return After(Of(op), ok, previous);
}

}  // namespace scoria::lifecycle
