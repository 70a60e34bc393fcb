// CheckBlockRange: the argument check every BlockDevice does before any I/O (block_device.h:
// offsets and lengths are multiples of the block size, and the range lies inside Size()).
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"

namespace scoria::volume {

// InvalidArgument when offset or length is not a multiple of block_size, or when
// [offset, offset + length) does not fit in [0, size). Overflow-safe. A zero length at
// offset <= size is valid (a no-op).
inline Status CheckBlockRange(uint64_t offset, uint64_t length, uint64_t size,
                              uint32_t block_size) {
  if (offset % block_size != 0 || length % block_size != 0) {
    return InvalidArgument("I/O range " + std::to_string(offset) + "+" + std::to_string(length) +
                           " is not aligned to " + std::to_string(block_size) + " bytes");
  }
  if (offset > size || length > size - offset) {
    return InvalidArgument("I/O range " + std::to_string(offset) + "+" + std::to_string(length) +
                           " is beyond the device size " + std::to_string(size));
  }
  return Status::Ok();
}

}  // namespace scoria::volume
