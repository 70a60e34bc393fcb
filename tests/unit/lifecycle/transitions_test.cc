// The whole transition table against an independent spelling of the rules: for every operation
// and every status of its vocabulary, whether the operation may start, as Cinder's API checks
// it (cinder/volume/api.py, cinder/api/contrib/*). A change to the table that is not also made
// here fails, so a state rule cannot move by accident.
#include "lifecycle/transitions.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "lifecycle/attach_status.h"
#include "lifecycle/backup_status.h"
#include "lifecycle/snapshot_status.h"
#include "lifecycle/volume_status.h"

namespace scoria::lifecycle {
namespace {

using Set = std::set<std::string>;

struct Row {
  const Transition* t;
  Set allowed;              // statuses the operation may start from
  Set allowed_multiattach;  // the same on a multiattach volume
};

std::vector<std::string> Vocabulary(const auto& all) { return {all.begin(), all.end()}; }

void CheckMatrix(const std::vector<Row>& rows, const std::vector<std::string>& vocabulary) {
  for (const Row& r : rows) {
    for (const std::string& s : vocabulary) {
      EXPECT_EQ(Can(*r.t, s, false), r.allowed.count(s) == 1) << r.t->name << " from " << s;
      EXPECT_EQ(Can(*r.t, s, true), r.allowed_multiattach.count(s) == 1)
          << r.t->name << " from " << s << " (multiattach)";
    }
  }
}

// Every status a row names is in the vocabulary (or a placeholder where one is allowed).
void CheckNames(const Transition& t, const std::vector<std::string>& vocabulary) {
  const Set known(vocabulary.begin(), vocabulary.end());
  for (std::string_view s : t.from) EXPECT_TRUE(known.count(std::string(s))) << t.name << " " << s;
  for (std::string_view s : t.also_multiattach) {
    EXPECT_TRUE(known.count(std::string(s))) << t.name << " " << s;
  }
  EXPECT_TRUE(t.during == kSame || known.count(std::string(t.during))) << t.name;
  EXPECT_TRUE(t.success == kSame || t.success == kPrevious || t.success == kGone ||
              known.count(std::string(t.success)))
      << t.name;
  EXPECT_TRUE(t.failure == kSame || t.failure == kPrevious || known.count(std::string(t.failure)))
      << t.name;
}

TEST(TransitionsTest, VolumeOperationsStartOnlyFromTheirStatuses) {
  const Set deletable = {"available", "error", "error_restoring", "error_extending",
                         "error_managing"};
  // The legacy os-attach: in-use only on a multiattach volume (the api's check, which the
  // earlier row, taken from Cinder's attach(), was wider than); os-initialize_connection
  // accepts in-use and detaching on any volume.
  const Set attach = {"available", "attaching", "reserved"};
  const Set initialize = {"available", "attaching", "in-use", "reserved", "detaching"};
  std::vector<Row> rows = {
      {&Of(VolumeOp::kCreate), {}, {}},
      {&Of(VolumeOp::kDelete), deletable, deletable},
      {&Of(VolumeOp::kExtend), {"available"}, {"available"}},
      {&Of(VolumeOp::kExtendAttached), {"in-use"}, {"in-use"}},
      {&Of(VolumeOp::kRevert), {"available"}, {"available"}},
      {&Of(VolumeOp::kSnapshot), {"available"}, {"available"}},
      {&Of(VolumeOp::kSnapshotForce), {"available", "in-use"}, {"available", "in-use"}},
      {&Of(VolumeOp::kBackup), {"available", "in-use"}, {"available", "in-use"}},
      {&Of(VolumeOp::kRestore), {"available"}, {"available"}},
      {&Of(VolumeOp::kRestoreIntoNew), {"creating"}, {"creating"}},
      {&Of(VolumeOp::kReserve), {"available"}, {"available", "in-use"}},
      {&Of(VolumeOp::kUnreserve), {"attaching"}, {"attaching"}},
      {&Of(VolumeOp::kAttach), attach, {"available", "attaching", "reserved", "in-use"}},
      {&Of(VolumeOp::kInitializeConnection), initialize, initialize},
      {&Of(VolumeOp::kBeginDetaching), {"in-use"}, {"in-use"}},
      {&Of(VolumeOp::kRollDetaching), {"detaching"}, {"detaching"}},
      {&Of(VolumeOp::kCreateAttachment),
       {"available", "downloading"},
       {"available", "downloading", "in-use"}},
      // cinder/transfer/api.py create: volume['status'] != 'available' -> InvalidVolume.
      {&Of(VolumeOp::kTransfer), {"available"}, {"available"}},
  };
  const auto vocabulary = Vocabulary(volume_status::kAll);
  CheckMatrix(rows, vocabulary);
  for (const Row& r : rows) CheckNames(*r.t, vocabulary);
}

TEST(TransitionsTest, SnapshotOperationsStartOnlyFromTheirStatuses) {
  std::vector<Row> rows = {
      {&Of(SnapshotOp::kCreate), {}, {}},
      {&Of(SnapshotOp::kDelete), {"available", "error"}, {"available", "error"}},
      {&Of(SnapshotOp::kCreateVolumeFrom), {"available"}, {"available"}},
      {&Of(SnapshotOp::kRevertTo), {"available"}, {"available"}},
      {&Of(SnapshotOp::kBackup), {"available"}, {"available"}},
  };
  const auto vocabulary = Vocabulary(snapshot_status::kAll);
  CheckMatrix(rows, vocabulary);
  for (const Row& r : rows) CheckNames(*r.t, vocabulary);
}

TEST(TransitionsTest, AttachmentAndBackupOperationsStartOnlyFromTheirStatuses) {
  const std::vector<std::string> attachments = {
      attach_status::kReserved,  attach_status::kAttaching,      attach_status::kAttached,
      attach_status::kDetaching, attach_status::kErrorAttaching, attach_status::kErrorDetaching};
  const Set any(attachments.begin(), attachments.end());
  std::vector<Row> rows = {
      // A failed export may be retried with another PUT (the api refuses only detaching rows).
      {&Of(AttachmentOp::kUpdate),
       {"reserved", "attaching", "attached", "error_attaching"},
       {"reserved", "attaching", "attached", "error_attaching"}},
      {&Of(AttachmentOp::kComplete), {"attaching"}, {"attaching"}},
      {&Of(AttachmentOp::kDelete), any, any},
  };
  CheckMatrix(rows, attachments);
  for (const Row& r : rows) CheckNames(*r.t, attachments);

  const std::vector<std::string> backups = {
      backup_status::kCreating, backup_status::kAvailable, backup_status::kRestoring,
      backup_status::kDeleting, backup_status::kError,     backup_status::kErrorDeleting};
  rows = {
      {&Of(BackupOp::kCreate), {}, {}},
      {&Of(BackupOp::kRestore), {"available"}, {"available"}},
      {&Of(BackupOp::kDelete), {"available", "error"}, {"available", "error"}},
  };
  CheckMatrix(rows, backups);
  for (const Row& r : rows) CheckNames(*r.t, backups);
}

TEST(TransitionsTest, EndStatesOfTheWorkers) {
  // What the managers write when the work ends.
  EXPECT_EQ(After(VolumeOp::kCreate, true, "creating"), "available");
  EXPECT_EQ(After(VolumeOp::kCreate, false, "creating"), "error");
  EXPECT_EQ(After(VolumeOp::kDelete, true, "available"), kGone);
  EXPECT_EQ(After(VolumeOp::kDelete, false, "available"), "error_deleting");
  // An extend goes back to what the volume was (available, or in-use for 3.42's online extend).
  EXPECT_EQ(After(VolumeOp::kExtend, true, "available"), "available");
  EXPECT_EQ(After(VolumeOp::kExtendAttached, true, "in-use"), "in-use");
  EXPECT_EQ(After(VolumeOp::kExtendAttached, false, "in-use"), "error_extending");
  EXPECT_EQ(After(VolumeOp::kBackup, false, "in-use"), "in-use");
  EXPECT_EQ(After(VolumeOp::kRevert, false, "available"), "error");
  EXPECT_EQ(After(VolumeOp::kRestore, false, "available"), "error_restoring");
  EXPECT_EQ(After(VolumeOp::kRestoreIntoNew, false, "creating"), "error");
  EXPECT_EQ(After(VolumeOp::kSnapshot, true, "in-use"), "in-use");
  EXPECT_EQ(After(SnapshotOp::kRevertTo, false, "available"), "available");
  EXPECT_EQ(After(SnapshotOp::kDelete, false, "deleting"), "error_deleting");
  EXPECT_EQ(After(AttachmentOp::kUpdate, false, "reserved"), "error_attaching");
  EXPECT_EQ(After(AttachmentOp::kComplete, true, "attaching"), "attached");
  EXPECT_EQ(After(BackupOp::kRestore, false, "restoring"), "available");
  // The statuses a worker claims its work by.
  EXPECT_EQ(Of(VolumeOp::kCreate).during, "creating");
  EXPECT_EQ(Of(VolumeOp::kExtend).during, "extending");
  EXPECT_EQ(Of(VolumeOp::kRestore).during, "restoring-backup");
  EXPECT_EQ(Of(SnapshotOp::kRevertTo).during, "restoring");
}

TEST(TransitionsTest, EveryOperationHasItsOwnRow) {
  // The tables are indexed by the enums: a member added without its row, or a row out of order,
  // shows here (or in the matrices above) as a missing or repeated name.
  Set names;
  for (int i = 0; i <= static_cast<int>(VolumeOp::kTransfer); ++i) {
    EXPECT_TRUE(names.insert(std::string(Of(static_cast<VolumeOp>(i)).name)).second) << i;
  }
  EXPECT_EQ(names.size(), 18u);
}

}  // namespace
}  // namespace scoria::lifecycle
