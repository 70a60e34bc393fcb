#include "backup/service.h"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include "backup/ceph_store.h"
#include "backup/nfs_store.h"
#include "backup/s3_store.h"
#include "backup/swift_store.h"
#include "db/services_repo.h"

namespace scoria::backup {

BackupService::BackupService(db::Database& db, const Config& config)
    : db_(db), config_(config) {}

BackupService::~BackupService() = default;

// The store backup_driver names. `where` says which for messages (no credential in it).
Result<std::shared_ptr<BackupStore>> BackupService::OpenConfiguredStore(std::string* where) {
  const Config& c = config_;
  if (c.backup_driver == "nfs") {
    *where = "backup_share " + c.backup_share;
    return OpenNfsStore({c.backup_share, c.backup_mount_options, ""});
  }
  if (c.backup_driver == "s3") {
    *where = "S3 bucket " + c.backup_s3_store_bucket + " at " + c.backup_s3_endpoint_url;
    S3StoreOptions o;
    o.endpoint_url = c.backup_s3_endpoint_url;
    o.access_key = c.backup_s3_store_access_key;
    o.secret_key = c.backup_s3_store_secret_key;
    o.bucket = c.backup_s3_store_bucket;
    o.multipart_threshold = o.part_size = static_cast<size_t>(c.backup_s3_object_size);
    o.http.attempts = c.backup_s3_retry_max_attempts;
    o.http.stall_timeout_s = c.backup_s3_timeout;
    o.http.verify_tls = c.backup_s3_verify_ssl;
    o.http.ca_file = c.backup_s3_ca_cert_file;
    o.http.max_connections = c.backup_s3_max_pool_connections;
    return OpenS3Store(o);
  }
  if (c.backup_driver == "swift") {
    *where = "Swift container " + c.backup_swift_container + " at " + c.backup_swift_auth_url;
    SwiftStoreOptions o;
    o.auth_url = c.backup_swift_auth_url;
    o.storage_url = c.backup_swift_url;
    o.user = c.backup_swift_user;
    o.key = c.backup_swift_key;
    o.container = c.backup_swift_container;
    o.http.attempts = c.backup_swift_retry_attempts + 1;
    o.http.backoff_initial_ms = c.backup_swift_retry_backoff * 1000;
    o.http.backoff_max_ms = c.backup_swift_retry_backoff * 16000;
    o.http.verify_tls = !c.backup_swift_auth_insecure;
    o.http.ca_file = c.backup_swift_ca_cert_file;
    return OpenSwiftStore(o);
  }
  if (c.backup_driver == "ceph") {
    *where = "RADOS pool " + c.backup_ceph_pool + " as client." + c.backup_ceph_user;
    CephStoreOptions o;
    o.ceph_conf = c.backup_ceph_conf;
    o.user = c.backup_ceph_user;
    o.pool = c.backup_ceph_pool;
    o.max_object_bytes = static_cast<size_t>(c.backup_ceph_chunk_size);
    o.op_timeout_s = c.backup_ceph_op_timeout;
    return OpenCephStore(o);
  }
  *where = "backup_posix_path " + c.backup_posix_path;
  return OpenPosixStore(c.backup_posix_path);
}

Status BackupService::Start() {
  // backup_driver is validated by the config table: posix, nfs, s3, swift or ceph.
  std::string where;
  auto store = OpenConfiguredStore(&where);
  if (!store.ok()) {
    return Status(store.status().code(), where + ": " + store.status().message());
  }
  RepositoryOptions options;
  options.chunk_size = static_cast<uint32_t>(config_.backup_chunk_size);
  options.owner = config_.host + ":" + std::to_string(::getpid());
  auto repo = Repository::Open(*store, options);
  if (!repo.ok()) {
    return Status(repo.status().code(), "backup repository in " + where + ": " +
                                            repo.status().message());
  }
  repo_ = *repo;
  RemoveLocksOfEarlierProcesses(options.owner);
  for (const BackendConfig& b : config_.backends) {
    auto driver = volume::MakeDriver(b);
    if (!driver.ok()) {
      return Status(driver.status().code(), "backend " + b.section + ": " + driver.status().message());
    }
    drivers_[b.section] = std::move(*driver);
  }
  return Heartbeat();
}

void BackupService::RemoveLocksOfEarlierProcesses(const std::string& me) {
  const std::string prefix = config_.host + ":";
  auto locks = repo_->store().List(kLockPrefix);
  if (!locks.ok()) {
    spdlog::warn("backup: cannot list the repository's locks: {}", locks.status().ToString());
    return;
  }
  int removed = 0;
  for (const ObjectInfo& lock : *locks) {
    auto data = repo_->store().Get(lock.name);
    if (!data.ok()) continue;  // released meanwhile
    auto j = nlohmann::json::parse(reinterpret_cast<const char*>(data->data()),
                                   reinterpret_cast<const char*>(data->data() + data->size()),
                                   nullptr, false);
    if (!j.is_object() || !j.contains("owner") || !j["owner"].is_string()) continue;
    const std::string owner = j["owner"].get<std::string>();
    if (owner.rfind(prefix, 0) != 0 || owner == me) continue;
    if (repo_->store().Delete(lock.name).ok()) ++removed;
  }
  if (removed > 0) {
    spdlog::info("backup: removed {} repository lock(s) left by an earlier process of {}",
                 removed, config_.host);
  }
}

std::vector<std::string> BackupService::Targets() const {
  return {db::BackupTarget(config_.host), db::kAnyBackupTarget};
}

void BackupService::RegisterHandlers(tasks::TaskWorker& worker) {
  using tasks::TaskContext;
  // A restore that cannot be read as written gives the backup back, with the reason.
  auto end_restoring = [](db::Transaction& tx, const db::Task& t, const Status& why) {
    return EndRestoring(tx, t.resource_id, why);
  };
  tasks::Register<tasks::CreateBackup>(
      worker, [this](TaskContext& c, const auto&) { return HandleCreate(c); });
  tasks::Register<tasks::RestoreBackup>(
      worker, [this](TaskContext& c, const auto& a) { return HandleRestore(c, a); },
      end_restoring);
  tasks::Register<tasks::RestoreBackupWhenCreated>(
      worker, [this](TaskContext& c, const auto& a) { return HandleRestoreWhenCreated(c, a); },
      end_restoring);
  tasks::Register<tasks::DeleteBackup>(
      worker, [this](TaskContext& c, const auto&) { return HandleDelete(c); });
  tasks::Register<tasks::VerifyBackup>(
      worker, [this](TaskContext& c, const auto&) { return HandleVerify(c); });
  tasks::Register<tasks::ImportBackup>(
      worker, [this](TaskContext& c, const auto&) { return HandleImport(c); });
}

Status BackupService::Heartbeat() {
  return db::InWriteTransaction(db_, [&](db::Transaction& tx) {
    return db::Heartbeat(tx, config_.host, db::kBackupBinary, config_.storage_availability_zone,
                         std::nullopt);
  }, db::Durability::kRelaxed);
}

Result<volume::VolumeDriver*> BackupService::DriverFor(
    const std::optional<std::string>& volume_host) {
  if (!volume_host) return FailedPrecondition("the volume has no host");
  const std::string& h = *volume_host;
  const size_t at = h.find('@');
  if (at == std::string::npos || h.substr(0, at) != config_.host) {
    return FailedPrecondition("the volume lives on " + h + ", not on this host (" +
                              config_.host + ")");
  }
  const std::string section = h.substr(at + 1, h.find('#') - at - 1);
  auto it = drivers_.find(section);
  if (it == drivers_.end()) {
    return FailedPrecondition("backend " + section + " is not enabled on " + config_.host);
  }
  return it->second.get();
}

}  // namespace scoria::backup
