// BackupService driven through a real TaskWorker, an in-memory database and a posix
// repository in a temporary directory: the failing edges of its state machines that the
// integration tests cannot reach on one host.
#include "backup/service.h"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include <nlohmann/json.hpp>

#include "db/backups_repo.h"
#include "db/messages_repo.h"
#include "db/services_repo.h"
#include "db/tasks_repo.h"
#include "db/volumes_repo.h"
#include "tasks/protocol.h"

namespace scoria::backup {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

class BackupServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = std::move(db::OpenDatabase("sqlite://").value());
    ASSERT_TRUE(db_->Migrate().ok());
    dir_ = std::filesystem::temp_directory_path() /
           ("scoria-bsvc-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    config_.host = "here";
    config_.backup_posix_path = dir_.string();
    service_ = std::make_unique<BackupService>(*db_, config_);
    ASSERT_TRUE(service_->Start().ok());
    tasks::WorkerOptions o;
    o.threads = 2;
    o.poll = 20ms;
    o.max_backoff = 50ms;
    worker_ = std::make_unique<tasks::TaskWorker>(*db_, "test/backup", service_->Targets(), o);
    service_->RegisterHandlers(*worker_);
    worker_->Start();
  }
  void TearDown() override {
    worker_->Stop();
    std::filesystem::remove_all(dir_);
  }
  Status Write(const std::function<Status(db::Transaction&)>& fn) {
    Status st = db::InWriteTransaction(*db_, fn);
    db_->NotifyTasks();
    return st;
  }
  db::BackupRecord Backup(const std::string& status) {
    db::BackupRecord b;
    b.id = "b1";
    b.project_id = "p1";
    b.user_id = "u1";
    b.volume_id = "v1";
    b.availability_zone = "nova";
    b.host = "here";
    b.status = status;
    b.size = 1;
    return b;
  }
  db::VolumeRecord Volume(const std::string& status, const std::string& host) {
    db::VolumeRecord v;
    v.id = "v2";
    v.project_id = "p1";
    v.user_id = "u1";
    v.size = 1;
    v.status = status;
    v.host = host;
    v.availability_zone = "nova";
    v.volume_type_id = "t";
    return v;
  }
  // Polls the backup until pred holds (or fails the test after 5 s).
  db::BackupRecord WaitBackup(const std::function<bool(const db::BackupRecord&)>& pred) {
    db::BackupRecord b;
    for (int i = 0; i < 500; ++i) {
      EXPECT_TRUE(db::InReadTransaction(*db_, [&](db::Transaction& tx) {
                    ASSIGN_OR_RETURN(b, db::GetBackup(tx, "b1"));
                    return Status::Ok();
                  }).ok());
      if (pred(b)) return b;
      std::this_thread::sleep_for(10ms);
    }
    ADD_FAILURE() << "backup stuck in " << b.status;
    return b;
  }
  // A backup `restoring` into new volume v2 (status, host) and the task that waits for it.
  void RestoreIntoNewVolume(const std::string& status, const std::string& host) {
    ASSERT_TRUE(Write([&](db::Transaction& tx) {
                  RETURN_IF_ERROR(db::InsertBackup(tx, Backup(db::backup_status::kRestoring)));
                  RETURN_IF_ERROR(db::InsertVolume(tx, Volume(status, host)));
                  return db::EnqueueTask(tx, tasks::RestoreBackupWhenCreated::kKind,
                                         db::kAnyBackupTarget, "b1",
                                         json{{"volume_id", "v2"}, {"new_volume", true}}.dump())
                      .status();
                }).ok());
  }
  db::VolumeRecord GetVolume(const std::string& id) {
    db::VolumeRecord v;
    EXPECT_TRUE(db::InReadTransaction(*db_, [&](db::Transaction& tx) {
                  ASSIGN_OR_RETURN(v, db::GetVolume(tx, id));
                  return Status::Ok();
                }).ok());
    return v;
  }

  std::unique_ptr<db::Database> db_;
  std::filesystem::path dir_;
  Config config_;
  std::unique_ptr<BackupService> service_;
  std::unique_ptr<tasks::TaskWorker> worker_;
};

TEST_F(BackupServiceTest, StartCreatesTheRepositoryAndHeartbeats) {
  EXPECT_TRUE(std::filesystem::exists(dir_ / "config"));
  std::vector<db::ServiceRecord> services;
  ASSERT_TRUE(db::InReadTransaction(*db_, [&](db::Transaction& tx) {
                ASSIGN_OR_RETURN(services, db::ListServices(tx, std::nullopt,
                                                            std::string(db::kBackupBinary)));
                return Status::Ok();
              }).ok());
  ASSERT_EQ(services.size(), 1u);
  EXPECT_EQ(services[0].host, "here");
  EXPECT_EQ(service_->Targets(), (std::vector<std::string>{"backup@here", "backup"}));
}

TEST_F(BackupServiceTest, RestoreIntoANewVolumeOnAHostWithoutBackupServiceFails) {
  RestoreIntoNewVolume("restoring-backup", "elsewhere@b#p");
  auto b = WaitBackup([](const db::BackupRecord& b) { return b.status == "available"; });
  ASSERT_TRUE(b.fail_reason);
  EXPECT_NE(b.fail_reason->find("no backup service runs on elsewhere"), std::string::npos)
      << *b.fail_reason;
  EXPECT_EQ(GetVolume("v2").status, "error");
}

TEST_F(BackupServiceTest, RestoreIntoANewVolumeThatFailedToBeCreated) {
  RestoreIntoNewVolume("error", "here@b#p");
  auto b = WaitBackup([](const db::BackupRecord& b) { return b.status == "available"; });
  ASSERT_TRUE(b.fail_reason);
  EXPECT_NE(b.fail_reason->find("is error"), std::string::npos) << *b.fail_reason;
}

TEST_F(BackupServiceTest, RestoreOfAVolumeOnABackendThisHostDoesNotHave) {
  ASSERT_TRUE(Write([&](db::Transaction& tx) {
                RETURN_IF_ERROR(db::InsertBackup(tx, Backup(db::backup_status::kRestoring)));
                RETURN_IF_ERROR(db::InsertVolume(tx, Volume("restoring-backup", "here@nope#p")));
                return db::EnqueueTask(tx, tasks::RestoreBackup::kKind, db::BackupTarget("here"),
                                       "b1",
                                       json{{"volume_id", "v2"}, {"new_volume", false}}.dump())
                    .status();
              }).ok());
  auto b = WaitBackup([](const db::BackupRecord& b) { return b.status == "available"; });
  ASSERT_TRUE(b.fail_reason);
  EXPECT_NE(b.fail_reason->find("backend nope is not enabled"), std::string::npos)
      << *b.fail_reason;
  EXPECT_EQ(GetVolume("v2").status, "error_restoring");
}

TEST_F(BackupServiceTest, ImportOfARecordWithoutAManifestEndsInError) {
  db::BackupRecord b = Backup(db::backup_status::kCreating);
  b.service_metadata = "{\"not\": \"a record\"}";
  ASSERT_TRUE(Write([&](db::Transaction& tx) {
                RETURN_IF_ERROR(db::InsertBackup(tx, b));
                return db::EnqueueTask(tx, tasks::ImportBackup::kKind, db::BackupTarget("here"),
                                       "b1", "{}")
                    .status();
              }).ok());
  auto got = WaitBackup([](const db::BackupRecord& b) { return b.status != "creating"; });
  EXPECT_EQ(got.status, "error");
  ASSERT_TRUE(got.fail_reason);
  EXPECT_EQ(got.fail_reason->rfind("import: ", 0), 0u) << *got.fail_reason;
}

TEST_F(BackupServiceTest, VerifyOfABackupMissingFromTheRepositorySaysSo) {
  ASSERT_TRUE(Write([&](db::Transaction& tx) {
                RETURN_IF_ERROR(db::InsertBackup(tx, Backup(db::backup_status::kAvailable)));
                return db::EnqueueTask(tx, tasks::VerifyBackup::kKind, db::BackupTarget("here"),
                                       "b1", "{}")
                    .status();
              }).ok());
  auto b = WaitBackup([](const db::BackupRecord& b) { return b.verified_at.has_value(); });
  ASSERT_TRUE(b.verify_result);
  EXPECT_NE(*b.verify_result, "ok");
}

TEST_F(BackupServiceTest, ACreateWhoseBackupWasDeletedMeanwhileOnlyReleasesTheVolume) {
  ASSERT_TRUE(Write([&](db::Transaction& tx) {
                db::VolumeRecord v = Volume("backing-up", "here@b#p");
                v.id = "v1";
                v.previous_status = "in-use";
                RETURN_IF_ERROR(db::InsertVolume(tx, v));
                RETURN_IF_ERROR(db::InsertBackup(tx, Backup(db::backup_status::kDeleting)));
                return db::EnqueueTask(tx, tasks::CreateBackup::kKind, db::BackupTarget("here"),
                                       "b1", "{}")
                    .status();
              }).ok());
  for (int i = 0; i < 500 && GetVolume("v1").status == "backing-up"; ++i) {
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(GetVolume("v1").status, "in-use");
  EXPECT_EQ(WaitBackup([](const db::BackupRecord&) { return true; }).status, "deleting");
}

}  // namespace
}  // namespace scoria::backup
