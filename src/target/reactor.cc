#include "target/reactor.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <memory>

#include "volume/io_loop.h"

namespace scoria::target {
namespace {

using Clock = std::chrono::steady_clock;
constexpr int kMaxEvents = 64;
// A window that starts growing starts here (QEMU starts at 4 µs too): a few epoll_wait(0)s.
constexpr std::chrono::nanoseconds kFirstWindow = std::chrono::microseconds(4);

}  // namespace

Reactor::Reactor(ReactorOptions options) : options_(options) {
  epfd_ = ::epoll_create1(EPOLL_CLOEXEC);
  wakefd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (epfd_ < 0 || wakefd_ < 0) std::abort();  // out of fds at start: nothing sensible to do
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = wakefd_;
  ::epoll_ctl(epfd_, EPOLL_CTL_ADD, wakefd_, &ev);
}

Reactor::~Reactor() {
  Stop();
  ::close(wakefd_);
  ::close(epfd_);
}

void Reactor::Start() { thread_ = std::thread([this] { Loop(); }); }

void Reactor::Stop() {
  if (!thread_.joinable()) return;
  stop_ = true;
  uint64_t one = 1;
  (void)!::write(wakefd_, &one, sizeof(one));
  thread_.join();
}

void Reactor::Post(std::function<void()> fn) {
  bool wake;
  {
    std::lock_guard lock(mu_);
    wake = posted_.empty();
    posted_.push_back(std::move(fn));
    posted_pending_.store(true, std::memory_order_release);
  }
  // A spinning reactor sees posted_pending_, and before it blocks it clears spinning_ and then
  // checks the queue under mu_: either that check comes after our push, or our lock came
  // after it and we read spinning_ == false here and write. No closure waits for the timeout.
  if (wake && !spinning_.load(std::memory_order_acquire)) {
    uint64_t one = 1;
    (void)!::write(wakefd_, &one, sizeof(one));
  }
}

void Reactor::Add(int fd, uint32_t events, Handler handler) {
  if (static_cast<size_t>(fd) >= handlers_.size()) handlers_.resize(fd + 64);
  handlers_[fd] = std::move(handler);
  epoll_event ev{};
  ev.events = events;
  ev.data.fd = fd;
  ::epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev);
}

void Reactor::Modify(int fd, uint32_t events) {
  epoll_event ev{};
  ev.events = events;
  ev.data.fd = fd;
  ::epoll_ctl(epfd_, EPOLL_CTL_MOD, fd, &ev);
}

void Reactor::Remove(int fd) {
  ::epoll_ctl(epfd_, EPOLL_CTL_DEL, fd, nullptr);
  if (static_cast<size_t>(fd) < handlers_.size()) handlers_[fd] = nullptr;
}

void Reactor::RunPosted() {
  std::vector<std::function<void()>> work;
  {
    std::lock_guard lock(mu_);
    work.swap(posted_);
    posted_pending_.store(false, std::memory_order_relaxed);
  }
  for (auto& fn : work) fn();
}

ReactorStats Reactor::Stats() const {
  ReactorStats s;
  s.blocking_waits = blocking_waits_.load(std::memory_order_relaxed);
  s.poll_hits = poll_hits_.load(std::memory_order_relaxed);
  s.poll_window_ns = poll_window_ns_.load(std::memory_order_relaxed);
  return s;
}

int Reactor::Wait(epoll_event* events) {
  const Clock::time_point start = Clock::now();
  const std::chrono::nanoseconds window = *std::max_element(window_, window_ + kSourceCount);
  int n = 0;
  bool polled = false;
  if (window.count() > 0) {
    spinning_.store(true, std::memory_order_release);
    const Clock::time_point deadline = start + window;
    do {
      if (PostedPending()) {
        polled = true;
        break;
      }
      n = ::epoll_wait(epfd_, events, kMaxEvents, 0);
      if (n != 0) {
        polled = n > 0;
        break;
      }
    } while (Clock::now() < deadline && !stop_.load(std::memory_order_relaxed));
    spinning_.store(false, std::memory_order_release);
    if (!polled && n == 0) {
      // Post skipped the eventfd while we spun: what it queued must not wait for a wake-up.
      std::lock_guard lock(mu_);
      polled = !posted_.empty();
    }
  }
  bool idle = false;
  if (polled) {
    poll_hits_.fetch_add(1, std::memory_order_relaxed);
  } else if (n == 0) {
    blocking_waits_.fetch_add(1, std::memory_order_relaxed);
    n = ::epoll_wait(epfd_, events, kMaxEvents, static_cast<int>(options_.idle_timeout.count()));
    idle = n == 0;
  }
  const int wait_errno = errno;  // for the caller, when n < 0
  if (options_.poll_max.count() > 0) {
    unsigned fired = PostedPending() ? 1u << kPosted : 0u;
    for (int i = 0; i < n; ++i) {
      const int fd = events[i].data.fd;
      fired |= 1u << (fd == wakefd_ ? kPosted : fd == io_loop_fd_ ? kIoLoop : kSockets);
    }
    if (idle) {
      std::fill(window_, window_ + kSourceCount, std::chrono::nanoseconds(0));
    } else {
      AdjustWindows(fired, Clock::now() - start);
    }
    poll_window_ns_.store(std::max_element(window_, window_ + kSourceCount)->count(),
                          std::memory_order_relaxed);
  }
  errno = wait_errno;
  return n;
}

void Reactor::AdjustWindows(unsigned fired, std::chrono::nanoseconds waited) {
  for (int s = 0; s < kSourceCount; ++s) {
    if (!(fired & (1u << s))) continue;  // a source that did not fire says nothing
    std::chrono::nanoseconds& w = window_[s];
    if (waited <= w) continue;  // the window caught it: keep it
    if (waited > options_.poll_max) {
      // Too long to poll for: the source is slow now (a device round trip, a quiet initiator).
      w /= 2;
      if (w < kFirstWindow) w = std::chrono::nanoseconds(0);
    } else {
      // Would have been caught by a longer window within the limit.
      w = std::min<std::chrono::nanoseconds>(w.count() == 0 ? kFirstWindow : 2 * w,
                                             options_.poll_max);
    }
  }
}

void Reactor::Loop() {
  // Null without io_uring: devices then complete on the shared engine and post back here.
  std::unique_ptr<volume::ThreadIoLoop> io_loop = volume::AttachIoLoopToThisThread();
  const int io_loop_fd = io_loop ? io_loop->fd() : -1;
  io_loop_fd_ = io_loop_fd;
  if (io_loop) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = io_loop_fd;
    ::epoll_ctl(epfd_, EPOLL_CTL_ADD, io_loop_fd, &ev);
  }
  auto finish_iteration = [&] {
    // Deferred work may start I/O and completions may defer work: run both until quiet.
    do {
      if (io_loop) io_loop->Poll();
      std::vector<std::function<void()>> work;
      work.swap(deferred_);
      for (auto& fn : work) fn();
    } while (!deferred_.empty() || (io_loop && io_loop->HasUnsubmitted()));
  };
  epoll_event events[kMaxEvents];
  while (true) {
    int n = Wait(events);
    if (n < 0 && errno != EINTR) break;
    for (int i = 0; i < n; ++i) {
      int fd = events[i].data.fd;
      if (fd == wakefd_) {
        uint64_t v;
        (void)!::read(wakefd_, &v, sizeof(v));
        continue;
      }
      if (fd == io_loop_fd) continue;  // completions: reaped below
      // Copy: the handler may Remove itself (and so reset the slot) while running.
      if (static_cast<size_t>(fd) < handlers_.size() && handlers_[fd]) {
        Handler h = handlers_[fd];
        h(events[i].events);
      }
    }
    RunPosted();
    finish_iteration();
    if (stop_) {
      RunPosted();
      finish_iteration();
      break;
    }
  }
  if (io_loop) ::epoll_ctl(epfd_, EPOLL_CTL_DEL, io_loop_fd, nullptr);
  io_loop.reset();  // completes what is still in flight, on this thread
  deferred_.clear();
}

}  // namespace scoria::target
