// backups_repo on an in-memory SQLite database with every migration applied.
#include "db/backups_repo.h"
#include "test_databases.h"

#include <gtest/gtest.h>

namespace scoria::db {
namespace {

class BackupsRepoTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    db_ = testing::OpenTestDatabase(GetParam());
    ASSERT_NE(db_, nullptr);
    tx_ = std::move(db_->Begin(true).value());
  }
  BackupRecord Backup(const std::string& id, int64_t ts, const std::string& volume = "vol1",
                      const std::string& project = "p1") {
    BackupRecord b;
    b.id = id;
    b.project_id = project;
    b.user_id = "u1";
    b.volume_id = volume;
    b.availability_zone = "nova";
    b.status = backup_status::kAvailable;
    b.size = 2;
    b.data_timestamp = ts;
    b.created_at = ts;
    return b;
  }
  std::unique_ptr<Database> db_;
  std::unique_ptr<Transaction> tx_;
};

TEST_P(BackupsRepoTest, InsertGetUpdateDeleteRoundTripsEveryField) {
  BackupRecord b = Backup("b1", 10);
  b.snapshot_id = "s1";
  b.parent_id = "b0";
  b.name = "n";
  b.description = "d";
  b.container = "c";
  b.host = "h";
  b.service = "posix";
  b.service_metadata = "{\"x\":1}";
  b.fail_reason = "why";
  b.object_count = 7;
  b.temp_snapshot_id = "ts";
  b.restore_volume_id = "rv";
  b.progress_op = "backup";
  b.progress_done = 5;
  b.progress_total = 9;
  b.verify_result = "ok";
  b.verified_at = 11;
  b.metadata = {{"k", "v"}};
  ASSERT_TRUE(InsertBackup(*tx_, b).ok());
  auto got = GetBackup(*tx_, "b1");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->snapshot_id, b.snapshot_id);
  EXPECT_EQ(got->parent_id, b.parent_id);
  EXPECT_EQ(got->name, b.name);
  EXPECT_EQ(got->container, b.container);
  EXPECT_EQ(got->service_metadata, b.service_metadata);
  EXPECT_EQ(got->fail_reason, b.fail_reason);
  EXPECT_EQ(got->object_count, 7);
  EXPECT_EQ(got->temp_snapshot_id, b.temp_snapshot_id);
  EXPECT_EQ(got->restore_volume_id, b.restore_volume_id);
  EXPECT_EQ(got->progress_op, b.progress_op);
  EXPECT_EQ(got->progress_done, 5);
  EXPECT_EQ(got->progress_total, 9);
  EXPECT_EQ(got->verify_result, b.verify_result);
  EXPECT_EQ(got->verified_at, b.verified_at);
  EXPECT_EQ(got->metadata, b.metadata);
  EXPECT_EQ(got->created_at, 10);
  EXPECT_FALSE(got->updated_at);

  got->status = backup_status::kError;
  got->progress_op.reset();
  ASSERT_TRUE(UpdateBackup(*tx_, *got).ok());
  auto again = GetBackup(*tx_, "b1");
  EXPECT_EQ(again->status, "error");
  EXPECT_FALSE(again->progress_op);
  EXPECT_TRUE(again->updated_at);

  EXPECT_EQ(InsertBackup(*tx_, b).code(), StatusCode::kAlreadyExists);
  ASSERT_TRUE(DeleteBackup(*tx_, "b1").ok());
  auto gone = GetBackup(*tx_, "b1");
  EXPECT_EQ(gone.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(gone.status().message(), "Backup b1 could not be found.");
  EXPECT_EQ(UpdateBackup(*tx_, b).code(), StatusCode::kNotFound);
  EXPECT_EQ(SetBackupProgress(*tx_, "b1", "backup", 1, 2).code(), StatusCode::kNotFound);
}

TEST_P(BackupsRepoTest, LatestAvailableParentIgnoresOtherStatusesVolumesProjectsAndLaterData) {
  ASSERT_TRUE(InsertBackup(*tx_, Backup("old", 10)).ok());
  ASSERT_TRUE(InsertBackup(*tx_, Backup("new", 20)).ok());
  BackupRecord failed = Backup("failed", 30);
  failed.status = backup_status::kError;
  ASSERT_TRUE(InsertBackup(*tx_, failed).ok());
  ASSERT_TRUE(InsertBackup(*tx_, Backup("other", 40, "vol2")).ok());
  ASSERT_TRUE(InsertBackup(*tx_, Backup("admins", 50, "vol1", "admin")).ok());
  auto p = LatestAvailableBackup(*tx_, "vol1", "p1", std::nullopt);
  ASSERT_TRUE(p.ok() && *p);
  EXPECT_EQ((*p)->id, "new");
  p = LatestAvailableBackup(*tx_, "vol1", "p1", 20);  // a snapshot taken at 20: strictly before
  ASSERT_TRUE(p.ok() && *p);
  EXPECT_EQ((*p)->id, "old");
  p = LatestAvailableBackup(*tx_, "vol3", "p1", std::nullopt);
  ASSERT_TRUE(p.ok());
  EXPECT_FALSE(*p);
  // Another project's (an admin's) backup of the volume is only its own parent.
  p = LatestAvailableBackup(*tx_, "vol1", "admin", std::nullopt);
  ASSERT_TRUE(p.ok() && *p);
  EXPECT_EQ((*p)->id, "admins");
  p = LatestAvailableBackup(*tx_, "vol1", "p2", std::nullopt);
  ASSERT_TRUE(p.ok());
  EXPECT_FALSE(*p);
}

TEST_P(BackupsRepoTest, DependantsUsageFiltersAndProgress) {
  ASSERT_TRUE(InsertBackup(*tx_, Backup("full", 10)).ok());
  BackupRecord inc = Backup("inc", 20);
  inc.parent_id = "full";
  inc.name = "nightly";
  ASSERT_TRUE(InsertBackup(*tx_, inc).ok());
  ASSERT_TRUE(InsertBackup(*tx_, Backup("x", 30, "vol2", "p2")).ok());
  EXPECT_EQ(CountDependentBackups(*tx_, "full").value(), 1);
  EXPECT_EQ(CountDependentBackups(*tx_, "inc").value(), 0);
  auto counts = DependentCounts(*tx_, {"full", "inc", "x"});
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(*counts, (std::map<std::string, int64_t>{{"full", 1}}));
  auto usage = ProjectBackupUsage(*tx_, "p1");
  EXPECT_EQ(usage->backups, 2);
  EXPECT_EQ(usage->gigabytes, 4);

  BackupFilter f;
  f.project_id = "p1";
  EXPECT_EQ(ListBackups(*tx_, f)->size(), 2u);
  f.like["name"] = "ight";
  auto l = ListBackups(*tx_, f);
  ASSERT_EQ(l->size(), 1u);
  EXPECT_EQ(l->front().id, "inc");
  BackupFilter bad;
  bad.equals["size; DROP TABLE backups"] = "1";
  EXPECT_EQ(ListBackups(*tx_, bad).status().code(), StatusCode::kInvalidArgument);
  BackupFilter all;
  all.equals["volume_id"] = "vol2";
  EXPECT_EQ(ListBackups(*tx_, all)->size(), 1u);

  ASSERT_TRUE(SetBackupProgress(*tx_, "full", "restore", 3, 4).ok());
  auto b = GetBackup(*tx_, "full");
  EXPECT_EQ(b->progress_op, "restore");
  EXPECT_EQ(b->progress_done, 3);
  EXPECT_EQ(b->progress_total, 4);
}

SCORIA_ON_EVERY_DATABASE(BackupsRepoTest);

}  // namespace
}  // namespace scoria::db
