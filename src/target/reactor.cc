#include "target/reactor.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

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
      // Copy: the handler may Remove itself (and so reset the slot) while running.
      if (static_cast<size_t>(fd) < handlers_.size() && handlers_[fd]) {
        Handler h = handlers_[fd];
        h(events[i].events);
      }
    }
    RunPosted();
    if (stop_) {
      RunPosted();
      break;
    }
  }
}

}  // namespace scoria::target
