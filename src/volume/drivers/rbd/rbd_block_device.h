// The rbd BlockDevice: an RBD image (or a snapshot of one, read-only) as volume/block_device.h
// describes, through librbd's asynchronous C API. Each Read/Write/Flush/Discard/WriteZeroes is
// one rbd_aio_* call whose completion callback calls `done`: on librbd's completion thread, or
// on the caller's thread when librbd refuses the request at once. Data goes straight between the
// caller's buffer and librbd, no copy of ours (the cluster connection turns librbd's zero-copy
// writes on, see rbd_cluster.cc, so librbd keeps no copy either); FUA is librados's FUA flag.
//
// Lifetime: the device holds the open image and the cluster connection; every request in flight
// holds them too, so the image is closed when the device and its last request are gone. When
// that last reference drops inside a completion callback (a caller released the device from
// `done`), the close runs on a short-lived thread of its own: librbd cannot close an image
// from its own completion thread.
//
// Threading: all methods from any thread, concurrently.
#pragma once

#include <memory>
#include <string>

#include "volume/block_device.h"
#include "volume/drivers/rbd/rbd_cluster.h"

namespace scoria::volume {

// Opens `image` of the cluster's pool as a BlockDevice: read-write at its head when `snapshot`
// is empty, else read-only at that snapshot (writes fail with FailedPrecondition). NotFound when
// the image or snapshot does not exist.
Result<std::shared_ptr<BlockDevice>> OpenRbdBlockDevice(std::shared_ptr<RbdCluster> cluster,
                                                        const std::string& image,
                                                        const std::string& snapshot);

}  // namespace scoria::volume
