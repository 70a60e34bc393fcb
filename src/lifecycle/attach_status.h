// The statuses of an attachment row (Cinder's volume_attachment.attach_status). Every place that
// sets or compares one names it here (checked by scripts/check-vocabulary.sh); the operations
// between them: transitions.h.
#pragma once

namespace scoria::attach_status {

inline constexpr char kReserved[] = "reserved";
inline constexpr char kAttaching[] = "attaching";
inline constexpr char kAttached[] = "attached";
inline constexpr char kDetaching[] = "detaching";
inline constexpr char kErrorAttaching[] = "error_attaching";
inline constexpr char kErrorDetaching[] = "error_detaching";

}  // namespace scoria::attach_status
