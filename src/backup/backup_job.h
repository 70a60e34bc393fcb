// BackupJob: reads a volume's BlockDevice into the repository and writes its manifest
// (DESIGN.md "Backups"; format in docs/format/backup.md).
//
// State machine (one handler per state, BackupJob::Run drives it on the caller's thread):
//
//   kCreated --Run()--> kLocking --> kPlanning --> kTransferring --> kCommitting --> kDone
//                           |            |              |                 |
//                           +------------+--------------+-----------------+--> kFailed
//                                                       +--Cancel()--> kCancelled
//   kLocking       take a shared repository lock (Unavailable while a GC runs: retry later)
//   kPlanning      check device size and options; the parent's manifest must still exist;
//                  decide for each chunk index: hole, read, or "same as the parent"
//   kTransferring  read chunks (async, bounded in flight) -> workers: zero check, SHA-256,
//                  compare with the parent, existence check, zstd, Put; refresh the lock
//   kCommitting    store.Sync(), then write the manifest: the backup exists from here
//   kFailed / kCancelled  the lock is released; chunks already stored stay until a GC
//
// What is read (the `ranges` option):
//  - RangeMode::kAllocated (a full backup, or an incremental on a driver without changed-block
//    tracking, like `file`): `ranges` are the allocated ranges. Chunks that no range touches
//    are holes, never read; inside a touched chunk only the allocated sub-ranges are read and
//    the rest is zeroes. With a parent, each chunk read is hashed and compared with the
//    parent's entry at that index: equal means unchanged, recorded without compressing or
//    storing (Cinder's sha256file comparison, at chunk granularity).
//  - RangeMode::kChanged (an incremental with changed-block tracking): `ranges` are the
//    ranges changed since the parent. Touched chunks are read whole; every other chunk is
//    copied from the parent's manifest without reading (beyond the parent's end: a hole).
// An all-zero chunk is always recorded as a hole.
//
// Memory: at most max_inflight_chunks chunk buffers (+ one compression buffer per worker).
// Threading: Run() blocks its caller until the job ends; Cancel(), state() and progress() may
// be called from any thread. Device completions run on the device's threads and only hand the
// chunk to the workers. A job runs once.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "backup/job.h"
#include "backup/manifest.h"
#include "backup/repository.h"
#include "common/status.h"
#include "volume/block_device.h"

namespace scoria::backup {

enum class RangeMode { kAllocated, kChanged };

struct BackupJobOptions {
  std::string backup_id;  // required; names the manifest
  std::string volume_id;  // required
  // See "What is read". Sorted/merged/clipped by the job. Must be 512-aligned.
  std::vector<ByteRange> ranges;
  RangeMode range_mode = RangeMode::kAllocated;
  // The parent backup's manifest for an incremental, or null for a full backup. Its chunk size
  // must be the repository's; the job re-checks under its lock that the parent's manifest is
  // still in the repository (else FailedPrecondition: do a full backup).
  std::shared_ptr<const Manifest> parent;
  int workers = 2;              // hash + compress + store threads
  int max_inflight_chunks = 0;  // 0: 2 * workers + 1
  ProgressCallback progress;    // optional
};

struct BackupStats {
  uint64_t bytes_read = 0;  // read from the device
  uint64_t chunks_read = 0;
  uint64_t chunks_stored = 0;        // new chunk objects written
  uint64_t bytes_stored = 0;         // their size (compressed)
  uint64_t chunks_deduplicated = 0;  // already in the repository (another backup or volume)
  uint64_t chunks_unchanged = 0;     // same as the parent (compared, or taken without reading)
  uint64_t holes = 0;                // unallocated or all-zero chunks
};

class BackupJob {
 public:
  enum class State {
    kCreated,
    kLocking,
    kPlanning,
    kTransferring,
    kCommitting,
    kDone,
    kFailed,
    kCancelled
  };

  BackupJob(std::shared_ptr<Repository> repo, std::shared_ptr<volume::BlockDevice> device,
            BackupJobOptions options);
  ~BackupJob();
  BackupJob(const BackupJob&) = delete;
  BackupJob& operator=(const BackupJob&) = delete;

  // Runs the job to its end. The manifest written on success. Errors: InvalidArgument (bad
  // options: ids, misaligned ranges, chunk size differing from the parent's),
  // FailedPrecondition (parent gone; or cancelled, see IsCancelled), Unavailable (lock
  // conflict, store down), the device's or store's errors, each message naming the chunk and
  // volume offset it concerns. Calling Run twice fails with FailedPrecondition.
  [[nodiscard]] Result<Manifest> Run();
  // Asks the job to stop; Run returns CancelledStatus soon (in-flight chunks finish first).
  void Cancel();

  State state() const;
  Progress progress() const;
  BackupStats stats() const;  // meaningful once Run returned

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

const char* BackupJobStateName(BackupJob::State s);

}  // namespace scoria::backup
