// FileBlockDevice: the file driver's BlockDevice; model in file_block_device.h. A request
// starts here (range check, Begin) and goes to the calling thread's LocalRing when it has one
// (local_io_ring.h), else to the device's shared engine (file_io_engines.cc); the request
// model they share is in file_io.h.
#include "volume/drivers/file/file_block_device.h"

#include <fcntl.h>
#include <linux/falloc.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <mutex>

#include "volume/block_range.h"
#include "volume/drivers/file/file_io.h"
#include "volume/drivers/file/local_io_ring.h"

namespace scoria::volume {
namespace {

using file_io::Advance;
using file_io::Complete;
using file_io::Engine;
using file_io::ErrnoStatus;
using file_io::FileState;
using file_io::Op;
using file_io::Request;
using file_io::SharedThreadPoolEngine;
using file_io::SharedUringEngine;
using file_io::tls_callback_depth;
using file_io::tls_ring;

class FileBlockDevice final : public BlockDevice {
 public:
  FileBlockDevice(std::shared_ptr<FileState> file, Engine* engine, bool uring, uint64_t size)
      : file_(std::move(file)), engine_(engine), uring_(uring), size_(size) {}

  ~FileBlockDevice() override {
    if (tls_callback_depth > 0) return;  // inside a callback: cannot wait for ourselves (header)
    for (;;) {
      {
        std::unique_lock lock(file_->mu);
        if (tls_ring == nullptr) {
          file_->cv.wait(lock, [&] { return file_->inflight == 0; });
          return;
        }
        if (file_->inflight == 0) return;
      }
      // Some of our requests may sit in this thread's own ring, which nobody else reaps.
      tls_ring->WaitAndPoll(1);
    }
  }

  uint64_t Size() const override { return size_.load(std::memory_order_acquire); }

  Status Refresh() override {
    struct stat st {};
    if (::fstat(file_->fd, &st) != 0) return ErrnoStatus(errno, "fstat of " + file_->path);
    size_.store(RoundDown(st.st_size), std::memory_order_release);
    return Status::Ok();
  }

  void Read(uint64_t offset, std::span<std::byte> buf, IoCallback done) override {
    auto r = NewRequest(Op::kRead, offset, buf.size(), std::move(done));
    if (r == nullptr) return;
    r->rbuf = buf.data();
    if (uring_ && tls_ring != nullptr && !file_->no_nowait_read.load(std::memory_order_relaxed)) {
      // Event-loop thread: a page-cache hit completes here, without the ring's round trip.
      r->file = file_;
      file_->Begin();
      iovec iov{buf.data(), buf.size()};
      ssize_t n = ::preadv2(file_->fd, &iov, 1, static_cast<off_t>(offset), RWF_NOWAIT);
      if (n >= 0) {
        if (Advance(*r, n)) return Complete(std::move(r));
      } else if (errno == EOPNOTSUPP) {
        file_->no_nowait_read.store(true, std::memory_order_relaxed);
      }
      // EAGAIN (not all cached), a partial read, or an error: the ring does the rest and
      // reports any error the usual way.
      tls_ring->Submit(std::move(r));
      return;
    }
    Start(std::move(r));
  }

  void Write(uint64_t offset, std::span<const std::byte> buf, bool fua, IoCallback done) override {
    auto r = NewRequest(Op::kWrite, offset, buf.size(), std::move(done));
    if (r == nullptr) return;
    r->wbuf = buf.data();
    r->fua = fua;
    if (uring_ && tls_ring != nullptr && !fua && tls_ring->InlineWriteOk(offset, buf.size())) {
      r->file = file_;
      file_->Begin();
      tls_ring->SubmitInlineWrite(std::move(r));
      return;
    }
    Start(std::move(r));
  }

  void Flush(IoCallback done) override {
    auto r = std::make_unique<Request>();
    r->op = Op::kFsync;
    r->done = std::move(done);
    Start(std::move(r));
  }

  void Discard(uint64_t offset, uint64_t length, IoCallback done) override {
    Fallocate(offset, length, FALLOC_FL_PUNCH_HOLE, std::move(done));
  }

  void WriteZeroes(uint64_t offset, uint64_t length, bool unmap, IoCallback done) override {
    Fallocate(offset, length, unmap ? FALLOC_FL_PUNCH_HOLE : FALLOC_FL_ZERO_RANGE, std::move(done));
  }

  static uint64_t RoundDown(off_t size) { return static_cast<uint64_t>(size) & ~uint64_t{511}; }

 private:
  // Checks the range; on failure calls `done` here (caller's thread) and returns null.
  // A zero-length request completes OK here too.
  std::unique_ptr<Request> NewRequest(Op op, uint64_t offset, uint64_t length, IoCallback done) {
    Status st = CheckBlockRange(offset, length, Size(), BlockSize());
    if (!st.ok() || length == 0) {
      done(std::move(st));
      return nullptr;
    }
    auto r = std::make_unique<Request>();
    r->op = op;
    r->offset = offset;
    r->length = length;
    r->done = std::move(done);
    return r;
  }

  void Fallocate(uint64_t offset, uint64_t length, int mode, IoCallback done) {
    auto r = NewRequest(Op::kFallocate, offset, length, std::move(done));
    if (r == nullptr) return;
    bool unsupported = mode == FALLOC_FL_PUNCH_HOLE
                           ? file_->no_punch_hole.load(std::memory_order_relaxed)
                           : file_->no_zero_range.load(std::memory_order_relaxed);
    if (unsupported) r->op = Op::kZeroWrite;
    r->mode = mode | FALLOC_FL_KEEP_SIZE;
    Start(std::move(r));
  }

  void Start(std::unique_ptr<Request> r) {
    r->file = file_;
    file_->Begin();
    if (uring_ && tls_ring != nullptr) {
      tls_ring->Submit(std::move(r));
    } else {
      engine_->Submit(std::move(r));
    }
  }

  std::shared_ptr<FileState> file_;
  Engine* engine_;    // process-lifetime
  const bool uring_;  // engine_ is the io_uring engine: this thread's LocalRing may serve too
  std::atomic<uint64_t> size_;
};

}  // namespace

Result<std::shared_ptr<BlockDevice>> OpenFileBlockDevice(const std::string& path,
                                                         const FileBlockDeviceOptions& options) {
  Engine* engine = nullptr;
  switch (options.engine) {
    case FileIoEngine::kAuto:
      engine = SharedUringEngine();
      if (engine == nullptr) engine = SharedThreadPoolEngine();
      break;
    case FileIoEngine::kUring:
      engine = SharedUringEngine();
      if (engine == nullptr) return Unavailable("io_uring is not available in this process");
      break;
    case FileIoEngine::kThreadPool:
      engine = SharedThreadPoolEngine();
      break;
  }
  auto file = std::make_shared<FileState>();
  file->path = path;
  file->fd = ::open(path.c_str(), (options.open_read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC);
  if (file->fd < 0) {
    if (errno == ENOENT) return NotFound("volume file " + path + " does not exist");
    if (errno == EISDIR) return FailedPrecondition(path + " is not a regular file");
    return ErrnoStatus(errno, "open of " + path);
  }
  struct stat st {};
  if (::fstat(file->fd, &st) != 0) return ErrnoStatus(errno, "fstat of " + path);
  if (!S_ISREG(st.st_mode)) return FailedPrecondition(path + " is not a regular file");
  return std::shared_ptr<BlockDevice>(
      std::make_shared<FileBlockDevice>(std::move(file), engine, engine == SharedUringEngine(),
                                        FileBlockDevice::RoundDown(st.st_size)));
}

Result<std::shared_ptr<BlockDevice>> OpenFileBlockDevice(const std::string& path) {
  return OpenFileBlockDevice(path, FileBlockDeviceOptions{});
}

}  // namespace scoria::volume
