// GatedBlockDevice: a BlockDevice wrapper that can stop new I/O for a moment, so that a
// snapshot (or clone) of an exported volume holds every write acknowledged before it.
//
// Model: I/O passes straight through while the gate is open. Quiesce() closes the gate: new
// requests are queued (not failed, not reordered among themselves), the requests already in
// flight are waited for, then the inner device is flushed; when it returns OK, every write
// that any initiator saw acknowledged is on the inner device and durable, and nothing new
// reaches it. Release() opens the gate and issues the queued requests in arrival order.
// Initiators see a short latency bump, never an error.
//
//   open --Quiesce()--> holding (queue new I/O) --in-flight == 0, Flush ok--> quiesced
//   quiesced/holding --Release()--> open (queued I/O issued)
//   holding --Flush failed--> Quiesce() returns the error; the gate stays closed until Release
//
// Quiesce/Release pairs are not nested: one control thread (the volume's task, tasks of one
// volume run in order) owns the gate at a time; QuiesceScope releases on every path.
//
// Threading: I/O methods from any thread, concurrently (as BlockDevice); Quiesce blocks its
// caller (a control-plane thread, never an I/O thread: it waits for I/O completions).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>

#include "volume/block_device.h"

namespace scoria::volume {

class GatedBlockDevice final : public BlockDevice,
                               public std::enable_shared_from_this<GatedBlockDevice> {
 public:
  explicit GatedBlockDevice(std::shared_ptr<BlockDevice> inner);

  uint64_t Size() const override { return inner_->Size(); }
  uint32_t BlockSize() const override { return inner_->BlockSize(); }
  Status Refresh() override { return inner_->Refresh(); }
  void Read(uint64_t offset, std::span<std::byte> buf, IoCallback done) override;
  void Write(uint64_t offset, std::span<const std::byte> buf, bool fua, IoCallback done) override;
  void Flush(IoCallback done) override;
  void Discard(uint64_t offset, uint64_t length, IoCallback done) override;
  void WriteZeroes(uint64_t offset, uint64_t length, bool unmap, IoCallback done) override;

  // Closes the gate, waits for in-flight I/O, flushes the inner device. See the model above.
  [[nodiscard]] Status Quiesce();
  // Opens the gate and issues what was queued meanwhile. A no-op when open.
  void Release();

  // Observability for tests.
  size_t queued() const;
  size_t in_flight() const;

 private:
  // Runs `op` now (counting it in flight) or queues it while the gate is closed. `op` receives
  // the completion to hand to the inner device.
  void Submit(std::function<void(IoCallback)> op, IoCallback done);
  IoCallback Track(IoCallback done);

  const std::shared_ptr<BlockDevice> inner_;
  mutable std::mutex mu_;
  std::condition_variable drained_;
  bool closed_ = false;                      // GUARDED_BY(mu_)
  size_t in_flight_ = 0;                     // GUARDED_BY(mu_)
  std::deque<std::function<void()>> queue_;  // GUARDED_BY(mu_)
};

// Quiesces on construction (status()), releases on destruction.
class QuiesceScope {
 public:
  explicit QuiesceScope(GatedBlockDevice* gate) : gate_(gate) {
    if (gate_ != nullptr) status_ = gate_->Quiesce();
  }
  ~QuiesceScope() {
    if (gate_ != nullptr) gate_->Release();
  }
  QuiesceScope(const QuiesceScope&) = delete;
  QuiesceScope& operator=(const QuiesceScope&) = delete;
  const Status& status() const { return status_; }

 private:
  GatedBlockDevice* gate_;
  Status status_;
};

}  // namespace scoria::volume
