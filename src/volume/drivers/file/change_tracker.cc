#include "volume/drivers/file/change_tracker.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <unordered_map>
#include <vector>

#include "volume/drivers/file/file_copy.h"

namespace scoria::volume {
namespace {

std::string MapPath(const std::string& dir, const std::string& id) {
  return dir + "/changes-" + id;
}
std::string TempPath(const std::string& dir, const std::string& id) {
  return dir + "/tmp-changes-" + id;
}

Status WriteAll(int fd, const std::vector<std::byte>& data, const std::string& path) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("write " + path, errno);
    }
    done += static_cast<size_t>(n);
  }
  return Status::Ok();
}

// Replaces the map file durably: temporary file, fsync, rename, directory fsync.
Status WriteMapFile(const std::string& dir, const std::string& id,
                    const std::vector<std::byte>& data) {
  const std::string tmp = TempPath(dir, id);
  {
    UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    if (fd.get() < 0) return ErrnoStatus("create " + tmp, errno);
    Status st = WriteAll(fd.get(), data, tmp);
    if (st.ok() && ::fsync(fd.get()) != 0) st = ErrnoStatus("fsync " + tmp, errno);
    if (!st.ok()) {
      ::unlink(tmp.c_str());
      return st;
    }
  }
  const std::string path = MapPath(dir, id);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    Status st = ErrnoStatus("rename " + tmp, errno);
    ::unlink(tmp.c_str());
    return st;
  }
  return SyncDirectory(dir);
}

Result<std::vector<std::byte>> ReadFile(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return ErrnoStatus("open " + path, errno);
  std::vector<std::byte> data;
  std::byte buf[65536];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("read " + path, errno);
    }
    if (n == 0) break;
    data.insert(data.end(), buf, buf + n);
  }
  return data;
}

}  // namespace

// Trackers open in this process, by map path, with how many holders each has. A tracker is
// created and destroyed under mu, so a release and a new Acquire of the same volume never
// overlap (the second would find the volume file still flock'd).
struct ChangeTracker::Registry {
  struct Entry {
    ChangeTracker* tracker = nullptr;
    int holders = 0;
  };
  std::mutex mu;
  std::unordered_map<std::string, Entry> open;

  static Registry& Get() {
    static Registry* r = new Registry();  // process lifetime, never destroyed
    return *r;
  }
};

Result<std::shared_ptr<ChangeTracker>> ChangeTracker::Acquire(const std::string& dir,
                                                              const std::string& volume_id) {
  Registry& reg = Registry::Get();
  const std::string key = MapPath(dir, volume_id);
  std::lock_guard lock(reg.mu);
  Registry::Entry& entry = reg.open[key];
  if (entry.tracker == nullptr) {
    const std::string volume_path = dir + "/volume-" + volume_id;
    int fd = ::open(volume_path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      reg.open.erase(key);
      return ErrnoStatus("open " + volume_path, errno);
    }
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      const int err = errno;
      ::close(fd);
      reg.open.erase(key);
      if (err == EWOULDBLOCK) {
        return Unavailable("volume " + volume_id +
                           " is open in another process on this host (its file is locked)");
      }
      return ErrnoStatus("lock " + volume_path, err);
    }
    ChangeMap map;
    auto loaded = LoadChangeMap(dir, volume_id);
    if (loaded.ok()) {
      map = std::move(loaded->map);
      if (loaded->open) {
        spdlog::warn(
            "volume {}: the process that had it open stopped without closing it; the "
            "changes since its newest snapshot are unknown (the next incremental "
            "backup reads the whole volume)",
            volume_id);
        map.live.valid = false;
      }
    } else if (loaded.status().code() != StatusCode::kNotFound) {
      spdlog::warn("volume {}: change map unreadable ({}); starting a new one", volume_id,
                   loaded.status().ToString());
      map = ChangeMap{};
      map.live.valid = false;
    }
    ::unlink(TempPath(dir, volume_id).c_str());  // a crash mid-persist may have left one
    auto* t = new ChangeTracker(dir, volume_id, fd, std::move(map));
    Status st = t->Persist(/*open=*/true);
    if (!st.ok()) {
      // A map left on disk would claim writes that this process will not record. Without it,
      // the volume simply has no change record.
      Status rm = RemoveChangeMap(dir, volume_id);
      if (!rm.ok()) {
        delete t;
        reg.open.erase(key);
        return Status(st.code(), "volume " + volume_id + ": cannot mark its change map open (" +
                                     st.message() + ") nor remove it (" + rm.message() + ")");
      }
      spdlog::warn(
          "volume {}: change map not written ({}); changes are not tracked until the "
          "next snapshot",
          volume_id, st.ToString());
      std::lock_guard m(t->mu_);
      t->map_.live.valid = false;
    }
    entry.tracker = t;
  }
  ++entry.holders;
  ChangeTracker* t = entry.tracker;
  return std::shared_ptr<ChangeTracker>(t, [key](ChangeTracker* p) {
    Registry& r = Registry::Get();
    std::lock_guard l(r.mu);
    auto it = r.open.find(key);
    if (it == r.open.end() || --it->second.holders > 0) return;
    r.open.erase(it);
    delete p;
  });
}

ChangeTracker::ChangeTracker(std::string dir, std::string volume_id, int lock_fd, ChangeMap map)
    : dir_(std::move(dir)),
      volume_id_(std::move(volume_id)),
      lock_fd_(lock_fd),
      map_(std::move(map)) {}

ChangeTracker::~ChangeTracker() {
  Status st = Persist(/*open=*/false);
  if (!st.ok()) {
    // The map on disk still says open: the next load treats the live epoch as unknown.
    spdlog::warn("volume {}: change map not closed: {}", volume_id_, st.ToString());
  }
  ::close(lock_fd_);  // releases the flock
}

void ChangeTracker::MarkWritten(uint64_t offset, uint64_t length) {
  std::lock_guard lock(mu_);
  map_.Mark(offset, length);
}

Status ChangeTracker::Checkpoint(const std::string& snapshot_id) {
  if (snapshot_id.empty() || snapshot_id.size() > kMaxChangeIdLength) {
    return InvalidArgument("snapshot id '" + snapshot_id + "' cannot name a change boundary");
  }
  {
    std::lock_guard lock(mu_);
    map_.Checkpoint(snapshot_id);
  }
  return Persist(/*open=*/true);
}

Status ChangeTracker::MarkAll(uint64_t size) {
  {
    std::lock_guard lock(mu_);
    map_.MarkAll(size);
  }
  return Persist(/*open=*/true);
}

ChangeMap ChangeTracker::map() const {
  std::lock_guard lock(mu_);
  return map_;
}

Status ChangeTracker::Persist(bool open) {
  std::lock_guard plock(persist_mu_);
  std::vector<std::byte> data;
  {
    std::lock_guard lock(mu_);
    data = EncodeChangeMap(map_, open);
  }
  return WriteMapFile(dir_, volume_id_, data);
}

Result<DecodedChangeMap> LoadChangeMap(const std::string& dir, const std::string& volume_id) {
  const std::string path = MapPath(dir, volume_id);
  ASSIGN_OR_RETURN(std::vector<std::byte> data, ReadFile(path));
  auto decoded = DecodeChangeMap(data);
  if (!decoded.ok()) return InvalidArgument(path + ": " + decoded.status().message());
  return decoded;
}

Status RemoveChangeMap(const std::string& dir, const std::string& volume_id) {
  for (const std::string& p : {MapPath(dir, volume_id), TempPath(dir, volume_id)}) {
    if (::unlink(p.c_str()) != 0 && errno != ENOENT) return ErrnoStatus("delete " + p, errno);
  }
  return Status::Ok();
}

namespace {

class TrackedBlockDevice final : public BlockDevice {
 public:
  TrackedBlockDevice(std::shared_ptr<BlockDevice> inner, std::shared_ptr<ChangeTracker> tracker)
      : tracker_(std::move(tracker)), inner_(std::move(inner)) {}
  uint64_t Size() const override { return inner_->Size(); }
  uint32_t BlockSize() const override { return inner_->BlockSize(); }
  Status Refresh() override { return inner_->Refresh(); }
  void Read(uint64_t offset, std::span<std::byte> buf, IoCallback done) override {
    inner_->Read(offset, buf, std::move(done));
  }
  void Write(uint64_t offset, std::span<const std::byte> buf, bool fua, IoCallback done) override {
    tracker_->MarkWritten(offset, buf.size());
    inner_->Write(offset, buf, fua, std::move(done));
  }
  void Flush(IoCallback done) override { inner_->Flush(std::move(done)); }
  void Discard(uint64_t offset, uint64_t length, IoCallback done) override {
    tracker_->MarkWritten(offset, length);
    inner_->Discard(offset, length, std::move(done));
  }
  void WriteZeroes(uint64_t offset, uint64_t length, bool unmap, IoCallback done) override {
    tracker_->MarkWritten(offset, length);
    inner_->WriteZeroes(offset, length, unmap, std::move(done));
  }

 private:
  // Declared in this order so the device (and its in-flight I/O) goes before the tracker.
  std::shared_ptr<ChangeTracker> tracker_;
  std::shared_ptr<BlockDevice> inner_;
};

}  // namespace

std::shared_ptr<BlockDevice> NewTrackedBlockDevice(std::shared_ptr<BlockDevice> inner,
                                                   std::shared_ptr<ChangeTracker> tracker) {
  return std::make_shared<TrackedBlockDevice>(std::move(inner), std::move(tracker));
}

}  // namespace scoria::volume
