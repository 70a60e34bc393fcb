// The request model's out-of-line parts: errno mapping, Advance, Complete, SQE preparation,
// ring setup. Model in file_io.h.
#include "volume/drivers/file/file_io.h"

#include <linux/falloc.h>
#include <spdlog/spdlog.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>

namespace scoria::volume::file_io {

alignas(4096) const std::byte kZeroes[kZeroChunk] = {};

FileState::~FileState() {
  if (fd >= 0) ::close(fd);
}

namespace {

const char* OpName(Op op) {
  switch (op) {
    case Op::kRead:
      return "read";
    case Op::kWrite:
      return "write";
    case Op::kZeroWrite:
      return "zero-fill write";
    case Op::kFsync:
      return "flush";
    case Op::kFallocate:
      return "fallocate";
  }
  return "?";
}

}  // namespace

Status ErrnoStatus(int err, const std::string& what) {
  if (err == ENOSPC || err == EDQUOT) {
    return ResourceExhausted(what + ": no space left on the volume's filesystem");
  }
  if (err == EIO) return Internal(what + ": I/O error");
  return Internal(what + ": " + std::generic_category().message(err));
}

bool Advance(Request& r, int64_t res) {
  if (res == -EINTR) return false;
  auto fail = [&](int err) {
    r.status = ErrnoStatus(err, std::string(OpName(r.op)) + " of " + r.file->path);
    return true;
  };
  switch (r.op) {
    case Op::kFsync:
      return res < 0 ? fail(static_cast<int>(-res)) : true;
    case Op::kFallocate:
      if (res == -EOPNOTSUPP) {
        // The filesystem cannot do this mode (e.g. ZERO_RANGE on tmpfs): write zeroes instead,
        // and skip the attempt from now on.
        (r.mode & FALLOC_FL_PUNCH_HOLE ? r.file->no_punch_hole : r.file->no_zero_range)
            .store(true, std::memory_order_relaxed);
        r.op = Op::kZeroWrite;
        r.done_bytes = 0;
        return false;
      }
      return res < 0 ? fail(static_cast<int>(-res)) : true;
    case Op::kRead:
    case Op::kWrite:
    case Op::kZeroWrite:
      if (res < 0) return fail(static_cast<int>(-res));
      if (res == 0) {
        if (r.op != Op::kRead) {
          r.status =
              Internal(std::string(OpName(r.op)) + " of " + r.file->path + " made no progress");
          return true;
        }
        // EOF inside Size(): the file was shrunk behind us. Read it as a hole would.
        if (!r.file->eof_logged.exchange(true)) {
          spdlog::warn("{} is shorter than its device size; reading zeroes past its end",
                       r.file->path);
        }
        std::memset(r.rbuf + r.done_bytes, 0, r.length - r.done_bytes);
        return true;
      }
      r.done_bytes += static_cast<uint64_t>(res);
      return r.done_bytes >= r.length;
  }
  return true;
}

void Complete(std::unique_ptr<Request> r) {
  std::shared_ptr<FileState> file = std::move(r->file);
  IoCallback done = std::move(r->done);
  Status status = std::move(r->status);
  r.reset();
  ++tls_callback_depth;
  done(std::move(status));
  done = nullptr;
  --tls_callback_depth;
  file->End();
}

void PrepSqe(io_uring_sqe* sqe, Request* r) {
  int fd = r->file->fd;
  uint64_t off = r->offset + r->done_bytes;
  auto n = static_cast<unsigned>(PieceLength(*r));
  switch (r->op) {
    case Op::kRead:
      io_uring_prep_read(sqe, fd, r->rbuf + r->done_bytes, n, off);
      break;
    case Op::kWrite:
      io_uring_prep_write(sqe, fd, r->wbuf + r->done_bytes, n, off);
      if (r->fua) sqe->rw_flags = RWF_DSYNC;  // FUA: this write is durable when it completes
      break;
    case Op::kZeroWrite:
      io_uring_prep_write(sqe, fd, kZeroes, n, off);
      break;
    case Op::kFsync:
      io_uring_prep_fsync(sqe, fd, IORING_FSYNC_DATASYNC);
      break;
    case Op::kFallocate:
      io_uring_prep_fallocate(sqe, fd, r->mode, static_cast<off_t>(r->offset),
                              static_cast<off_t>(r->length));
      break;
  }
  io_uring_sqe_set_data(sqe, r);
  HandOffToKernel(r);
}

bool InitRing(io_uring* ring, unsigned flags, std::string* why) {
  int ret = io_uring_queue_init(kRingEntries, ring, flags);
  if (ret < 0) {
    *why = "io_uring_queue_init: " + std::generic_category().message(-ret);
    return false;
  }
  io_uring_probe* probe = io_uring_get_probe_ring(ring);
  bool ok = probe != nullptr;
  for (int op : {IORING_OP_READ, IORING_OP_WRITE, IORING_OP_FSYNC, IORING_OP_FALLOCATE}) {
    ok = ok && io_uring_opcode_supported(probe, op);
  }
  if (probe != nullptr) io_uring_free_probe(probe);
  if (!ok) {
    io_uring_queue_exit(ring);
    *why = "the kernel's io_uring lacks READ/WRITE/FSYNC/FALLOCATE";
  }
  return ok;
}

}  // namespace scoria::volume::file_io
