// scoriad --manage against an in-memory database: output, exit codes and the one-line errors.
#include "manage/manage.h"

#include <gtest/gtest.h>

#include <sstream>

#include "db/services_repo.h"
#include "db/tasks_repo.h"
#include "db/volumes_repo.h"

namespace scoria::manage {
namespace {

constexpr int64_t kNow = 1'000'000'000'000'000;  // a fixed clock (µs)

class ManageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = db::OpenDatabase("sqlite://");
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(*db);
    config_.service_down_time = 60;
  }
  struct Run {
    int code;
    std::string out, err;
  };
  Run Manage(const std::vector<std::string>& args) {
    std::ostringstream out, err;
    int code = RunManage(*db_, config_, args, kNow, out, err);
    return {code, out.str(), err.str()};
  }
  void Exec(const std::string& sql, const std::vector<db::Value>& params = {}) {
    ASSERT_TRUE(db::InWriteTransaction(
                    *db_, [&](db::Transaction& tx) { return tx.Exec(sql, params).status(); })
                    .ok())
        << sql;
  }
  void AddService(const std::string& host, const std::string& binary, int64_t heartbeat) {
    Exec(
        "INSERT INTO services (host, binary_name, availability_zone, report_count, created_at, "
        "updated_at) VALUES (?,?,'nova',1,?,?)",
        {host, binary, heartbeat, heartbeat});
  }
  void AddVolume(const std::string& id, const std::string& host) {
    Exec(
        "INSERT INTO volumes (id, project_id, user_id, size, status, availability_zone, "
        "volume_type_id, host, created_at) VALUES (?, 'p', 'u', 1, 'available', 'nova', 't', ?, 0)",
        {id, host});
  }
  std::string Str(const std::string& sql) {
    std::string v;
    EXPECT_TRUE(db::InReadTransaction(*db_, [&](db::Transaction& tx) -> Status {
                  ASSIGN_OR_RETURN(auto rows, tx.Query(sql));
                  v = rows.empty() ? "" : rows[0].IsNull(0) ? "NULL" : rows[0].Str(0);
                  return Status::Ok();
                }).ok());
    return v;
  }
  std::unique_ptr<db::Database> db_;
  Config config_;
};

TEST_F(ManageTest, DbVersionThenSync) {
  auto before = Manage({"db", "version"});
  EXPECT_EQ(before.code, 0);
  EXPECT_EQ(before.out, "0\n");
  auto sync = Manage({"db", "sync"});
  EXPECT_EQ(sync.code, 0) << sync.err;
  EXPECT_EQ(sync.out, std::to_string(db_->SchemaVersion()) + "\n");
  EXPECT_GE(db_->SchemaVersion(), 6);
  EXPECT_EQ(Manage({"db", "version"}).out, sync.out);
  EXPECT_EQ(Manage({"db", "sync"}).out, sync.out);  // idempotent
}

TEST_F(ManageTest, UsageErrorsExit2) {
  for (const auto& args :
       std::vector<std::vector<std::string>>{{},
                                             {"db"},
                                             {"db", "drop"},
                                             {"service", "remove", "cinder-volume"},
                                             {"volume", "update_host", "--currenthost", "a@b"},
                                             {"nonsense"}}) {
    auto r = Manage(args);
    EXPECT_EQ(r.code, 2) << r.out;
    EXPECT_EQ(r.err.rfind("scoriad --manage: ", 0), 0u) << r.err;
  }
}

TEST_F(ManageTest, ServiceListShowsStateAndFrozen) {
  ASSERT_EQ(Manage({"db", "sync"}).code, 0);
  AddService("n1@lvm", "cinder-volume", kNow - 1'000'000);
  AddService("n2@lvm", "cinder-volume", kNow - 3'600'000'000);
  Exec("UPDATE services SET frozen = 1, disabled = 1 WHERE host = 'n2@lvm'");
  auto r = Manage({"service", "list"});
  ASSERT_EQ(r.code, 0) << r.err;
  std::istringstream lines(r.out);
  std::string header, up, down;
  std::getline(lines, header);
  std::getline(lines, up);
  std::getline(lines, down);
  EXPECT_NE(header.find("Frozen"), std::string::npos);
  EXPECT_NE(up.find("n1@lvm"), std::string::npos);
  EXPECT_NE(up.find(":-)"), std::string::npos);
  EXPECT_NE(up.find("enabled"), std::string::npos);
  EXPECT_NE(down.find("XXX"), std::string::npos);
  EXPECT_NE(down.find("disabled"), std::string::npos);
  EXPECT_NE(down.find("True"), std::string::npos);
}

TEST_F(ManageTest, ServiceRemoveRefusesUpAndUnknown) {
  ASSERT_EQ(Manage({"db", "sync"}).code, 0);
  AddService("n1@lvm", "cinder-volume", kNow);
  AddService("n2@lvm", "cinder-volume", kNow - 120'000'000);
  auto up = Manage({"service", "remove", "cinder-volume", "n1@lvm"});
  EXPECT_EQ(up.code, 1);
  EXPECT_EQ(up.err,
            "scoriad --manage: service cinder-volume on host n1@lvm is up; stop it and wait "
            "service_down_time (60 s) first\n");
  auto unknown = Manage({"service", "remove", "cinder-backup", "n2@lvm"});
  EXPECT_EQ(unknown.code, 1);
  EXPECT_EQ(unknown.err, "scoriad --manage: service cinder-backup on host n2@lvm not found\n");
  auto ok = Manage({"service", "remove", "cinder-volume", "n2@lvm"});
  EXPECT_EQ(ok.code, 0) << ok.err;
  EXPECT_EQ(ok.out, "Service cinder-volume on host n2@lvm removed.\n");
  EXPECT_EQ(Str("SELECT COUNT(*) FROM services"), "1");
}

TEST_F(ManageTest, ServiceCommandsOnAnUnmigratedDatabaseFail) {
  auto r = Manage({"service", "list"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err.rfind("scoriad --manage: ", 0), 0u);
}

TEST_F(ManageTest, UpdateHostMovesVolumesKeepingPoolsAndTasks) {
  ASSERT_EQ(Manage({"db", "sync"}).code, 0);
  AddVolume("v1", "old@lvm#p1");
  AddVolume("v2", "old@lvm");
  AddVolume("v3", "oldxlvm#p1");  // would match LIKE 'old_lvm#%'
  AddVolume("v4", "other@lvm#p1");
  Exec(
      "INSERT INTO tasks (kind, target, resource_id, args, lease_owner, lease_expires, "
      "created_at) VALUES ('k', 'old@lvm', 'v1', '{}', 'old/worker', 99, 0)");
  Exec(
      "INSERT INTO tasks (kind, target, resource_id, args, created_at) "
      "VALUES ('k', 'backup@old', 'b1', '{}', 0)");
  auto r = Manage({"volume", "update_host", "--currenthost", "old@lvm", "--newhost", "new@lvm"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "Moved 2 volume(s) and 1 task(s) from old@lvm to new@lvm.\n");
  EXPECT_EQ(Str("SELECT host FROM volumes WHERE id = 'v1'"), "new@lvm#p1");
  EXPECT_EQ(Str("SELECT host FROM volumes WHERE id = 'v2'"), "new@lvm");
  EXPECT_EQ(Str("SELECT host FROM volumes WHERE id = 'v3'"), "oldxlvm#p1");
  EXPECT_EQ(Str("SELECT host FROM volumes WHERE id = 'v4'"), "other@lvm#p1");
  EXPECT_EQ(Str("SELECT target FROM tasks WHERE resource_id = 'v1'"), "new@lvm");
  EXPECT_EQ(Str("SELECT lease_owner FROM tasks WHERE resource_id = 'v1'"), "NULL");
  EXPECT_EQ(Str("SELECT target FROM tasks WHERE resource_id = 'b1'"), "backup@old");
  // A pool in --newhost: every volume takes it; tasks go to the backend.
  r = Manage({"volume", "update_host", "--currenthost", "new@lvm", "--newhost", "n3@lvm#big"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(Str("SELECT host FROM volumes WHERE id = 'v1'"), "n3@lvm#big");
  EXPECT_EQ(Str("SELECT host FROM volumes WHERE id = 'v2'"), "n3@lvm#big");
  EXPECT_EQ(Str("SELECT target FROM tasks WHERE resource_id = 'v1'"), "n3@lvm");
}

TEST_F(ManageTest, UpdateHostRefusals) {
  ASSERT_EQ(Manage({"db", "sync"}).code, 0);
  for (const auto& [cur, next] :
       std::vector<std::pair<std::string, std::string>>{{"old", "new@lvm"},
                                                        {"old@lvm#p", "new@lvm"},
                                                        {"@lvm", "new@lvm"},
                                                        {"old@", "n@l"},
                                                        {"a@b@c", "n@l"},
                                                        {"old@lvm", "new"},
                                                        {"old@lvm", "new@lvm#"},
                                                        {"old@lvm", "@x#p"}}) {
    auto r = Manage({"volume", "update_host", "--currenthost", cur, "--newhost", next});
    EXPECT_EQ(r.code, 1) << cur << " " << next;
    EXPECT_NE(r.err.find("is not a backend name"), std::string::npos) << r.err;
  }
  AddService("old@lvm", "cinder-volume", kNow);
  AddVolume("v1", "old@lvm#p1");
  auto up = Manage({"volume", "update_host", "--currenthost", "old@lvm", "--newhost", "new@lvm"});
  EXPECT_EQ(up.code, 1);
  EXPECT_EQ(up.err,
            "scoriad --manage: the volume service of old@lvm is up; stop it before moving its "
            "volumes\n");
  EXPECT_EQ(Str("SELECT host FROM volumes WHERE id = 'v1'"), "old@lvm#p1");
}

}  // namespace
}  // namespace scoria::manage
