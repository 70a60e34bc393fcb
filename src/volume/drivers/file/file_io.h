// The request model shared by FileBlockDevice and its I/O engines (internal to the file
// driver; the model of the device is in file_block_device.h).
//
// A request is a heap object that moves through: device (range check, Begin) -> engine
// (one SQE or one syscall per piece) -> Advance() after each OS result (resubmit the remainder
// or finish) -> Complete() (call `done`, then End). Advance() is shared by every engine so
// short transfers, EOF, EOPNOTSUPP fallbacks and errno mapping behave identically.
//
// Engines: the process-wide io_uring engine and thread pool (file_io_engines.cc, behind
// Engine), and the per-thread ring of an event-loop thread (local_io_ring.h).
#pragma once

#include <liburing.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/status.h"
#include "volume/block_device.h"

namespace scoria::volume::file_io {

constexpr unsigned kRingEntries = 256;      // SQ depth; also the cap on SQEs in flight (CQ is 2x)
constexpr uint64_t kMaxChunk = 1ull << 30;  // per SQE/syscall: nbytes is 32-bit, Linux caps rw
constexpr size_t kZeroChunk = 1 << 20;
extern const std::byte kZeroes[kZeroChunk];  // the source of zero-fill writes

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
inline constinit thread_local int tls_callback_depth = 0;

// The open file, shared by a device and its in-flight requests, so the fd outlives a device
// destroyed from a completion callback.
struct FileState {
  ~FileState();
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

// An OS error as the device reports it (the mapping is in file_block_device.h).
Status ErrnoStatus(int err, const std::string& what);

// Size in bytes of the next piece of a transfer.
inline uint64_t PieceLength(const Request& r) {
  uint64_t left = r.length - r.done_bytes;
  return std::min<uint64_t>(left, r.op == Op::kZeroWrite ? kZeroChunk : kMaxChunk);
}

// Feeds one OS result (bytes, or -errno) into `r`. Returns true when `r` is finished
// (r.status set), false when the next piece must be issued.
bool Advance(Request& r, int64_t res);

// Calls `done` and retires the request. `done` and everything it captured are destroyed
// before End(), so a destructor waiting for in-flight I/O sees no callback state survive it.
void Complete(std::unique_ptr<Request> r);

// Fills `sqe` with the next piece of `r` (user_data = r).
void PrepSqe(io_uring_sqe* sqe, Request* r);

// Creates a ring of kRingEntries and checks it has every opcode we use. On failure returns
// false with the reason in `why` and leaves `ring` uninitialised.
bool InitRing(io_uring* ring, unsigned flags, std::string* why);

// Takes up to 64 CQEs off `ring` and feeds each result to its request: finished ones go to
// `finished`, ones with a piece left to `again`. Returns how many CQEs were consumed.
inline unsigned ReapBatch(io_uring* ring, std::vector<std::unique_ptr<Request>>* finished,
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

// A process-wide engine: takes a begun request (r->file set, Begin called) and completes it on
// one of its own threads. Any thread may submit.
class Engine {
 public:
  virtual ~Engine() = default;
  virtual void Submit(std::unique_ptr<Request> r) = 0;
};

// The engines, created on first use and never destroyed (devices may be destroyed from their
// callbacks on engine threads; an immortal engine makes that safe). SharedUringEngine() is
// null when io_uring does not work in this process (probed once, logged).
Engine* SharedUringEngine();
Engine* SharedThreadPoolEngine();

}  // namespace scoria::volume::file_io
