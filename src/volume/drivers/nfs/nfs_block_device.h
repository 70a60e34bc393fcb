// The nfs driver's BlockDevice: a volume file on an NFSv3 share, read and written through
// libnfs's asynchronous API, so the iSCSI target exports NFS volumes without a kernel client.
//
// Model: each device owns one libnfs context (its own TCP connection and mount) and one
// service thread, the only thread that touches that context. Read/Write/... queue a request
// and wake the thread (an eventfd); the thread issues nfs_pread_async/nfs_pwrite_async/
// nfs_fsync_async (requests larger than the server's rtmax/wtmax are split), polls the socket
// and calls nfs_service, whose callbacks complete the requests: `done` runs on the service
// thread. Writes are UNSTABLE; Flush and FUA writes end with a COMMIT. Discard and WriteZeroes
// write zeroes (NFSv3 cannot punch holes).
//
// Failures: libnfs's own reconnect is off. When the connection breaks (server stopped,
// restarted, or an RPC timing out after timeo), every request in flight completes with
// Unavailable (the target reports an I/O error to the initiator) and the context is dropped.
// The next request reconnects (mount + open by path), at most one attempt a second; requests
// arriving while the server stays away fail at once with Unavailable. So I/O recovers by
// itself once the server answers again. ganesha's VFS FSAL writes UNSTABLE data to the
// server's page cache, so a ganesha restart loses nothing; a server reboot can lose writes that
// no Flush covered, which is the contract anyway (durable only after Flush/FUA).
//
// Threading: every method may be called from any thread; completions run on the device's
// service thread. Destruction lets queued and in-flight requests complete, then joins the
// thread; destroyed from one of its own completions, it leaves the thread to finish alone.
// Refresh() blocks until the service thread answers: never call it from a completion.
#pragma once

#include <memory>
#include <string>

#include "common/status.h"
#include "nfs/options.h"
#include "volume/block_device.h"

namespace scoria::volume {

// Opens `path` (relative to the share's root) for reads and writes. NotFound when the file
// does not exist, Unavailable when the server does not answer.
Result<std::shared_ptr<BlockDevice>> OpenNfsBlockDevice(const nfs::Share& share,
                                                        const nfs::MountOptions& options,
                                                        const std::string& path);

}  // namespace scoria::volume
