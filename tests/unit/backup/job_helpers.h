// Short forms of the jobs for tests.
#pragma once

#include <memory>

#include "backup/backup_job.h"
#include "backup/repository.h"
#include "backup/restore_job.h"
#include "test_util.h"

namespace scoria::backup::testing {

inline constexpr uint32_t kTestChunk = 64 * 1024;  // many chunks in small devices

inline std::shared_ptr<Repository> MakeRepo(std::shared_ptr<BackupStore> store,
                                            RepositoryOptions o = {}) {
  if (o.chunk_size == kDefaultChunkSize) o.chunk_size = kTestChunk;
  auto r = Repository::Open(std::move(store), o);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : nullptr;
}

inline std::vector<ByteRange> Whole(const volume::BlockDevice& d) { return {{0, d.Size()}}; }

inline Result<Manifest> Backup(std::shared_ptr<Repository> repo,
                               std::shared_ptr<volume::BlockDevice> dev, const std::string& id,
                               std::vector<ByteRange> ranges,
                               std::shared_ptr<const Manifest> parent = nullptr,
                               RangeMode mode = RangeMode::kAllocated, BackupStats* stats = nullptr,
                               const std::string& volume = "vol-1") {
  BackupJobOptions o;
  o.backup_id = id;
  o.volume_id = volume;
  o.ranges = std::move(ranges);
  o.parent = std::move(parent);
  o.range_mode = mode;
  BackupJob job(std::move(repo), std::move(dev), std::move(o));
  Result<Manifest> r = job.Run();
  if (stats) *stats = job.stats();
  return r;
}

inline Result<Manifest> Restore(std::shared_ptr<Repository> repo,
                                std::shared_ptr<volume::BlockDevice> dev, const std::string& id,
                                bool zero_tail = true, RestoreStats* stats = nullptr) {
  RestoreJobOptions o;
  o.backup_id = id;
  o.zero_beyond_backup = zero_tail;
  RestoreJob job(std::move(repo), std::move(dev), std::move(o));
  Result<Manifest> r = job.Run();
  if (stats) *stats = job.stats();
  return r;
}

}  // namespace scoria::backup::testing
