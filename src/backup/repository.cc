// Repository (repository.h): the config object, manifests, chunk I/O, locks, Verify and GC.
#include "backup/repository.h"

#include <unistd.h>

#include <mutex>
#include <nlohmann/json.hpp>
#include <unordered_map>
#include <unordered_set>

#include "common/clock.h"
#include "common/ids.h"

namespace scoria::backup {
namespace {

constexpr std::string_view kRepoFormat = "scoria-backup-repository";

struct IdHash {
  size_t operator()(const ChunkId& id) const {
    size_t h;
    std::memcpy(&h, id.data(), sizeof h);
    return h;
  }
};

std::span<const std::byte> AsBytes(const std::string& s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

std::string ManifestName(std::string_view backup_id) {
  return std::string(kManifestPrefix) + std::string(backup_id);
}

const char* KindName(LockKind k) { return k == LockKind::kShared ? "shared" : "exclusive"; }

struct LockInfo {
  std::string name;
  LockKind kind = LockKind::kExclusive;
  std::string purpose, owner;
  int64_t refreshed = 0;
};

class RepositoryImpl;

class LockImpl final : public RepositoryLock {
 public:
  LockImpl(RepositoryImpl* repo, std::string id, LockKind kind, std::string purpose,
           int64_t created)
      : repo_(repo),
        id_(std::move(id)),
        kind_(kind),
        purpose_(std::move(purpose)),
        created_(created),
        last_refresh_(created) {}
  ~LockImpl() override { (void)Release(); }

  const std::string& id() const override { return id_; }
  LockKind kind() const override { return kind_; }
  Status Refresh() override;
  Status RefreshIfDue() override;
  Status Release() override;

  std::string Encode(int64_t now) const;
  std::string Name() const { return std::string(kLockPrefix) + id_; }

 private:
  RepositoryImpl* repo_;  // outlives its locks (the jobs keep the repository alive)
  const std::string id_;
  const LockKind kind_;
  const std::string purpose_;
  const int64_t created_;
  std::mutex mu_;
  int64_t last_refresh_;   // guarded by mu_
  bool released_ = false;  // guarded by mu_
};

class RepositoryImpl final : public Repository,
                             public std::enable_shared_from_this<RepositoryImpl> {
 public:
  RepositoryImpl(std::shared_ptr<BackupStore> store, RepositoryOptions opts, uint32_t chunk_size)
      : store_(std::move(store)), opts_(std::move(opts)), chunk_size_(chunk_size) {
    if (opts_.owner.empty()) {
      char host[256] = {};
      ::gethostname(host, sizeof host - 1);
      opts_.owner = std::string(host) + ":" + std::to_string(::getpid());
    }
  }

  uint32_t chunk_size() const override { return chunk_size_; }
  int compression_level() const override { return opts_.compression_level; }
  BackupStore& store() override { return *store_; }
  int64_t Now() const override { return opts_.clock ? opts_.clock() : NowMicros(); }
  const RepositoryOptions& options() const { return opts_; }
  const std::string& owner() const { return opts_.owner; }

  Result<std::unique_ptr<RepositoryLock>> Lock(LockKind kind, std::string_view purpose) override {
    auto lock = std::make_unique<LockImpl>(this, NewUuid(), kind, std::string(purpose), Now());
    RETURN_IF_ERROR(store_->Put(lock->Name(), AsBytes(lock->Encode(Now()))));
    // Look only after our own lock is visible: see the race rule in repository.h.
    Result<std::vector<LockInfo>> others = LiveLocks(lock->Name());
    if (!others.ok()) {
      (void)lock->Release();
      return others.status();
    }
    for (const LockInfo& o : *others) {
      if (kind == LockKind::kExclusive || o.kind == LockKind::kExclusive) {
        (void)lock->Release();
        return Unavailable("backup repository is locked: " + std::string(KindName(o.kind)) +
                           " lock " + o.name + " held by " + o.purpose + " on " + o.owner +
                           "; retry later");
      }
    }
    return std::unique_ptr<RepositoryLock>(std::move(lock));
  }

  // Every lock other than `self` that is not stale. Stale ones are collected in stale_.
  Result<std::vector<LockInfo>> LiveLocks(const std::string& self,
                                          std::vector<std::string>* stale = nullptr) {
    ASSIGN_OR_RETURN(std::vector<ObjectInfo> objs, store_->List(kLockPrefix));
    std::vector<LockInfo> live;
    const int64_t now = Now();
    for (const ObjectInfo& o : objs) {
      if (o.name == self) continue;
      Result<std::vector<std::byte>> data = store_->Get(o.name);
      if (!data.ok()) {
        if (data.status().code() == StatusCode::kNotFound) continue;  // released meanwhile
        return data.status();
      }
      LockInfo info;
      info.name = o.name;
      nlohmann::json j = nlohmann::json::parse(
          std::string(reinterpret_cast<const char*>(data->data()), data->size()), nullptr, false);
      if (j.is_object() && j.value("kind", "") == "shared") info.kind = LockKind::kShared;
      info.purpose = j.is_object() ? j.value("purpose", "?") : "unreadable lock";
      info.owner = j.is_object() ? j.value("owner", "?") : "?";
      // An unreadable lock counts as exclusive, refreshed at its object's time.
      info.refreshed = j.is_object() ? j.value("refreshed", int64_t{0}) : o.modified_micros;
      if (now - info.refreshed >= opts_.lock_stale_micros) {
        if (stale) stale->push_back(o.name);
        continue;
      }
      live.push_back(std::move(info));
    }
    return live;
  }

  Status WriteManifest(const Manifest& m) override {
    RETURN_IF_ERROR(ValidateManifest(m));
    if (m.chunk_size != chunk_size_) {
      return InvalidArgument("manifest chunk size " + std::to_string(m.chunk_size) +
                             " differs from the repository's " + std::to_string(chunk_size_));
    }
    // Every chunk the manifest names must be durable before the manifest is.
    RETURN_IF_ERROR(store_->Sync());
    RETURN_IF_ERROR(store_->Put(ManifestName(m.backup_id), EncodeManifest(m)));
    return Status::Ok();
  }

  Result<std::vector<std::byte>> ReadManifestBytes(std::string_view backup_id) override {
    Status st = CheckObjectName(backup_id);
    if (!st.ok() || backup_id.find('/') != std::string_view::npos) {
      return InvalidArgument("backup id '" + std::string(backup_id) + "' is not valid");
    }
    Result<std::vector<std::byte>> data = store_->Get(ManifestName(backup_id));
    if (!data.ok() && data.status().code() == StatusCode::kNotFound) {
      return NotFound("backup " + std::string(backup_id) + " has no manifest in the repository");
    }
    return data;
  }

  Result<Manifest> LoadManifest(std::string_view backup_id) override {
    ASSIGN_OR_RETURN(std::vector<std::byte> data, ReadManifestBytes(backup_id));
    Result<Manifest> m = DecodeManifest(data);
    if (!m.ok()) {
      return Internal("backup " + std::string(backup_id) +
                      ": manifest corrupted: " + m.status().message());
    }
    if (m->backup_id != backup_id) {
      return Internal("backup " + std::string(backup_id) + ": manifest names backup " +
                      m->backup_id);
    }
    return m;
  }

  Result<std::vector<std::string>> ListBackups() override {
    ASSIGN_OR_RETURN(std::vector<ObjectInfo> objs, store_->List(kManifestPrefix));
    std::vector<std::string> ids;
    for (const ObjectInfo& o : objs) ids.push_back(o.name.substr(kManifestPrefix.size()));
    std::sort(ids.begin(), ids.end());
    return ids;
  }

  Status DeleteBackup(std::string_view backup_id) override {
    if (!CheckObjectName(backup_id).ok() || backup_id.find('/') != std::string_view::npos) {
      return InvalidArgument("backup id '" + std::string(backup_id) + "' is not valid");
    }
    return store_->Delete(ManifestName(backup_id));
  }

  Status CheckRecord(const ManifestRecord& record) override {
    ASSIGN_OR_RETURN(std::vector<std::byte> data, ReadManifestBytes(record.backup_id));
    std::string digest = ToHex(ManifestDigest(data));
    if (digest != record.manifest_sha256) {
      return FailedPrecondition("backup " + record.backup_id +
                                ": the repository's manifest differs from the record (sha256 " +
                                digest + ", record says " + record.manifest_sha256 + ")");
    }
    return Status::Ok();
  }

  Result<uint64_t> ChunkStoredLength(const ChunkId& id) override {
    Result<ObjectInfo> info = store_->Stat(ChunkObjectName(id));
    if (info.ok()) return info->size;
    if (info.status().code() == StatusCode::kNotFound) return uint64_t{0};
    return info.status();
  }

  Result<uint32_t> PutChunkObject(const ChunkId& id, std::span<const std::byte> object) override {
    RETURN_IF_ERROR(store_->Put(ChunkObjectName(id), object));
    return static_cast<uint32_t>(object.size());
  }

  Status ReadChunk(const ChunkRef& ref, uint32_t raw_length, ChunkCodec& codec,
                   std::vector<std::byte>& out) override {
    Result<std::vector<std::byte>> obj = store_->Get(ChunkObjectName(ref.id));
    if (!obj.ok()) {
      if (obj.status().code() == StatusCode::kNotFound) {
        return NotFound("chunk " + ToHex(ref.id) + " is missing from the repository");
      }
      return obj.status();
    }
    if (obj->size() != ref.stored_length) {
      return Internal("chunk " + ToHex(ref.id) + " corrupted: stored object is " +
                      std::to_string(obj->size()) + " bytes, the manifest says " +
                      std::to_string(ref.stored_length));
    }
    Status st = codec.Decode(*obj, ref.id, raw_length, out);
    if (!st.ok()) return Internal("chunk " + ToHex(ref.id) + " corrupted: " + st.message());
    return Status::Ok();
  }

  Result<VerifyReport> Verify(std::string_view backup_id, VerifyMode mode) override {
    ASSIGN_OR_RETURN(std::unique_ptr<RepositoryLock> lock,
                     Lock(LockKind::kShared, "verify " + std::string(backup_id)));
    ASSIGN_OR_RETURN(Manifest m, LoadManifest(backup_id));
    VerifyReport report;
    report.backup_id = m.backup_id;
    std::unordered_set<ChunkId, IdHash> seen;
    ChunkCodec codec(opts_.compression_level);
    std::vector<std::byte> buf;
    for (uint64_t i = 0; i < m.chunks.size(); ++i) {
      const ChunkRef& c = m.chunks[i];
      if (c.hole || !seen.insert(c.id).second) continue;
      RETURN_IF_ERROR(lock->RefreshIfDue());
      ++report.chunks_checked;
      Status st;
      if (mode == VerifyMode::kExists) {
        Result<ObjectInfo> info = store_->Stat(ChunkObjectName(c.id));
        if (!info.ok()) {
          st = info.status().code() == StatusCode::kNotFound
                   ? NotFound("chunk " + ToHex(c.id) + " is missing from the repository")
                   : info.status();
        } else if (info->size != c.stored_length) {
          st = Internal("chunk " + ToHex(c.id) + " corrupted: stored object is " +
                        std::to_string(info->size) + " bytes, the manifest says " +
                        std::to_string(c.stored_length));
        }
      } else {
        st = ReadChunk(c, m.ChunkLength(i), codec, buf);
        if (st.ok()) report.bytes_read += c.stored_length;
      }
      if (st.ok()) continue;
      // A store outage is not a verdict on the backup: fail the check itself.
      if (st.code() != StatusCode::kNotFound && st.code() != StatusCode::kInternal) return st;
      report.problems.push_back({i, m.ChunkOffset(i), ToHex(c.id), st});
    }
    RETURN_IF_ERROR(lock->Release());
    return report;
  }

  Result<GcReport> CollectGarbage() override {
    ASSIGN_OR_RETURN(std::unique_ptr<RepositoryLock> lock,
                     Lock(LockKind::kExclusive, "garbage collection"));
    GcReport report;
    std::vector<std::string> stale;
    ASSIGN_OR_RETURN(std::vector<LockInfo> live,
                     LiveLocks(std::string(kLockPrefix) + lock->id(), &stale));
    (void)live;  // Lock() already refused to run beside a live lock
    for (const std::string& s : stale) {
      RETURN_IF_ERROR(store_->Delete(s));
      ++report.stale_locks_removed;
    }
    std::unordered_set<ChunkId, IdHash> referenced;
    ASSIGN_OR_RETURN(std::vector<std::string> ids, ListBackups());
    for (const std::string& id : ids) {
      RETURN_IF_ERROR(lock->RefreshIfDue());
      // A manifest that cannot be read stops the collection: its chunks are unknown.
      ASSIGN_OR_RETURN(Manifest m, LoadManifest(id));
      ++report.manifests;
      for (const ChunkRef& c : m.chunks) {
        if (!c.hole) referenced.insert(c.id);
      }
    }
    ASSIGN_OR_RETURN(std::vector<ObjectInfo> chunks, store_->List(kChunkPrefix));
    for (const ObjectInfo& o : chunks) {
      ++report.chunks_seen;
      size_t slash = o.name.rfind('/');
      Result<ChunkId> id = ChunkIdFromHex(std::string_view(o.name).substr(slash + 1));
      if (!id.ok() || o.name != ChunkObjectName(*id)) continue;  // not ours: leave it
      if (referenced.count(*id)) continue;
      RETURN_IF_ERROR(lock->RefreshIfDue());
      RETURN_IF_ERROR(store_->Delete(o.name));
      ++report.chunks_deleted;
      report.bytes_deleted += o.size;
    }
    RETURN_IF_ERROR(lock->Release());
    return report;
  }

  Result<RepositoryStats> Stats() override {
    RepositoryStats s;
    ASSIGN_OR_RETURN(std::vector<ObjectInfo> chunks, store_->List(kChunkPrefix));
    for (const ObjectInfo& o : chunks) {
      ++s.chunks;
      s.chunk_bytes += o.size;
    }
    ASSIGN_OR_RETURN(std::vector<ObjectInfo> manifests, store_->List(kManifestPrefix));
    for (const ObjectInfo& o : manifests) {
      ++s.manifests;
      s.manifest_bytes += o.size;
    }
    return s;
  }

 private:
  std::shared_ptr<BackupStore> store_;
  RepositoryOptions opts_;
  const uint32_t chunk_size_;
};

std::string LockImpl::Encode(int64_t now) const {
  nlohmann::json j = {{"kind", KindName(kind_)},
                      {"purpose", purpose_},
                      {"owner", repo_->owner()},
                      {"created", created_},
                      {"refreshed", now}};
  return j.dump();
}

Status LockImpl::Refresh() {
  std::lock_guard lock(mu_);
  if (released_) return FailedPrecondition("lock " + id_ + " was released");
  Result<bool> exists = repo_->store().Exists(Name());
  if (!exists.ok()) return exists.status();
  if (!*exists) {
    return NotFound("repository lock " + id_ + " disappeared (judged stale by another process)");
  }
  const int64_t now = repo_->Now();
  RETURN_IF_ERROR(repo_->store().Put(Name(), AsBytes(Encode(now))));
  last_refresh_ = now;
  return Status::Ok();
}

Status LockImpl::RefreshIfDue() {
  {
    std::lock_guard lock(mu_);
    if (repo_->Now() - last_refresh_ < repo_->options().lock_refresh_micros) return Status::Ok();
  }
  return Refresh();
}

Status LockImpl::Release() {
  std::lock_guard lock(mu_);
  if (released_) return Status::Ok();
  released_ = true;
  return repo_->store().Delete(Name());
}

}  // namespace

Status VerifyReport::ToStatus() const {
  if (problems.empty()) return Status::Ok();
  const VerifyProblem& p = problems.front();
  return Internal("backup " + backup_id + ": " + std::to_string(problems.size()) +
                  " bad chunk(s); first: chunk " + std::to_string(p.chunk_index) + " (offset " +
                  std::to_string(p.volume_offset) + "): " + p.status.message());
}

Result<std::shared_ptr<Repository>> Repository::Open(std::shared_ptr<BackupStore> store,
                                                     RepositoryOptions options) {
  if (!store) return InvalidArgument("no backup store");
  if (options.lock_refresh_micros <= 0 ||
      options.lock_stale_micros <= options.lock_refresh_micros) {
    return InvalidArgument("lock_stale_micros must exceed lock_refresh_micros > 0");
  }
  Result<std::vector<std::byte>> cfg = store->Get(kConfigObject);
  uint32_t chunk_size = options.chunk_size;
  if (!cfg.ok()) {
    if (cfg.status().code() != StatusCode::kNotFound) return cfg.status();
    if (!options.create) return NotFound("no backup repository in this store (no config object)");
    if (chunk_size < kMinChunkSize || chunk_size > kMaxChunkSize || chunk_size % 512 != 0) {
      return InvalidArgument("chunk size " + std::to_string(chunk_size) +
                             " is outside [64 KiB, 64 MiB] or not a multiple of 512");
    }
    nlohmann::json j = {{"format", kRepoFormat},    {"version", kRepositoryVersion},
                        {"chunk_size", chunk_size}, {"hash", "sha256"},
                        {"compression", "zstd"},    {"created", FormatIsoTime(NowMicros())}};
    RETURN_IF_ERROR(store->Put(kConfigObject, AsBytes(j.dump(2) + "\n")));
  } else {
    nlohmann::json j = nlohmann::json::parse(
        std::string(reinterpret_cast<const char*>(cfg->data()), cfg->size()), nullptr, false);
    if (!j.is_object() || j.value("format", "") != kRepoFormat || !j.contains("version") ||
        !j["version"].is_number_unsigned() || !j.contains("chunk_size") ||
        !j["chunk_size"].is_number_unsigned()) {
      return Internal("backup repository config object is corrupted or not Scoria's");
    }
    if (j["version"].get<uint64_t>() > kRepositoryVersion) {
      return FailedPrecondition(
          "backup repository format version " + std::to_string(j["version"].get<uint64_t>()) +
          " is newer than this build reads (" + std::to_string(kRepositoryVersion) + ")");
    }
    chunk_size = j["chunk_size"].get<uint32_t>();
    if (chunk_size < kMinChunkSize || chunk_size > kMaxChunkSize || chunk_size % 512 != 0) {
      return Internal("backup repository config has an invalid chunk size");
    }
  }
  return std::shared_ptr<Repository>(
      std::make_shared<RepositoryImpl>(std::move(store), std::move(options), chunk_size));
}

}  // namespace scoria::backup
