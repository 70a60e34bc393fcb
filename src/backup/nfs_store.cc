// The NFS backup store (nfs_store.h): the POSIX store's layout and Put protocol, over libnfs.
#include "backup/nfs_store.h"

#include <fcntl.h>

#include <mutex>
#include <unordered_set>

#include "common/ids.h"
#include "nfs/client.h"

namespace scoria::backup {
namespace {

class NfsStore final : public BackupStore {
 public:
  NfsStore(std::unique_ptr<nfs::ClientPool> pool, std::string dir)
      : pool_(std::move(pool)), dir_(std::move(dir)) {}

  Status Put(std::string_view name, std::span<const std::byte> data) override {
    RETURN_IF_ERROR(CheckObjectName(name));
    const std::string path = Path(name);
    const size_t slash = path.rfind('/');
    const std::string parent = slash == std::string::npos ? "" : path.substr(0, slash);
    const std::string base = path.substr(slash == std::string::npos ? 0 : slash + 1);
    return pool_->Do([&](nfs::Client& c) -> Status {
      // Named per attempt: a retry on a fresh connection must not meet the first one's file.
      const std::string tmp =
          (parent.empty() ? "" : parent + "/") + "." + base + ".tmp." + RandomAlnum(12);
      RETURN_IF_ERROR(EnsureDir(c, parent));
      ASSIGN_OR_RETURN(auto f, c.Open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0660));
      Status st = f->PWrite(0, data);
      if (st.ok()) st = f->Sync();
      f.reset();
      if (st.ok()) st = c.Rename(tmp, path);
      if (!st.ok() && !c.broken()) (void)c.Unlink(tmp);
      return Named(st, name);
    });
  }

  Result<std::vector<std::byte>> Get(std::string_view name) override {
    RETURN_IF_ERROR(CheckObjectName(name));
    std::vector<std::byte> out;
    RETURN_IF_ERROR(pool_->Do([&](nfs::Client& c) -> Status {
      auto f = c.Open(Path(name), O_RDONLY);
      if (!f.ok()) return Named(f.status(), name);
      auto st = (*f)->Stat();
      if (!st.ok()) return Named(st.status(), name);
      out.resize(st->size);
      auto n = (*f)->PRead(0, out);
      if (!n.ok()) return Named(n.status(), name);
      out.resize(*n);  // shrank under us: what is there; the caller's checks decide
      return Status::Ok();
    }));
    return out;
  }

  Result<ObjectInfo> Stat(std::string_view name) override {
    RETURN_IF_ERROR(CheckObjectName(name));
    ObjectInfo info;
    RETURN_IF_ERROR(pool_->Do([&](nfs::Client& c) -> Status {
      auto st = c.Stat(Path(name));
      if (!st.ok()) return Named(st.status(), name);
      if (!st->is_regular) return NotFound("object " + std::string(name) + " is not a file");
      info = ObjectInfo{std::string(name), st->size, st->mtime_micros};
      return Status::Ok();
    }));
    return info;
  }

  Result<std::vector<ObjectInfo>> List(std::string_view prefix) override {
    const size_t slash = prefix.rfind('/');
    const std::string base =
        slash == std::string_view::npos ? std::string() : std::string(prefix.substr(0, slash + 1));
    std::vector<ObjectInfo> out;
    RETURN_IF_ERROR(pool_->Do([&](nfs::Client& c) -> Status {
      out.clear();
      return Walk(c, base, prefix, out);
    }));
    return out;
  }

  Status Delete(std::string_view name) override {
    RETURN_IF_ERROR(CheckObjectName(name));
    return pool_->Do([&](nfs::Client& c) -> Status {
      Status st = c.Unlink(Path(name));
      if (st.code() == StatusCode::kNotFound) return Status::Ok();
      return Named(st, name);
    });
  }

  Status Sync() override { return Status::Ok(); }  // every Put was COMMITted

 private:
  std::string Path(std::string_view name) const {
    return dir_.empty() ? std::string(name) : dir_ + "/" + std::string(name);
  }

  static Status Named(const Status& st, std::string_view name) {
    if (st.ok()) return st;
    return Status(st.code(), "object " + std::string(name) + ": " + st.message());
  }

  // mkdir -p of `dir` (relative to the export), remembering what exists.
  Status EnsureDir(nfs::Client& c, const std::string& dir) {
    if (dir.empty()) return Status::Ok();
    {
      std::lock_guard lock(mu_);
      if (dirs_.count(dir)) return Status::Ok();
    }
    for (size_t pos = 1; pos <= dir.size(); ++pos) {
      if (pos != dir.size() && dir[pos] != '/') continue;
      Status st = c.Mkdir(dir.substr(0, pos), 0770);
      if (!st.ok() && st.code() != StatusCode::kAlreadyExists) return st;
    }
    std::lock_guard lock(mu_);
    dirs_.insert(dir);
    return Status::Ok();
  }

  Status Walk(nfs::Client& c, const std::string& rel, std::string_view prefix,
              std::vector<ObjectInfo>& out) {
    const std::string dir = rel.empty() ? dir_ : Path(rel.substr(0, rel.size() - 1));
    auto entries = c.List(dir);
    if (!entries.ok()) {
      if (entries.status().code() == StatusCode::kNotFound) return Status::Ok();
      return entries.status();
    }
    for (const auto& e : *entries) {
      if (e.name.empty() || e.name[0] == '.') continue;  // temp files
      const std::string name = rel + e.name;
      if (e.is_dir) {
        const std::string sub = name + "/";
        if (sub.starts_with(prefix) || prefix.starts_with(sub)) {
          RETURN_IF_ERROR(Walk(c, sub, prefix, out));
        }
      } else if (e.is_regular && name.starts_with(prefix)) {
        out.push_back({name, e.size, e.mtime_micros});
      }
    }
    return Status::Ok();
  }

  const std::unique_ptr<nfs::ClientPool> pool_;
  const std::string dir_;
  std::mutex mu_;
  std::unordered_set<std::string> dirs_;  // guarded by mu_; directories known to exist
};

}  // namespace

Result<std::shared_ptr<BackupStore>> OpenNfsStore(const NfsStoreOptions& options) {
  ASSIGN_OR_RETURN(nfs::Share share, nfs::ParseShare(options.share));
  auto mount = nfs::ParseMountOptions(options.mount_options);
  if (!mount.ok()) {
    return InvalidArgument("backup_mount_options: " + mount.status().message());
  }
  std::string dir = options.dir;
  while (!dir.empty() && dir.front() == '/') dir.erase(dir.begin());
  while (!dir.empty() && dir.back() == '/') dir.pop_back();
  auto pool = std::make_unique<nfs::ClientPool>(share, *mount);
  RETURN_IF_ERROR(pool->Do([&](nfs::Client& c) -> Status {
    for (size_t pos = 1; pos <= dir.size(); ++pos) {
      if (pos != dir.size() && dir[pos] != '/') continue;
      Status st = c.Mkdir(dir.substr(0, pos), 0770);
      if (!st.ok() && st.code() != StatusCode::kAlreadyExists) return st;
    }
    ASSIGN_OR_RETURN(nfs::FileStat st, c.Stat(dir));
    if (!st.is_dir)
      return InvalidArgument("backup store " + share.Spec() + "/" + dir + " is not a directory");
    return Status::Ok();
  }));
  return std::shared_ptr<BackupStore>(std::make_shared<NfsStore>(std::move(pool), dir));
}

}  // namespace scoria::backup
