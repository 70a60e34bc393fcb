// Reactor: one data-path thread with an epoll loop. It owns the connections handed to it;
// other threads talk to it only by posting closures (Post), which run on the reactor thread.
// This is the data path's threading rule (STYLE.md 6): each connection and each queue is owned
// by one thread, cross-thread work is a message.
//
// Each reactor thread also owns an I/O loop (volume::ThreadIoLoop, volume/io_loop.h; for file
// volumes an io_uring ring): file-device I/O its connections start is submitted once per loop
// iteration and completes on this thread, and page-cache reads complete inline. One
// iteration: wait (poll, then block) -> epoll events -> posted closures -> I/O loop (submit,
// reap, callbacks) -> deferred work (AtIterationEnd, e.g. one send per connection).
//
// Adaptive polling (QEMU's poll-max-ns idea, with a window per source as recent QEMU keeps
// one per handler): blocking in epoll_wait and being woken costs tens of µs on a VM, per I/O
// at queue depth 1. So before blocking, the reactor spins for a window, checking the posted
// queue (an atomic flag, no lock) and epoll_wait(..., 0). Each source (socket events, posted
// closures, the I/O loop) keeps its own window: when it fires after w since the wait began,
// its window is kept if w fitted, grows (4 µs, then doubling, up to poll_max) if w < poll_max,
// and halves if w > poll_max. The spin lasts the largest window. One window per source
// because at queue depth 1 over RBD the waits alternate: the initiator's next command comes
// tens of µs after our response, the device's completion hundreds of µs after the submit; a
// single window would be reset by every long wait and never catch the short ones. A wait in
// which nothing fires at all (the idle timeout, 1 s: an idle reactor) resets every window to
// 0, so an idle reactor never spins. While it spins, Post skips the eventfd write (the reactor
// re-checks the queue under the mutex before it blocks). Trade-off: CPU (up to poll_max per
// wait) for latency; poll_max 0 turns polling off.
#pragma once

#include <sys/epoll.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace scoria::target {

struct ReactorOptions {
  // Longest spin before blocking; 0 = never poll (block at once, as without polling).
  std::chrono::nanoseconds poll_max{std::chrono::microseconds(50)};
  // Blocking wait's timeout: a wait this long with nothing happening means idle.
  std::chrono::milliseconds idle_timeout{1000};
};

// Counters for tests and diagnostics (any thread; each value is read on its own).
struct ReactorStats {
  uint64_t blocking_waits = 0;  // epoll_wait calls with a timeout (the thread may sleep)
  uint64_t poll_hits = 0;       // waits that ended by polling, without blocking
  int64_t poll_window_ns = 0;   // the spin the next wait starts with
};

class Reactor {
 public:
  // Called on the reactor thread with the epoll events of a registered fd.
  using Handler = std::function<void(uint32_t events)>;

  explicit Reactor(ReactorOptions options = {});
  ~Reactor();
  Reactor(const Reactor&) = delete;
  Reactor& operator=(const Reactor&) = delete;

  void Start();
  // Runs posted work still queued, then stops the loop and joins the thread.
  void Stop();

  // Any thread. `fn` runs on the reactor thread, in posting order.
  void Post(std::function<void()> fn);

  // Reactor thread only.
  void Add(int fd, uint32_t events, Handler handler);
  void Modify(int fd, uint32_t events);
  void Remove(int fd);
  bool InThread() const { return std::this_thread::get_id() == thread_.get_id(); }
  // Reactor thread only: `fn` runs at the end of the current loop iteration, after the I/O
  // loop's completions (so a connection sends everything the iteration produced in one go).
  void AtIterationEnd(std::function<void()> fn) { deferred_.push_back(std::move(fn)); }

  // Any thread.
  ReactorStats Stats() const;

 private:
  // Event sources with a polling window of their own.
  enum Source { kSockets, kPosted, kIoLoop, kSourceCount };

  void Loop();
  void RunPosted();
  // Waits for events into `events` (capacity 64): spins for the current window, then blocks.
  int Wait(epoll_event* events);
  bool PostedPending() const { return posted_pending_.load(std::memory_order_acquire); }
  // After a wait of `waited` that ended with `fired` sources ready (bit per Source).
  void AdjustWindows(unsigned fired, std::chrono::nanoseconds waited);

  const ReactorOptions options_;
  int epfd_ = -1;
  int wakefd_ = -1;
  int io_loop_fd_ = -1;  // reactor thread only
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::vector<std::function<void()>> posted_;  // GUARDED_BY(mu_)
  // Mirrors !posted_.empty() (written under mu_), read without the lock while spinning.
  std::atomic<bool> posted_pending_{false};
  // True while the reactor spins: Post then need not write the eventfd (see Wait).
  std::atomic<bool> spinning_{false};
  // Polling windows, reactor thread only.
  std::chrono::nanoseconds window_[kSourceCount] = {};
  std::atomic<uint64_t> blocking_waits_{0};
  std::atomic<uint64_t> poll_hits_{0};
  std::atomic<int64_t> poll_window_ns_{0};
  // fd -> handler; only touched on the reactor thread.
  std::vector<Handler> handlers_;
  std::vector<std::function<void()>> deferred_;  // reactor thread only
};

}  // namespace scoria::target
