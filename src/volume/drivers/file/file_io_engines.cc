// The process-wide engines of file volumes: one io_uring ring with its completion thread, and
// the thread-pool fallback (model in file_block_device.h, request model in file_io.h). Both
// take requests from any thread; I/O started on an event-loop thread with a ThreadIoLoop goes
// to that thread's ring instead (local_io_ring.h).
#include <spdlog/spdlog.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

#include "volume/drivers/file/file_block_device.h"
#include "volume/drivers/file/file_io.h"

namespace scoria::volume {
namespace file_io {
namespace {

constexpr int kPoolThreads = 4;

// One ring, one completion thread; file_block_device.h says why all devices share it.
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

}  // namespace

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

}  // namespace file_io

FileIoEngine DefaultFileIoEngine() {
  return file_io::SharedUringEngine() != nullptr ? FileIoEngine::kUring : FileIoEngine::kThreadPool;
}

}  // namespace scoria::volume
