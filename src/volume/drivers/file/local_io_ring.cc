// LocalRing, the file driver's ThreadIoLoop, and AttachIoLoopToThisThread (volume/io_loop.h).
// Model in local_io_ring.h.
#include "volume/drivers/file/local_io_ring.h"

#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <sys/uio.h>

#include <cerrno>
#include <system_error>

namespace scoria::volume {
namespace file_io {

LocalRing::~LocalRing() {
  // A ring whose Init failed was never set up (or InitRing already tore it down): exiting it
  // would close descriptor 0 or the same descriptor twice.
  if (!ready_) return;
  while (inflight_ > 0 || !pending_.empty() || !inline_writes_.empty()) WaitAndPoll(1000);
  io_uring_queue_exit(&ring_);
  tls_ring = nullptr;
}

// Submits what is prepared, reaps every completion available, resubmits short transfers and
// runs callbacks; repeats while callbacks start more I/O that completes at once.
void LocalRing::Poll() {
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

void LocalRing::WaitAndPoll(int ms) {
  Poll();
  if (inflight_ == 0) return;
  __kernel_timespec ts{ms / 1000, (ms % 1000) * 1000000LL};
  io_uring_cqe* cqe = nullptr;
  (void)io_uring_wait_cqe_timeout(&ring_, &cqe, &ts);
  Poll();
}

// Does the queued inline writes, then runs their callbacks. Returns whether there were any.
// A write that made this thread sleep (a voluntary context switch: balance_dirty_pages
// throttling, a page or journal lock, a read) pauses inline writes for kInlineWriteBackoff;
// one getrusage per batch tells, which is cheaper than timing each write and is not fooled
// by preemption or a stolen vCPU.
bool LocalRing::RunInlineWrites() {
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

}  // namespace file_io

std::unique_ptr<ThreadIoLoop> AttachIoLoopToThisThread() {
  if (file_io::tls_ring != nullptr || file_io::SharedUringEngine() == nullptr) return nullptr;
  auto ring = std::make_unique<file_io::LocalRing>();
  std::string why;
  if (!ring->Init(&why)) {
    spdlog::warn("no per-thread io_uring ring ({}); this thread uses the shared one", why);
    return nullptr;
  }
  file_io::tls_ring = ring.get();
  return ring;
}

}  // namespace scoria::volume
