#include "target/digest.h"

#include <isa-l/crc.h>

#include <algorithm>
#include <limits>

namespace scoria::target {

void Crc32cState::Update(std::span<const uint8_t> data) {
  // crc32_iscsi takes an int length; split huge buffers (never happens for one PDU, whose
  // segments are < 2^24 bytes, but keep the function total).
  const uint8_t* p = data.data();
  size_t left = data.size();
  while (left > 0) {
    size_t n = std::min<size_t>(left, std::numeric_limits<int>::max());
    reg_ = crc32_iscsi(const_cast<unsigned char*>(p), static_cast<int>(n), reg_);
    p += n;
    left -= n;
  }
}

uint32_t Crc32c(std::span<const uint8_t> data) {
  Crc32cState s;
  s.Update(data);
  return s.Finish();
}

}  // namespace scoria::target
