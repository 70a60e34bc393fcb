// ThreadIoLoop: what an event-loop thread (the iSCSI target's reactors) hosts so that the
// BlockDevice I/O it starts completes on that same thread.
//
// Model: a thread that runs a loop attaches one ThreadIoLoop to itself. From then on, I/O of
// the devices that can use it (today: file volumes on the io_uring engine, drivers/file/
// file_block_device.h) *started on that thread* is queued on it instead of on the device's
// shared engine, and its `done` runs on that same thread, from Poll(): no lock, no completion
// thread, no cross-thread wake-up. Some I/O completes before the call that started it returns
// (a file read served by the page cache). I/O started on other threads (the control plane,
// backups, tests) is not affected. What is queued during one loop iteration goes to the
// kernel together, in the next Poll().
//
// The loop must watch fd() for readability (completions are waiting), call Poll() at the end
// of every iteration, and not sleep while HasUnsubmitted(). Destroy the ThreadIoLoop on its
// thread: the destructor first completes every request queued on it (running their `done`,
// which may start more I/O on it), then detaches it from the thread. A device destroyed on
// that thread while it has requests queued there polls the loop while it waits for them.
//
// Threading: every method, and the destructor, on the attaching thread only.
#pragma once

#include <memory>

namespace scoria::volume {

class ThreadIoLoop {
 public:
  // Completes every request queued on this loop (see the model), then detaches it.
  virtual ~ThreadIoLoop() = default;

  // Readable while completions wait for Poll(). Valid until destruction; owned by the loop.
  virtual int fd() const = 0;
  // Starts what was queued since the last Poll, reaps what completed and runs those `done`
  // callbacks; repeats while the callbacks start I/O that completes at once. Never blocks
  // waiting for a completion.
  virtual void Poll() = 0;
  // Requests are queued that only the next Poll() starts: the loop must not sleep.
  virtual bool HasUnsubmitted() const = 0;
};

// Attaches an I/O loop to the calling thread, which then owns it (see the model). Returns null
// when this thread already has one, or when the process has no io_uring (io_uring_queue_init
// fails under seccomp or kernel.io_uring_disabled; logged): the thread then keeps working,
// its devices complete on their shared engine's threads. Call it on the loop thread, before
// that thread starts I/O.
[[nodiscard]] std::unique_ptr<ThreadIoLoop> AttachIoLoopToThisThread();

}  // namespace scoria::volume
