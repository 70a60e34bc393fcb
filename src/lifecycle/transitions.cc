#include "lifecycle/transitions.h"

#include <algorithm>

#include "lifecycle/attach_status.h"
#include "lifecycle/backup_status.h"
#include "lifecycle/snapshot_status.h"
#include "lifecycle/volume_status.h"

namespace scoria::lifecycle {
namespace {

namespace vs = volume_status;
namespace ss = snapshot_status;
namespace as = attach_status;
namespace bs = backup_status;

// Indexed by the enum: keep the order of the enum's members.
const std::vector<Transition>& VolumeTable() {
  static const std::vector<Transition> table = {
      {"create", {}, {}, vs::kCreating, vs::kAvailable, vs::kError},
      {"delete",
       {vs::kAvailable, vs::kError, vs::kErrorRestoring, vs::kErrorExtending, vs::kErrorManaging},
       {},
       vs::kDeleting,
       kGone,
       vs::kErrorDeleting},
      {"extend", {vs::kAvailable}, {}, vs::kExtending, kPrevious, vs::kErrorExtending},
      {"extend attached", {vs::kInUse}, {}, vs::kExtending, kPrevious, vs::kErrorExtending},
      {"revert", {vs::kAvailable}, {}, vs::kReverting, vs::kAvailable, vs::kError},
      {"snapshot", {vs::kAvailable}, {}, kSame, kSame, kSame},
      {"snapshot (force)", {vs::kAvailable, vs::kInUse}, {}, kSame, kSame, kSame},
      {"backup", {vs::kAvailable, vs::kInUse}, {}, vs::kBackingUp, kPrevious, kPrevious},
      {"restore", {vs::kAvailable}, {}, vs::kRestoringBackup, vs::kAvailable, vs::kErrorRestoring},
      {"restore into new", {vs::kCreating}, {}, vs::kRestoringBackup, vs::kAvailable, vs::kError},
      {"reserve", {vs::kAvailable}, {vs::kInUse}, vs::kAttaching, kSame, kSame},
      {"unreserve", {vs::kAttaching}, {}, kSame, kSame, kSame},
      {"attach",
       {vs::kAvailable, vs::kAttaching, vs::kReserved},
       {vs::kInUse},
       kSame,
       vs::kInUse,
       kSame},
      {"initialize connection",
       {vs::kAvailable, vs::kAttaching, vs::kInUse, vs::kReserved, vs::kDetaching},
       {},
       kSame,
       kSame,
       kSame},
      {"begin detaching", {vs::kInUse}, {}, vs::kDetaching, kSame, kSame},
      {"roll detaching", {vs::kDetaching}, {}, vs::kInUse, kSame, kSame},
      {"create attachment", {vs::kAvailable, vs::kDownloading}, {vs::kInUse}, kSame, kSame, kSame},
      // Until the transfer is accepted (the volume changes project) or deleted (cancelled).
      {"transfer", {vs::kAvailable}, {}, vs::kAwaitingTransfer, vs::kAvailable, vs::kAvailable},
  };
  return table;
}

const std::vector<Transition>& SnapshotTable() {
  static const std::vector<Transition> table = {
      {"create", {}, {}, ss::kCreating, ss::kAvailable, ss::kError},
      {"delete", {ss::kAvailable, ss::kError}, {}, ss::kDeleting, kGone, ss::kErrorDeleting},
      {"create volume from", {ss::kAvailable}, {}, kSame, kSame, kSame},
      {"revert to", {ss::kAvailable}, {}, ss::kRestoring, ss::kAvailable, ss::kAvailable},
      {"backup", {ss::kAvailable}, {}, ss::kBackingUp, ss::kAvailable, ss::kAvailable},
  };
  return table;
}

const std::vector<Transition>& AttachmentTable() {
  static const std::vector<Transition> table = {
      {"update",
       {as::kReserved, as::kAttaching, as::kAttached, as::kErrorAttaching},
       {},
       as::kAttaching,
       kSame,
       as::kErrorAttaching},
      {"complete", {as::kAttaching}, {}, kSame, as::kAttached, kSame},
      {"delete",
       {as::kReserved, as::kAttaching, as::kAttached, as::kDetaching, as::kErrorAttaching,
        as::kErrorDetaching},
       {},
       as::kDetaching,
       kGone,
       as::kErrorDetaching},
  };
  return table;
}

const std::vector<Transition>& BackupTable() {
  static const std::vector<Transition> table = {
      {"create", {}, {}, bs::kCreating, bs::kAvailable, bs::kError},
      {"restore", {bs::kAvailable}, {}, bs::kRestoring, bs::kAvailable, bs::kAvailable},
      {"delete", {bs::kAvailable, bs::kError}, {}, bs::kDeleting, kGone, bs::kErrorDeleting},
  };
  return table;
}

bool Contains(const std::vector<std::string_view>& set, std::string_view status) {
  return std::find(set.begin(), set.end(), status) != set.end();
}

}  // namespace

const Transition& Of(VolumeOp op) { return VolumeTable().at(static_cast<size_t>(op)); }
const Transition& Of(SnapshotOp op) { return SnapshotTable().at(static_cast<size_t>(op)); }
const Transition& Of(AttachmentOp op) { return AttachmentTable().at(static_cast<size_t>(op)); }
const Transition& Of(BackupOp op) { return BackupTable().at(static_cast<size_t>(op)); }

bool Can(const Transition& t, std::string_view status, bool multiattach) {
  return Contains(t.from, status) || (multiattach && Contains(t.also_multiattach, status));
}

std::string_view After(const Transition& t, bool ok, std::string_view previous) {
  std::string_view end = ok ? t.success : t.failure;
  return end == kSame || end == kPrevious ? previous : end;
}

}  // namespace scoria::lifecycle
