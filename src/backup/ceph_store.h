// OpenCephStore: a RADOS pool as a BackupStore (store.h), for `backup_driver = ceph` (Cinder's
// CephBackupDriver options). Object "a/b/c" is the RADOS object "a/b/c" in the pool's default
// namespace, so the repository keeps the layout it has on every store
// (docs/format/backup.md): chunks keep their content-addressed names and deduplication holds.
// Cinder keeps a backup as an RBD image instead; none of its object names (rbd_*) can be one
// of the repository's, so the two may share a pool, though a pool of its own is clearer.
//
// Connection: through volume::RbdCluster (the rbd driver's librados wrapper), with the pool
// marked "full try" so a pool at its quota or full ratio answers EDQUOT/ENOSPC instead of
// holding writes, and with `op_timeout_s` as the connect, monitor and OSD request timeout so
// no call hangs for ever while the cluster is down.
//
// Atomicity: RADOS has no rename, so Put writes the whole object in one write op
// (rados_write_op_write_full: the OSD applies it as one transaction, replacing any previous
// object; a reader sees the old bytes or the new ones, never a mix). An object larger than
// `max_object_bytes` (backup_ceph_chunk_size) is refused with InvalidArgument rather than
// written in pieces that a reader could see half done; the repository's objects are far
// smaller (a chunk is at most 64 MiB and a 32-byte header; a manifest 40 bytes per chunk of
// the volume). The OSDs refuse writes above their osd_max_write_size (90 MiB by default)
// with EFBIG, also InvalidArgument. Get reads size and bytes in one read op, so it too sees
// one version. Durability: an acknowledged write is on every replica's journal, so Sync()
// is a no-op.
//
// List walks the pool's objects (rados_nobjects_list: the whole pool, filtered by prefix and
// by the object-name rule, so foreign objects such as Cinder's images never show) and stats
// the matches in parallel for size and modification time. RADOS keeps mtimes in whole
// seconds, so modified_micros is a multiple of 1,000,000.
//
// Errors as store.h says (RbdCluster::Error): ENOENT NotFound; ENOSPC/EDQUOT (the pool's
// quota or the cluster full) ResourceExhausted; ETIMEDOUT, ENOTCONN, ESHUTDOWN, ECONNREFUSED,
// EAGAIN Unavailable; EPERM/EACCES FailedPrecondition naming the cephx user, the pool and the
// caps it needs; anything else Internal. Messages name the object; a key never appears.
//
// Threading: thread-safe; librados multiplexes every call over the one connection.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "backup/store.h"

namespace scoria::backup {

struct CephStoreOptions {
  std::string ceph_conf = "/etc/ceph/ceph.conf";  // backup_ceph_conf
  std::string user = "cinder";                    // backup_ceph_user, without "client."
  std::string pool = "backups";                   // backup_ceph_pool; must exist
  size_t max_object_bytes = 134217728;            // backup_ceph_chunk_size
  int op_timeout_s = 120;                         // backup_ceph_op_timeout
};

// Connects, opens the pool and proves the user may write, read and remove objects in it (a
// probe object ".probe.<random>", a name no repository object can have, written and removed),
// so missing caps stop the service at start instead of failing the first backup.
// FailedPrecondition for an unreadable conf, a missing pool, a key the cluster refuses or
// missing caps (naming user and pool); Unavailable when the monitors do not answer within
// op_timeout_s.
[[nodiscard]] Result<std::shared_ptr<BackupStore>> OpenCephStore(const CephStoreOptions& options);

}  // namespace scoria::backup
