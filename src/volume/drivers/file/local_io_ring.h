// LocalRing: the file driver's ThreadIoLoop (volume/io_loop.h, whose model it implements), an
// io_uring ring owned by one event-loop thread (internal to the file driver).
//
// Single-threaded: only the owning thread submits, reaps and runs callbacks, so there is no
// lock. SQEs are only prepared by Submit and go to the kernel together in Poll (one
// io_uring_enter per loop iteration for everything the iteration started). Small page-aligned
// non-FUA writes skip the ring: Poll does them itself with pwritev2 (InlineWriteOk says why).
// FileBlockDevice finds the ring of the calling thread in `tls_ring`; the methods it calls per
// request are inline here, as they were when device and ring shared one file.
#pragma once

#include <liburing.h>

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "volume/drivers/file/file_io.h"
#include "volume/io_loop.h"

namespace scoria::volume::file_io {

class LocalRing final : public ThreadIoLoop {
 public:
  LocalRing() = default;
  // Completes every request (running callbacks, which may still submit here), closes the
  // ring and clears tls_ring.
  ~LocalRing() override;
  LocalRing(const LocalRing&) = delete;
  LocalRing& operator=(const LocalRing&) = delete;

  // Sets up the ring; false with the reason in `why` when the kernel refuses (the object may
  // then only be destroyed).
  bool Init(std::string* why) { return ready_ = InitRing(&ring_, 0, why); }

  int fd() const override { return ring_.ring_fd; }
  void Poll() override;
  bool HasUnsubmitted() const override {
    return io_uring_sq_ready(&ring_) > 0 || !inline_writes_.empty();
  }

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

  // Queues a begun request on the ring; the next Poll submits it.
  void Submit(std::unique_ptr<Request> r) {
    if (inflight_ >= kRingEntries) {
      pending_.push_back(std::move(r));  // issued by Poll as completions free slots
      return;
    }
    Prep(r.release());
  }

  // Waits up to `ms` for a completion, then polls.
  void WaitAndPoll(int ms);

 private:
  // Inline page-cache writes: at most this many bytes, page-aligned, so no write needs a read
  // of the block first.
  static constexpr uint64_t kMaxInlineWrite = 64 * 1024;
  static constexpr uint64_t kPageBytes = 4096;
  // After an inline write slept (dirty throttling, a lock, I/O), writes go through the ring
  // again for this long: the loop must not keep stalling every connection it serves.
  static constexpr std::chrono::seconds kInlineWriteBackoff{1};

  void Prep(Request* r) {
    PrepSqe(io_uring_get_sqe(&ring_), r);
    ++inflight_;
  }
  bool RunInlineWrites();

  io_uring ring_{};
  bool ready_ = false;  // ring_ was set up (and so must be torn down)
  unsigned inflight_ = 0;  // SQEs prepared and not yet reaped; <= kRingEntries
  std::deque<std::unique_ptr<Request>> pending_;
  std::vector<Request*> again_;
  std::vector<std::unique_ptr<Request>> inline_writes_;  // begun, done by the next Poll
  std::chrono::steady_clock::time_point inline_paused_until_{};
  bool inline_pause_logged_ = false;
};

// The calling thread's ring (set by AttachIoLoopToThisThread, cleared by ~LocalRing), or null.
inline constinit thread_local LocalRing* tls_ring = nullptr;

}  // namespace scoria::volume::file_io
