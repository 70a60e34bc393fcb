// The volume manager's snapshot tasks (volume/snapshot_tasks.cc), driven through a real
// TaskWorker and an in-memory database over a scripted driver: one test per edge of the
// snapshot state machines in volume/manager.h, and the quiesce of an exported volume.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>

#include "common/clock.h"
#include "db/attachments_repo.h"
#include "db/messages_repo.h"
#include "db/snapshots_repo.h"
#include "db/tasks_repo.h"
#include "db/volumes_repo.h"
#include "tasks/worker.h"
#include "volume/manager.h"

namespace scoria::volume {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

constexpr char kBackend[] = "h@b";

// A driver whose snapshot calls are recorded and can fail or run a hook.
class ScriptedDriver : public VolumeDriver {
 public:
  std::string name() const override { return "scripted"; }
  Status Setup() override { return Status::Ok(); }
  Status CreateVolume(const std::string& id, int64_t) override { return Record("create " + id); }
  Status DeleteVolume(const std::string& id) override { return Record("delete " + id); }
  Status ExtendVolume(const std::string&, int64_t) override { return Status::Ok(); }
  Result<std::vector<std::string>> ListVolumes() override { return std::vector<std::string>{}; }
  std::string ProviderLocation(const std::string& id) const override { return "x://" + id; }
  Result<DriverStats> Stats() override { return DriverStats{}; }
  Result<std::shared_ptr<BlockDevice>> Open(const std::string&) override {
    return NewMemoryBlockDevice(1 << 20);
  }
  Status CreateSnapshot(const std::string& v, const std::string& s,
                        const CopyProgress& progress) override {
    if (snapshot_hook) snapshot_hook();
    if (progress_hook) progress_hook(progress);
    return Record("snapshot " + v + " " + s);
  }
  Status DeleteSnapshot(const std::string& v, const std::string& s) override {
    return Record("delete-snapshot " + v + " " + s);
  }
  Status CreateVolumeFromSnapshot(const std::string& id, int64_t size, const std::string& src,
                                  const std::string& s) override {
    return Record("from-snapshot " + id + " " + std::to_string(size) + " " + src + " " + s);
  }
  Status CloneVolume(const std::string& id, int64_t size, const std::string& src) override {
    return Record("clone " + id + " " + std::to_string(size) + " " + src);
  }
  Status RevertToSnapshot(const std::string& v, const std::string& s) override {
    return Record("revert " + v + " " + s);
  }

  // The next call whose text starts with `prefix` fails with `st` (for good).
  void FailOn(const std::string& prefix, Status st) {
    std::lock_guard lock(mu_);
    fail_prefix_ = prefix;
    fail_ = std::move(st);
  }
  std::vector<std::string> calls() {
    std::lock_guard lock(mu_);
    return calls_;
  }
  bool Called(const std::string& text) {
    for (const auto& c : calls()) {
      if (c == text) return true;
    }
    return false;
  }
  std::function<void()> snapshot_hook;
  std::function<void(const CopyProgress&)> progress_hook;

 private:
  Status Record(std::string call) {
    std::lock_guard lock(mu_);
    calls_.push_back(call);
    if (fail_ && call.rfind(fail_prefix_, 0) == 0) return *fail_;
    return Status::Ok();
  }
  std::mutex mu_;
  std::vector<std::string> calls_;
  std::string fail_prefix_;
  std::optional<Status> fail_;
};

// Keeps the device of each export, so a test can do I/O as an initiator would.
class KeepingExporter : public Exporter {
 public:
  Status Export(const std::string& v, std::shared_ptr<BlockDevice> dev) override {
    std::lock_guard lock(mu);
    devices[v] = std::move(dev);
    return Status::Ok();
  }
  Status Allow(const std::string&, const ExportAccess&) override { return Status::Ok(); }
  Status Revoke(const std::string&, const std::string&) override { return Status::Ok(); }
  Status Unexport(const std::string& v) override {
    std::lock_guard lock(mu);
    devices.erase(v);
    return Status::Ok();
  }
  void CapacityChanged(const std::string&) override {}
  std::string TargetName(const std::string& v) const override { return "iqn.x:" + v; }
  std::string Portal() const override { return "127.0.0.1:3260"; }
  std::shared_ptr<BlockDevice> Device(const std::string& v) {
    std::lock_guard lock(mu);
    auto it = devices.find(v);
    return it == devices.end() ? nullptr : it->second;
  }
  std::mutex mu;
  std::map<std::string, std::shared_ptr<BlockDevice>> devices;
};

bool WaitUntil(const std::function<bool()>& done) {
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return done();
}

class SnapshotTasksTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = std::move(db::OpenDatabase("sqlite://").value());
    ASSERT_TRUE(db_->Migrate().ok());
    config_.host = "h";
    config_.scheduler_max_attempts = 3;
    backend_.section = "b";
    backend_.volume_backend_name = "b";
    backend_.availability_zone = "nova";
    config_.backends = {backend_};
    auto driver = std::make_unique<ScriptedDriver>();
    driver_ = driver.get();
    manager_ =
        std::make_unique<VolumeManager>(*db_, config_, backend_, std::move(driver), &exporter_);
    tasks::WorkerOptions o;
    o.threads = 2;
    o.poll = 20ms;
    o.max_backoff = 50ms;
    worker_ = std::make_unique<tasks::TaskWorker>(*db_, "test/volume",
                                                  std::vector<std::string>{kBackend}, o);
    manager_->RegisterHandlers(*worker_);
    worker_->Start();
    Write([&](db::Transaction& tx) { return db::InsertVolume(tx, Vol("v1", "available")); });
  }
  void TearDown() override { worker_->Stop(); }

  db::VolumeRecord Vol(const std::string& id, const std::string& status) {
    db::VolumeRecord v;
    v.id = id;
    v.project_id = "p1";
    v.user_id = "u1";
    v.size = 1;
    v.status = status;
    v.host = "h@b#b";
    v.availability_zone = "nova";
    v.volume_type_id = "t";
    v.created_at = NowMicros();
    return v;
  }
  db::SnapshotRecord Snap(const std::string& id, const std::string& status) {
    db::SnapshotRecord s;
    s.id = id;
    s.project_id = "p1";
    s.user_id = "u1";
    s.volume_id = "v1";
    s.size = 1;
    s.status = status;
    s.created_at = NowMicros();
    return s;
  }
  void Write(const std::function<Status(db::Transaction&)>& fn) {
    Status st = db::InWriteTransaction(*db_, fn);
    ASSERT_TRUE(st.ok()) << st.ToString();
    db_->NotifyTasks();
  }
  void Enqueue(const std::string& kind, const std::string& resource, const json& args) {
    Write([&](db::Transaction& tx) {
      return db::EnqueueTask(tx, kind, kBackend, resource, args.dump()).status();
    });
  }
  bool Idle() {
    bool idle = false;
    EXPECT_TRUE(db::InReadTransaction(*db_, [&](db::Transaction& tx) {
                  ASSIGN_OR_RETURN(auto tasks, db::ListTasks(tx));
                  idle = tasks.empty();
                  return Status::Ok();
                }).ok());
    return idle;
  }
  std::optional<db::SnapshotRecord> GetSnap(const std::string& id) {
    std::optional<db::SnapshotRecord> out;
    EXPECT_TRUE(db::InReadTransaction(*db_, [&](db::Transaction& tx) {
                  auto s = db::GetSnapshot(tx, id);
                  if (s.ok()) out = *s;
                  return Status::Ok();
                }).ok());
    return out;
  }
  std::optional<db::VolumeRecord> GetVol(const std::string& id) {
    std::optional<db::VolumeRecord> out;
    EXPECT_TRUE(db::InReadTransaction(*db_, [&](db::Transaction& tx) {
                  auto v = db::GetVolume(tx, id);
                  if (v.ok()) out = *v;
                  return Status::Ok();
                }).ok());
    return out;
  }
  size_t MessageCount(const std::string& volume_id) {
    size_t n = 0;
    EXPECT_TRUE(db::InReadTransaction(*db_, [&](db::Transaction& tx) {
                  ASSIGN_OR_RETURN(auto m, db::ListMessages(tx, std::nullopt, volume_id));
                  n = m.size();
                  return Status::Ok();
                }).ok());
    return n;
  }

  std::unique_ptr<db::Database> db_;
  Config config_;
  BackendConfig backend_;
  KeepingExporter exporter_;
  ScriptedDriver* driver_ = nullptr;
  std::unique_ptr<VolumeManager> manager_;
  std::unique_ptr<tasks::TaskWorker> worker_;
};

TEST_F(SnapshotTasksTest, CreateSnapshotEndsAvailableAt100Percent) {
  Write([&](db::Transaction& tx) { return db::InsertSnapshot(tx, Snap("s1", "creating")); });
  Enqueue("create_snapshot", "v1", {{"snapshot_id", "s1"}});
  ASSERT_TRUE(WaitUntil([&] { return Idle(); }));
  auto s = GetSnap("s1");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->status, "available");
  EXPECT_EQ(s->progress, "100%");
  EXPECT_TRUE(driver_->Called("snapshot v1 s1"));
}

TEST_F(SnapshotTasksTest, ProgressIsWrittenWhileTheCopyRuns) {
  std::promise<void> seen;
  std::promise<void> finish;
  auto finish_future = finish.get_future().share();
  driver_->progress_hook = [&](const CopyProgress& progress) {
    ASSERT_TRUE(progress);
    progress(0, 400);
    progress(100, 400);  // 25%: the first change is written at once
    seen.set_value();
    finish_future.wait();
    progress(400, 400);  // 100% comes with the final state, not from the copy
  };
  Write([&](db::Transaction& tx) { return db::InsertSnapshot(tx, Snap("s1", "creating")); });
  Enqueue("create_snapshot", "v1", {{"snapshot_id", "s1"}});
  seen.get_future().wait();
  auto s = GetSnap("s1");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->status, "creating");
  EXPECT_EQ(s->progress, "25%");
  finish.set_value();
  ASSERT_TRUE(WaitUntil([&] { return Idle(); }));
  EXPECT_EQ(GetSnap("s1")->progress, "100%");
  EXPECT_EQ(GetSnap("s1")->status, "available");
}

TEST_F(SnapshotTasksTest, FailedSnapshotIsErrorCleanedUpWithMessage) {
  driver_->FailOn("snapshot", Internal("disk on fire"));
  Write([&](db::Transaction& tx) { return db::InsertSnapshot(tx, Snap("s1", "creating")); });
  Enqueue("create_snapshot", "v1", {{"snapshot_id", "s1"}});
  ASSERT_TRUE(WaitUntil([&] { return Idle(); }));
  EXPECT_EQ(GetSnap("s1")->status, "error");
  EXPECT_TRUE(driver_->Called("delete-snapshot v1 s1"));
  EXPECT_EQ(MessageCount("v1"), 1u);
}

TEST_F(SnapshotTasksTest, SnapshotGoneOrResetIsANoOp) {
  Enqueue("create_snapshot", "v1", {{"snapshot_id", "gone"}});
  Write([&](db::Transaction& tx) { return db::InsertSnapshot(tx, Snap("s2", "error")); });
  Enqueue("create_snapshot", "v1", {{"snapshot_id", "s2"}});
  ASSERT_TRUE(WaitUntil([&] { return Idle(); }));
  EXPECT_TRUE(driver_->calls().empty());
  EXPECT_EQ(GetSnap("s2")->status, "error");
}

TEST_F(SnapshotTasksTest, SnapshotOfAnExportedVolumeHoldsNewWritesUntilItIsTaken) {
  // Export v1 the way an attach does.
  Write([&](db::Transaction& tx) {
    db::AttachmentRecord a;
    a.id = "a1";
    a.volume_id = "v1";
    a.project_id = "p1";
    a.user_id = "u1";
    a.attach_status = db::attach_status::kAttaching;
    a.initiator = "iqn.test:init";
    a.created_at = NowMicros();
    RETURN_IF_ERROR(db::InsertAttachment(tx, a));
    return db::EnqueueTask(tx, "export_attachment", kBackend, "v1",
                           json{{"attachment_id", "a1"}}.dump())
        .status();
  });
  ASSERT_TRUE(WaitUntil([&] { return exporter_.Device("v1") != nullptr; }));
  auto dev = exporter_.Device("v1");
  // While the driver copies, an initiator's write must wait; it completes after the copy.
  std::atomic<bool> in_copy = false, write_done_during_copy = false;
  std::promise<void> write_done;
  driver_->snapshot_hook = [&] {
    in_copy = true;
    static std::byte buf[512]{};
    dev->Write(0, buf, false, [&](Status) {
      if (in_copy) write_done_during_copy = true;
      write_done.set_value();
    });
    std::this_thread::sleep_for(50ms);
    in_copy = false;
  };
  Write([&](db::Transaction& tx) { return db::InsertSnapshot(tx, Snap("s1", "creating")); });
  Enqueue("create_snapshot", "v1", {{"snapshot_id", "s1"}});
  ASSERT_TRUE(WaitUntil([&] { return Idle(); }));
  ASSERT_EQ(write_done.get_future().wait_for(5s), std::future_status::ready);
  EXPECT_FALSE(write_done_during_copy);
  EXPECT_EQ(GetSnap("s1")->status, "available");
}

TEST_F(SnapshotTasksTest, DeleteSnapshotRemovesRowOrEndsInErrorDeleting) {
  Write([&](db::Transaction& tx) {
    RETURN_IF_ERROR(db::InsertSnapshot(tx, Snap("s1", "deleting")));
    return db::InsertSnapshot(tx, Snap("s2", "deleting"));
  });
  Enqueue("delete_snapshot", "v1", {{"snapshot_id", "s1"}});
  ASSERT_TRUE(WaitUntil([&] { return Idle(); }));
  EXPECT_FALSE(GetSnap("s1"));
  // A failure during a cascade: the snapshot and the volume stay, in error_deleting, and the
  // volume's delete (queued after) does not remove the volume.
  driver_->FailOn("delete-snapshot", Internal("busy"));
  Write([&](db::Transaction& tx) {
    auto v = Vol("v1", "deleting");
    return db::UpdateVolume(tx, v);
  });
  Enqueue("delete_snapshot", "v1", {{"snapshot_id", "s2"}});
  Enqueue("delete_volume", "v1", json::object());
  ASSERT_TRUE(WaitUntil([&] { return Idle(); }));
  EXPECT_EQ(GetSnap("s2")->status, "error_deleting");
  EXPECT_EQ(GetVol("v1")->status, "error_deleting");
  EXPECT_FALSE(driver_->Called("delete v1"));
}

TEST_F(SnapshotTasksTest, RevertSetsBothAvailableOrVolumeErrorOnFailure) {
  Write([&](db::Transaction& tx) {
    RETURN_IF_ERROR(db::UpdateVolume(tx, Vol("v1", "reverting")));
    return db::InsertSnapshot(tx, Snap("s1", "restoring"));
  });
  Enqueue("revert_to_snapshot", "v1", {{"snapshot_id", "s1"}});
  ASSERT_TRUE(WaitUntil([&] { return Idle(); }));
  EXPECT_TRUE(driver_->Called("revert v1 s1"));
  EXPECT_EQ(GetVol("v1")->status, "available");
  EXPECT_EQ(GetSnap("s1")->status, "available");

  driver_->FailOn("revert", Internal("copy failed"));
  Write([&](db::Transaction& tx) {
    RETURN_IF_ERROR(db::UpdateVolume(tx, Vol("v1", "reverting")));
    auto s = Snap("s1", "restoring");
    return db::UpdateSnapshot(tx, s);
  });
  Enqueue("revert_to_snapshot", "v1", {{"snapshot_id", "s1"}});
  ASSERT_TRUE(WaitUntil([&] { return Idle(); }));
  EXPECT_EQ(GetVol("v1")->status, "error");
  EXPECT_EQ(GetSnap("s1")->status, "available");
  EXPECT_EQ(MessageCount("v1"), 1u);
}

TEST_F(SnapshotTasksTest, CreateFromSnapshotAndCloneCopyOrFailWithoutRescheduling) {
  Write([&](db::Transaction& tx) {
    RETURN_IF_ERROR(db::InsertSnapshot(tx, Snap("s1", "available")));
    auto from = Vol("v2", "creating");
    from.size = 3;
    from.snapshot_id = "s1";
    RETURN_IF_ERROR(db::InsertVolume(tx, from));
    auto clone = Vol("v3", "creating");
    clone.source_volid = "v1";
    return db::InsertVolume(tx, clone);
  });
  Enqueue("create_volume", "v2", json::object());
  Enqueue("create_volume", "v3", json::object());
  ASSERT_TRUE(WaitUntil([&] { return Idle(); }));
  EXPECT_TRUE(driver_->Called("from-snapshot v2 3 v1 s1"));
  EXPECT_TRUE(driver_->Called("clone v3 1 v1"));
  EXPECT_EQ(GetVol("v2")->status, "available");
  EXPECT_EQ(GetVol("v3")->status, "available");

  driver_->FailOn("clone", ResourceExhausted("no space"));
  Write([&](db::Transaction& tx) {
    auto clone = Vol("v4", "creating");
    clone.source_volid = "v1";
    clone.scheduling_attempts = 1;
    return db::InsertVolume(tx, clone);
  });
  Enqueue("create_volume", "v4", json::object());
  ASSERT_TRUE(WaitUntil([&] { return Idle(); }));
  EXPECT_EQ(GetVol("v4")->status, "error");  // not sent back to the scheduler
  EXPECT_TRUE(driver_->Called("delete v4"));
}

}  // namespace
}  // namespace scoria::volume
