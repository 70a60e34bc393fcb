#include "volume/drivers/nfs/nfs_driver.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>
#include <optional>

#include "volume/drivers/nfs/nfs_block_device.h"
#include "volume/read_only_block_device.h"

namespace scoria::volume {
namespace {

constexpr const char* kVolumePrefix = "volume-";
constexpr const char* kSnapshotInfix = ".snapshot-";
constexpr const char* kTmpPrefix = ".tmp-";
constexpr size_t kCopyChunk = 1 << 20;

Status CheckSize(int64_t size_gb) {
  if (size_gb < 0 || size_gb > INT64_MAX / kGiB) {
    return InvalidArgument("volume size " + std::to_string(size_gb) + " GiB is out of range");
  }
  return Status::Ok();
}

const std::vector<std::byte>& ZeroChunk() {
  static const std::vector<std::byte> zeroes(kCopyChunk);
  return zeroes;
}

// memcmp against a zero chunk: libc's vectorised compare, several GB/s (a byte loop is the
// copy's bottleneck, and worse under sanitizers).
bool AllZero(const std::byte* p, size_t n) {
  return n <= kCopyChunk && std::memcmp(p, ZeroChunk().data(), n) == 0;
}

// Writes zeroes over [from, to) of an open file (thick volumes).
Status ZeroFill(nfs::File& f, uint64_t from, uint64_t to) {
  for (uint64_t at = from; at < to;) {
    const uint64_t n = std::min<uint64_t>(kCopyChunk, to - at);
    RETURN_IF_ERROR(f.PWrite(at, std::span<const std::byte>(ZeroChunk().data(), n)));
    at += n;
  }
  return Status::Ok();
}

}  // namespace

Status NfsDriver::Loaded() const {
  std::call_once(load_once_, [this] { load_status_ = LoadShares(); });
  return load_status_;
}

Status NfsDriver::LoadShares() const {
  auto listed = nfs::ParseSharesFile(options_.shares_config);
  if (!listed.ok()) {
    return Status(listed.status().code() == StatusCode::kNotFound ? StatusCode::kInvalidArgument
                                                                  : listed.status().code(),
                  "[" + section_ + "] " + listed.status().message());
  }
  auto base = nfs::ParseMountOptions(options_.mount_options);
  if (!base.ok()) {
    return InvalidArgument("[" + section_ + "] nfs_mount_options: " + base.status().message());
  }
  for (const auto& ignored : base->ignored) {
    spdlog::info("nfs driver [{}]: mount option {} only concerns the kernel client; ignored",
                 section_, ignored);
  }
  std::vector<ShareState> states;
  for (const nfs::Share& share : *listed) {
    auto opts = nfs::ParseMountOptions(share.options, *base);
    if (!opts.ok()) {
      return InvalidArgument("[" + section_ + "] share " + share.Spec() + ": " +
                             opts.status().message());
    }
    ShareState s;
    s.share = share;
    s.options = *opts;
    s.pool = std::make_unique<nfs::ClientPool>(share, *opts);
    states.push_back(std::move(s));
  }
  shares_ = std::move(states);
  return Status::Ok();
}

Status NfsDriver::Setup() {
  RETURN_IF_ERROR(Loaded());
  int reachable = 0;
  std::string last_error;
  for (const ShareState& s : shares_) {
    Status st = s.pool->Do([](nfs::Client& c) { return c.StatFs().status(); });
    if (st.ok()) {
      ++reachable;
    } else {
      last_error = st.message();
      spdlog::warn("nfs driver [{}]: share {} is not usable now: {}", section_, s.share.Spec(),
                   st.message());
    }
  }
  if (reachable == 0) {
    return Unavailable("[" + section_ + "] no NFS share answers (last: " + last_error + ")");
  }
  spdlog::info("nfs driver [{}]: {} of {} share(s) reachable", section_, reachable, shares_.size());
  return Status::Ok();
}

std::vector<nfs::Share> NfsDriver::shares() const {
  std::vector<nfs::Share> out;
  if (!Loaded().ok()) return out;
  for (const auto& s : shares_) out.push_back(s.share);
  return out;
}

Result<size_t> NfsDriver::Find(const std::string& file, bool reachable_only) const {
  RETURN_IF_ERROR(Loaded());
  Status unreachable;
  for (size_t i = 0; i < shares_.size(); ++i) {
    Status st = shares_[i].pool->Do([&](nfs::Client& c) { return c.Stat(file).status(); });
    if (st.ok()) return i;
    if (st.code() != StatusCode::kNotFound && unreachable.ok()) unreachable = st;
  }
  if (!unreachable.ok() && !reachable_only) {
    return Status(unreachable.code(),
                  "cannot tell whether " + file + " exists: " + unreachable.message());
  }
  return NotFound(file + " is on no share of backend " + section_);
}

Result<size_t> NfsDriver::FindVolume(const std::string& id, bool reachable_only) const {
  {
    std::lock_guard lock(mu_);
    auto it = volume_share_.find(id);
    if (it != volume_share_.end()) return it->second;
  }
  ASSIGN_OR_RETURN(size_t at, Find(VolumeFile(id), reachable_only));
  std::lock_guard lock(mu_);
  volume_share_[id] = at;
  return at;
}

std::string NfsDriver::ProviderLocation(const std::string& id) const {
  auto at = FindVolume(id);
  return at.ok() ? shares_[*at].share.Spec() : std::string();
}

Status NfsDriver::GrowTo(size_t at, const std::string& file, uint64_t bytes) {
  return shares_[at].pool->Do([&](nfs::Client& c) -> Status {
    ASSIGN_OR_RETURN(auto f, c.Open(file, O_RDWR));
    ASSIGN_OR_RETURN(nfs::FileStat st, f->Stat());
    if (st.size >= bytes) return Status::Ok();
    if (options_.sparsed_volumes) {
      RETURN_IF_ERROR(f->Truncate(bytes));
    } else {
      RETURN_IF_ERROR(ZeroFill(*f, st.size, bytes));
    }
    return f->Sync();
  });
}

Status NfsDriver::CreateVolume(const std::string& id, int64_t size_gb) {
  RETURN_IF_ERROR(CheckSize(size_gb));
  RETURN_IF_ERROR(Loaded());
  const uint64_t bytes = static_cast<uint64_t>(size_gb) * kGiB;
  auto existing = FindVolume(id, /*reachable_only=*/true);
  if (existing.ok()) return GrowTo(*existing, VolumeFile(id), bytes);  // an earlier run made it
  if (existing.status().code() != StatusCode::kNotFound) return existing.status();

  // The reachable share with the most free space.
  std::optional<size_t> best;
  uint64_t best_free = 0;
  Status last;
  for (size_t i = 0; i < shares_.size(); ++i) {
    nfs::FsStat fs;
    Status st = shares_[i].pool->Do([&](nfs::Client& c) -> Status {
      ASSIGN_OR_RETURN(fs, c.StatFs());
      return Status::Ok();
    });
    if (!st.ok()) {
      last = st;
      continue;
    }
    if (!best || fs.free_bytes > best_free) {
      best = i;
      best_free = fs.free_bytes;
    }
  }
  if (!best) return Unavailable("volume " + id + ": no NFS share answers: " + last.message());
  if (!options_.sparsed_volumes && best_free < bytes) {
    return ResourceExhausted("volume " + id + ": " + std::to_string(size_gb) +
                             " GiB does not fit on the share with the most free space (" +
                             shares_[*best].share.Spec() + ")");
  }
  const std::string file = VolumeFile(id);
  const std::string tmp = kTmpPrefix + file;
  Status st = shares_[*best].pool->Do([&](nfs::Client& c) -> Status {
    ASSIGN_OR_RETURN(auto f, c.Open(tmp, O_RDWR | O_CREAT, 0600));
    // Emptied explicitly: a crashed run's temporary file must not lend its bytes.
    Status made = f->Truncate(0);
    if (made.ok()) {
      made = options_.sparsed_volumes ? f->Truncate(bytes) : ZeroFill(*f, 0, bytes);
    }
    if (made.ok()) made = f->Sync();
    f.reset();
    if (made.ok()) made = c.Rename(tmp, file);
    if (!made.ok() && !c.broken()) (void)c.Unlink(tmp);
    return made;
  });
  if (!st.ok()) return st;
  std::lock_guard lock(mu_);
  volume_share_[id] = *best;
  return Status::Ok();
}

Status NfsDriver::DeleteVolume(const std::string& id) {
  auto at = FindVolume(id);
  if (!at.ok()) {
    if (at.status().code() != StatusCode::kNotFound) return at.status();
    return Status::Ok();  // gone already
  }
  Status st = shares_[*at].pool->Do([&](nfs::Client& c) -> Status {
    for (const std::string& f : {VolumeFile(id), kTmpPrefix + VolumeFile(id)}) {
      Status u = c.Unlink(f);
      if (!u.ok() && u.code() != StatusCode::kNotFound) return u;
    }
    return Status::Ok();
  });
  if (!st.ok()) return st;
  std::lock_guard lock(mu_);
  volume_share_.erase(id);
  return Status::Ok();
}

Status NfsDriver::ExtendVolume(const std::string& id, int64_t new_size_gb) {
  RETURN_IF_ERROR(CheckSize(new_size_gb));
  ASSIGN_OR_RETURN(size_t at, FindVolume(id));
  return GrowTo(at, VolumeFile(id), static_cast<uint64_t>(new_size_gb) * kGiB);
}

Result<std::vector<std::string>> NfsDriver::ListVolumes() {
  RETURN_IF_ERROR(Loaded());
  std::vector<std::string> ids;
  int answered = 0;
  Status last;
  for (size_t i = 0; i < shares_.size(); ++i) {
    std::vector<nfs::DirEntry> entries;
    Status st = shares_[i].pool->Do([&](nfs::Client& c) -> Status {
      ASSIGN_OR_RETURN(entries, c.List(""));
      return Status::Ok();
    });
    if (!st.ok()) {
      spdlog::warn("nfs driver [{}]: cannot list share {}: {}", section_, shares_[i].share.Spec(),
                   st.message());
      last = st;
      continue;
    }
    ++answered;
    std::lock_guard lock(mu_);
    for (const auto& e : entries) {
      if (e.name.rfind(kVolumePrefix, 0) != 0 || e.name.find(kSnapshotInfix) != std::string::npos) {
        continue;
      }
      std::string id = e.name.substr(std::strlen(kVolumePrefix));
      volume_share_[id] = i;
      ids.push_back(std::move(id));
    }
  }
  if (answered == 0) return last;
  return ids;
}

Result<std::vector<std::string>> NfsDriver::ListSnapshots() {
  RETURN_IF_ERROR(Loaded());
  std::vector<std::string> ids;
  for (const ShareState& s : shares_) {
    std::vector<nfs::DirEntry> entries;
    Status st = s.pool->Do([&](nfs::Client& c) -> Status {
      ASSIGN_OR_RETURN(entries, c.List(""));
      return Status::Ok();
    });
    if (!st.ok()) return st;  // a partial list would look like missing snapshots
    for (const auto& e : entries) {
      if (e.name.rfind(kVolumePrefix, 0) != 0) continue;
      const size_t infix = e.name.find(kSnapshotInfix);
      if (infix != std::string::npos)
        ids.push_back(e.name.substr(infix + std::strlen(kSnapshotInfix)));
    }
  }
  return ids;
}

Result<DriverStats> NfsDriver::Stats() {
  RETURN_IF_ERROR(Loaded());
  DriverStats s;
  s.thin_provisioning_support = options_.sparsed_volumes;
  s.thick_provisioning_support = !options_.sparsed_volumes;
  s.storage_protocol = "iSCSI";  // what hosts attach with: our target in front of the share
  int answered = 0;
  Status last;
  for (const ShareState& share : shares_) {
    nfs::FsStat fs;
    std::vector<nfs::DirEntry> entries;
    Status st = share.pool->Do([&](nfs::Client& c) -> Status {
      ASSIGN_OR_RETURN(fs, c.StatFs());
      ASSIGN_OR_RETURN(entries, c.List(""));
      return Status::Ok();
    });
    if (!st.ok()) {
      last = st;
      continue;
    }
    ++answered;
    s.total_capacity_gb += static_cast<double>(fs.total_bytes) / kGiB;
    s.free_capacity_gb += static_cast<double>(fs.free_bytes) / kGiB;
    for (const auto& e : entries) {
      if (e.name.rfind(kVolumePrefix, 0) != 0) continue;
      // READDIRPLUS gives sizes; `used` is not in DirEntry, so used counts file sizes: an
      // upper bound for sparse files.
      if (e.name.find(kSnapshotInfix) == std::string::npos) {
        s.provisioned_capacity_gb += static_cast<double>(e.size) / kGiB;
      }
    }
  }
  if (answered == 0) return last;
  s.used_capacity_gb = std::max(0.0, s.total_capacity_gb - s.free_capacity_gb);
  return s;
}

Result<std::shared_ptr<BlockDevice>> NfsDriver::Open(const std::string& id) {
  ASSIGN_OR_RETURN(size_t at, FindVolume(id));
  return OpenNfsBlockDevice(shares_[at].share, shares_[at].options, VolumeFile(id));
}

Status NfsDriver::Copy(size_t at, const std::string& src, const std::string& dst, uint64_t min_size,
                       bool keep_larger, const CopyProgress& progress) {
  const std::string tmp = kTmpPrefix + dst;
  uint64_t copied = 0, skipped = 0;
  Status st = shares_[at].pool->Do([&](nfs::Client& c) -> Status {
    copied = skipped = 0;
    ASSIGN_OR_RETURN(auto in, c.Open(src, O_RDONLY));
    ASSIGN_OR_RETURN(nfs::FileStat src_st, in->Stat());
    uint64_t size = std::max(src_st.size, min_size);
    if (keep_larger) {
      auto dst_st = c.Stat(dst);
      if (dst_st.ok()) size = std::max(size, dst_st->size);
    }
    ASSIGN_OR_RETURN(auto out, c.Open(tmp, O_RDWR | O_CREAT, 0600));
    // Emptied first: skipped zero blocks must read as zeroes, not as a crashed run's bytes.
    Status made = out->Truncate(0);
    if (made.ok()) made = out->Truncate(size);
    std::vector<std::byte> buf(kCopyChunk);
    for (uint64_t off = 0; made.ok() && off < src_st.size; off += kCopyChunk) {
      auto n = in->PRead(off, buf);
      if (!n.ok()) {
        made = n.status();
        break;
      }
      if (*n == 0) break;
      if (AllZero(buf.data(), *n)) {
        skipped += *n;  // the sparse destination reads zeroes there already
      } else {
        made = out->PWrite(off, std::span<const std::byte>(buf.data(), *n));
        copied += *n;
      }
      if (progress) progress(off + *n, src_st.size);
    }
    if (made.ok()) made = out->Sync();
    out.reset();
    if (made.ok()) made = c.Rename(tmp, dst);  // NFSv3 RENAME replaces dst atomically
    if (!made.ok() && !c.broken()) (void)c.Unlink(tmp);
    return made;
  });
  if (st.ok()) {
    spdlog::info("nfs driver [{}]: {} copied to {} on {} ({} bytes written, {} zero bytes skipped)",
                 section_, src, dst, shares_[at].share.Spec(), copied, skipped);
  }
  return st;
}

Status NfsDriver::CreateSnapshot(const std::string& volume_id, const std::string& snapshot_id,
                                 const CopyProgress& progress) {
  const std::string dst = SnapshotFile(volume_id, snapshot_id);
  ASSIGN_OR_RETURN(size_t at, FindVolume(volume_id));
  Status present = shares_[at].pool->Do([&](nfs::Client& c) { return c.Stat(dst).status(); });
  if (present.ok()) return Status::Ok();  // complete (only complete files have this name)
  if (present.code() != StatusCode::kNotFound) return present;
  return Copy(at, VolumeFile(volume_id), dst, 0, false, progress);
}

Status NfsDriver::DeleteSnapshot(const std::string& volume_id, const std::string& snapshot_id) {
  const std::string file = SnapshotFile(volume_id, snapshot_id);
  auto at = Find(file);
  if (!at.ok()) {
    if (at.status().code() != StatusCode::kNotFound) return at.status();
    // Gone; a temporary copy may remain next to its volume.
    auto vol = FindVolume(volume_id);
    if (!vol.ok()) return Status::Ok();
    at = *vol;
  }
  return shares_[*at].pool->Do([&](nfs::Client& c) -> Status {
    for (const std::string& f : {file, kTmpPrefix + file}) {
      Status u = c.Unlink(f);
      if (!u.ok() && u.code() != StatusCode::kNotFound) return u;
    }
    return Status::Ok();
  });
}

Status NfsDriver::CopyToNewVolume(const std::string& volume_id, int64_t size_gb,
                                  const std::string& src_volume, const std::string& src_file) {
  RETURN_IF_ERROR(CheckSize(size_gb));
  const uint64_t bytes = static_cast<uint64_t>(size_gb) * kGiB;
  auto existing = FindVolume(volume_id, /*reachable_only=*/true);
  if (existing.ok()) return GrowTo(*existing, VolumeFile(volume_id), bytes);
  if (existing.status().code() != StatusCode::kNotFound) return existing.status();
  ASSIGN_OR_RETURN(size_t at, FindVolume(src_volume));
  nfs::FileStat src_st;
  RETURN_IF_ERROR(shares_[at].pool->Do([&](nfs::Client& c) -> Status {
    ASSIGN_OR_RETURN(src_st, c.Stat(src_file));
    return Status::Ok();
  }));
  if (src_st.size > bytes) {
    return InvalidArgument("volume " + volume_id + " of " + std::to_string(size_gb) +
                           " GiB is smaller than its source " + src_file);
  }
  RETURN_IF_ERROR(Copy(at, src_file, VolumeFile(volume_id), bytes, false, {}));
  std::lock_guard lock(mu_);
  volume_share_[volume_id] = at;
  return Status::Ok();
}

Status NfsDriver::CreateVolumeFromSnapshot(const std::string& volume_id, int64_t size_gb,
                                           const std::string& source_volume_id,
                                           const std::string& snapshot_id) {
  return CopyToNewVolume(volume_id, size_gb, source_volume_id,
                         SnapshotFile(source_volume_id, snapshot_id));
}

Status NfsDriver::CloneVolume(const std::string& volume_id, int64_t size_gb,
                              const std::string& source_volume_id) {
  return CopyToNewVolume(volume_id, size_gb, source_volume_id, VolumeFile(source_volume_id));
}

Status NfsDriver::RevertToSnapshot(const std::string& volume_id, const std::string& snapshot_id) {
  ASSIGN_OR_RETURN(size_t at, FindVolume(volume_id));
  const std::string snap = SnapshotFile(volume_id, snapshot_id);
  RETURN_IF_ERROR(shares_[at].pool->Do([&](nfs::Client& c) { return c.Stat(snap).status(); }));
  // Replaces the volume file by rename: a re-run after a crash copies again.
  return Copy(at, snap, VolumeFile(volume_id), 0, /*keep_larger=*/true, {});
}

Result<std::shared_ptr<BlockDevice>> NfsDriver::OpenSnapshot(const std::string& volume_id,
                                                             const std::string& snapshot_id) {
  ASSIGN_OR_RETURN(size_t at, FindVolume(volume_id));
  ASSIGN_OR_RETURN(auto dev, OpenNfsBlockDevice(shares_[at].share, shares_[at].options,
                                                SnapshotFile(volume_id, snapshot_id)));
  return std::shared_ptr<BlockDevice>(std::make_shared<ReadOnlyBlockDevice>(std::move(dev)));
}

Result<std::vector<ByteRange>> NfsDriver::AllocatedRanges(const std::string& volume_id,
                                                          const std::string& snapshot_id) {
  // NFSv3 has no SEEK_DATA: the whole file is the (allowed) superset.
  ASSIGN_OR_RETURN(size_t at, FindVolume(volume_id));
  const std::string file =
      snapshot_id.empty() ? VolumeFile(volume_id) : SnapshotFile(volume_id, snapshot_id);
  nfs::FileStat st;
  RETURN_IF_ERROR(shares_[at].pool->Do([&](nfs::Client& c) -> Status {
    ASSIGN_OR_RETURN(st, c.Stat(file));
    return Status::Ok();
  }));
  std::vector<ByteRange> out;
  const uint64_t len = (st.size + 511) / 512 * 512;
  if (len > 0) out.push_back({0, len});
  return out;
}

}  // namespace scoria::volume
