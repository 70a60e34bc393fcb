// Reactor: one data-path thread with an epoll loop. It owns the connections handed to it;
// other threads talk to it only by posting closures (Post), which run on the reactor thread.
// This is the data path's threading rule (STYLE.md 6): each connection and each queue is owned
// by one thread, cross-thread work is a message.
//
// Each reactor thread also owns an I/O loop (volume::ThreadIoLoop, volume/io_loop.h; for file
// volumes an io_uring ring): file-device I/O its connections start is submitted once per loop
// iteration and completes on this thread, and page-cache reads complete inline. One
// iteration: epoll events -> posted closures -> I/O loop (submit, reap, callbacks) -> deferred
// work (AtIterationEnd, e.g. one send per connection).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace scoria::target {

class Reactor {
 public:
  // Called on the reactor thread with the epoll events of a registered fd.
  using Handler = std::function<void(uint32_t events)>;

  Reactor();
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

 private:
  void Loop();
  void RunPosted();

  int epfd_ = -1;
  int wakefd_ = -1;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::vector<std::function<void()>> posted_;  // GUARDED_BY(mu_)
  // fd -> handler; only touched on the reactor thread.
  std::vector<Handler> handlers_;
  std::vector<std::function<void()>> deferred_;  // reactor thread only
};

}  // namespace scoria::target
