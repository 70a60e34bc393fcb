#include "volume/drivers/file/file_driver.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace scoria::volume {
namespace {

constexpr const char* kPrefix = "volume-";

Status Errno(const std::string& what, int err) {
  std::string msg = what + ": " + std::strerror(err);
  if (err == ENOSPC || err == EDQUOT) return ResourceExhausted(msg);
  if (err == ENOENT) return NotFound(msg);
  if (err == EIO || err == ESTALE || err == ETIMEDOUT) return Unavailable(msg);
  return Internal(msg);
}

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

// Grows the file at `fd` to `bytes` if it is smaller, and makes the size durable.
Status GrowTo(int fd, int64_t bytes, const std::string& path) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return Errno("stat " + path, errno);
  if (st.st_size < bytes) {
    if (::ftruncate(fd, bytes) != 0) return Errno("truncate " + path, errno);
  }
  if (::fsync(fd) != 0) return Errno("fsync " + path, errno);
  return Status::Ok();
}

}  // namespace

Status FileDriver::Setup() {
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  if (ec) return Internal("cannot create file_volume_dir " + dir_ + ": " + ec.message());
  if (::access(dir_.c_str(), W_OK | X_OK) != 0) {
    return Errno("file_volume_dir " + dir_ + " is not writable", errno);
  }
  return Status::Ok();
}

Status FileDriver::SyncDir() {
  Fd dir(::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir.get() < 0) return Errno("open " + dir_, errno);
  if (::fsync(dir.get()) != 0) return Errno("fsync " + dir_, errno);
  return Status::Ok();
}

Status FileDriver::CreateVolume(const std::string& id, int64_t size_gb) {
  if (size_gb < 0 || size_gb > INT64_MAX / kGiB) {
    return InvalidArgument("volume size " + std::to_string(size_gb) + " GiB is out of range");
  }
  const std::string path = PathOf(id);
  // O_EXCL tells whether this call made the file, so a failure can remove only what it made.
  bool created = true;
  int raw = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (raw < 0 && errno == EEXIST) {
    created = false;
    raw = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  }
  Fd fd(raw);
  if (fd.get() < 0) return Errno("create " + path, errno);
  Status st = GrowTo(fd.get(), size_gb * kGiB, path);
  if (!st.ok()) {
    if (created) ::unlink(path.c_str());
    return st;
  }
  return SyncDir();
}

Status FileDriver::DeleteVolume(const std::string& id) {
  const std::string path = PathOf(id);
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return Errno("delete " + path, errno);
  return SyncDir();
}

Status FileDriver::ExtendVolume(const std::string& id, int64_t new_size_gb) {
  if (new_size_gb < 0 || new_size_gb > INT64_MAX / kGiB) {
    return InvalidArgument("volume size " + std::to_string(new_size_gb) + " GiB is out of range");
  }
  const std::string path = PathOf(id);
  Fd fd(::open(path.c_str(), O_RDWR | O_CLOEXEC));
  if (fd.get() < 0) return Errno("open " + path, errno);
  return GrowTo(fd.get(), new_size_gb * kGiB, path);
}

Result<std::vector<std::string>> FileDriver::ListVolumes() {
  std::vector<std::string> ids;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir_, ec)) {
    std::string name = entry.path().filename().string();
    if (name.rfind(kPrefix, 0) == 0) ids.push_back(name.substr(std::strlen(kPrefix)));
  }
  if (ec) return Internal("list " + dir_ + ": " + ec.message());
  return ids;
}

Result<DriverStats> FileDriver::Stats() {
  struct statvfs vfs {};
  if (::statvfs(dir_.c_str(), &vfs) != 0) return Errno("statvfs " + dir_, errno);
  DriverStats s;
  const double frsize = static_cast<double>(vfs.f_frsize);
  s.total_capacity_gb = static_cast<double>(vfs.f_blocks) * frsize / kGiB;
  s.free_capacity_gb = static_cast<double>(vfs.f_bavail) * frsize / kGiB;
  s.thin_provisioning_support = true;
  s.thick_provisioning_support = false;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir_, ec)) {
    if (entry.path().filename().string().rfind(kPrefix, 0) != 0) continue;
    struct stat st {};
    if (::stat(entry.path().c_str(), &st) != 0) continue;  // deleted meanwhile
    s.provisioned_capacity_gb += static_cast<double>(st.st_size) / kGiB;
    s.used_capacity_gb += static_cast<double>(st.st_blocks) * 512 / kGiB;
  }
  if (ec) return Internal("list " + dir_ + ": " + ec.message());
  return s;
}

Result<std::shared_ptr<BlockDevice>> FileDriver::Open(const std::string& id) {
  return OpenFileBlockDevice(PathOf(id));
}

}  // namespace scoria::volume
