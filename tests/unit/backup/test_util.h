// Helpers for the backup tests: synchronous device I/O, patterned data, temp directories.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <future>
#include <random>
#include <string>
#include <vector>

#include "common/status.h"
#include "volume/block_device.h"

namespace scoria::backup::testing {

inline constexpr uint64_t kKiB = 1024;
inline constexpr uint64_t kMiB = 1024 * 1024;

inline Status Sync(const std::function<void(volume::IoCallback)>& start) {
  std::promise<Status> p;
  auto f = p.get_future();
  start([&p](Status s) { p.set_value(std::move(s)); });
  return f.get();
}

inline void WriteBytes(volume::BlockDevice& d, uint64_t offset, const std::vector<std::byte>& b) {
  ASSERT_TRUE(Sync([&](volume::IoCallback cb) { d.Write(offset, b, false, std::move(cb)); }).ok());
}

inline std::vector<std::byte> ReadBytes(volume::BlockDevice& d, uint64_t offset, uint64_t len) {
  std::vector<std::byte> b(len);
  Status st = Sync([&](volume::IoCallback cb) { d.Read(offset, b, std::move(cb)); });
  EXPECT_TRUE(st.ok()) << st.ToString();
  return b;
}

// Deterministic pseudo-random (incompressible) bytes.
inline std::vector<std::byte> RandomBytes(uint64_t len, uint32_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<std::byte> b(len);
  for (uint64_t i = 0; i < len; i += 8) {
    uint64_t v = rng();
    std::memcpy(b.data() + i, &v, std::min<uint64_t>(8, len - i));
  }
  return b;
}

// Compressible bytes: a repeated short text with a seed-dependent prefix.
inline std::vector<std::byte> TextBytes(uint64_t len, uint32_t seed) {
  std::string pat = "scoria backup test pattern " + std::to_string(seed) + " ";
  std::vector<std::byte> b(len);
  for (uint64_t i = 0; i < len; ++i) b[i] = static_cast<std::byte>(pat[i % pat.size()]);
  return b;
}

inline bool SameDevices(volume::BlockDevice& a, volume::BlockDevice& b, uint64_t len) {
  for (uint64_t off = 0; off < len; off += 4 * kMiB) {
    uint64_t n = std::min<uint64_t>(4 * kMiB, len - off);
    if (ReadBytes(a, off, n) != ReadBytes(b, off, n)) return false;
  }
  return true;
}

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "scoria-backup-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace scoria::backup::testing
