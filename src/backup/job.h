// What BackupJob and RestoreJob share: byte ranges, progress reports, cancellation status.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/status.h"

namespace scoria::backup {

// [offset, offset + length) of a volume. Same shape as volume::ByteRange (driver.h), kept
// here so this library needs only block_device.h from volume/.
struct ByteRange {
  uint64_t offset = 0;
  uint64_t length = 0;
  bool operator==(const ByteRange&) const = default;
};

// Sorted, merged copy of `ranges` clipped to [0, size); empty ranges dropped.
std::vector<ByteRange> NormalizeRanges(std::vector<ByteRange> ranges, uint64_t size);

struct Progress {
  uint64_t bytes_done = 0;   // volume bytes processed so far
  uint64_t bytes_total = 0;  // volume bytes the job will process (fixed once planning is done)
};
// Called from the job's threads (any of them, never two at once), after each chunk; must be
// cheap and must not call back into the job except Cancel().
using ProgressCallback = std::function<void(const Progress&)>;

// The Status a cancelled job returns: FailedPrecondition("<what> cancelled").
Status CancelledStatus(const std::string& what);
bool IsCancelled(const Status& s);

}  // namespace scoria::backup
