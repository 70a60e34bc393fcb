#include "target/data_buffer.h"

#include <bit>
#include <mutex>
#include <vector>

namespace scoria::target {
namespace {

constexpr int kMinClassShift = 16;  // 64 KiB: smaller blocks come from malloc's bins
constexpr int kMaxClassShift = 24;  // 16 MiB: above the largest transfer a unit accepts
constexpr size_t kMaxPooledBytes = size_t{64} << 20;  // free blocks kept, all classes

class BlockPool {
 public:
  // A block of 1 << shift bytes, uninitialised.
  std::byte* Take(int shift) {
    {
      std::lock_guard lock(mu_);
      auto& list = free_[shift - kMinClassShift];
      if (!list.empty()) {
        std::byte* p = list.back();
        list.pop_back();
        free_bytes_ -= size_t{1} << shift;
        return p;
      }
    }
    return new std::byte[size_t{1} << shift];
  }
  void Give(int shift, std::byte* p) {
    {
      std::lock_guard lock(mu_);
      if (free_bytes_ + (size_t{1} << shift) <= kMaxPooledBytes) {
        free_[shift - kMinClassShift].push_back(p);
        free_bytes_ += size_t{1} << shift;
        return;
      }
    }
    delete[] p;
  }

 private:
  std::mutex mu_;
  std::vector<std::byte*> free_[kMaxClassShift - kMinClassShift + 1];  // GUARDED_BY(mu_)
  size_t free_bytes_ = 0;                                               // GUARDED_BY(mu_)
};

// Never destroyed: blocks may be released during static destruction.
BlockPool& Pool() {
  static BlockPool* pool = new BlockPool;
  return *pool;
}

}  // namespace

void DataBuffer::Allocate(size_t n) {
  size_ = n;
  if (n < (size_t{1} << kMinClassShift) || n > (size_t{1} << kMaxClassShift)) {
    bytes_ = n ? std::make_shared_for_overwrite<std::byte[]>(n) : nullptr;
    return;
  }
  const int shift = std::bit_width(n - 1);  // smallest class that holds n
  bytes_ = std::shared_ptr<std::byte[]>(Pool().Take(shift),
                                        [shift](std::byte* p) { Pool().Give(shift, p); });
}

}  // namespace scoria::target
