// RbdCluster: the rbd driver's one connection to a Ceph cluster (a librados `rados_t`) and its
// one I/O context on the backend's pool (`rados_ioctx_t`), alive for the driver's lifetime and
// for as long as any device opened through it (devices share ownership). librados multiplexes
// every image and every thread over this one connection; it reconnects to the monitors and
// OSDs by itself, so a Ceph outage shows as errors (mapped to Unavailable), not as a dead
// handle.
//
// RbdImage: one open image (or snapshot of one) for the length of a driver operation; closes it
// on destruction.
//
// RbdError maps librados/librbd's negative errno returns to the driver contract's codes
// (volume/driver.h): ETIMEDOUT/ENOTCONN/ESHUTDOWN/ECONNREFUSED/EBUSY-on-remove -> Unavailable,
// ENOSPC/EDQUOT -> ResourceExhausted, ENOENT -> NotFound, EEXIST -> AlreadyExists,
// EPERM/EACCES -> FailedPrecondition naming the cephx user and the pool (retrying cannot help;
// the operator must fix the caps or the key), everything else Internal. The ceph backup store
// (backup/ceph_store.h) connects through this class too, with its own Options::label, option
// names and caps in the messages.
//
// Threading: librados handles and ioctxs are thread-safe; an RbdCluster may be used from any
// thread concurrently. An RbdImage is used by one thread at a time.
#pragma once

#include <rados/librados.h>
#include <rbd/librbd.h>

#include <memory>
#include <string>

#include "common/status.h"

namespace scoria::volume {

class RbdCluster {
 public:
  struct Options {
    std::string ceph_conf;    // empty: librados's search path ($CEPH_CONF, /etc/ceph/ceph.conf)
    std::string user;         // cephx id without "client."; empty: admin
    std::string pool;         // the pool every image lives in
    // Seconds for connecting and for each monitor request. < 0: connecting waits librados's
    // client_mount_timeout (5 min), monitor requests kDefaultMonitorOpTimeoutSeconds.
    int connect_timeout = -1;
    // Seconds an OSD request may take before it fails with ETIMEDOUT (rados_osd_op_timeout);
    // < 0: librados's default, wait for ever (right for a volume's I/O, which must not fail
    // while the cluster recovers; the backup store sets it so a job cannot hang).
    int op_timeout = -1;
    // How messages name this connection: the user of the connection ("rbd" for the driver,
    // "ceph backup store"), the options its settings came from, the caps to suggest on EPERM.
    std::string label = "rbd";
    std::string conf_option = "rbd_ceph_conf";
    std::string pool_option = "rbd_pool";
    std::string pool_setup = "create it with `ceph osd pool create` and `rbd pool init`";
    std::string caps = "mon 'profile rbd', osd 'profile rbd pool=<pool>'";
  };
  static constexpr int kDefaultMonitorOpTimeoutSeconds = 30;

  // Connects and opens the pool. Unavailable when the monitors cannot be reached in time;
  // FailedPrecondition for a key the cluster refuses, or a pool that does not exist (named).
  static Result<std::shared_ptr<RbdCluster>> Connect(const Options& options);
  ~RbdCluster();
  RbdCluster(const RbdCluster&) = delete;
  RbdCluster& operator=(const RbdCluster&) = delete;

  rados_t cluster() const { return cluster_; }
  rados_ioctx_t ioctx() const { return ioctx_; }
  const std::string& pool() const { return options_.pool; }
  // "client.<user>", as Ceph names it in caps and logs.
  const std::string& client_name() const { return client_name_; }
  const std::string& ceph_conf() const { return options_.ceph_conf; }

  // `r` (a negative errno from librados/librbd) as a Status; `what` says what was being done
  // ("create image volume-1"). The message names the pool, and the user for permission errors.
  Status Error(int r, const std::string& what) const;

  // A monitor command (JSON, as `ceph ... -f json` sends it); its JSON output.
  Result<std::string> MonCommand(const std::string& json) const;

 private:
  explicit RbdCluster(Options options);
  std::string Caps() const;  // options_.caps with the pool filled in
  Options options_;
  std::string client_name_;
  rados_t cluster_ = nullptr;
  rados_ioctx_t ioctx_ = nullptr;
};

class RbdImage {
 public:
  // Opens image `name` of the cluster's pool: read-write, or read-only at `snapshot` (empty:
  // the image head, read-only). NotFound when the image (or snapshot) does not exist.
  static Result<RbdImage> Open(const RbdCluster& cluster, const std::string& name);
  static Result<RbdImage> OpenReadOnly(const RbdCluster& cluster, const std::string& name,
                                       const std::string& snapshot);
  RbdImage(RbdImage&& other) noexcept : image_(other.image_) { other.image_ = nullptr; }
  RbdImage& operator=(RbdImage&&) = delete;
  RbdImage(const RbdImage&) = delete;
  ~RbdImage();

  rbd_image_t get() const { return image_; }
  // Hands the open image over to the caller, who must rbd_close it.
  rbd_image_t Release() {
    rbd_image_t i = image_;
    image_ = nullptr;
    return i;
  }

 private:
  explicit RbdImage(rbd_image_t image) : image_(image) {}
  rbd_image_t image_ = nullptr;
};

}  // namespace scoria::volume
