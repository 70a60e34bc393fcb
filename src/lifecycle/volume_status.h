// The statuses of a volume, as Cinder spells them (cinder/objects/fields.py VolumeStatus), and
// its attach_status column (VolumeAttachStatus). Every place that sets or compares a volume's
// status names it here; scripts/check-vocabulary.sh fails the test run on a quoted one elsewhere.
// Which operation may start from which status, and what it leaves behind: transitions.h.
#pragma once

#include <array>
#include <string_view>

namespace scoria::volume_status {

inline constexpr char kCreating[] = "creating";
inline constexpr char kAvailable[] = "available";
inline constexpr char kDeleting[] = "deleting";
inline constexpr char kError[] = "error";
inline constexpr char kErrorDeleting[] = "error_deleting";
inline constexpr char kManaging[] = "managing";
inline constexpr char kErrorManaging[] = "error_managing";
inline constexpr char kErrorManagingDeleting[] = "error_managing_deleting";
inline constexpr char kAttaching[] = "attaching";
inline constexpr char kInUse[] = "in-use";
inline constexpr char kDetaching[] = "detaching";
inline constexpr char kMaintenance[] = "maintenance";
inline constexpr char kRestoringBackup[] = "restoring-backup";
inline constexpr char kErrorRestoring[] = "error_restoring";
inline constexpr char kReserved[] = "reserved";
inline constexpr char kAwaitingTransfer[] = "awaiting-transfer";
inline constexpr char kBackingUp[] = "backing-up";
inline constexpr char kErrorBackingUp[] = "error_backing-up";
inline constexpr char kErrorExtending[] = "error_extending";
inline constexpr char kDownloading[] = "downloading";
inline constexpr char kUploading[] = "uploading";
inline constexpr char kRetyping[] = "retyping";
inline constexpr char kExtending[] = "extending";
inline constexpr char kReverting[] = "reverting";

// The statuses an admin may set with os-reset_status (Cinder's VolumeStatus.ALL, in its order).
// error_managing_deleting is Cinder's too but not settable: it only shows as "deleting".
inline constexpr std::array<std::string_view, 23> kAll = {
    kCreating,        kAvailable,       kDeleting,    kError,           kErrorDeleting,
    kErrorManaging,   kManaging,        kAttaching,   kInUse,           kDetaching,
    kMaintenance,     kRestoringBackup, kErrorRestoring, kReserved,     kAwaitingTransfer,
    kBackingUp,       kErrorBackingUp,  kErrorExtending, kDownloading,  kUploading,
    kRetyping,        kExtending,       kReverting};

// Every error status starts with "error" (Cinder's attachment checks rely on it too).
inline bool IsError(std::string_view status) { return status.substr(0, 5) == "error"; }

}  // namespace scoria::volume_status

// A volume's attach_status: whether any host has it attached (VolumeAttachStatus).
namespace scoria::volume_attach_status {

inline constexpr char kAttached[] = "attached";
inline constexpr char kAttaching[] = "attaching";
inline constexpr char kDetached[] = "detached";
inline constexpr char kReserved[] = "reserved";
inline constexpr char kErrorAttaching[] = "error_attaching";
inline constexpr char kErrorDetaching[] = "error_detaching";
inline constexpr char kDeleted[] = "deleted";

// What os-reset_status accepts for attach_status (Cinder: attached or detached only).
inline constexpr std::array<std::string_view, 2> kResettable = {kAttached, kDetached};

}  // namespace scoria::volume_attach_status
