// RestoreJob: writes a backup's manifest back into a BlockDevice, verifying every chunk.
//
// State machine (one handler per state, RestoreJob::Run drives it on the caller's thread):
//
//   kCreated --Run()--> kLocking --> kLoading --> kWriting --> kZeroingTail --> kFlushing --> kDone
//                          |            |            |              |               |
//                          +------------+------------+--------------+---------------+--> kFailed
//                                                    +--Cancel()--> kCancelled
//   kLocking      take a shared repository lock (a GC cannot remove chunks under us)
//   kLoading      load the manifest (the repository's copy); the device must be at least
//                 volume_size bytes (InvalidArgument otherwise, before any write)
//   kWriting      workers fetch + verify + decompress chunks, write them (async, bounded in
//                 flight); runs of holes become WriteZeroes(unmap) so restoring over an
//                 existing volume leaves none of its old data in the backup's range
//   kZeroingTail  a device larger than the backup: [volume_size, device size) is zeroed too
//                 (zero_beyond_backup, default true). Cinder leaves that tail as it was; we
//                 zero it so the result reads exactly as the backup + zeroes, and on thin or
//                 sparse devices zeroing with unmap costs next to nothing
//   kFlushing     Flush the device: the restore is durable when Run returns OK (intermediate
//                 flushes are started while writing, see flush_every_bytes)
//
// A chunk that is missing or fails verification stops the restore with NotFound / Internal
// naming the chunk index, its volume offset and the chunk id; the device then holds a partial
// restore (the caller marks the volume error, as Cinder does).
//
// Threading: as BackupJob: Run blocks its caller; Cancel/state/progress from any thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "backup/job.h"
#include "backup/manifest.h"
#include "backup/repository.h"
#include "common/status.h"
#include "volume/block_device.h"

namespace scoria::backup {

struct RestoreJobOptions {
  std::string backup_id;           // required: the manifest to restore
  bool zero_beyond_backup = true;  // see kZeroingTail
  int workers = 2;                 // fetch + verify + decompress threads
  int max_inflight_chunks = 0;     // 0: 2 * workers + 1
  ProgressCallback progress;       // optional; bytes of the backup's volume written or zeroed
  // Start a device Flush (without waiting) after each this many bytes written, so the
  // device's write-back overlaps fetching and verifying instead of all of it happening in the
  // final flush. 0: only the final flush.
  uint64_t flush_every_bytes = 256ull << 20;
};

struct RestoreStats {
  uint64_t chunks_written = 0;
  uint64_t bytes_written = 0;  // plaintext bytes written
  uint64_t bytes_fetched = 0;  // stored bytes read from the repository
  uint64_t hole_bytes = 0;     // zeroed holes (and the zeroed tail)
};

class RestoreJob {
 public:
  enum class State {
    kCreated,
    kLocking,
    kLoading,
    kWriting,
    kZeroingTail,
    kFlushing,
    kDone,
    kFailed,
    kCancelled
  };

  RestoreJob(std::shared_ptr<Repository> repo, std::shared_ptr<volume::BlockDevice> device,
             RestoreJobOptions options);
  ~RestoreJob();
  RestoreJob(const RestoreJob&) = delete;
  RestoreJob& operator=(const RestoreJob&) = delete;

  // Runs the restore to its end; returns the manifest restored. Errors: see above, plus
  // NotFound (no such backup), Unavailable (lock conflict; store down), the device's errors.
  [[nodiscard]] Result<Manifest> Run();
  void Cancel();

  State state() const;
  Progress progress() const;
  RestoreStats stats() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

const char* RestoreJobStateName(RestoreJob::State s);

}  // namespace scoria::backup
