// FileBlockDevice and its two I/O engines (io_uring, thread pool); model in file_block_device.h.
//
// A request is a heap object that moves through: device (range check, Begin) -> engine
// (one SQE or one syscall per piece) -> Advance() after each OS result (resubmit the remainder
// or finish) -> Complete() (call `done`, then End). Advance() is shared by both engines so
// short transfers, EOF, EOPNOTSUPP fallbacks and errno mapping behave identically.
#include "volume/drivers/file/file_block_device.h"

#include <fcntl.h>
#include <liburing.h>
#include <linux/falloc.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

#include "volume/block_range.h"

namespace scoria::volume {
namespace {

constexpr unsigned kRingEntries = 256;  // SQ depth; also the cap on SQEs in flight (CQ is 2x)
constexpr int kPoolThreads = 4;
constexpr uint64_t kMaxChunk = 1ull << 30;  // per SQE/syscall: nbytes is 32-bit, Linux caps rw
constexpr size_t kZeroChunk = 1 << 20;
// Inline page-cache writes on an event-loop thread (LocalRing::SubmitInlineWrite): at most
// this many bytes, page-aligned, so no write needs a read of the block first.
constexpr uint64_t kMaxInlineWrite = 64 * 1024;
constexpr uint64_t kPageBytes = 4096;
// After an inline write slept (dirty throttling, a lock, I/O), writes go through the ring
// again for this long: the loop must not keep stalling every connection it serves.
constexpr std::chrono::seconds kInlineWriteBackoff{1};
alignas(4096) const std::byte kZeroes[kZeroChunk] = {};

// ThreadSanitizer cannot see the happens-before edge that the kernel provides between an SQE
// submitted on one thread and its CQE reaped on another; these restate it.
#if defined(__SANITIZE_THREAD__)
extern "C" void __tsan_acquire(void* addr);
extern "C" void __tsan_release(void* addr);
inline void HandOffToKernel(void* r) { __tsan_release(r); }
inline void TakeBackFromKernel(void* r) { __tsan_acquire(r); }
#else
inline void HandOffToKernel(void*) {}
inline void TakeBackFromKernel(void*) {}
#endif

// > 0 while a `done` callback runs on this thread: a device destroyed there must not wait for
// its own completions (the running request only ends after its callback returns).
thread_local int tls_callback_depth = 0;

// The open file, shared by a device and its in-flight requests, so the fd outlives a device
// destroyed from a completion callback.
struct FileState {
  ~FileState() {
    if (fd >= 0) ::close(fd);
  }
  void Begin() {
    std::lock_guard lock(mu);
    ++inflight;
  }
  void End() {
    std::lock_guard lock(mu);
    if (--inflight == 0) cv.notify_all();
  }

  int fd = -1;
  std::string path;
  std::mutex mu;
  std::condition_variable cv;
  uint64_t inflight = 0;  // guarded by mu: requests begun and not yet completed
  // Set when the filesystem answered EOPNOTSUPP for that fallocate mode.
  std::atomic<bool> no_punch_hole{false};
  std::atomic<bool> no_zero_range{false};
  std::atomic<bool> eof_logged{false};
  // Set when preadv2(RWF_NOWAIT) answered EOPNOTSUPP: no inline reads on this file.
  std::atomic<bool> no_nowait_read{false};
};

enum class Op { kRead, kWrite, kZeroWrite, kFsync, kFallocate };

struct Request {
  Op op;
  std::shared_ptr<FileState> file;
  std::byte* rbuf = nullptr;        // kRead
  const std::byte* wbuf = nullptr;  // kWrite
  uint64_t offset = 0;
  uint64_t length = 0;
  uint64_t done_bytes = 0;  // progress of kRead/kWrite/kZeroWrite
  bool fua = false;
  int mode = 0;  // kFallocate
  IoCallback done;
  Status status;
};

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

Status ErrnoStatus(int err, const std::string& what) {
  if (err == ENOSPC || err == EDQUOT) {
    return ResourceExhausted(what + ": no space left on the volume's filesystem");
  }
  if (err == EIO) return Internal(what + ": I/O error");
  return Internal(what + ": " + std::generic_category().message(err));
}

// Size in bytes of the next piece of a transfer.
uint64_t PieceLength(const Request& r) {
  uint64_t left = r.length - r.done_bytes;
  return std::min<uint64_t>(left, r.op == Op::kZeroWrite ? kZeroChunk : kMaxChunk);
}

// Feeds one OS result (bytes, or -errno) into `r`. Returns true when `r` is finished
// (r.status set), false when the next piece must be issued.
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

// Calls `done` and retires the request. `done` and everything it captured are destroyed
// before End(), so a destructor waiting for in-flight I/O sees no callback state survive it.
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

// Fills `sqe` with the next piece of `r` (user_data = r).
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

// Creates a ring of kRingEntries and checks it has every opcode we use. On failure returns
// the reason and leaves `ring` uninitialised.
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

// Takes up to 64 CQEs off `ring` and feeds each result to its request: finished ones go to
// `finished`, ones with a piece left to `again`. Returns how many CQEs were consumed.
unsigned ReapBatch(io_uring* ring, std::vector<std::unique_ptr<Request>>* finished,
                   std::vector<Request*>* again) {
  constexpr unsigned kBatch = 64;
  io_uring_cqe* cqes[kBatch];
  unsigned n = io_uring_peek_batch_cqe(ring, cqes, kBatch);
  for (unsigned i = 0; i < n; ++i) {
    auto* r = static_cast<Request*>(io_uring_cqe_get_data(cqes[i]));
    TakeBackFromKernel(r);
    if (Advance(*r, cqes[i]->res)) {
      finished->emplace_back(r);
    } else {
      again->push_back(r);
    }
  }
  io_uring_cq_advance(ring, n);
  return n;
}

class Engine {
 public:
  virtual ~Engine() = default;
  virtual void Submit(std::unique_ptr<Request> r) = 0;
};

// One ring, one completion thread; see the header for why it is shared by all devices.
class UringEngine final : public Engine {
 public:
  static Engine* Create(std::string* why) {
    auto e = std::unique_ptr<UringEngine>(new UringEngine());
    if (!InitRing(&e->ring_, 0, why)) return nullptr;
    e->thread_ = std::thread([p = e.get()] { p->Run(); });
    return e.release();  // process-lifetime: never destroyed, so never joined
  }

  void Submit(std::unique_ptr<Request> r) override {
    std::lock_guard lock(mu_);
    if (inflight_ >= kRingEntries || !pending_.empty()) {
      pending_.push_back(std::move(r));  // the completion thread issues it when a slot frees
      return;
    }
    PrepLocked(r.release());
    SubmitLocked();
  }

 private:
  UringEngine() = default;

  // Precondition: inflight_ < kRingEntries, so the SQ has a free entry (every prepared SQE
  // counts in inflight_ until reaped).
  void PrepLocked(Request* r) {
    PrepSqe(io_uring_get_sqe(&ring_), r);
    ++inflight_;
  }

  void SubmitLocked() {
    int ret = io_uring_submit(&ring_);
    // EBUSY/EAGAIN: the kernel is short of CQ room or memory. The SQEs stay in the SQ ring and
    // go with the completion thread's next submit (which follows the reaping that frees room).
    if (ret < 0 && ret != -EBUSY && ret != -EAGAIN && ret != -EINTR) {
      spdlog::error("io_uring_submit: {}", std::generic_category().message(-ret));
    }
  }

  void Run() {
    std::vector<Request*> again;
    std::vector<std::unique_ptr<Request>> finished;
    for (;;) {
      io_uring_cqe* first = nullptr;
      int ret = io_uring_wait_cqe(&ring_, &first);
      if (ret < 0) {
        if (ret != -EINTR) {
          spdlog::error("io_uring_wait_cqe: {}", std::generic_category().message(-ret));
          std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        continue;
      }
      unsigned n = ReapBatch(&ring_, &finished, &again);
      {
        std::lock_guard lock(mu_);
        inflight_ -= n;
        for (Request* r : again) PrepLocked(r);
        while (!pending_.empty() && inflight_ < kRingEntries) {
          PrepLocked(pending_.front().release());
          pending_.pop_front();
        }
        if (io_uring_sq_ready(&ring_) > 0) SubmitLocked();  // one enter for the whole batch
      }
      again.clear();
      for (auto& r : finished) Complete(std::move(r));
      finished.clear();
    }
  }

  io_uring ring_{};
  std::thread thread_;
  // SQ side (get_sqe, prep, submit) and the counters are guarded by mu_; the CQ side belongs
  // to the completion thread alone.
  std::mutex mu_;
  unsigned inflight_ = 0;  // SQEs prepared and not yet reaped; <= kRingEntries
  std::deque<std::unique_ptr<Request>> pending_;
};

// Fallback: blocking syscalls on a few threads.
class ThreadPoolEngine final : public Engine {
 public:
  ThreadPoolEngine() {
    for (int i = 0; i < kPoolThreads; ++i) {
      threads_.emplace_back([this] { Run(); });
    }
  }

  void Submit(std::unique_ptr<Request> r) override {
    {
      std::lock_guard lock(mu_);
      queue_.push_back(std::move(r));
    }
    cv_.notify_one();
  }

 private:
  static int64_t Syscall(const Request& r) {
    int fd = r.file->fd;
    auto off = static_cast<off_t>(r.offset + r.done_bytes);
    size_t n = PieceLength(r);
    ssize_t res = 0;
    switch (r.op) {
      case Op::kRead:
        res = ::pread(fd, r.rbuf + r.done_bytes, n, off);
        break;
      case Op::kWrite: {
        iovec iov{const_cast<std::byte*>(r.wbuf + r.done_bytes), n};
        res = ::pwritev2(fd, &iov, 1, off, r.fua ? RWF_DSYNC : 0);
        break;
      }
      case Op::kZeroWrite:
        res = ::pwrite(fd, kZeroes, n, off);
        break;
      case Op::kFsync:
        res = ::fdatasync(fd);
        break;
      case Op::kFallocate:
        res = ::fallocate(fd, r.mode, static_cast<off_t>(r.offset), static_cast<off_t>(r.length));
        break;
    }
    return res < 0 ? -errno : res;
  }

  void Run() {
    for (;;) {
      std::unique_ptr<Request> r;
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [&] { return !queue_.empty(); });
        r = std::move(queue_.front());
        queue_.pop_front();
      }
      while (!Advance(*r, Syscall(*r))) {
      }
      Complete(std::move(r));
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::unique_ptr<Request>> queue_;  // guarded by mu_
  std::vector<std::thread> threads_;            // process-lifetime: never joined
};

// A ring owned by one event-loop thread (LocalIoRing in the header). Single-threaded: only
// the owning thread submits, reaps and runs callbacks, so there is no lock. SQEs are only
// prepared by Submit and go to the kernel together in Poll (one io_uring_enter per loop
// iteration for everything the iteration started).
class LocalRing {
 public:
  ~LocalRing() {
    while (inflight_ > 0 || !pending_.empty() || !inline_writes_.empty()) WaitAndPoll(1000);
    io_uring_queue_exit(&ring_);
  }

  bool Init(std::string* why) { return InitRing(&ring_, 0, why); }
  int fd() const { return ring_.ring_fd; }
  bool HasUnsubmitted() const { return io_uring_sq_ready(&ring_) > 0 || !inline_writes_.empty(); }

  // Whether a write of `length` bytes at `offset` may be done by this thread itself (Poll
  // runs it with pwritev2) instead of by the ring. Why: ext4 cannot do a buffered write
  // without blocking (it refuses RWF_NOWAIT), so io_uring hands every one to an io-wq worker,
  // and that hop (wake-up, switches, CQE posting) cost ~30 % of the target's CPU per 4 KiB
  // write (docs/benchmarks.md). Only small page-aligned writes qualify, so none needs a read
  // of the block first; FUA writes (RWF_DSYNC) wait for the disk and stay on the ring.
  bool InlineWriteOk(uint64_t offset, uint64_t length) const {
    return length <= kMaxInlineWrite && offset % kPageBytes == 0 && length % kPageBytes == 0 &&
           std::chrono::steady_clock::now() >= inline_paused_until_;
  }

  // Queues `r` (a non-FUA kWrite for which InlineWriteOk held) for the next Poll. Not done
  // here: the write completes after the rest of the loop iteration (e.g. an ABORT TASK in the
  // same receive batch) has been handled, as a ring write would.
  void SubmitInlineWrite(std::unique_ptr<Request> r) { inline_writes_.push_back(std::move(r)); }

  void Submit(std::unique_ptr<Request> r) {
    if (inflight_ >= kRingEntries) {
      pending_.push_back(std::move(r));  // issued by Poll as completions free slots
      return;
    }
    Prep(r.release());
  }

  // Submits what is prepared, reaps every completion available, resubmits short transfers and
  // runs callbacks; repeats while callbacks start more I/O that completes at once.
  void Poll() {
    for (;;) {
      bool wrote = RunInlineWrites();
      if (io_uring_sq_ready(&ring_) > 0) {
        int ret = io_uring_submit(&ring_);
        // EBUSY/EAGAIN: the SQEs stay in the ring and go with the next Poll.
        if (ret < 0 && ret != -EBUSY && ret != -EAGAIN && ret != -EINTR) {
          spdlog::error("io_uring_submit: {}", std::generic_category().message(-ret));
        }
      }
      // Take every CQE off the ring before running any callback: a callback may re-enter
      // (submit, or destroy a device, which polls this ring while it waits).
      std::vector<std::unique_ptr<Request>> finished;
      unsigned n = ReapBatch(&ring_, &finished, &again_);
      if (n == 0) {
        if (wrote) continue;  // their callbacks may have started more I/O
        return;
      }
      inflight_ -= n;
      for (Request* r : again_) Prep(r);
      again_.clear();
      while (!pending_.empty() && inflight_ < kRingEntries) {
        Prep(pending_.front().release());
        pending_.pop_front();
      }
      for (auto& r : finished) Complete(std::move(r));
    }
  }

  // Waits up to `ms` for a completion, then polls.
  void WaitAndPoll(int ms) {
    Poll();
    if (inflight_ == 0) return;
    __kernel_timespec ts{ms / 1000, (ms % 1000) * 1000000LL};
    io_uring_cqe* cqe = nullptr;
    (void)io_uring_wait_cqe_timeout(&ring_, &cqe, &ts);
    Poll();
  }

 private:
  void Prep(Request* r) {
    PrepSqe(io_uring_get_sqe(&ring_), r);
    ++inflight_;
  }

  // Does the queued inline writes, then runs their callbacks. Returns whether there were any.
  // A write that made this thread sleep (a voluntary context switch: balance_dirty_pages
  // throttling, a page or journal lock, a read) pauses inline writes for kInlineWriteBackoff;
  // one getrusage per batch tells, which is cheaper than timing each write and is not fooled
  // by preemption or a stolen vCPU.
  bool RunInlineWrites() {
    if (inline_writes_.empty()) return false;
    std::vector<std::unique_ptr<Request>> batch;
    batch.swap(inline_writes_);
    rusage before{}, after{};
    const bool timed = ::getrusage(RUSAGE_THREAD, &before) == 0;
    for (auto& r : batch) {
      for (;;) {
        iovec iov{const_cast<std::byte*>(r->wbuf + r->done_bytes), PieceLength(*r)};
        ssize_t n =
            ::pwritev2(r->file->fd, &iov, 1, static_cast<off_t>(r->offset + r->done_bytes), 0);
        if (Advance(*r, n < 0 ? -errno : n)) break;
      }
    }
    if (timed && ::getrusage(RUSAGE_THREAD, &after) == 0 && after.ru_nvcsw > before.ru_nvcsw) {
      inline_paused_until_ = std::chrono::steady_clock::now() + kInlineWriteBackoff;
      if (!inline_pause_logged_) {
        inline_pause_logged_ = true;
        spdlog::info(
            "an inline page-cache write blocked this event loop; its writes go "
            "through io_uring for {} s (logged once per thread)",
            kInlineWriteBackoff.count());
      }
    }
    for (auto& r : batch) Complete(std::move(r));
    return true;
  }

  io_uring ring_{};
  unsigned inflight_ = 0;  // SQEs prepared and not yet reaped; <= kRingEntries
  std::deque<std::unique_ptr<Request>> pending_;
  std::vector<Request*> again_;
  std::vector<std::unique_ptr<Request>> inline_writes_;  // begun, done by the next Poll
  std::chrono::steady_clock::time_point inline_paused_until_{};
  bool inline_pause_logged_ = false;
};

// The calling thread's ring (LocalIoRing::AttachToThisThread), or null.
thread_local LocalRing* tls_ring = nullptr;

// Process-wide engines, created on first use and never destroyed (devices may be destroyed
// from their callbacks on engine threads; an immortal engine makes that safe).
Engine* SharedUringEngine() {
  static Engine* engine = [] {
    std::string why;
    Engine* e = UringEngine::Create(&why);
    if (e == nullptr) {
      spdlog::warn("io_uring unavailable ({}); file volumes use a {}-thread pread/pwrite pool", why,
                   kPoolThreads);
    }
    return e;
  }();
  return engine;
}

Engine* SharedThreadPoolEngine() {
  static Engine* engine = new ThreadPoolEngine();
  return engine;
}

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

FileIoEngine DefaultFileIoEngine() {
  return SharedUringEngine() != nullptr ? FileIoEngine::kUring : FileIoEngine::kThreadPool;
}

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

struct LocalIoRing::Impl {
  LocalRing ring;
};

std::unique_ptr<LocalIoRing> LocalIoRing::AttachToThisThread() {
  if (tls_ring != nullptr || SharedUringEngine() == nullptr) return nullptr;
  auto impl = std::make_unique<Impl>();
  std::string why;
  if (!impl->ring.Init(&why)) {
    spdlog::warn("no per-thread io_uring ring ({}); this thread uses the shared one", why);
    return nullptr;
  }
  tls_ring = &impl->ring;
  return std::unique_ptr<LocalIoRing>(new LocalIoRing(std::move(impl)));
}

LocalIoRing::LocalIoRing(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

LocalIoRing::~LocalIoRing() {
  impl_.reset();  // completes every request first; callbacks may still submit to this ring
  tls_ring = nullptr;
}

int LocalIoRing::fd() const { return impl_->ring.fd(); }
void LocalIoRing::Poll() { impl_->ring.Poll(); }
bool LocalIoRing::HasUnsubmitted() const { return impl_->ring.HasUnsubmitted(); }

Result<std::shared_ptr<BlockDevice>> OpenFileBlockDevice(const std::string& path) {
  return OpenFileBlockDevice(path, FileBlockDeviceOptions{});
}

}  // namespace scoria::volume
