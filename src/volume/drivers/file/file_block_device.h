// FileBlockDevice: a raw image file (the `file` driver's sparse volumes) as a BlockDevice.
//
// Model: the file is opened O_RDWR|O_CLOEXEC, *without* O_DIRECT: the images are sparse files
// on a filesystem (holes must read back as zeroes, fallocate punches them), and the target's
// buffers are not necessarily 512-byte aligned in memory, which O_DIRECT would require. So I/O
// goes through the page cache and durability comes from Flush (fdatasync) and FUA (RWF_DSYNC).
//
// I/O engines (process-wide, created on first use, never destroyed; see FileIoEngine;
// file_io_engines.cc, request model in file_io.h):
//  - io_uring: ONE shared ring (256 SQEs) and ONE completion thread for I/O started on
//    ordinary threads (the control plane, tests), so the thread count does not grow with the
//    number of attached volumes (tgt's "threads per LUN" trap, iscsi-target.md 5.1).
//    Submitters from any thread take a short mutex around get-SQE + prep + submit; requests
//    beyond the ring's depth wait in a FIFO that the completion thread drains as CQEs free
//    slots, so a caller never blocks on a full ring. The completion thread reaps CQEs in
//    batches, resubmits short transfers, and submits all follow-ups with one io_uring_enter.
//    Event-loop threads (the target's reactors) attach a ring of their own (a ThreadIoLoop,
//    volume/io_loop.h; local_io_ring.h here): their I/O is submitted once per loop iteration
//    and completes on that thread; reads that hit the page cache complete inline (preadv2
//    RWF_NOWAIT). Small page-aligned
//    non-FUA writes are done by the loop thread itself with pwritev2, at the end of the loop
//    iteration (in Poll), not in Write: ext4 cannot do buffered writes non-blocking, so
//    io_uring would punt each to an io-wq worker, and that hop cost ~30 % of the target's CPU
//    per 4 KiB write (docs/benchmarks.md). Doing them in Poll keeps what an ABORT TASK in the
//    same receive batch finds (libiscsi iSCSITMF.AbortTaskSimpleAsync). If such a write ever
//    makes the thread sleep (dirty-page throttling, a lock, a read), the thread's writes go
//    through the ring again for 1 s, so a throttled filesystem cannot keep stalling every
//    connection of the loop. FUA writes, larger or unaligned ones always use the ring.
//  - thread pool (fallback): 4 threads doing pread/pwritev2/fdatasync/fallocate, used when
//    io_uring_queue_init fails (ENOSYS/EPERM under seccomp, kernel.io_uring_disabled) or lacks
//    an opcode we need; logged once. Never used inline, even on an event-loop thread.
//
// Ops: Write with fua = WRITE with RWF_DSYNC; Flush = FSYNC(DATASYNC); Discard =
// fallocate(PUNCH_HOLE|KEEP_SIZE); WriteZeroes = fallocate(ZERO_RANGE|KEEP_SIZE), or PUNCH_HOLE
// when `unmap`. If the filesystem refuses the fallocate mode (EOPNOTSUPP, e.g. ZERO_RANGE on
// tmpfs) the range is written with zeroes instead, which keeps the "reads back as zeroes"
// contract; the device remembers that and skips the fallocate next time.
//
// Short transfers are resubmitted for the remainder. A read that hits end-of-file inside
// Size() (only possible if someone shrank the file behind us; Cinder never shrinks) zero-fills
// the rest and succeeds, as a hole would: logged once per device.
//
// Errors (the `done` Status): out-of-range or misaligned offset/length -> InvalidArgument on
// the caller's thread, before any I/O. OS errors: ENOSPC/EDQUOT -> ResourceExhausted;
// EIO -> Internal("I/O error") (a medium error, not retryable, so not Unavailable; target/
// turns it into MEDIUM ERROR sense); anything else -> Internal("<op>: <strerror>").
//
// Size() is st_size rounded down to a multiple of BlockSize(); Refresh() re-reads it with
// fstat after an online extend.
//
// Destruction waits until every submitted request has called its `done`, then closes the file
// (on an event-loop thread it polls that thread's ring meanwhile). Exception: a device
// destroyed from inside a `done` callback cannot wait for itself; the file is then closed when
// its last request finishes.
#pragma once

#include <memory>
#include <string>

#include "common/status.h"
#include "volume/block_device.h"

namespace scoria::volume {

enum class FileIoEngine {
  kAuto,        // io_uring when it works in this process, else the thread pool
  kUring,       // io_uring or fail with Unavailable (tests, benchmarks)
  kThreadPool,  // force the pread/pwrite fallback (tests, benchmarks)
};

struct FileBlockDeviceOptions {
  FileIoEngine engine = FileIoEngine::kAuto;
  // Open O_RDONLY. Writes are NOT rejected up front: they reach the OS and fail (EBADF ->
  // Internal). Tests use this to exercise a real I/O error path.
  bool open_read_only = false;
};

// As OpenFileBlockDevice(path), with explicit options. NotFound when the file does not exist;
// FailedPrecondition when it is not a regular file; Unavailable for kUring without io_uring.
Result<std::shared_ptr<BlockDevice>> OpenFileBlockDevice(const std::string& path,
                                                         const FileBlockDeviceOptions& options);

// The engine kAuto resolves to in this process (kUring or kThreadPool); probes io_uring once.
FileIoEngine DefaultFileIoEngine();

}  // namespace scoria::volume
