#include "runtime/daemon.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <filesystem>

#include "api/keystone/keystone_auth.h"
#include "api/policy/enforcer.h"
#include "api/resources/api_env.h"
#include "common/clock.h"
#include "common/ids.h"
#include "db/messages_repo.h"
#include "db/services_repo.h"
#include "db/tasks_repo.h"
#include "db/types_repo.h"
#include "target/target_server.h"

namespace scoria::runtime {
namespace {

// auth_strategy = keystone: the policy (Cinder's defaults and [oslo_policy] policy_file, which
// must load cleanly) and the token validator ([keystone_authtoken]; no I/O until the first
// request, so a Keystone that is down at start only makes requests answer 503).
Result<std::shared_ptr<const api::Authenticator>> MakeKeystoneAuthenticator(const Config& c) {
  api::policy::EnforcerOptions po;
  po.policy_file = c.policy_file;
  po.enforce_new_defaults = c.enforce_new_defaults;
  ASSIGN_OR_RETURN(auto enforcer, api::policy::Enforcer::Load(po));
  api::keystone::KeystoneConfig kc;
  kc.www_authenticate_uri = c.keystone.www_authenticate_uri.empty()
                                ? c.keystone.auth_url
                                : c.keystone.www_authenticate_uri;
  kc.auth_url = c.keystone.auth_url;
  kc.username = c.keystone.username;
  kc.password = c.keystone.password;
  kc.project_name = c.keystone.project_name;
  kc.user_domain_name = c.keystone.user_domain_name;
  kc.project_domain_name = c.keystone.project_domain_name;
  kc.token_cache_time = c.keystone.token_cache_time;
  kc.service_token_roles = c.keystone.service_token_roles;
  kc.service_token_roles_required = c.keystone.service_token_roles_required;
  kc.http_connect_timeout = c.keystone.http_connect_timeout;
  kc.http_request_timeout = c.keystone.http_request_timeout;
  spdlog::info("auth_strategy keystone: tokens validated at {} as {}, policy {}", kc.auth_url,
               kc.username, c.policy_file.empty() ? "Cinder's defaults" : c.policy_file);
  return std::shared_ptr<const api::Authenticator>(
      std::make_shared<api::keystone::KeystoneAuthenticator>(
          std::make_unique<api::keystone::TokenValidator>(std::move(kc)), std::move(enforcer)));
}

}  // namespace

Daemon::Daemon(Config config) : config_(std::move(config)) { owner_prefix_ = config_.host + "/"; }

Daemon::~Daemon() { Stop(); }

Status Daemon::Start() {
  std::error_code ec;
  std::filesystem::create_directories(config_.state_path, ec);
  if (ec) return Internal("cannot create state_path " + config_.state_path + ": " + ec.message());

  ASSIGN_OR_RETURN(db_, db::OpenDatabase(config_.database_connection));
  RETURN_IF_ERROR(db_->Migrate());
  RETURN_IF_ERROR(db::InWriteTransaction(*db_, [&](db::Transaction& tx) {
    RETURN_IF_ERROR(
        db::EnsureType(tx, config_.default_volume_type, "Default Volume Type").status());
    ASSIGN_OR_RETURN(int64_t released, db::ReleaseLeasesOf(tx, owner_prefix_));
    if (released > 0) {
      spdlog::info("recovery: {} task(s) interrupted by the previous stop will run again",
                   released);
    }
    return Status::Ok();
  }));

  const std::string owner =
      owner_prefix_ + std::to_string(::getpid()) + "/" + NewUuid().substr(0, 8);
  if (config_.ServiceEnabled("scheduler")) {
    scheduler_ = std::make_unique<scheduler::SchedulerService>(*db_, config_);
    tasks::WorkerOptions opts;
    opts.threads = 1;  // decisions are serial: each sees the previous one's allocation
    opts.on_database_back = [s = scheduler_.get()] { s->NoteDatabaseBack(); };
    auto w = std::make_unique<tasks::TaskWorker>(
        *db_, owner + "/scheduler", std::vector<std::string>{db::kSchedulerTarget}, opts);
    scheduler_->RegisterHandlers(*w);
    workers_.push_back(std::move(w));
  }
  if (config_.ServiceEnabled("volume")) {
    // The iSCSI target serves every backend of this process; it starts before the managers
    // so that the exports they restore are reachable at once.
    target::TargetServer::Options t;
    t.address = config_.target_ip_address;
    t.port = static_cast<uint16_t>(config_.target_port);
    t.target_prefix = config_.target_prefix;
    t.poll_max_us = config_.iscsi_poll_max_us;
    auto server = std::make_unique<target::TargetServer>(t);
    RETURN_IF_ERROR(server->Start());
    target_ = server.get();
    exporter_ = std::move(server);
    for (const BackendConfig& b : config_.backends) {
      ASSIGN_OR_RETURN(auto driver, volume::MakeDriver(b));
      auto m = std::make_unique<volume::VolumeManager>(*db_, config_, b, std::move(driver),
                                                       exporter_.get());
      Status st = m->Start();
      if (!st.ok()) return Status(st.code(), "backend " + b.section + ": " + st.message());
      tasks::WorkerOptions opts;
      opts.threads = 4;
      auto w = std::make_unique<tasks::TaskWorker>(
          *db_, owner + "/" + b.section, std::vector<std::string>{m->backend_host()}, opts);
      m->RegisterHandlers(*w);
      workers_.push_back(std::move(w));
      managers_.push_back(std::move(m));
    }
  }
  if (config_.ServiceEnabled("backup")) {
    backup_ = std::make_unique<backup::BackupService>(*db_, config_);
    RETURN_IF_ERROR(backup_->Start());
    tasks::WorkerOptions opts;
    // Jobs of different backups in parallel; each job has its own reader and worker threads.
    opts.threads = 3;
    auto w = std::make_unique<tasks::TaskWorker>(*db_, owner + "/backup", backup_->Targets(), opts);
    backup_->RegisterHandlers(*w);
    workers_.push_back(std::move(w));
  }
  if (scheduler_) {
    RETURN_IF_ERROR(db::InWriteTransaction(*db_, [&](db::Transaction& tx) {
      return db::Heartbeat(tx, config_.host, db::kSchedulerBinary,
                           config_.storage_availability_zone, std::nullopt);
    }));
  }
  for (auto& w : workers_) w->Start();
  reporter_ = std::thread([this] { ReportLoop(); });

  if (config_.ServiceEnabled("api")) {
    router_ = std::make_unique<api::Router>();
    api::RegisterAllRoutes(*router_, api::ApiEnv{*db_, config_});
    if (auto open = router_->Unprotected(); !open.empty()) {
      return Internal("API route without a policy rule: " +
                      fmt::format("{}", fmt::join(open, ", ")));
    }
    if (config_.auth_strategy == "keystone") {
      ASSIGN_OR_RETURN(auto authenticator, MakeKeystoneAuthenticator(config_));
      router_->SetAuthenticator(std::move(authenticator));
    }
    api::HttpServer::Options o;
    o.address = config_.osapi_volume_listen;
    o.port = static_cast<uint16_t>(config_.osapi_volume_listen_port);
    o.threads = config_.osapi_volume_workers > 0
                    ? config_.osapi_volume_workers
                    : std::max(2, static_cast<int>(std::thread::hardware_concurrency()));
    http_ = std::make_unique<api::HttpServer>(o);
    RETURN_IF_ERROR(http_->Start(*router_));  // logs the address it listens on
  }
  spdlog::info("scoriad started: host {}, services {}, backends {}", config_.host,
               fmt::join(config_.enabled_services, ","), fmt::join(config_.enabled_backends, ","));
  return Status::Ok();
}

void Daemon::ReportLoop() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    cv_.wait_for(lock, std::chrono::seconds(config_.report_interval), [&] { return stopping_; });
    if (stopping_) break;
    lock.unlock();
    if (scheduler_) {
      Status st = db::InWriteTransaction(*db_, [&](db::Transaction& tx) {
        RETURN_IF_ERROR(db::DeleteExpiredMessages(tx, NowMicros()).status());
        return db::Heartbeat(tx, config_.host, db::kSchedulerBinary,
                             config_.storage_availability_zone, std::nullopt);
      });
      if (!st.ok()) spdlog::warn("scheduler heartbeat failed: {}", st.ToString());
    }
    if (backup_) {
      Status st = backup_->Heartbeat();
      if (!st.ok()) spdlog::warn("backup heartbeat failed: {}", st.ToString());
    }
    for (auto& m : managers_) {
      Status st = m->ReportStats();
      if (!st.ok())
        spdlog::warn("volume {}: stats report failed: {}", m->backend_host(), st.ToString());
    }
    lock.lock();
  }
}

void Daemon::Stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  cv_.notify_all();
  if (http_) http_->Stop();
  for (auto& w : workers_) w->Stop();
  if (reporter_.joinable()) reporter_.join();
  if (target_) target_->Stop();
}

}  // namespace scoria::runtime
