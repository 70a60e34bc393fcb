#include "volume/drivers/file/file_copy.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

namespace scoria::volume {
namespace {

constexpr uint64_t kSector = 512;

// Data ranges of an open file, raw (not aligned).
Result<std::vector<ByteRange>> DataRanges(int fd, uint64_t size, const std::string& path) {
  std::vector<ByteRange> out;
  off_t pos = 0;
  while (static_cast<uint64_t>(pos) < size) {
    off_t data = ::lseek(fd, pos, SEEK_DATA);
    if (data < 0) {
      if (errno == ENXIO) break;  // no data after pos
      if (errno == EINVAL || errno == EOPNOTSUPP) {
        // No SEEK_DATA on this filesystem: everything is worth reading.
        out.clear();
        if (size > 0) out.push_back({0, size});
        return out;
      }
      return ErrnoStatus("seek data in " + path, errno);
    }
    off_t hole = ::lseek(fd, data, SEEK_HOLE);
    if (hole < 0) return ErrnoStatus("seek hole in " + path, errno);
    const uint64_t end = std::min<uint64_t>(static_cast<uint64_t>(hole), size);
    if (end > static_cast<uint64_t>(data)) {
      out.push_back({static_cast<uint64_t>(data), end - static_cast<uint64_t>(data)});
    }
    pos = hole;
  }
  return out;
}

Status CopyRange(int in, int out, uint64_t offset, uint64_t length, const std::string& src) {
  loff_t off_in = static_cast<loff_t>(offset), off_out = static_cast<loff_t>(offset);
  uint64_t left = length;
  bool fallback = false;
  std::vector<char> buf;
  while (left > 0) {
    const size_t chunk = static_cast<size_t>(std::min<uint64_t>(left, 64ULL << 20));
    ssize_t n = -1;
    if (!fallback) {
      n = ::copy_file_range(in, &off_in, out, &off_out, chunk, 0);
      if (n < 0 && (errno == EXDEV || errno == ENOSYS || errno == EOPNOTSUPP || errno == EINVAL)) {
        fallback = true;  // across filesystems or unsupported: plain reads and writes
        continue;
      }
    } else {
      buf.resize(std::min<size_t>(chunk, 1 << 20));
      n = ::pread(in, buf.data(), buf.size(), off_in);
      if (n > 0) {
        ssize_t w = 0;
        while (w < n) {
          ssize_t k = ::pwrite(out, buf.data() + w, static_cast<size_t>(n - w), off_out + w);
          if (k < 0) {
            if (errno == EINTR) continue;
            return ErrnoStatus("write copy of " + src, errno);
          }
          w += k;
        }
        off_in += n;
        off_out += n;
      }
    }
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("copy " + src, errno);
    }
    if (n == 0) break;  // source shrank meanwhile: the rest stays a hole
    left -= static_cast<uint64_t>(n);
  }
  return Status::Ok();
}

}  // namespace

UniqueFd::~UniqueFd() {
  if (fd_ >= 0) ::close(fd_);
}

Status ErrnoStatus(const std::string& what, int err) {
  std::string msg = what + ": " + std::strerror(err);
  if (err == ENOSPC || err == EDQUOT) return ResourceExhausted(msg);
  if (err == ENOENT) return NotFound(msg);
  if (err == EIO || err == ESTALE || err == ETIMEDOUT) return Unavailable(msg);
  return Internal(msg);
}

const char* CopyMethodName(CopyMethod m) {
  return m == CopyMethod::kReflink ? "reflink" : "sparse copy";
}

Status SyncDirectory(const std::string& dir) {
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) return ErrnoStatus("open " + dir, errno);
  if (::fsync(fd.get()) != 0) return ErrnoStatus("fsync " + dir, errno);
  return Status::Ok();
}

Result<std::vector<ByteRange>> FileDataRanges(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return ErrnoStatus("open " + path, errno);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return ErrnoStatus("stat " + path, errno);
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  ASSIGN_OR_RETURN(auto raw, DataRanges(fd.get(), size, path));
  std::vector<ByteRange> out;
  for (const ByteRange& r : raw) {
    uint64_t b = r.offset / kSector * kSector;
    uint64_t e = std::min(size, (r.offset + r.length + kSector - 1) / kSector * kSector);
    if (!out.empty() && b <= out.back().offset + out.back().length) {
      out.back().length = std::max(out.back().offset + out.back().length, e) - out.back().offset;
    } else {
      out.push_back({b, e - b});
    }
  }
  return out;
}

Result<CopyResult> CopyImage(const std::string& src, const std::string& dst,
                             const CopyOptions& options) {
  const std::filesystem::path dst_path(dst);
  const std::string dir = dst_path.parent_path().string();
  const std::string tmp = (dst_path.parent_path() / ("tmp-" + dst_path.filename().string()));

  UniqueFd in(::open(src.c_str(), O_RDONLY | O_CLOEXEC));
  if (in.get() < 0) return ErrnoStatus("open " + src, errno);
  struct stat src_st {};
  if (::fstat(in.get(), &src_st) != 0) return ErrnoStatus("stat " + src, errno);
  uint64_t size = std::max<uint64_t>(static_cast<uint64_t>(src_st.st_size), options.min_size);
  if (options.keep_larger_dst_size) {
    struct stat dst_st {};
    if (::stat(dst.c_str(), &dst_st) == 0) {
      size = std::max<uint64_t>(size, static_cast<uint64_t>(dst_st.st_size));
    }
  }

  // O_TRUNC: a temporary file left by a crashed run is started again from nothing.
  UniqueFd out(::open(tmp.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (out.get() < 0) return ErrnoStatus("create " + tmp, errno);
  CopyResult result;
  Status st;
  if (!options.no_reflink && ::ioctl(out.get(), FICLONE, in.get()) == 0) {
    result.method = CopyMethod::kReflink;
  } else {
    result.method = CopyMethod::kSparseCopy;
    if (::ftruncate(out.get(), static_cast<off_t>(src_st.st_size)) != 0) {
      st = ErrnoStatus("truncate " + tmp, errno);
    }
    if (st.ok()) {
      auto ranges = DataRanges(in.get(), static_cast<uint64_t>(src_st.st_size), src);
      if (!ranges.ok()) {
        st = ranges.status();
      } else {
        uint64_t total = 0;
        for (const ByteRange& r : *ranges) total += r.length;
        if (options.progress) options.progress(0, total);
        for (const ByteRange& r : *ranges) {
          for (uint64_t off = r.offset; off < r.offset + r.length && st.ok(); off += kCopyStep) {
            const uint64_t n = std::min(kCopyStep, r.offset + r.length - off);
            st = CopyRange(in.get(), out.get(), off, n, src);
            if (!st.ok()) break;
            result.bytes_copied += n;
            if (options.progress) options.progress(result.bytes_copied, total);
          }
          if (!st.ok()) break;
          ++result.ranges;
        }
      }
    }
  }
  if (st.ok() && size > static_cast<uint64_t>(src_st.st_size) &&
      ::ftruncate(out.get(), static_cast<off_t>(size)) != 0) {
    st = ErrnoStatus("extend " + tmp, errno);
  }
  if (st.ok() && ::fsync(out.get()) != 0) st = ErrnoStatus("fsync " + tmp, errno);
  if (st.ok() && ::rename(tmp.c_str(), dst.c_str()) != 0) {
    st = ErrnoStatus("rename " + tmp + " to " + dst, errno);
  }
  if (!st.ok()) {
    ::unlink(tmp.c_str());  // nothing half-made stays behind (a re-run would redo it anyway)
    return st;
  }
  RETURN_IF_ERROR(SyncDirectory(dir));
  return result;
}

}  // namespace scoria::volume
