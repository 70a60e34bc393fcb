#include "volume/drivers/rbd/rbd_cluster.h"

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

namespace scoria::volume {

RbdCluster::RbdCluster(Options options)
    : options_(std::move(options)),
      client_name_("client." + (options_.user.empty() ? std::string("admin") : options_.user)) {}

RbdCluster::~RbdCluster() {
  if (ioctx_ != nullptr) rados_ioctx_destroy(ioctx_);
  if (cluster_ != nullptr) rados_shutdown(cluster_);
}

Result<std::shared_ptr<RbdCluster>> RbdCluster::Connect(const Options& options) {
  std::shared_ptr<RbdCluster> c(new RbdCluster(options));
  const std::string& label = options.label;
  const std::string conf_name = options.ceph_conf.empty()
                                    ? "the default ceph.conf"
                                    : options.conf_option + " " + options.ceph_conf;
  int r = rados_create2(&c->cluster_, "ceph", c->client_name_.c_str(), 0);
  if (r < 0) {
    c->cluster_ = nullptr;
    return Internal(label + ": cannot create a RADOS handle: " + std::string(std::strerror(-r)));
  }
  r = rados_conf_read_file(c->cluster_, options.ceph_conf.empty() ? nullptr
                                                                  : options.ceph_conf.c_str());
  if (r < 0) {
    return FailedPrecondition(label + ": cannot read " + conf_name + ": " + std::strerror(-r));
  }
  // No librbd cache: a write completes when the OSDs have it, so the BlockDevice may hand
  // librbd the caller's buffer without a copy (zero-copy writes are only safe when librbd does
  // not acknowledge before the OSDs do, which its cache does), and Flush/FUA cost nothing
  // extra. The target's own queue depth gives the parallelism a cache would.
  const std::pair<const char*, std::string> settings[] = {
      {"rbd_cache", "false"},
      {"rbd_disable_zero_copy_writes", "false"},
  };
  for (const auto& [key, value] : settings) {
    r = rados_conf_set(c->cluster_, key, value.c_str());
    if (r < 0) return Internal(label + ": cannot set " + key + ": " + std::strerror(-r));
  }
  // Monitor requests (snapshot ids, pool stats) never wait for ever: librados's default does,
  // which would leave a snapshot `creating` for as long as the monitors are away. A timed-out
  // request is Unavailable, retried by the task, then an error.
  const int64_t timeout = options.connect_timeout > 0 ? options.connect_timeout
                                                      : kDefaultMonitorOpTimeoutSeconds;
  std::vector<const char*> keys = {"rados_mon_op_timeout"};
  if (options.connect_timeout > 0) keys.push_back("client_mount_timeout");
  for (const char* key : keys) {
    r = rados_conf_set(c->cluster_, key, std::to_string(timeout).c_str());
    if (r < 0) return Internal(label + ": cannot set " + key + ": " + std::strerror(-r));
  }
  if (options.op_timeout > 0) {
    r = rados_conf_set(c->cluster_, "rados_osd_op_timeout",
                       std::to_string(options.op_timeout).c_str());
    if (r < 0) return Internal(label + ": cannot set rados_osd_op_timeout: " + std::strerror(-r));
  }
  r = rados_connect(c->cluster_);
  // librados says ENOENT when the keyring the conf names has no key for the user (or is
  // absent): the operator's to fix, not an object that is missing.
  if (r == -ENOENT) {
    return FailedPrecondition(label + ": connect to the cluster of " + conf_name + " as " +
                              c->client_name_ + ": no key for it (the keyring file the "
                              "conf's `keyring` names is missing or does not hold it)");
  }
  if (r < 0) {
    return c->Error(r, "connect to the cluster of " + conf_name + " as " + c->client_name_);
  }
  r = rados_ioctx_create(c->cluster_, options.pool.c_str(), &c->ioctx_);
  if (r < 0) {
    c->ioctx_ = nullptr;
    if (r == -ENOENT) {
      return FailedPrecondition(label + ": pool " + options.pool + " does not exist (" +
                                options.pool_option + "; " + options.pool_setup + ")");
    }
    return c->Error(r, "open pool " + options.pool);
  }
  // A full pool (quota or full ratio) would otherwise hold every write until space returns,
  // hanging tasks and initiators for ever; with "full try" the OSDs answer EDQUOT/ENOSPC, which
  // the driver reports as ResourceExhausted. Deletes still succeed on a full pool.
  rados_set_pool_full_try(c->ioctx_);
  return c;
}

Status RbdCluster::Error(int r, const std::string& what) const {
  const int e = r < 0 ? -r : r;
  std::string msg = options_.label + ": " + what + " (pool " + options_.pool + "): " +
                    std::strerror(e);
  switch (e) {
    case ENOENT:
      return NotFound(std::move(msg));
    case EEXIST:
      return AlreadyExists(std::move(msg));
    case ETIMEDOUT:
    case ENOTCONN:
    case ESHUTDOWN:
    case ECONNREFUSED:
    case EAGAIN:
      return Unavailable(std::move(msg));
    case ENOSPC:
    case EDQUOT:
      return ResourceExhausted(std::move(msg));
    case EPERM:
    case EACCES:
      return FailedPrecondition(options_.label + ": " + what + ": Ceph refused user " +
                                client_name_ + " on pool " + options_.pool + " (" +
                                std::strerror(e) + "): check its key in the keyring and its " +
                                "caps (" + Caps() + ")");
    default:
      return Internal(std::move(msg));
  }
}

std::string RbdCluster::Caps() const {
  std::string caps = options_.caps;
  const std::string placeholder = "<pool>";
  for (size_t at = caps.find(placeholder); at != std::string::npos;
       at = caps.find(placeholder, at + options_.pool.size())) {
    caps.replace(at, placeholder.size(), options_.pool);
  }
  return caps;
}

Result<std::string> RbdCluster::MonCommand(const std::string& json) const {
  const char* cmd[] = {json.c_str()};
  char* out = nullptr;
  size_t out_len = 0;
  char* status = nullptr;
  size_t status_len = 0;
  int r = rados_mon_command(cluster_, cmd, 1, "", 0, &out, &out_len, &status, &status_len);
  std::string result = out != nullptr ? std::string(out, out_len) : std::string();
  std::string detail = status != nullptr ? std::string(status, status_len) : std::string();
  if (out != nullptr) rados_buffer_free(out);
  if (status != nullptr) rados_buffer_free(status);
  if (r < 0) return Error(r, "monitor command " + json + (detail.empty() ? "" : ": " + detail));
  return result;
}

Result<RbdImage> RbdImage::Open(const RbdCluster& cluster, const std::string& name) {
  rbd_image_t image = nullptr;
  int r = rbd_open(cluster.ioctx(), name.c_str(), &image, nullptr);
  if (r < 0) return cluster.Error(r, "open image " + name);
  return RbdImage(image);
}

Result<RbdImage> RbdImage::OpenReadOnly(const RbdCluster& cluster, const std::string& name,
                                        const std::string& snapshot) {
  rbd_image_t image = nullptr;
  int r = rbd_open_read_only(cluster.ioctx(), name.c_str(), &image,
                             snapshot.empty() ? nullptr : snapshot.c_str());
  if (r < 0) {
    return cluster.Error(r, "open image " + name + (snapshot.empty() ? "" : "@" + snapshot));
  }
  return RbdImage(image);
}

RbdImage::~RbdImage() {
  if (image_ != nullptr) rbd_close(image_);
}

}  // namespace scoria::volume
