// ReadOnlyBlockDevice: a BlockDevice that forwards reads (and Flush, a no-op for data that
// cannot change) to another device and refuses every change. What VolumeDriver::OpenSnapshot
// hands out: a snapshot's bytes must not change once it is `available`.
#pragma once

#include <memory>
#include <utility>

#include "volume/block_device.h"

namespace scoria::volume {

class ReadOnlyBlockDevice final : public BlockDevice {
 public:
  explicit ReadOnlyBlockDevice(std::shared_ptr<BlockDevice> inner) : inner_(std::move(inner)) {}
  uint64_t Size() const override { return inner_->Size(); }
  uint32_t BlockSize() const override { return inner_->BlockSize(); }
  Status Refresh() override { return inner_->Refresh(); }
  void Read(uint64_t offset, std::span<std::byte> buf, IoCallback done) override {
    inner_->Read(offset, buf, std::move(done));
  }
  void Write(uint64_t, std::span<const std::byte>, bool, IoCallback done) override {
    done(Refused());
  }
  void Flush(IoCallback done) override { done(Status::Ok()); }
  void Discard(uint64_t, uint64_t, IoCallback done) override { done(Refused()); }
  void WriteZeroes(uint64_t, uint64_t, bool, IoCallback done) override { done(Refused()); }

 private:
  static Status Refused() { return FailedPrecondition("the device is read-only (a snapshot)"); }
  std::shared_ptr<BlockDevice> inner_;
};

}  // namespace scoria::volume
