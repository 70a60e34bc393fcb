// BlockDevice: a volume's bytes, as the iSCSI target and the backup service see them
// (DESIGN.md "Interfaces"). Every driver's volume opens as one.
//
// Model: asynchronous byte-addressed I/O. Offsets and lengths are multiples of BlockSize()
// (callers validate against Size() first; an out-of-range request fails with
// InvalidArgument). Each call completes exactly once by calling `done` with the outcome, on
// an unspecified thread (an implementation's completion thread, or the caller's thread for an
// immediate failure, or for I/O the implementation could finish at once, e.g. a file read
// from the page cache on a thread with a volume::ThreadIoLoop), possibly before the call
// returns, so `done` must be cheap and thread-safe: the target posts it back to the
// connection's own thread when it runs elsewhere. Buffers must stay valid until `done` runs.
//
// Durability: a Write completes when the device has the data; it survives a crash only after a
// later Flush completes, or at once when `fua` is set. Nothing acknowledged by a completed
// Flush/FUA write is lost.
//
// Threading: all methods may be called from any thread, concurrently.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>

#include "common/status.h"

namespace scoria::volume {

using IoCallback = std::function<void(Status)>;

class BlockDevice {
 public:
  virtual ~BlockDevice() = default;
  // Current size in bytes; Refresh() re-reads it after an online extend.
  virtual uint64_t Size() const = 0;
  virtual uint32_t BlockSize() const { return 512; }
  virtual Status Refresh() = 0;

  virtual void Read(uint64_t offset, std::span<std::byte> buf, IoCallback done) = 0;
  virtual void Write(uint64_t offset, std::span<const std::byte> buf, bool fua,
                     IoCallback done) = 0;
  virtual void Flush(IoCallback done) = 0;
  // The range reads back as zeroes afterwards; space may be released (thin).
  virtual void Discard(uint64_t offset, uint64_t length, IoCallback done) = 0;
  // The range reads back as zeroes afterwards; space stays allocated unless `unmap`.
  virtual void WriteZeroes(uint64_t offset, uint64_t length, bool unmap, IoCallback done) = 0;
};

// Opens a raw file (the `file` driver's volumes) as a BlockDevice doing io_uring I/O.
// NotFound when the file does not exist.
Result<std::shared_ptr<BlockDevice>> OpenFileBlockDevice(const std::string& path);

// A BlockDevice in memory (tests, and the null backend of benchmarks).
std::shared_ptr<BlockDevice> NewMemoryBlockDevice(uint64_t size);

}  // namespace scoria::volume
