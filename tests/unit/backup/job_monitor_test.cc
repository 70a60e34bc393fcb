// JobMonitor against an in-memory database: progress reaches the row while the job runs, and a
// status change (a delete, a reset) cancels the job once.
#include "backup/job_monitor.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "db/backups_repo.h"

namespace scoria::backup {
namespace {

using namespace std::chrono_literals;

class JobMonitorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = std::move(db::OpenDatabase("sqlite://").value());
    ASSERT_TRUE(db_->Migrate().ok());
    db::BackupRecord b;
    b.id = "b1";
    b.project_id = "p";
    b.user_id = "u";
    b.volume_id = "v";
    b.availability_zone = "nova";
    b.status = db::backup_status::kCreating;
    b.size = 1;
    ASSERT_TRUE(db::InWriteTransaction(*db_, [&](db::Transaction& tx) {
                  return db::InsertBackup(tx, b);
                }).ok());
  }
  db::BackupRecord Row() {
    db::BackupRecord b;
    EXPECT_TRUE(db::InReadTransaction(*db_, [&](db::Transaction& tx) {
                  ASSIGN_OR_RETURN(b, db::GetBackup(tx, "b1"));
                  return Status::Ok();
                }).ok());
    return b;
  }
  template <typename F>
  bool Eventually(F f) {
    for (int i = 0; i < 500; ++i) {
      if (f()) return true;
      std::this_thread::sleep_for(5ms);
    }
    return false;
  }
  std::unique_ptr<db::Database> db_;
};

TEST_F(JobMonitorTest, WritesProgressAndCancelsOnceWhenTheStatusChanges) {
  std::atomic<uint64_t> done{0};
  std::atomic<int> cancels{0};
  {
    JobMonitor m(
        *db_, "b1", "backup", db::backup_status::kCreating,
        [&] {
          return Progress{done.load(), 100};
        },
        [&] { ++cancels; }, 5ms);
    EXPECT_EQ(Row().progress_op, "backup");  // at once, at 0 %
    done = 40;
    EXPECT_TRUE(Eventually([&] { return Row().progress_done == 40; }));
    EXPECT_EQ(Row().progress_total, 100);
    EXPECT_FALSE(m.cancelled());
    ASSERT_TRUE(db::InWriteTransaction(*db_, [&](db::Transaction& tx) {
                  ASSIGN_OR_RETURN(auto b, db::GetBackup(tx, "b1"));
                  b.status = db::backup_status::kDeleting;
                  return db::UpdateBackup(tx, b);
                }).ok());
    EXPECT_TRUE(Eventually([&] { return m.cancelled(); }));
    done = 80;
    std::this_thread::sleep_for(30ms);
  }
  EXPECT_EQ(cancels.load(), 1);
  EXPECT_EQ(Row().progress_done, 40);  // nothing written once the row left `creating`
}

TEST_F(JobMonitorTest, ARowThatDisappearsCancelsTheJob) {
  std::atomic<int> cancels{0};
  JobMonitor m(
      *db_, "b1", "restore", db::backup_status::kCreating, [] { return Progress{}; },
      [&] { ++cancels; }, 5ms);
  ASSERT_TRUE(db::InWriteTransaction(*db_, [&](db::Transaction& tx) {
                return db::DeleteBackup(tx, "b1");
              }).ok());
  EXPECT_TRUE(Eventually([&] { return cancels.load() == 1; }));
}

}  // namespace
}  // namespace scoria::backup
