// The statuses of a snapshot, as Cinder spells them (cinder/objects/fields.py SnapshotStatus).
// Every place that sets or compares a snapshot's status names it here (checked by
// scripts/check-vocabulary.sh); the operations between them: transitions.h.
#pragma once

#include <array>
#include <string_view>

namespace scoria::snapshot_status {

inline constexpr char kError[] = "error";
inline constexpr char kAvailable[] = "available";
inline constexpr char kCreating[] = "creating";
inline constexpr char kDeleting[] = "deleting";
inline constexpr char kDeleted[] = "deleted";
inline constexpr char kUpdating[] = "updating";
inline constexpr char kErrorDeleting[] = "error_deleting";
inline constexpr char kUnmanaging[] = "unmanaging";
inline constexpr char kBackingUp[] = "backing-up";
inline constexpr char kRestoring[] = "restoring";

// The statuses an admin may set with os-reset_status (SnapshotStatus.ALL, in its order).
inline constexpr std::array<std::string_view, 10> kAll = {
    kError, kAvailable, kCreating, kDeleting, kDeleted, kUpdating, kErrorDeleting, kUnmanaging,
    kBackingUp, kRestoring};

}  // namespace scoria::snapshot_status
