// OpenPosixStore: a directory as a BackupStore (store.h). The only file in this module that
// talks to the OS for the repository; everything above it sees the BackupStore interface.
//
// Put = write ".<base>.tmp.<random>" in the target's directory, fdatasync it, rename over the
// target, fsync the directory: a reader (or a crash) sees the old object or the new one,
// never a part. Directories are created on first use and remembered, so the common case costs
// no mkdir. With sync_each_put = false the fsyncs are skipped and Sync() is one syncfs(2).
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <unordered_set>

#include "backup/store.h"
#include "common/ids.h"

namespace scoria::backup {
namespace {

Status ErrnoStatus(int err, const std::string& what) {
  std::string msg = what + ": " + std::strerror(err);
  switch (err) {
    case ENOENT:
      return NotFound(msg);
    case ENOSPC:
    case EDQUOT:
      return ResourceExhausted(msg);
    case ESTALE:
    case ENOTCONN:
    case EHOSTDOWN:
    case ETIMEDOUT:
      return Unavailable(msg);
    default:
      return Internal(msg);
  }
}

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

class PosixStore final : public BackupStore {
 public:
  PosixStore(std::string root, PosixStoreOptions opts) : root_(std::move(root)), opts_(opts) {}

  Status Put(std::string_view name, std::span<const std::byte> data) override {
    RETURN_IF_ERROR(CheckObjectName(name));
    const std::string path = Path(name);
    const size_t slash = path.rfind('/');
    const std::string dir = path.substr(0, slash);
    const std::string tmp = dir + "/." + path.substr(slash + 1) + ".tmp." + RandomAlnum(12);
    RETURN_IF_ERROR(EnsureDir(dir, name));
    int raw = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0660);
    if (raw < 0) return ErrnoStatus(errno, "create " + std::string(name));
    Fd fd(raw);
    Status st = WriteAll(fd.get(), data, name);
    if (st.ok() && opts_.sync_each_put && ::fdatasync(fd.get()) != 0) {
      st = ErrnoStatus(errno, "fdatasync " + std::string(name));
    }
    if (st.ok() && ::close(fd.release()) != 0) {
      st = ErrnoStatus(errno, "close " + std::string(name));
    }
    if (st.ok() && ::rename(tmp.c_str(), path.c_str()) != 0) {
      st = ErrnoStatus(errno, "rename " + std::string(name));
    }
    if (!st.ok()) {
      ::unlink(tmp.c_str());
      return st;
    }
    if (opts_.sync_each_put) RETURN_IF_ERROR(SyncDir(dir, name));
    return Status::Ok();
  }

  Result<std::vector<std::byte>> Get(std::string_view name) override {
    RETURN_IF_ERROR(CheckObjectName(name));
    int raw = ::open(Path(name).c_str(), O_RDONLY | O_CLOEXEC);
    if (raw < 0) return ErrnoStatus(errno, "object " + std::string(name));
    Fd fd(raw);
    struct stat sb;
    if (::fstat(fd.get(), &sb) != 0) return ErrnoStatus(errno, "stat " + std::string(name));
    std::vector<std::byte> out(static_cast<size_t>(sb.st_size));
    size_t done = 0;
    while (done < out.size()) {
      ssize_t n = ::pread(fd.get(), out.data() + done, out.size() - done, done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return ErrnoStatus(errno, "read " + std::string(name));
      if (n == 0) break;  // shrank under us: return what is there, the caller's checks decide
      done += static_cast<size_t>(n);
    }
    out.resize(done);
    return out;
  }

  Result<ObjectInfo> Stat(std::string_view name) override {
    RETURN_IF_ERROR(CheckObjectName(name));
    struct stat sb;
    if (::stat(Path(name).c_str(), &sb) != 0) {
      return ErrnoStatus(errno, "object " + std::string(name));
    }
    return ObjectInfo{std::string(name), static_cast<uint64_t>(sb.st_size), MTime(sb)};
  }

  Result<std::vector<ObjectInfo>> List(std::string_view prefix) override {
    // Walk from the deepest directory the prefix names completely.
    const size_t slash = prefix.rfind('/');
    const std::string base =
        slash == std::string_view::npos ? std::string() : std::string(prefix.substr(0, slash + 1));
    std::vector<ObjectInfo> out;
    RETURN_IF_ERROR(Walk(base, prefix, out));
    return out;
  }

  Status Delete(std::string_view name) override {
    RETURN_IF_ERROR(CheckObjectName(name));
    if (::unlink(Path(name).c_str()) != 0 && errno != ENOENT) {
      return ErrnoStatus(errno, "delete " + std::string(name));
    }
    return Status::Ok();
  }

  Status Sync() override {
    if (opts_.sync_each_put) return Status::Ok();
    Fd fd(::open(root_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (fd.get() < 0) return ErrnoStatus(errno, "open backup store " + root_);
    if (::syncfs(fd.get()) != 0) return ErrnoStatus(errno, "syncfs " + root_);
    return Status::Ok();
  }

 private:
  static int64_t MTime(const struct stat& sb) {
    return static_cast<int64_t>(sb.st_mtim.tv_sec) * 1000000 + sb.st_mtim.tv_nsec / 1000;
  }

  std::string Path(std::string_view name) const { return root_ + "/" + std::string(name); }

  static Status WriteAll(int fd, std::span<const std::byte> data, std::string_view name) {
    size_t done = 0;
    while (done < data.size()) {
      ssize_t n = ::write(fd, data.data() + done, data.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return ErrnoStatus(errno, "write " + std::string(name));
      done += static_cast<size_t>(n);
    }
    return Status::Ok();
  }

  Status SyncDir(const std::string& dir, std::string_view name) {
    Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (fd.get() < 0) return ErrnoStatus(errno, "open directory of " + std::string(name));
    if (::fsync(fd.get()) != 0)
      return ErrnoStatus(errno, "fsync directory of " + std::string(name));
    return Status::Ok();
  }

  // mkdir -p of `dir` (under root_), fsyncing each new directory's parent when durable.
  Status EnsureDir(const std::string& dir, std::string_view name) {
    {
      std::lock_guard lock(mu_);
      if (dirs_.count(dir)) return Status::Ok();
    }
    for (size_t pos = root_.size() + 1; pos <= dir.size(); ++pos) {
      if (pos != dir.size() && dir[pos] != '/') continue;
      std::string d = dir.substr(0, pos);
      if (::mkdir(d.c_str(), 0770) == 0) {
        if (opts_.sync_each_put) RETURN_IF_ERROR(SyncDir(d.substr(0, d.rfind('/')), name));
      } else if (errno != EEXIST) {
        return ErrnoStatus(errno, "create directory for " + std::string(name));
      }
    }
    std::lock_guard lock(mu_);
    dirs_.insert(dir);
    return Status::Ok();
  }

  Status Walk(const std::string& rel, std::string_view prefix, std::vector<ObjectInfo>& out) {
    const std::string dir = rel.empty() ? root_ : root_ + "/" + rel.substr(0, rel.size() - 1);
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) {
      if (errno == ENOENT || errno == ENOTDIR) return Status::Ok();
      return ErrnoStatus(errno, "list " + dir);
    }
    std::vector<std::pair<std::string, bool>> entries;
    while (dirent* e = ::readdir(d)) {
      if (e->d_name[0] == '.') continue;  // ".", "..", temp files
      entries.emplace_back(e->d_name, e->d_type == DT_DIR);
    }
    ::closedir(d);
    for (auto& [n, is_dir_hint] : entries) {
      std::string name = rel + n;
      struct stat sb;
      if (::stat((root_ + "/" + name).c_str(), &sb) != 0) {
        if (errno == ENOENT) continue;  // deleted meanwhile
        return ErrnoStatus(errno, "stat " + name);
      }
      if (S_ISDIR(sb.st_mode)) {
        // Descend only where names under it can still match the prefix.
        std::string sub = name + "/";
        if (sub.starts_with(prefix) || prefix.starts_with(sub)) {
          RETURN_IF_ERROR(Walk(sub, prefix, out));
        }
      } else if (S_ISREG(sb.st_mode) && name.starts_with(prefix)) {
        out.push_back({name, static_cast<uint64_t>(sb.st_size), MTime(sb)});
      }
    }
    return Status::Ok();
  }

  const std::string root_;
  const PosixStoreOptions opts_;
  std::mutex mu_;
  std::unordered_set<std::string> dirs_;  // guarded by mu_; directories known to exist
};

}  // namespace

Result<std::shared_ptr<BackupStore>> OpenPosixStore(const std::string& root,
                                                    PosixStoreOptions options) {
  if (root.empty()) return InvalidArgument("backup store path is empty");
  std::string r = root;
  while (r.size() > 1 && r.back() == '/') r.pop_back();
  struct stat sb;
  if (::stat(r.c_str(), &sb) != 0) {
    if (errno != ENOENT || !options.create) return ErrnoStatus(errno, "backup store " + r);
    for (size_t pos = 1; pos <= r.size(); ++pos) {
      if (pos != r.size() && r[pos] != '/') continue;
      if (::mkdir(r.substr(0, pos).c_str(), 0770) != 0 && errno != EEXIST) {
        return ErrnoStatus(errno, "create backup store " + r);
      }
    }
  } else if (!S_ISDIR(sb.st_mode)) {
    return InvalidArgument("backup store " + r + " is not a directory");
  }
  return std::shared_ptr<BackupStore>(std::make_shared<PosixStore>(r, options));
}

}  // namespace scoria::backup
