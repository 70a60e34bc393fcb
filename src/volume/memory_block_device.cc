// NewMemoryBlockDevice: a std::vector-backed BlockDevice that completes every call inline on
// the caller's thread. Thread-safe with a reader/writer lock over the whole buffer (reads run
// in parallel; writes, discards and zeroing are exclusive), which is fine for tests and for the
// null backend of benchmarks. Flush is a no-op: nothing survives the process anyway.
#include <algorithm>
#include <cstring>
#include <mutex>
#include <shared_mutex>
#include <vector>

#include "volume/block_device.h"
#include "volume/block_range.h"

namespace scoria::volume {
namespace {

class MemoryBlockDevice final : public BlockDevice {
 public:
  explicit MemoryBlockDevice(uint64_t size) : data_(size - size % 512) {}

  uint64_t Size() const override { return data_.size(); }
  Status Refresh() override { return Status::Ok(); }

  void Read(uint64_t offset, std::span<std::byte> buf, IoCallback done) override {
    Status st = CheckBlockRange(offset, buf.size(), Size(), BlockSize());
    if (st.ok() && !buf.empty()) {
      std::shared_lock lock(mu_);
      std::memcpy(buf.data(), data_.data() + offset, buf.size());
    }
    done(std::move(st));
  }

  void Write(uint64_t offset, std::span<const std::byte> buf, bool fua, IoCallback done) override {
    Status st = CheckBlockRange(offset, buf.size(), Size(), BlockSize());
    if (st.ok() && !buf.empty()) {
      std::unique_lock lock(mu_);
      std::memcpy(data_.data() + offset, buf.data(), buf.size());
    }
    done(std::move(st));
  }

  void Flush(IoCallback done) override { done(Status::Ok()); }

  void Discard(uint64_t offset, uint64_t length, IoCallback done) override {
    Zero(offset, length, std::move(done));
  }

  void WriteZeroes(uint64_t offset, uint64_t length, bool unmap, IoCallback done) override {
    Zero(offset, length, std::move(done));
  }

 private:
  void Zero(uint64_t offset, uint64_t length, IoCallback done) {
    Status st = CheckBlockRange(offset, length, Size(), BlockSize());
    if (st.ok()) {
      std::unique_lock lock(mu_);
      std::fill_n(data_.begin() + static_cast<std::ptrdiff_t>(offset), length, std::byte{0});
    }
    done(std::move(st));
  }

  std::shared_mutex mu_;
  std::vector<std::byte> data_;  // size fixed at construction; contents guarded by mu_
};

}  // namespace

std::shared_ptr<BlockDevice> NewMemoryBlockDevice(uint64_t size) {
  return std::make_shared<MemoryBlockDevice>(size);
}

}  // namespace scoria::volume
