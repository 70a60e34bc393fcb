#include "volume/drivers/file/file_driver.h"

#include <dirent.h>
#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "volume/drivers/file/change_tracker.h"
#include "volume/drivers/file/file_copy.h"
#include "volume/read_only_block_device.h"

namespace scoria::volume {
namespace {

constexpr const char* kPrefix = "volume-";
constexpr const char* kSnapshotPrefix = "snapshot-";

Status Errno(const std::string& what, int err) { return ErrnoStatus(what, err); }

bool Exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

Status CheckSize(int64_t size_gb) {
  if (size_gb < 0 || size_gb > INT64_MAX / kGiB) {
    return InvalidArgument("volume size " + std::to_string(size_gb) + " GiB is out of range");
  }
  return Status::Ok();
}

using Fd = UniqueFd;

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

Status FileDriver::SyncDir() { return SyncDirectory(dir_); }

Status FileDriver::CreateVolume(const std::string& id, int64_t size_gb) {
  RETURN_IF_ERROR(CheckSize(size_gb));
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
  RETURN_IF_ERROR(RemoveChangeMap(dir_, id));
  return SyncDir();
}

Status FileDriver::ExtendVolume(const std::string& id, int64_t new_size_gb) {
  RETURN_IF_ERROR(CheckSize(new_size_gb));
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
    const std::string name = entry.path().filename().string();
    const bool volume = name.rfind(kPrefix, 0) == 0;
    if (!volume && name.rfind(kSnapshotPrefix, 0) != 0) continue;
    struct stat st {};
    if (::stat(entry.path().c_str(), &st) != 0) continue;  // deleted meanwhile
    // Snapshots take space (used) but are not provisioned volumes. Reflinked extents are
    // counted once per file: used is an upper bound on such filesystems.
    if (volume) s.provisioned_capacity_gb += static_cast<double>(st.st_size) / kGiB;
    s.used_capacity_gb += static_cast<double>(st.st_blocks) * 512 / kGiB;
  }
  if (ec) return Internal("list " + dir_ + ": " + ec.message());
  return s;
}

Result<std::shared_ptr<BlockDevice>> FileDriver::Open(const std::string& id) {
  ASSIGN_OR_RETURN(auto device, OpenFileBlockDevice(PathOf(id)));
  // Taken before the device is handed out: the map says "open" on disk before any write.
  ASSIGN_OR_RETURN(auto tracker, ChangeTracker::Acquire(dir_, id));
  return NewTrackedBlockDevice(std::move(device), std::move(tracker));
}

Status FileDriver::CreateSnapshot(const std::string& volume_id, const std::string& snapshot_id,
                                  const CopyProgress& progress) {
  const std::string dst = SnapshotPathOf(snapshot_id);
  // The tracker is held across the copy: the volume is quiesced, so the epoch that ends here
  // holds exactly the writes before the snapshot.
  ASSIGN_OR_RETURN(auto tracker, ChangeTracker::Acquire(dir_, volume_id));
  // A snapshot file exists only complete (made under a temporary name, then renamed).
  if (!Exists(dst)) {
    CopyOptions opts;
    opts.no_reflink = no_reflink_;
    opts.progress = progress;
    ASSIGN_OR_RETURN(CopyResult r, CopyImage(PathOf(volume_id), dst, opts));
    spdlog::info("file driver: snapshot {} of volume {} made by {} ({} bytes in {} ranges)",
                 snapshot_id, volume_id, CopyMethodName(r.method), r.bytes_copied, r.ranges);
  }
  Status st = tracker->Checkpoint(snapshot_id);
  if (!st.ok()) {
    // The snapshot is fine; only an incremental backup from it will read the whole volume.
    spdlog::warn("file driver: snapshot {} of volume {}: change boundary not persisted: {}",
                 snapshot_id, volume_id, st.ToString());
  }
  return Status::Ok();
}

Status FileDriver::DeleteSnapshot(const std::string&, const std::string& snapshot_id) {
  const std::string path = SnapshotPathOf(snapshot_id);
  const std::string tmp = dir_ + "/tmp-snapshot-" + snapshot_id;
  for (const std::string& p : {path, tmp}) {
    if (::unlink(p.c_str()) != 0 && errno != ENOENT) return Errno("delete " + p, errno);
  }
  return SyncDir();
}

Status FileDriver::CopyToNewVolume(const std::string& src, const std::string& volume_id,
                                   int64_t size_gb, const std::string& what) {
  RETURN_IF_ERROR(CheckSize(size_gb));
  const std::string dst = PathOf(volume_id);
  struct stat src_st {};
  if (::stat(src.c_str(), &src_st) != 0) return Errno("stat " + src, errno);
  if (static_cast<uint64_t>(src_st.st_size) > static_cast<uint64_t>(size_gb * kGiB)) {
    return InvalidArgument("volume " + volume_id + " of " + std::to_string(size_gb) +
                           " GiB is smaller than its source " + what);
  }
  if (!Exists(dst)) {
    CopyOptions opts;
    opts.no_reflink = no_reflink_;
    opts.min_size = static_cast<uint64_t>(size_gb * kGiB);
    ASSIGN_OR_RETURN(CopyResult r, CopyImage(src, dst, opts));
    spdlog::info("file driver: volume {} made from {} by {} ({} bytes in {} ranges)", volume_id,
                 what, CopyMethodName(r.method), r.bytes_copied, r.ranges);
    return Status::Ok();
  }
  // Complete from an earlier run (renamed into place): make sure of its size.
  Fd fd(::open(dst.c_str(), O_RDWR | O_CLOEXEC));
  if (fd.get() < 0) return Errno("open " + dst, errno);
  return GrowTo(fd.get(), size_gb * kGiB, dst);
}

Status FileDriver::CreateVolumeFromSnapshot(const std::string& volume_id, int64_t size_gb,
                                            const std::string&, const std::string& snapshot_id) {
  return CopyToNewVolume(SnapshotPathOf(snapshot_id), volume_id, size_gb,
                         "snapshot " + snapshot_id);
}

Status FileDriver::CloneVolume(const std::string& volume_id, int64_t size_gb,
                               const std::string& source_volume_id) {
  return CopyToNewVolume(PathOf(source_volume_id), volume_id, size_gb,
                         "volume " + source_volume_id);
}

Status FileDriver::RevertToSnapshot(const std::string& volume_id, const std::string& snapshot_id) {
  const std::string dst = PathOf(volume_id);
  if (!Exists(dst)) return NotFound("volume file " + dst + " does not exist");
  // Held across the copy: a crash mid-revert leaves the map open, i.e. unknown changes.
  ASSIGN_OR_RETURN(auto tracker, ChangeTracker::Acquire(dir_, volume_id));
  CopyOptions opts;
  opts.no_reflink = no_reflink_;
  opts.keep_larger_dst_size = true;  // a volume extended after the snapshot keeps its size
  // The copy replaces the volume file by rename: re-running after a crash simply copies again.
  ASSIGN_OR_RETURN(CopyResult r, CopyImage(SnapshotPathOf(snapshot_id), dst, opts));
  spdlog::info("file driver: volume {} reverted to snapshot {} by {} ({} bytes in {} ranges)",
               volume_id, snapshot_id, CopyMethodName(r.method), r.bytes_copied, r.ranges);
  struct stat st {};
  if (::stat(dst.c_str(), &st) != 0) return Errno("stat " + dst, errno);
  return tracker->MarkAll(static_cast<uint64_t>(st.st_size));
}

Result<std::shared_ptr<BlockDevice>> FileDriver::OpenSnapshot(const std::string&,
                                                              const std::string& snapshot_id) {
  ASSIGN_OR_RETURN(auto dev, OpenFileBlockDevice(SnapshotPathOf(snapshot_id)));
  return std::shared_ptr<BlockDevice>(std::make_shared<ReadOnlyBlockDevice>(std::move(dev)));
}

Result<std::vector<ByteRange>> FileDriver::AllocatedRanges(const std::string& volume_id,
                                                           const std::string& snapshot_id) {
  return FileDataRanges(snapshot_id.empty() ? PathOf(volume_id) : SnapshotPathOf(snapshot_id));
}

Result<std::vector<ByteRange>> FileDriver::ChangedRanges(const std::string& volume_id,
                                                         const std::string& from_snapshot_id,
                                                         const std::string& to_snapshot_id) {
  const std::string to = SnapshotPathOf(to_snapshot_id);
  struct stat st {};
  if (::stat(to.c_str(), &st) != 0) return Errno("stat " + to, errno);
  auto loaded = LoadChangeMap(dir_, volume_id);
  if (!loaded.ok()) {
    if (loaded.status().code() == StatusCode::kNotFound) {
      return FailedPrecondition("volume " + volume_id + " has no change record");
    }
    return FailedPrecondition(loaded.status().message());
  }
  auto ranges =
      loaded->map.Changed(from_snapshot_id, to_snapshot_id, static_cast<uint64_t>(st.st_size));
  if (!ranges.ok() && ranges.status().code() == StatusCode::kNotFound) {
    // The snapshot exists but its boundary was not persisted: nothing to go by.
    return FailedPrecondition(ranges.status().message());
  }
  return ranges;
}

Result<std::vector<std::string>> FileDriver::ListSnapshots() {
  std::vector<std::string> ids;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir_, ec)) {
    std::string name = entry.path().filename().string();
    if (name.rfind(kSnapshotPrefix, 0) == 0)
      ids.push_back(name.substr(std::strlen(kSnapshotPrefix)));
  }
  if (ec) return Internal("list " + dir_ + ": " + ec.message());
  return ids;
}

}  // namespace scoria::volume
