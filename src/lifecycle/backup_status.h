// The statuses of a backup (Cinder's BackupStatus). Every place that sets or compares one names
// it here (checked by scripts/check-vocabulary.sh); the operations between them: transitions.h.
#pragma once

namespace scoria::backup_status {

inline constexpr char kCreating[] = "creating";
inline constexpr char kAvailable[] = "available";
inline constexpr char kRestoring[] = "restoring";
inline constexpr char kDeleting[] = "deleting";
inline constexpr char kError[] = "error";
inline constexpr char kErrorDeleting[] = "error_deleting";

}  // namespace scoria::backup_status
