// VolumeManager driven through a real TaskWorker and an in-memory database, over a
// fault-injecting driver: one test per edge of the state diagrams in volume/manager.h.
#include "volume/manager.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "db/database.h"
#include "db/messages_repo.h"
#include "db/services_repo.h"
#include "db/tasks_repo.h"
#include "db/volumes_repo.h"
#include "tasks/worker.h"

namespace scoria::volume {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

constexpr char kBackendHost[] = "h@b";
constexpr char kPoolHost[] = "h@b#b";

// A VolumeDriver whose failures the test sets up and whose calls it inspects.
class FaultyDriver : public VolumeDriver {
 public:
  struct Call {
    std::string op;  // "create", "delete", "extend"
    std::string id;
    int64_t size_gb = 0;
  };

  std::string name() const override { return "fake"; }
  Status Setup() override {
    std::lock_guard lock(mu_);
    ++setups_;
    return Status::Ok();
  }
  Status CreateVolume(const std::string& id, int64_t size_gb) override {
    std::lock_guard lock(mu_);
    calls_.push_back({"create", id, size_gb});
    if (create_unavailable_ > 0) {
      --create_unavailable_;
      return Unavailable("fake backend unreachable creating " + id);
    }
    if (create_error_) return *create_error_;
    volumes_.push_back(id);
    return Status::Ok();
  }
  Status DeleteVolume(const std::string& id) override {
    std::lock_guard lock(mu_);
    calls_.push_back({"delete", id, 0});
    if (delete_error_) return *delete_error_;
    std::erase(volumes_, id);
    return Status::Ok();
  }
  Status ExtendVolume(const std::string& id, int64_t new_size_gb) override {
    std::lock_guard lock(mu_);
    calls_.push_back({"extend", id, new_size_gb});
    if (extend_error_) return *extend_error_;
    return Status::Ok();
  }
  Result<std::vector<std::string>> ListVolumes() override {
    std::lock_guard lock(mu_);
    return volumes_;
  }
  std::string ProviderLocation(const std::string& id) const override { return "fake://" + id; }
  Result<DriverStats> Stats() override {
    std::lock_guard lock(mu_);
    if (stats_error_) return *stats_error_;
    DriverStats s;
    s.total_capacity_gb = 100;
    s.free_capacity_gb = 60;
    s.provisioned_capacity_gb = 55;
    s.thin_provisioning_support = true;
    return s;
  }

  // Failure knobs; set before the worker starts.
  void FailCreateUnavailable(int times) { create_unavailable_ = times; }
  void FailCreateWith(Status st) { create_error_ = std::move(st); }
  void FailDeleteWith(Status st) { delete_error_ = std::move(st); }
  void FailExtendWith(Status st) { extend_error_ = std::move(st); }
  void FailStatsWith(std::optional<Status> st) {
    std::lock_guard lock(mu_);
    stats_error_ = std::move(st);
  }
  void AddExisting(const std::string& id) { volumes_.push_back(id); }

  std::vector<Call> calls() const {
    std::lock_guard lock(mu_);
    return calls_;
  }
  int Count(const std::string& op) const {
    int n = 0;
    for (const auto& c : calls()) n += c.op == op;
    return n;
  }
  int setups() const {
    std::lock_guard lock(mu_);
    return setups_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<Call> calls_;
  std::vector<std::string> volumes_;
  int setups_ = 0;
  int create_unavailable_ = 0;
  std::optional<Status> create_error_;
  std::optional<Status> delete_error_;
  std::optional<Status> extend_error_;
  std::optional<Status> stats_error_;
};

bool WaitFor(const std::function<bool()>& done, std::chrono::milliseconds timeout = 10'000ms) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return done();
}

class ManagerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = db::OpenDatabase("sqlite://");
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(*db);
    ASSERT_TRUE(db_->Migrate().ok());

    config_.host = "h";
    config_.scheduler_max_attempts = 3;
    backend_.section = "b";
    backend_.volume_driver = "fake";
    backend_.volume_backend_name = "b";
    backend_.availability_zone = "nova";
    backend_.reserved_percentage = 5;
    config_.enabled_backends = {"b"};
    config_.backends = {backend_};

    auto driver = std::make_unique<FaultyDriver>();
    driver_ = driver.get();
    manager_ = std::make_unique<VolumeManager>(*db_, config_, backend_, std::move(driver));
  }
  void TearDown() override {
    if (worker_) worker_->Stop();
  }

  void StartWorker() {
    tasks::WorkerOptions o;
    o.threads = 2;
    o.poll = 20ms;
    o.max_backoff = 50ms;
    worker_ = std::make_unique<tasks::TaskWorker>(*db_, "test/volume",
                                                  std::vector<std::string>{kBackendHost}, o);
    manager_->RegisterHandlers(*worker_);
    worker_->Start();
  }

  // The backend's row in services (the test fails when there is not exactly one).
  db::ServiceRecord BackendService() {
    std::vector<db::ServiceRecord> services;
    EXPECT_TRUE(db::InReadTransaction(*db_, [&](db::Transaction& tx) {
                  ASSIGN_OR_RETURN(services,
                                   db::ListServices(tx, std::string(kBackendHost), std::nullopt));
                  return Status::Ok();
                }).ok());
    EXPECT_EQ(services.size(), 1u);
    return services.empty() ? db::ServiceRecord{} : services[0];
  }

  db::VolumeRecord Vol(const std::string& id, const std::string& status, int64_t size = 2) {
    db::VolumeRecord v;
    v.id = id;
    v.project_id = "p1";
    v.user_id = "u1";
    v.size = size;
    v.status = status;
    v.host = kPoolHost;
    v.availability_zone = "nova";
    v.volume_type_id = "t";
    v.scheduling_attempts = 1;
    v.created_at = NowMicros();
    return v;
  }

  // Inserts the row and its task in one transaction, as the API does.
  void Submit(const db::VolumeRecord& v, const std::string& kind, const json& args = json::object()) {
    Status st = db::InWriteTransaction(*db_, [&](db::Transaction& tx) {
      RETURN_IF_ERROR(db::InsertVolume(tx, v));
      return db::EnqueueTask(tx, kind, kBackendHost, v.id, args.dump()).status();
    });
    ASSERT_TRUE(st.ok()) << st.ToString();
    db_->NotifyTasks();
  }

  std::optional<db::VolumeRecord> Get(const std::string& id) {
    std::optional<db::VolumeRecord> out;
    Status st = db::InReadTransaction(*db_, [&](db::Transaction& tx) {
      auto v = db::GetVolume(tx, id);
      if (v.ok()) out = *v;
      return v.status().code() == StatusCode::kNotFound ? Status::Ok() : v.status();
    });
    EXPECT_TRUE(st.ok()) << st.ToString();
    return out;
  }

  std::vector<db::Task> Tasks() {
    std::vector<db::Task> tasks;
    Status st = db::InReadTransaction(*db_, [&](db::Transaction& tx) {
      ASSIGN_OR_RETURN(tasks, db::ListTasks(tx));
      return Status::Ok();
    });
    EXPECT_TRUE(st.ok()) << st.ToString();
    return tasks;
  }

  // No task left for this backend: the manager finished its step.
  bool BackendIdle() {
    for (const auto& t : Tasks()) {
      if (t.target == kBackendHost) return false;
    }
    return true;
  }

  std::vector<db::MessageRecord> Messages(const std::string& volume_id) {
    std::vector<db::MessageRecord> out;
    Status st = db::InReadTransaction(*db_, [&](db::Transaction& tx) {
      ASSIGN_OR_RETURN(out, db::ListMessages(tx, std::nullopt, volume_id));
      return Status::Ok();
    });
    EXPECT_TRUE(st.ok()) << st.ToString();
    return out;
  }

  std::unique_ptr<db::Database> db_;
  Config config_;
  BackendConfig backend_;
  FaultyDriver* driver_ = nullptr;  // owned by manager_
  std::unique_ptr<VolumeManager> manager_;
  std::unique_ptr<tasks::TaskWorker> worker_;
};

TEST_F(ManagerTest, NamesItsHostAndPool) {
  EXPECT_EQ(manager_->backend_host(), kBackendHost);
  EXPECT_EQ(manager_->pool_host(), kPoolHost);
}

TEST_F(ManagerTest, CreateSucceeds) {
  Submit(Vol("v1", "creating", 3), "create_volume");
  StartWorker();
  ASSERT_TRUE(WaitFor([&] { return BackendIdle(); }));
  auto v = Get("v1");
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->status, "available");
  EXPECT_EQ(v->provider_location, "fake://v1");
  EXPECT_TRUE(v->launched_at.has_value());
  EXPECT_EQ(v->host, kPoolHost);
  auto calls = driver_->calls();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].op, "create");
  EXPECT_EQ(calls[0].id, "v1");
  EXPECT_EQ(calls[0].size_gb, 3);
  EXPECT_TRUE(Messages("v1").empty());
}

TEST_F(ManagerTest, CreateRetriesTransientFailures) {
  driver_->FailCreateUnavailable(2);
  Submit(Vol("v1", "creating"), "create_volume");
  StartWorker();
  ASSERT_TRUE(WaitFor([&] { return BackendIdle(); }));
  auto v = Get("v1");
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->status, "available");
  EXPECT_EQ(v->provider_location, "fake://v1");
  EXPECT_EQ(driver_->Count("create"), 3);  // two Unavailable, then success
  EXPECT_EQ(driver_->Count("delete"), 0);  // a transient failure is not cleaned up
  EXPECT_TRUE(Tasks().empty());            // nothing rescheduled
}

TEST_F(ManagerTest, CreateFailureWithAttemptsLeftReschedules) {
  driver_->FailCreateWith(Internal("fake disk on fire"));
  db::VolumeRecord vol = Vol("v1", "creating");
  vol.scheduling_attempts = 2;  // < scheduler_max_attempts (3)
  Submit(vol, "create_volume", {{"attempted_pools", {"other@x#x"}}});
  StartWorker();
  ASSERT_TRUE(WaitFor([&] { return BackendIdle(); }));

  auto v = Get("v1");
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->status, "creating");
  EXPECT_FALSE(v->host.has_value());
  EXPECT_FALSE(v->provider_location.has_value());

  auto tasks = Tasks();
  ASSERT_EQ(tasks.size(), 1u);
  EXPECT_EQ(tasks[0].kind, "schedule_create_volume");
  EXPECT_EQ(tasks[0].target, db::kSchedulerTarget);
  EXPECT_EQ(tasks[0].target, "scheduler");
  EXPECT_EQ(tasks[0].resource_id, "v1");
  json args = json::parse(tasks[0].args);
  EXPECT_EQ(args["attempted_pools"], json({"other@x#x", kPoolHost}));
  EXPECT_NE(args.value("last_error", "").find("fake disk on fire"), std::string::npos)
      << args.dump();

  EXPECT_EQ(driver_->Count("create"), 1);  // Internal is not retried on this backend
  auto calls = driver_->calls();
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[1].op, "delete");  // cleanup before trying elsewhere
  EXPECT_EQ(calls[1].id, "v1");
  EXPECT_TRUE(Messages("v1").empty());
}

TEST_F(ManagerTest, CreateTransientFailuresBeyondStepAttemptsReschedule) {
  driver_->FailCreateUnavailable(1000);
  Submit(Vol("v1", "creating"), "create_volume");
  StartWorker();
  ASSERT_TRUE(WaitFor([&] { return BackendIdle(); }));
  EXPECT_EQ(driver_->Count("create"), kMaxStepAttempts);
  EXPECT_EQ(driver_->Count("delete"), 1);
  auto tasks = Tasks();
  ASSERT_EQ(tasks.size(), 1u);
  EXPECT_EQ(tasks[0].kind, "schedule_create_volume");
  EXPECT_EQ(json::parse(tasks[0].args)["attempted_pools"], json({kPoolHost}));
  auto v = Get("v1");
  ASSERT_TRUE(v.has_value());
  EXPECT_FALSE(v->host.has_value());
}

TEST_F(ManagerTest, CreateFailureAtLastAttemptIsErrorWithMessage) {
  driver_->FailCreateWith(Internal("fake disk on fire"));
  db::VolumeRecord vol = Vol("v1", "creating");
  vol.scheduling_attempts = 3;  // == scheduler_max_attempts
  Submit(vol, "create_volume");
  StartWorker();
  ASSERT_TRUE(WaitFor([&] { return BackendIdle(); }));

  auto v = Get("v1");
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->status, "error");
  EXPECT_TRUE(Tasks().empty());  // nothing rescheduled
  EXPECT_EQ(driver_->Count("delete"), 1);

  auto msgs = Messages("v1");
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_NE(msgs[0].user_message.find("fake disk on fire"), std::string::npos)
      << msgs[0].user_message;
  EXPECT_EQ(msgs[0].project_id, "p1");
  EXPECT_EQ(msgs[0].resource_uuid, "v1");
  EXPECT_EQ(msgs[0].action_id, db::message_action::kCreateVolume);
  EXPECT_EQ(msgs[0].detail_id, db::message_detail::kDriverFailed);
  EXPECT_EQ(msgs[0].message_level, "ERROR");
}

TEST_F(ManagerTest, CreateOutOfSpaceAtLastAttemptSaysNotEnoughSpace) {
  driver_->FailCreateWith(ResourceExhausted("fake pool full"));
  db::VolumeRecord vol = Vol("v1", "creating");
  vol.scheduling_attempts = 3;
  Submit(vol, "create_volume");
  StartWorker();
  ASSERT_TRUE(WaitFor([&] { return BackendIdle(); }));
  EXPECT_EQ(Get("v1")->status, "error");
  auto msgs = Messages("v1");
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(msgs[0].detail_id, db::message_detail::kNotEnoughSpace);
  EXPECT_NE(msgs[0].user_message.find("fake pool full"), std::string::npos);
}

TEST_F(ManagerTest, CreateOfVolumeNoLongerCreatingDoesNothing) {
  // Deleted or reset while the task waited: the task finishes without touching the backend.
  Submit(Vol("v1", "error"), "create_volume");
  StartWorker();
  ASSERT_TRUE(WaitFor([&] { return BackendIdle(); }));
  EXPECT_EQ(Get("v1")->status, "error");
  EXPECT_TRUE(driver_->calls().empty());
}

TEST_F(ManagerTest, DeleteRemovesTheRow) {
  driver_->AddExisting("v1");
  Submit(Vol("v1", "deleting"), "delete_volume");
  StartWorker();
  ASSERT_TRUE(WaitFor([&] { return BackendIdle(); }));
  EXPECT_FALSE(Get("v1").has_value());
  auto calls = driver_->calls();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].op, "delete");
  EXPECT_EQ(calls[0].id, "v1");
  auto left = driver_->ListVolumes();
  ASSERT_TRUE(left.ok());
  EXPECT_TRUE(left->empty());
}

TEST_F(ManagerTest, DeleteFailingForGoodIsErrorDeleting) {
  driver_->FailDeleteWith(Internal("fake cannot unlink"));
  Submit(Vol("v1", "deleting"), "delete_volume");
  StartWorker();
  ASSERT_TRUE(WaitFor([&] { return BackendIdle(); }));
  auto v = Get("v1");
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->status, "error_deleting");
  EXPECT_EQ(driver_->Count("delete"), kMaxStepAttempts);
  auto msgs = Messages("v1");
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(msgs[0].action_id, db::message_action::kDeleteVolume);
  EXPECT_NE(msgs[0].user_message.find("fake cannot unlink"), std::string::npos);
}

TEST_F(ManagerTest, ExtendUpdatesSizeAndRestoresPreviousStatus) {
  db::VolumeRecord vol = Vol("v1", "extending", 1);
  vol.previous_status = "in-use";
  Submit(vol, "extend_volume", {{"new_size", 4}});
  StartWorker();
  ASSERT_TRUE(WaitFor([&] { return BackendIdle(); }));
  auto v = Get("v1");
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->size, 4);
  EXPECT_EQ(v->status, "in-use");
  EXPECT_FALSE(v->previous_status.has_value());
  auto calls = driver_->calls();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].op, "extend");
  EXPECT_EQ(calls[0].size_gb, 4);
  EXPECT_TRUE(Messages("v1").empty());
}

TEST_F(ManagerTest, ExtendFailureIsErrorExtending) {
  driver_->FailExtendWith(Internal("fake cannot grow"));
  db::VolumeRecord vol = Vol("v1", "extending", 1);
  vol.previous_status = "available";
  Submit(vol, "extend_volume", {{"new_size", 4}});
  StartWorker();
  ASSERT_TRUE(WaitFor([&] { return BackendIdle(); }));
  auto v = Get("v1");
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->status, "error_extending");
  EXPECT_EQ(v->size, 1);  // unchanged
  EXPECT_EQ(driver_->Count("extend"), 1);
  auto msgs = Messages("v1");
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(msgs[0].action_id, db::message_action::kExtendVolume);
  EXPECT_NE(msgs[0].user_message.find("fake cannot grow"), std::string::npos);
}

// An extend_volume row this build cannot read (issue 9: malformed tasks fail in one place) ends
// the extend as a driver failure does, once, without calling the driver; the row is kept as
// failed for the operator.
TEST_F(ManagerTest, ExtendWithMalformedArgsIsErrorExtendingNotRetried) {
  db::VolumeRecord vol = Vol("v1", "extending", 1);
  vol.previous_status = "available";
  Submit(vol, "extend_volume", {{"new_size", "four"}});
  StartWorker();
  ASSERT_TRUE(WaitFor([&] { return Get("v1")->status != "extending"; }));
  auto v = Get("v1");
  EXPECT_EQ(v->status, "error_extending");
  EXPECT_EQ(v->size, 1);
  EXPECT_EQ(driver_->Count("extend"), 0);
  auto msgs = Messages("v1");
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_NE(msgs[0].user_message.find("'new_size' must be an integer"), std::string::npos);
  auto tasks = Tasks();
  ASSERT_EQ(tasks.size(), 1u);
  EXPECT_EQ(tasks[0].target, db::kFailedTarget);
  EXPECT_EQ(tasks[0].attempts, 1);
}

TEST_F(ManagerTest, ReportStatsWritesServiceCapabilities) {
  ASSERT_TRUE(manager_->ReportStats().ok());
  db::ServiceRecord service = BackendService();
  EXPECT_EQ(service.binary, db::kVolumeBinary);
  EXPECT_EQ(service.availability_zone, "nova");
  ASSERT_TRUE(service.capabilities.has_value());
  json caps = json::parse(*service.capabilities);
  EXPECT_EQ(caps["volume_backend_name"], "b");
  EXPECT_EQ(caps["volume_driver"], "fake");
  ASSERT_EQ(caps["pools"].size(), 1u);
  const json& pool = caps["pools"][0];
  EXPECT_EQ(pool["pool_name"], "b");
  EXPECT_DOUBLE_EQ(pool["total_capacity_gb"].get<double>(), 100.0);
  EXPECT_DOUBLE_EQ(pool["free_capacity_gb"].get<double>(), 60.0);
  EXPECT_DOUBLE_EQ(pool["provisioned_capacity_gb"].get<double>(), 55.0);
  EXPECT_EQ(pool["reserved_percentage"], 5);
  EXPECT_EQ(pool["thin_provisioning_support"], true);

  // A second report refreshes the same row.
  ASSERT_TRUE(manager_->ReportStats().ok());
  EXPECT_EQ(BackendService().report_count, 2);
}

TEST_F(ManagerTest, AFailedStatsReportStillHeartbeatsWithTheLastPoolMarkedDown) {
  // Before any good report: the service is alive, no pool is known.
  driver_->FailStatsWith(Unavailable("monitor command df: timed out"));
  Status st = manager_->ReportStats();
  EXPECT_EQ(st.code(), StatusCode::kUnavailable) << st.ToString();
  EXPECT_EQ(BackendService().report_count, 1);
  EXPECT_FALSE(BackendService().capabilities.has_value());

  driver_->FailStatsWith(std::nullopt);
  ASSERT_TRUE(manager_->ReportStats().ok());
  EXPECT_EQ(json::parse(*BackendService().capabilities)["pools"][0]["backend_state"], "up");

  // The backend stops answering: the last capacities stay, the pool says down.
  driver_->FailStatsWith(Unavailable("monitor command df: timed out"));
  EXPECT_FALSE(manager_->ReportStats().ok());
  db::ServiceRecord s = BackendService();
  EXPECT_EQ(s.report_count, 3);  // the heartbeat went on
  json pool = json::parse(*s.capabilities)["pools"][0];
  EXPECT_EQ(pool["backend_state"], "down");
  EXPECT_DOUBLE_EQ(pool["free_capacity_gb"].get<double>(), 60.0);

  driver_->FailStatsWith(std::nullopt);
  ASSERT_TRUE(manager_->ReportStats().ok());
  EXPECT_EQ(json::parse(*BackendService().capabilities)["pools"][0]["backend_state"], "up");
}

TEST_F(ManagerTest, StartSetsUpAndLeavesUnknownVolumesAlone) {
  driver_->AddExisting("orphan");
  Status st = manager_->Start();
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(driver_->setups(), 1);
  EXPECT_TRUE(driver_->calls().empty());  // never deletes what the database does not know
  auto left = driver_->ListVolumes();
  ASSERT_TRUE(left.ok());
  EXPECT_EQ(*left, std::vector<std::string>{"orphan"});
}

}  // namespace
}  // namespace scoria::volume
