#include "target/reactor.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <memory>

#include "volume/io_loop.h"

namespace scoria::target {

Reactor::Reactor() {
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
  }
  if (wake) {
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
  }
  for (auto& fn : work) fn();
}

void Reactor::Loop() {
  // Null without io_uring: devices then complete on the shared engine and post back here.
  std::unique_ptr<volume::ThreadIoLoop> io_loop = volume::AttachIoLoopToThisThread();
  const int io_loop_fd = io_loop ? io_loop->fd() : -1;
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
  epoll_event events[64];
  while (true) {
    int n = ::epoll_wait(epfd_, events, 64, 1000);
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
