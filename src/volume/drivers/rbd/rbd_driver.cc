#include "volume/drivers/rbd/rbd_driver.h"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <optional>

#include "volume/drivers/rbd/rbd_block_device.h"

namespace scoria::volume {
namespace {

constexpr const char* kVolumePrefix = "volume-";
constexpr const char* kSnapshotPrefix = "snapshot-";
constexpr const char* kDeferred = ".deleted";
constexpr const char* kCloneSnap = ".clone_snap";

bool StartsWith(const std::string& s, const std::string& p) { return s.rfind(p, 0) == 0; }
bool EndsWith(const std::string& s, const std::string& p) {
  return s.size() >= p.size() && s.compare(s.size() - p.size(), p.size(), p) == 0;
}

Status CheckSize(int64_t size_gb) {
  if (size_gb < 0 || size_gb > INT64_MAX / kGiB) {
    return InvalidArgument("volume size " + std::to_string(size_gb) + " GiB is out of range");
  }
  return Status::Ok();
}

// Cinder's rule: the object size is rbd_store_chunk_size MiB rounded down to a power of two.
int ObjectOrder(int chunk_mb) {
  int order = 20;
  while ((2 << (order - 20)) <= chunk_mb) ++order;
  return order;
}

// Options every new image (and clone) gets: Ceph's default features (layering for clones,
// object-map and fast-diff so diffs and flattens skip unwritten objects) and the object size.
class ImageOptions {
 public:
  explicit ImageOptions(int chunk_mb) {
    rbd_image_options_create(&opts_);
    rbd_image_options_set_uint64(opts_, RBD_IMAGE_OPTION_FEATURES, RBD_FEATURES_DEFAULT);
    rbd_image_options_set_uint64(opts_, RBD_IMAGE_OPTION_ORDER,
                                 static_cast<uint64_t>(ObjectOrder(chunk_mb)));
  }
  ~ImageOptions() { rbd_image_options_destroy(opts_); }
  rbd_image_options_t get() const { return opts_; }

 private:
  rbd_image_options_t opts_ = nullptr;
};

struct Parent {
  std::string image;
  std::string snap;
};

// The image's parent (a clone's origin), or nullopt when it is not a clone.
Result<std::optional<Parent>> ParentOf(const RbdCluster& c, const RbdImage& img,
                                       const std::string& name) {
  rbd_linked_image_spec_t image{};
  rbd_snap_spec_t snap{};
  int r = rbd_get_parent(img.get(), &image, &snap);
  if (r == -ENOENT) return std::optional<Parent>();
  if (r < 0) return c.Error(r, "parent of image " + name);
  Parent p{image.image_name, snap.name};
  rbd_linked_image_spec_cleanup(&image);
  rbd_snap_spec_cleanup(&snap);
  return std::optional<Parent>(std::move(p));
}

struct SnapInfo {
  uint64_t id;  // RBD's snapshot ids grow: a larger id is a newer snapshot
  std::string name;
};

Result<std::vector<SnapInfo>> Snaps(const RbdCluster& c, const RbdImage& img,
                                    const std::string& name) {
  std::vector<rbd_snap_info_t> snaps(16);
  int max = static_cast<int>(snaps.size());
  int r;
  while ((r = rbd_snap_list(img.get(), snaps.data(), &max)) == -ERANGE) snaps.resize(max);
  if (r < 0) return c.Error(r, "list snapshots of image " + name);
  std::vector<SnapInfo> out;
  for (int i = 0; i < r; ++i) out.push_back({snaps[i].id, snaps[i].name});
  rbd_snap_list_end(snaps.data());
  return out;
}

Result<std::vector<std::string>> SnapNames(const RbdCluster& c, const RbdImage& img,
                                           const std::string& name) {
  ASSIGN_OR_RETURN(auto snaps, Snaps(c, img, name));
  std::vector<std::string> names;
  for (auto& s : snaps) names.push_back(std::move(s.name));
  return names;
}

Result<std::vector<std::string>> ImageNames(const RbdCluster& c) {
  std::vector<rbd_image_spec_t> specs(64);
  size_t max = specs.size();
  int r;
  while ((r = rbd_list2(c.ioctx(), specs.data(), &max)) == -ERANGE) specs.resize(max);
  if (r < 0) return c.Error(r, "list images");
  std::vector<std::string> names;
  for (size_t i = 0; i < max; ++i) names.emplace_back(specs[i].name);
  rbd_image_spec_list_cleanup(specs.data(), max);
  return names;
}

Result<uint64_t> SizeOf(const RbdCluster& c, const RbdImage& img, const std::string& name) {
  uint64_t size = 0;
  int r = rbd_get_size(img.get(), &size);
  if (r < 0) return c.Error(r, "size of image " + name);
  return size;
}

// Grows the image to `bytes` when smaller; never shrinks.
Status GrowTo(const RbdCluster& c, const RbdImage& img, const std::string& name, uint64_t bytes) {
  ASSIGN_OR_RETURN(uint64_t size, SizeOf(c, img, name));
  if (size >= bytes) return Status::Ok();
  int r = rbd_resize2(img.get(), bytes, false, nullptr, nullptr);
  if (r < 0) return c.Error(r, "resize image " + name + " to " + std::to_string(bytes));
  return Status::Ok();
}

// Unprotects snapshot `snap` if it is protected. False when clones still hang from it.
Result<bool> UnprotectIfChildless(const RbdCluster& c, const RbdImage& img,
                                  const std::string& image, const std::string& snap) {
  int prot = 0;
  int r = rbd_snap_is_protected(img.get(), snap.c_str(), &prot);
  if (r < 0) return c.Error(r, "protection of " + image + "@" + snap);
  if (prot == 0) return true;
  r = rbd_snap_unprotect(img.get(), snap.c_str());
  if (r == -EBUSY) return false;
  if (r < 0 && r != -EINVAL) return c.Error(r, "unprotect " + image + "@" + snap);
  return true;
}

Status RemoveSnap(const RbdCluster& c, const RbdImage& img, const std::string& image,
                  const std::string& snap) {
  int r = rbd_snap_remove(img.get(), snap.c_str());
  if (r < 0 && r != -ENOENT) return c.Error(r, "remove snapshot " + image + "@" + snap);
  return Status::Ok();
}

// Collects diff extents as 512-aligned, merged byte ranges. `changed_only_if_exists`: keep only
// extents that hold data (allocated ranges), else every extent reported (changed ranges:
// a discard is a change too).
struct RangeCollector {
  bool data_only = false;
  std::vector<ByteRange> ranges;
  static int Add(uint64_t off, size_t len, int exists, void* arg) {
    auto* self = static_cast<RangeCollector*>(arg);
    if (self->data_only && exists == 0) return 0;
    const uint64_t begin = off & ~uint64_t{511};
    const uint64_t end = (off + len + 511) & ~uint64_t{511};
    if (!self->ranges.empty() && self->ranges.back().offset + self->ranges.back().length >= begin) {
      ByteRange& last = self->ranges.back();
      last.length = std::max(last.offset + last.length, end) - last.offset;
    } else {
      self->ranges.push_back({begin, end - begin});
    }
    return 0;
  }
};

Result<std::vector<ByteRange>> Diff(const RbdCluster& c, const RbdImage& img,
                                    const std::string& name, const char* from, bool data_only) {
  ASSIGN_OR_RETURN(uint64_t size, SizeOf(c, img, name));
  RangeCollector collect;
  collect.data_only = data_only;
  // include_parent: a clone's data inherited from its parent counts as allocated.
  int r = rbd_diff_iterate2(img.get(), from, 0, size, 1, 0, &RangeCollector::Add, &collect);
  if (r < 0) return c.Error(r, "diff of image " + name);
  // Extents arrive in order per object; sort in case librbd interleaves objects.
  std::sort(collect.ranges.begin(), collect.ranges.end(),
            [](const ByteRange& a, const ByteRange& b) { return a.offset < b.offset; });
  std::vector<ByteRange> merged;
  for (const ByteRange& r2 : collect.ranges) {
    if (!merged.empty() && merged.back().offset + merged.back().length >= r2.offset) {
      merged.back().length =
          std::max(merged.back().offset + merged.back().length, r2.offset + r2.length) -
          merged.back().offset;
    } else {
      merged.push_back(r2);
    }
  }
  for (ByteRange& r3 : merged) r3.length = std::min(r3.length, size - r3.offset);
  return merged;
}

}  // namespace

Status RbdDriver::Setup() {
  std::lock_guard lock(connect_mu_);
  return ConnectLocked();
}

Status RbdDriver::ConnectLocked() {
  if (cluster_) return Status::Ok();
  RbdCluster::Options o;
  o.ceph_conf = options_.ceph_conf;
  o.user = options_.user;
  o.pool = options_.pool;
  o.connect_timeout = options_.connect_timeout;
  ASSIGN_OR_RETURN(cluster_, RbdCluster::Connect(o));
  spdlog::info("rbd driver [{}]: connected to Ceph as {}, pool {}", section_,
               cluster_->client_name(), cluster_->pool());
  return Status::Ok();
}

Status RbdDriver::CheckReady() {
  // The backup service builds its own drivers and calls no Setup(): connect on first use.
  std::lock_guard lock(connect_mu_);
  return ConnectLocked();
}

std::string RbdDriver::ProviderLocation(const std::string& id) const {
  return options_.pool + "/" + ImageName(id);
}

Status RbdDriver::CreateVolume(const std::string& id, int64_t size_gb) {
  RETURN_IF_ERROR(CheckReady());
  RETURN_IF_ERROR(CheckSize(size_gb));
  const std::string name = ImageName(id);
  const uint64_t bytes = static_cast<uint64_t>(size_gb) * kGiB;
  ImageOptions opts(options_.store_chunk_size_mb);
  int r = rbd_create4(cluster_->ioctx(), name.c_str(), bytes, opts.get());
  if (r == 0) return Status::Ok();
  if (r != -EEXIST) return cluster_->Error(r, "create image " + name);
  // Made by an earlier run of this task: make sure of its size.
  ASSIGN_OR_RETURN(RbdImage img, RbdImage::Open(*cluster_, name));
  return GrowTo(*cluster_, img, name, bytes);
}

Status RbdDriver::DeleteVolume(const std::string& id) {
  RETURN_IF_ERROR(CheckReady());
  const std::string name = ImageName(id);
  std::optional<Parent> parent;
  bool deferred = false;
  {
    auto opened = RbdImage::Open(*cluster_, name);
    if (!opened.ok()) {
      // Gone, or already deferred (renamed .deleted) by an earlier run.
      if (opened.status().code() == StatusCode::kNotFound) return Status::Ok();
      return opened.status();
    }
    RbdImage img = std::move(opened).value();
    ASSIGN_OR_RETURN(parent, ParentOf(*cluster_, img, name));
    ASSIGN_OR_RETURN(auto snaps, SnapNames(*cluster_, img, name));
    // The API keeps a volume with snapshots from being deleted, so what is left are clone
    // snapshots and deferred ones: remove those without children, keep the others.
    for (const std::string& snap : snaps) {
      ASSIGN_OR_RETURN(bool childless, UnprotectIfChildless(*cluster_, img, name, snap));
      if (!childless) {
        deferred = true;
        continue;
      }
      RETURN_IF_ERROR(RemoveSnap(*cluster_, img, name, snap));
    }
  }
  if (deferred) {
    const std::string hidden = name + kDeferred;
    int r = rbd_rename(cluster_->ioctx(), name.c_str(), hidden.c_str());
    if (r < 0) return cluster_->Error(r, "rename image " + name + " to " + hidden);
    spdlog::info("rbd driver [{}]: volume {} has clones; its image is kept as {} until they "
                 "are gone", section_, id, hidden);
    return Status::Ok();
  }
  int r = rbd_remove(cluster_->ioctx(), name.c_str());
  if (r == -EBUSY) {
    // Watchers: a client still has it open (an attachment, or one that crashed and whose watch
    // has not expired yet, ~30 s): retryable.
    return Unavailable("rbd: image " + name + " is still open by a client (pool " +
                       cluster_->pool() + ")");
  }
  if (r < 0 && r != -ENOENT) return cluster_->Error(r, "remove image " + name);
  if (r == -ENOENT && RbdImage::OpenReadOnly(*cluster_, name, "").ok()) {
    // librbd removes by moving to the trash first; on a full pool that move fails and
    // rbd_remove answers ENOENT for an image that is still there.
    return ResourceExhausted("rbd: cannot remove image " + name + " (pool " + cluster_->pool() +
                             "): librbd could not move it to the trash, the pool is likely "
                             "full; retry once it has space");
  }
  if (parent) return ReleaseParent(parent->image, parent->snap);
  return Status::Ok();
}

Status RbdDriver::ReleaseParent(std::string parent, std::string snap) {
  while (true) {
    auto opened = RbdImage::Open(*cluster_, parent);
    if (!opened.ok()) {
      if (opened.status().code() == StatusCode::kNotFound) return Status::Ok();
      return opened.status();
    }
    RbdImage img = std::move(opened).value();
    ASSIGN_OR_RETURN(bool childless, UnprotectIfChildless(*cluster_, img, parent, snap));
    if (!childless) return Status::Ok();
    if (EndsWith(snap, kDeferred) || EndsWith(snap, kCloneSnap)) {
      RETURN_IF_ERROR(RemoveSnap(*cluster_, img, parent, snap));
    }
    if (!EndsWith(parent, kDeferred)) return Status::Ok();
    ASSIGN_OR_RETURN(auto left, SnapNames(*cluster_, img, parent));
    if (!left.empty()) return Status::Ok();
    ASSIGN_OR_RETURN(auto grandparent, ParentOf(*cluster_, img, parent));
    { RbdImage closing = std::move(img); }
    int r = rbd_remove(cluster_->ioctx(), parent.c_str());
    if (r < 0 && r != -ENOENT) return cluster_->Error(r, "remove deferred image " + parent);
    spdlog::info("rbd driver [{}]: removed {}, its last clone gone", section_, parent);
    if (!grandparent) return Status::Ok();
    parent = grandparent->image;
    snap = grandparent->snap;
  }
}

Status RbdDriver::ExtendVolume(const std::string& id, int64_t new_size_gb) {
  RETURN_IF_ERROR(CheckReady());
  RETURN_IF_ERROR(CheckSize(new_size_gb));
  const std::string name = ImageName(id);
  ASSIGN_OR_RETURN(RbdImage img, RbdImage::Open(*cluster_, name));
  return GrowTo(*cluster_, img, name, static_cast<uint64_t>(new_size_gb) * kGiB);
}

Result<std::vector<std::string>> RbdDriver::ListVolumes() {
  RETURN_IF_ERROR(CheckReady());
  ASSIGN_OR_RETURN(auto names, ImageNames(*cluster_));
  std::vector<std::string> ids;
  for (const std::string& n : names) {
    if (StartsWith(n, kVolumePrefix) && !EndsWith(n, kDeferred)) {
      ids.push_back(n.substr(std::string(kVolumePrefix).size()));
    }
  }
  return ids;
}

Result<DriverStats> RbdDriver::Stats() {
  RETURN_IF_ERROR(CheckReady());
  DriverStats s;
  s.thin_provisioning_support = true;
  s.thick_provisioning_support = false;
  // `df` accounts for replication and full ratios: max_avail is what the pool can still take.
  ASSIGN_OR_RETURN(std::string df, cluster_->MonCommand(R"({"prefix": "df", "format": "json"})"));
  double used = 0, avail = 0;
  bool found = false;
  auto doc = nlohmann::json::parse(df, nullptr, false);
  if (doc.is_object() && doc.contains("pools")) {
    for (const auto& p : doc["pools"]) {
      if (p.value("name", "") != cluster_->pool()) continue;
      const auto& st = p["stats"];
      used = st.value("stored", st.value("bytes_used", 0.0));
      avail = st.value("max_avail", 0.0);
      found = true;
    }
  }
  if (!found) {
    return Internal("rbd: the monitors' df has no pool " + cluster_->pool());
  }
  double total = used + avail;
  // A pool quota caps both (Cinder reports the same).
  auto quota = cluster_->MonCommand(R"({"prefix": "osd pool get-quota", "pool": ")" +
                                    cluster_->pool() + R"(", "format": "json"})");
  if (quota.ok()) {
    auto q = nlohmann::json::parse(*quota, nullptr, false);
    double max_bytes = q.is_object() ? q.value("quota_max_bytes", 0.0) : 0.0;
    if (max_bytes > 0) {
      total = std::min(total, max_bytes);
      avail = std::max(0.0, std::min(avail, max_bytes - used));
    }
  }
  s.total_capacity_gb = total / kGiB;
  s.free_capacity_gb = avail / kGiB;
  s.used_capacity_gb = used / kGiB;
  rbd_pool_stats_t stats;
  rbd_pool_stats_create(&stats);
  uint64_t provisioned = 0;
  rbd_pool_stats_option_add_uint64(stats, RBD_POOL_STAT_OPTION_IMAGE_PROVISIONED_BYTES,
                                   &provisioned);
  int r = rbd_pool_stats_get(cluster_->ioctx(), stats);
  rbd_pool_stats_destroy(stats);
  if (r < 0) return cluster_->Error(r, "pool statistics");
  s.provisioned_capacity_gb = static_cast<double>(provisioned) / kGiB;
  return s;
}

Result<std::shared_ptr<BlockDevice>> RbdDriver::Open(const std::string& id) {
  RETURN_IF_ERROR(CheckReady());
  return OpenRbdBlockDevice(cluster_, ImageName(id), "");
}

Result<std::string> RbdDriver::FindSnapshot(const RbdImage& image, const std::string& volume_id,
                                            const std::string& snapshot_id,
                                            bool include_deleted) {
  std::vector<std::string> names = {SnapName(snapshot_id)};
  if (include_deleted) names.push_back(SnapName(snapshot_id) + kDeferred);
  for (const std::string& name : names) {
    bool exists = false;
    int r = rbd_snap_exists(image.get(), name.c_str(), &exists);
    if (r < 0) return cluster_->Error(r, "look up snapshot " + name);
    if (exists) return name;
  }
  return NotFound("rbd: snapshot " + SnapName(snapshot_id) + " of image " +
                  ImageName(volume_id) + " does not exist (pool " + cluster_->pool() + ")");
}

Status RbdDriver::CreateSnapshot(const std::string& volume_id, const std::string& snapshot_id,
                                 const CopyProgress& progress) {
  RETURN_IF_ERROR(CheckReady());
  const std::string name = ImageName(volume_id);
  const std::string snap = SnapName(snapshot_id);
  ASSIGN_OR_RETURN(RbdImage img, RbdImage::Open(*cluster_, name));
  // An RBD snapshot is atomic: it exists complete or not at all, so EEXIST means done.
  int r = rbd_snap_create(img.get(), snap.c_str());
  if (r < 0 && r != -EEXIST) return cluster_->Error(r, "create snapshot " + name + "@" + snap);
  if (progress) progress(1, 1);
  return Status::Ok();
}

Status RbdDriver::DeleteSnapshot(const std::string& volume_id, const std::string& snapshot_id) {
  RETURN_IF_ERROR(CheckReady());
  const std::string name = ImageName(volume_id);
  const std::string snap = SnapName(snapshot_id);
  auto opened = RbdImage::Open(*cluster_, name);
  if (!opened.ok()) {
    if (opened.status().code() == StatusCode::kNotFound) return Status::Ok();
    return opened.status();
  }
  RbdImage img = std::move(opened).value();
  bool exists = false;
  int r = rbd_snap_exists(img.get(), snap.c_str(), &exists);
  if (r < 0) return cluster_->Error(r, "look up snapshot " + name + "@" + snap);
  if (!exists) return Status::Ok();  // gone, or deferred by an earlier run
  ASSIGN_OR_RETURN(bool childless, UnprotectIfChildless(*cluster_, img, name, snap));
  // Hidden, not removed: with clones it must stay until the last one is gone; without, it is
  // what the volume's next incremental backup diffs against (the backup service deletes its
  // snapshot when a backup ends, and RBD compares snapshots only). Cinder's Ceph backup driver
  // keeps one such base snapshot per volume too.
  const std::string hidden = snap + kDeferred;
  r = rbd_snap_rename(img.get(), snap.c_str(), hidden.c_str());
  if (r < 0) return cluster_->Error(r, "rename snapshot " + name + "@" + snap);
  if (!childless) {
    spdlog::info("rbd driver [{}]: snapshot {} has clones; kept as {}@{} until they are gone",
                 section_, snapshot_id, name, hidden);
  }
  return PruneDeletedSnapshots(img, name);
}

Status RbdDriver::PruneDeletedSnapshots(const RbdImage& img, const std::string& name) {
  // Of the deleted snapshots without clones, only the newest stays (the diff base).
  ASSIGN_OR_RETURN(auto snaps, Snaps(*cluster_, img, name));
  std::vector<SnapInfo> deleted;
  for (auto& s : snaps) {
    if (EndsWith(s.name, kDeferred)) deleted.push_back(std::move(s));
  }
  std::sort(deleted.begin(), deleted.end(),
            [](const SnapInfo& a, const SnapInfo& b) { return a.id > b.id; });
  for (size_t i = 1; i < deleted.size(); ++i) {
    ASSIGN_OR_RETURN(bool childless, UnprotectIfChildless(*cluster_, img, name, deleted[i].name));
    if (childless) RETURN_IF_ERROR(RemoveSnap(*cluster_, img, name, deleted[i].name));
  }
  return Status::Ok();
}

Result<int> RbdDriver::CloneDepth(const std::string& image) {
  RETURN_IF_ERROR(CheckReady());
  int depth = 0;
  std::string current = image;
  while (true) {
    ASSIGN_OR_RETURN(RbdImage img, RbdImage::OpenReadOnly(*cluster_, current, ""));
    ASSIGN_OR_RETURN(auto parent, ParentOf(*cluster_, img, current));
    if (!parent) return depth;
    ++depth;
    current = parent->image;
  }
}

Status RbdDriver::MakeClone(const std::string& parent, const std::string& snap,
                            const std::string& child, int64_t size_gb, bool flatten_anyway) {
  RETURN_IF_ERROR(CheckSize(size_gb));
  const uint64_t bytes = static_cast<uint64_t>(size_gb) * kGiB;
  auto existing = RbdImage::Open(*cluster_, child);
  if (!existing.ok()) {
    if (existing.status().code() != StatusCode::kNotFound) return existing.status();
    ASSIGN_OR_RETURN(RbdImage at_snap, RbdImage::OpenReadOnly(*cluster_, parent, snap));
    ASSIGN_OR_RETURN(uint64_t snap_size, SizeOf(*cluster_, at_snap, parent + "@" + snap));
    if (snap_size > bytes) {
      return InvalidArgument("volume " + child + " of " + std::to_string(size_gb) +
                             " GiB is smaller than its source " + parent + "@" + snap);
    }
    {
      ASSIGN_OR_RETURN(RbdImage p, RbdImage::Open(*cluster_, parent));
      int r = rbd_snap_protect(p.get(), snap.c_str());
      if (r < 0 && r != -EBUSY) return cluster_->Error(r, "protect " + parent + "@" + snap);
    }
    ImageOptions opts(options_.store_chunk_size_mb);
    int r = rbd_clone3(cluster_->ioctx(), parent.c_str(), snap.c_str(), cluster_->ioctx(),
                       child.c_str(), opts.get());
    if (r < 0 && r != -EEXIST) {
      return cluster_->Error(r, "clone " + parent + "@" + snap + " into " + child);
    }
  }
  ASSIGN_OR_RETURN(RbdImage img, RbdImage::Open(*cluster_, child));
  RETURN_IF_ERROR(GrowTo(*cluster_, img, child, bytes));
  ASSIGN_OR_RETURN(auto linked, ParentOf(*cluster_, img, child));
  if (!linked) return Status::Ok();  // flattened by an earlier run
  ASSIGN_OR_RETURN(int depth, CloneDepth(child));
  const int max_depth = options_.max_clone_depth;
  if (!flatten_anyway && max_depth > 0 && depth <= max_depth) return Status::Ok();
  // Flattening copies the parent's data in; resumable, so a re-run after a crash finishes it.
  int r = rbd_flatten(img.get());
  if (r < 0) return cluster_->Error(r, "flatten image " + child);
  spdlog::info("rbd driver [{}]: flattened {} (clone depth {}, rbd_max_clone_depth {}{})",
               section_, child, depth, max_depth, flatten_anyway ? ", flatten requested" : "");
  { RbdImage closing = std::move(img); }
  return ReleaseParent(linked->image, linked->snap);
}

Status RbdDriver::CreateVolumeFromSnapshot(const std::string& volume_id, int64_t size_gb,
                                           const std::string& source_volume_id,
                                           const std::string& snapshot_id) {
  RETURN_IF_ERROR(CheckReady());
  const std::string source = ImageName(source_volume_id);
  std::string snap = SnapName(snapshot_id);
  {
    auto src = RbdImage::OpenReadOnly(*cluster_, source, "");
    if (src.ok()) {
      // A re-run after a crash may find it deleted (hidden) since: its clone is finished.
      auto found = FindSnapshot(*src, source_volume_id, snapshot_id, /*include_deleted=*/true);
      if (found.ok()) snap = *found;
    }
  }
  return MakeClone(source, snap, ImageName(volume_id), size_gb,
                   options_.flatten_volume_from_snapshot);
}

Status RbdDriver::CloneVolume(const std::string& volume_id, int64_t size_gb,
                              const std::string& source_volume_id) {
  RETURN_IF_ERROR(CheckReady());
  const std::string source = ImageName(source_volume_id);
  const std::string child = ImageName(volume_id);
  const std::string snap = child + kCloneSnap;  // Cinder's name for the clone's origin
  auto existing = RbdImage::OpenReadOnly(*cluster_, child, "");
  if (!existing.ok()) {
    if (existing.status().code() != StatusCode::kNotFound) return existing.status();
    ASSIGN_OR_RETURN(RbdImage src, RbdImage::Open(*cluster_, source));
    int r = rbd_snap_create(src.get(), snap.c_str());
    if (r < 0 && r != -EEXIST) return cluster_->Error(r, "create snapshot " + source + "@" + snap);
  }
  Status st = MakeClone(source, snap, child, size_gb, false);
  if (!st.ok() && !existing.ok()) {
    // No clone was made from the snapshot taken for it: do not leave it behind.
    Status released = ReleaseParent(source, snap);
    if (!released.ok()) spdlog::warn("rbd driver [{}]: {}", section_, released.ToString());
  }
  return st;
}

Status RbdDriver::RevertToSnapshot(const std::string& volume_id, const std::string& snapshot_id) {
  RETURN_IF_ERROR(CheckReady());
  const std::string name = ImageName(volume_id);
  ASSIGN_OR_RETURN(RbdImage img, RbdImage::Open(*cluster_, name));
  ASSIGN_OR_RETURN(std::string snap, FindSnapshot(img, volume_id, snapshot_id, false));
  ASSIGN_OR_RETURN(uint64_t size, SizeOf(*cluster_, img, name));
  // Rollback rewrites every object from the snapshot; re-running it after a crash ends the same.
  int r = rbd_snap_rollback(img.get(), snap.c_str());
  if (r < 0) return cluster_->Error(r, "roll " + name + " back to " + snap);
  // Rollback also restores the snapshot's size; a volume extended since keeps its size (the
  // contract), the tail reading as zeroes.
  return GrowTo(*cluster_, img, name, size);
}

Result<std::shared_ptr<BlockDevice>> RbdDriver::OpenSnapshot(const std::string& volume_id,
                                                             const std::string& snapshot_id) {
  RETURN_IF_ERROR(CheckReady());
  const std::string name = ImageName(volume_id);
  ASSIGN_OR_RETURN(RbdImage img, RbdImage::OpenReadOnly(*cluster_, name, ""));
  ASSIGN_OR_RETURN(std::string snap, FindSnapshot(img, volume_id, snapshot_id, false));
  return OpenRbdBlockDevice(cluster_, name, snap);
}

Result<std::vector<ByteRange>> RbdDriver::AllocatedRanges(const std::string& volume_id,
                                                          const std::string& snapshot_id) {
  RETURN_IF_ERROR(CheckReady());
  const std::string name = ImageName(volume_id);
  std::string snap;
  if (!snapshot_id.empty()) {
    ASSIGN_OR_RETURN(RbdImage head, RbdImage::OpenReadOnly(*cluster_, name, ""));
    ASSIGN_OR_RETURN(snap, FindSnapshot(head, volume_id, snapshot_id, false));
  }
  ASSIGN_OR_RETURN(RbdImage img, RbdImage::OpenReadOnly(*cluster_, name, snap));
  return Diff(*cluster_, img, name, nullptr, true);
}

Result<std::vector<ByteRange>> RbdDriver::ChangedRanges(const std::string& volume_id,
                                                        const std::string& from_snapshot_id,
                                                        const std::string& to_snapshot_id) {
  RETURN_IF_ERROR(CheckReady());
  const std::string name = ImageName(volume_id);
  ASSIGN_OR_RETURN(RbdImage head, RbdImage::OpenReadOnly(*cluster_, name, ""));
  ASSIGN_OR_RETURN(std::string to, FindSnapshot(head, volume_id, to_snapshot_id, false));
  auto from = FindSnapshot(head, volume_id, from_snapshot_id, /*include_deleted=*/true);
  if (!from.ok()) {
    if (from.status().code() != StatusCode::kNotFound) return from.status();
    // RBD compares snapshots; once `from` is gone nothing records what changed since.
    return FailedPrecondition("rbd: snapshot " + SnapName(from_snapshot_id) + " of " + name +
                              " is gone: changes since it are unknown");
  }
  ASSIGN_OR_RETURN(RbdImage img, RbdImage::OpenReadOnly(*cluster_, name, to));
  return Diff(*cluster_, img, name, from->c_str(), false);
}

Result<std::vector<std::string>> RbdDriver::ListSnapshots() {
  RETURN_IF_ERROR(CheckReady());
  ASSIGN_OR_RETURN(auto images, ImageNames(*cluster_));
  std::vector<std::string> ids;
  for (const std::string& image : images) {
    if (!StartsWith(image, kVolumePrefix) || EndsWith(image, kDeferred)) continue;
    auto img = RbdImage::OpenReadOnly(*cluster_, image, "");
    if (!img.ok()) continue;  // removed meanwhile
    ASSIGN_OR_RETURN(auto snaps, SnapNames(*cluster_, *img, image));
    for (const std::string& s : snaps) {
      if (StartsWith(s, kSnapshotPrefix) && !EndsWith(s, kDeferred)) {
        ids.push_back(s.substr(std::string(kSnapshotPrefix).size()));
      }
    }
  }
  return ids;
}

Result<VolumeDriver::NativeConnection> RbdDriver::NativeConnectionInfo(
    const std::string& volume_id) {
  RETURN_IF_ERROR(CheckReady());
  const std::string name = ImageName(volume_id);
  { ASSIGN_OR_RETURN(RbdImage img, RbdImage::OpenReadOnly(*cluster_, name, "")); }
  ASSIGN_OR_RETURN(std::string dump,
                   cluster_->MonCommand(R"({"prefix": "mon dump", "format": "json"})"));
  auto doc = nlohmann::json::parse(dump, nullptr, false);
  nlohmann::json hosts = nlohmann::json::array(), ports = nlohmann::json::array();
  if (doc.is_object() && doc.contains("mons")) {
    for (const auto& mon : doc["mons"]) {
      // The v1 (legacy) address where a monitor has one: every librbd client speaks it.
      std::string addr;
      if (mon.contains("public_addrs") && mon["public_addrs"].contains("addrvec")) {
        for (const auto& a : mon["public_addrs"]["addrvec"]) {
          if (addr.empty() || a.value("type", "") == "v1") addr = a.value("addr", "");
        }
      }
      if (addr.empty()) addr = mon.value("addr", "");
      addr = addr.substr(0, addr.find('/'));
      const size_t colon = addr.rfind(':');
      if (colon == std::string::npos) continue;
      hosts.push_back(addr.substr(0, colon));
      ports.push_back(addr.substr(colon + 1));
    }
  }
  if (hosts.empty()) return Internal("rbd: the monitors' mon dump names no monitor address");
  char auth[64] = {};
  const bool cephx = rados_conf_get(cluster_->cluster(), "auth_client_required", auth,
                                    sizeof(auth)) == 0 &&
                     std::string(auth).find("cephx") != std::string::npos;
  nlohmann::json data = {
      {"name", options_.pool + "/" + name},
      {"hosts", hosts},
      {"ports", ports},
      {"cluster_name", "ceph"},
      {"auth_enabled", cephx},
      {"auth_username", options_.user.empty() ? "admin" : options_.user},
      {"secret_type", "ceph"},
      {"secret_uuid", options_.secret_uuid.empty() ? nlohmann::json(nullptr)
                                                   : nlohmann::json(options_.secret_uuid)},
      {"volume_id", volume_id},
      {"discard", options_.report_discard_supported},
      {"qos_specs", nullptr},
      {"encrypted", false},
  };
  return NativeConnection{"rbd", data.dump()};
}

}  // namespace scoria::volume
