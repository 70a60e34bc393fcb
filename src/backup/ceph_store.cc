// The ceph backup store (ceph_store.h): repository objects as whole RADOS objects.
#include "backup/ceph_store.h"

#include <rados/librados.h>

#include <algorithm>
#include <cerrno>
#include <ctime>
#include <string_view>

#include "common/ids.h"
#include "volume/drivers/rbd/rbd_cluster.h"

namespace scoria::backup {
namespace {

using volume::RbdCluster;

constexpr const char* kLabel = "ceph backup store";
// Stats List keeps in flight at once: enough to hide the round trips, few enough not to
// flood the OSDs' queues when a pool holds a million chunks.
constexpr size_t kStatsInFlight = 64;

int64_t Micros(time_t seconds) { return static_cast<int64_t>(seconds) * 1'000'000; }

class CephStore final : public BackupStore {
 public:
  CephStore(std::shared_ptr<RbdCluster> cluster, size_t max_object_bytes)
      : cluster_(std::move(cluster)), max_object_bytes_(max_object_bytes) {}

  Status Put(std::string_view name, std::span<const std::byte> data) override {
    RETURN_IF_ERROR(CheckObjectName(name));
    const std::string oid(name);
    if (data.size() > max_object_bytes_) {
      return InvalidArgument(std::string(kLabel) + ": object " + oid + " is " +
                             std::to_string(data.size()) +
                             " bytes, more than one write may carry (backup_ceph_chunk_size " +
                             std::to_string(max_object_bytes_) + ")");
    }
    // One op: created if absent (an empty object too) and its bytes replaced whole.
    rados_write_op_t op = rados_create_write_op();
    rados_write_op_create(op, LIBRADOS_CREATE_IDEMPOTENT, nullptr);
    rados_write_op_write_full(op, reinterpret_cast<const char*>(data.data()), data.size());
    const int r = rados_write_op_operate(op, cluster_->ioctx(), oid.c_str(), nullptr, 0);
    rados_release_write_op(op);
    if (r == -EFBIG) {
      return InvalidArgument(std::string(kLabel) + ": object " + oid + " (" +
                             std::to_string(data.size()) + " bytes) is larger than the OSDs "
                             "accept in one write (their osd_max_write_size)");
    }
    if (r < 0) return cluster_->Error(r, "put object " + oid);
    return Status::Ok();
  }

  Result<std::vector<std::byte>> Get(std::string_view name) override {
    RETURN_IF_ERROR(CheckObjectName(name));
    const std::string oid(name);
    uint64_t size = 0;
    time_t mtime = 0;
    int r = rados_stat(cluster_->ioctx(), oid.c_str(), &size, &mtime);
    if (r < 0) return cluster_->Error(r, "stat object " + oid);
    // The size and the bytes in one read op, so they are of one version even when a Put
    // replaces the object meanwhile; a size that changed since the stat means another round.
    for (int attempt = 0; attempt < 8; ++attempt) {
      std::vector<std::byte> out(size);
      uint64_t op_size = 0;
      size_t bytes_read = 0;
      int stat_rval = 0, read_rval = 0;
      rados_read_op_t op = rados_create_read_op();
      rados_read_op_stat(op, &op_size, &mtime, &stat_rval);
      rados_read_op_read(op, 0, out.size(), reinterpret_cast<char*>(out.data()), &bytes_read,
                         &read_rval);
      r = rados_read_op_operate(op, cluster_->ioctx(), oid.c_str(), 0);
      rados_release_read_op(op);
      if (r >= 0 && stat_rval < 0) r = stat_rval;
      if (r >= 0 && read_rval < 0) r = read_rval;
      if (r < 0) return cluster_->Error(r, "get object " + oid);
      if (op_size == size) {
        out.resize(bytes_read);
        return out;
      }
      size = op_size;
    }
    return Unavailable(std::string(kLabel) + ": get object " + oid +
                       ": it kept changing size while being read");
  }

  Result<ObjectInfo> Stat(std::string_view name) override {
    RETURN_IF_ERROR(CheckObjectName(name));
    const std::string oid(name);
    uint64_t size = 0;
    time_t mtime = 0;
    const int r = rados_stat(cluster_->ioctx(), oid.c_str(), &size, &mtime);
    if (r < 0) return cluster_->Error(r, "stat object " + oid);
    return ObjectInfo{oid, size, Micros(mtime)};
  }

  Result<std::vector<ObjectInfo>> List(std::string_view prefix) override {
    ASSIGN_OR_RETURN(std::vector<std::string> names, Names(prefix));
    std::vector<ObjectInfo> out;
    out.reserve(names.size());
    // Stats in windows of kStatsInFlight asynchronous requests.
    struct Pending {
      rados_completion_t c = nullptr;
      uint64_t size = 0;
      time_t mtime = 0;
    };
    for (size_t start = 0; start < names.size(); start += kStatsInFlight) {
      const size_t n = std::min(kStatsInFlight, names.size() - start);
      std::vector<Pending> window(n);
      int failed = 0;
      size_t issued = 0;
      for (; issued < n; ++issued) {
        Pending& p = window[issued];
        int r = rados_aio_create_completion2(nullptr, nullptr, &p.c);
        if (r == 0) {
          r = rados_aio_stat(cluster_->ioctx(), names[start + issued].c_str(), p.c, &p.size,
                             &p.mtime);
          if (r < 0) rados_aio_release(p.c);
        }
        if (r < 0) {
          failed = r;
          break;
        }
      }
      std::string failed_name = failed < 0 ? names[start + issued] : std::string();
      for (size_t i = 0; i < issued; ++i) {
        Pending& p = window[i];
        rados_aio_wait_for_complete(p.c);
        const int r = rados_aio_get_return_value(p.c);
        rados_aio_release(p.c);
        if (r == -ENOENT) continue;  // deleted since the listing: not there any more
        if (r < 0) {
          if (failed == 0) {
            failed = r;
            failed_name = names[start + i];
          }
          continue;
        }
        out.push_back(ObjectInfo{names[start + i], p.size, Micros(p.mtime)});
      }
      if (failed < 0) return cluster_->Error(failed, "stat object " + failed_name);
    }
    return out;
  }

  Status Delete(std::string_view name) override {
    RETURN_IF_ERROR(CheckObjectName(name));
    const std::string oid(name);
    const int r = rados_remove(cluster_->ioctx(), oid.c_str());
    if (r < 0 && r != -ENOENT) return cluster_->Error(r, "delete object " + oid);
    return Status::Ok();
  }

  Status Sync() override { return Status::Ok(); }  // acknowledged writes are on every replica

 private:
  // Every object of the pool's default namespace that is a repository object under `prefix`.
  Result<std::vector<std::string>> Names(std::string_view prefix) {
    rados_list_ctx_t ctx = nullptr;
    int r = rados_nobjects_list_open(cluster_->ioctx(), &ctx);
    if (r < 0) return cluster_->Error(r, "list objects");
    std::vector<std::string> names;
    for (;;) {
      const char* entry = nullptr;
      r = rados_nobjects_list_next(ctx, &entry, nullptr, nullptr);
      if (r < 0) break;
      std::string_view n(entry);
      if (n.substr(0, prefix.size()) == prefix && CheckObjectName(n).ok()) names.emplace_back(n);
    }
    rados_nobjects_list_close(ctx);
    if (r != -ENOENT) return cluster_->Error(r, "list objects");
    return names;
  }

  std::shared_ptr<RbdCluster> cluster_;
  const size_t max_object_bytes_;
};

}  // namespace

Result<std::shared_ptr<BackupStore>> OpenCephStore(const CephStoreOptions& options) {
  if (options.pool.empty()) return InvalidArgument(std::string(kLabel) + ": no pool given");
  RbdCluster::Options o;
  o.ceph_conf = options.ceph_conf;
  o.user = options.user;
  o.pool = options.pool;
  o.connect_timeout = options.op_timeout_s;
  o.op_timeout = options.op_timeout_s;
  o.label = kLabel;
  o.conf_option = "backup_ceph_conf";
  o.pool_option = "backup_ceph_pool";
  o.pool_setup = "create it with `ceph osd pool create`";
  o.caps = "mon 'allow r', osd 'allow rw pool=<pool>'";
  ASSIGN_OR_RETURN(std::shared_ptr<RbdCluster> cluster, RbdCluster::Connect(o));

  // The probe: a user whose caps lack write, read or remove on the pool fails here, at start.
  const std::string probe = ".probe." + RandomAlnum(12);
  const char byte = 'p';
  int r = rados_write_full(cluster->ioctx(), probe.c_str(), &byte, 1);
  // A full pool answers only after the caps were checked: the user may write, and restores
  // still work; the first backup will say the pool is full.
  if (r == -EDQUOT || r == -ENOSPC) {
    return std::shared_ptr<BackupStore>(
        std::make_shared<CephStore>(std::move(cluster), options.max_object_bytes));
  }
  if (r < 0) return cluster->Error(r, "write the probe object " + probe);
  uint64_t size = 0;
  time_t mtime = 0;
  r = rados_stat(cluster->ioctx(), probe.c_str(), &size, &mtime);
  const int removed = rados_remove(cluster->ioctx(), probe.c_str());
  if (r < 0) return cluster->Error(r, "stat the probe object " + probe);
  if (removed < 0) return cluster->Error(removed, "remove the probe object " + probe);
  return std::shared_ptr<BackupStore>(
      std::make_shared<CephStore>(std::move(cluster), options.max_object_bytes));
}

}  // namespace scoria::backup
