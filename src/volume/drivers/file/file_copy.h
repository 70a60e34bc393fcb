// Copying raw image files the cheap way, for the file driver's snapshots and clones.
//
// CopyImage makes `dst` a durable copy of `src`: first as a reflink (ioctl FICLONE: the two
// files share extents until either is written; XFS with reflink=1, btrfs), else as a sparse
// copy that reads only the allocated ranges (lseek SEEK_DATA/SEEK_HOLE) and copies them with
// copy_file_range, leaving holes as holes. The copy is written to a temporary name next to
// `dst` (`tmp-<dst name>`), fsynced, renamed over `dst`, and the directory is fsynced: `dst`
// never holds a partial copy, and a crash mid-way leaves only the temporary file, which the
// next run truncates and rewrites. That is what makes the driver's snapshot steps idempotent.
//
// Threading: no shared state; concurrent calls on different files are fine.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/status.h"
#include "volume/driver.h"

namespace scoria::volume {

// Owns a file descriptor (closed on destruction; -1 holds nothing).
class UniqueFd {
 public:
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd();
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

enum class CopyMethod { kReflink, kSparseCopy };
const char* CopyMethodName(CopyMethod m);

struct CopyResult {
  CopyMethod method = CopyMethod::kSparseCopy;
  uint64_t bytes_copied = 0;  // data bytes read and written (0 for a reflink)
  uint64_t ranges = 0;        // allocated ranges copied (0 for a reflink)
};

struct CopyOptions {
  // The copy's size: at least the source's (a larger size extends it with a hole).
  uint64_t min_size = 0;
  // Keep dst's current size if it exists and is larger (revert of an extended volume).
  bool keep_larger_dst_size = false;
  // Never try FICLONE (tests of the sparse path on a filesystem that reflinks).
  bool no_reflink = false;
  // Called as a sparse copy advances (at most every kCopyStep bytes): data bytes copied of
  // the data bytes to copy. Not called for a reflink.
  std::function<void(uint64_t done, uint64_t total)> progress;
};

// A sparse copy moves data in pieces of at most this size (progress granularity).
inline constexpr uint64_t kCopyStep = 64ULL << 20;

// Errors: NotFound when src is missing; ResourceExhausted on ENOSPC/EDQUOT; Internal else.
Result<CopyResult> CopyImage(const std::string& src, const std::string& dst,
                             const CopyOptions& options = {});

// The data ranges of the file at `path` (SEEK_DATA/SEEK_HOLE), widened to 512-byte
// boundaries and clipped to the file's size. A filesystem without SEEK_DATA reports the whole
// file as one range. NotFound when the file is missing.
Result<std::vector<ByteRange>> FileDataRanges(const std::string& path);

// fsync of a directory (after creating, renaming or removing entries in it).
Status SyncDirectory(const std::string& dir);

// errno -> Status with the driver's mapping (ENOSPC/EDQUOT: ResourceExhausted, ENOENT:
// NotFound, EIO/ESTALE/ETIMEDOUT: Unavailable, else Internal).
Status ErrnoStatus(const std::string& what, int err);

}  // namespace scoria::volume
