#include "volume/gated_block_device.h"

#include <future>

namespace scoria::volume {

GatedBlockDevice::GatedBlockDevice(std::shared_ptr<BlockDevice> inner) : inner_(std::move(inner)) {}

IoCallback GatedBlockDevice::Track(IoCallback done) {
  // The completion keeps the gate alive: the inner device may complete after the last
  // outside reference to the gate is gone.
  return [self = shared_from_this(), done = std::move(done)](Status st) {
    // Decrement before calling `done`: the caller may issue new I/O from inside it.
    {
      std::lock_guard lock(self->mu_);
      if (--self->in_flight_ == 0) self->drained_.notify_all();
    }
    done(std::move(st));
  };
}

void GatedBlockDevice::Submit(std::function<void(IoCallback)> op, IoCallback done) {
  std::unique_lock lock(mu_);
  if (closed_) {
    queue_.push_back([this, op = std::move(op), done = std::move(done)]() mutable {
      Submit(std::move(op), std::move(done));
    });
    return;
  }
  ++in_flight_;
  lock.unlock();
  op(Track(std::move(done)));
}

void GatedBlockDevice::Read(uint64_t offset, std::span<std::byte> buf, IoCallback done) {
  Submit([this, offset, buf](IoCallback cb) { inner_->Read(offset, buf, std::move(cb)); },
         std::move(done));
}

void GatedBlockDevice::Write(uint64_t offset, std::span<const std::byte> buf, bool fua,
                             IoCallback done) {
  Submit(
      [this, offset, buf, fua](IoCallback cb) { inner_->Write(offset, buf, fua, std::move(cb)); },
      std::move(done));
}

void GatedBlockDevice::Flush(IoCallback done) {
  Submit([this](IoCallback cb) { inner_->Flush(std::move(cb)); }, std::move(done));
}

void GatedBlockDevice::Discard(uint64_t offset, uint64_t length, IoCallback done) {
  Submit([this, offset, length](IoCallback cb) { inner_->Discard(offset, length, std::move(cb)); },
         std::move(done));
}

void GatedBlockDevice::WriteZeroes(uint64_t offset, uint64_t length, bool unmap, IoCallback done) {
  Submit([this, offset, length,
          unmap](IoCallback cb) { inner_->WriteZeroes(offset, length, unmap, std::move(cb)); },
         std::move(done));
}

Status GatedBlockDevice::Quiesce() {
  {
    std::unique_lock lock(mu_);
    closed_ = true;
    drained_.wait(lock, [this] { return in_flight_ == 0; });
  }
  // Writes acknowledged so far may sit in the page cache: make them reach the file (the copy
  // reads the file) and the disk.
  std::promise<Status> flushed;
  inner_->Flush([&flushed](Status st) { flushed.set_value(std::move(st)); });
  return flushed.get_future().get();
}

void GatedBlockDevice::Release() {
  std::deque<std::function<void()>> queued;
  {
    std::lock_guard lock(mu_);
    if (!closed_) return;
    closed_ = false;
    queued.swap(queue_);
  }
  for (auto& op : queued) op();
}

size_t GatedBlockDevice::queued() const {
  std::lock_guard lock(mu_);
  return queue_.size();
}

size_t GatedBlockDevice::in_flight() const {
  std::lock_guard lock(mu_);
  return in_flight_;
}

}  // namespace scoria::volume
