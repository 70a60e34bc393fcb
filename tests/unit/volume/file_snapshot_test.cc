// The file driver's snapshots, clones and reverts on a real directory (the machine's
// filesystem: ext4 here, so the sparse-copy path; reflinks are exercised by
// tests/integration/test_snapshots.py on an XFS loop device). Data is checked byte for byte,
// holes must stay holes, and every step is re-run over a crashed half-way state.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <future>
#include <string>
#include <vector>

#include "volume/drivers/file/file_copy.h"
#include "volume/drivers/file/file_driver.h"

namespace scoria::volume {
namespace {

namespace fs = std::filesystem;
constexpr uint64_t kMiB = 1 << 20;

class FileSnapshotTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "scoria-file-snap-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr) << std::strerror(errno);
    dir_ = tmpl;
    driver_ = std::make_unique<FileDriver>(dir_);
    driver_->set_no_reflink(true);
    ASSERT_TRUE(driver_->Setup().ok());
    ASSERT_TRUE(driver_->CreateVolume("v1", 1).ok());
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  void WriteAt(const std::string& path, uint64_t off, char fill, size_t len) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT, 0600);
    ASSERT_GE(fd, 0);
    std::string data(len, fill);
    ASSERT_EQ(::pwrite(fd, data.data(), len, static_cast<off_t>(off)), static_cast<ssize_t>(len));
    ::close(fd);
  }
  std::string ReadAt(const std::string& path, uint64_t off, size_t len) {
    int fd = ::open(path.c_str(), O_RDONLY);
    EXPECT_GE(fd, 0);
    std::string data(len, '\0');
    EXPECT_EQ(::pread(fd, data.data(), len, static_cast<off_t>(off)), static_cast<ssize_t>(len));
    ::close(fd);
    return data;
  }
  static uint64_t Allocated(const std::string& path) {
    struct stat st {};
    EXPECT_EQ(::stat(path.c_str(), &st), 0);
    return static_cast<uint64_t>(st.st_blocks) * 512;
  }
  static uint64_t SizeOf(const std::string& path) {
    struct stat st {};
    EXPECT_EQ(::stat(path.c_str(), &st), 0);
    return static_cast<uint64_t>(st.st_size);
  }
  std::string dir_;
  std::unique_ptr<FileDriver> driver_;
};

TEST_F(FileSnapshotTest, SnapshotHoldsTheBytesAtItsTimeAndStaysSparse) {
  const std::string v = driver_->PathOf("v1");
  WriteAt(v, 0, 'a', 4096);
  WriteAt(v, 512 * kMiB, 'b', 8192);
  ASSERT_TRUE(driver_->CreateSnapshot("v1", "s1", {}).ok());
  WriteAt(v, 0, 'z', 4096);  // after the snapshot
  const std::string s = driver_->SnapshotPathOf("s1");
  EXPECT_EQ(SizeOf(s), 1ULL << 30);
  EXPECT_EQ(ReadAt(s, 0, 4096), std::string(4096, 'a'));
  EXPECT_EQ(ReadAt(s, 512 * kMiB, 8192), std::string(8192, 'b'));
  EXPECT_EQ(ReadAt(s, 100 * kMiB, 4096), std::string(4096, '\0'));
  // Only the written ranges were copied: the copy is sparse.
  EXPECT_LE(Allocated(s), 1 * kMiB);
  auto ranges = driver_->AllocatedRanges("v1", "s1");
  ASSERT_TRUE(ranges.ok()) << ranges.status().ToString();
  ASSERT_EQ(ranges->size(), 2u);
  EXPECT_EQ((*ranges)[0].offset, 0u);
  EXPECT_GE((*ranges)[0].length, 4096u);
  EXPECT_EQ((*ranges)[1].offset, 512 * kMiB);
  auto vol_ranges = driver_->AllocatedRanges("v1", "");
  ASSERT_TRUE(vol_ranges.ok());
  EXPECT_EQ(vol_ranges->size(), 2u);
}

TEST_F(FileSnapshotTest, CreateSnapshotIsIdempotentAndRedoesAHalfWrittenTemporary) {
  const std::string v = driver_->PathOf("v1");
  WriteAt(v, 0, 'a', 4096);
  // A crash mid-copy left a temporary file with garbage: the next run must end correct.
  WriteAt(dir_ + "/tmp-snapshot-s1", 0, 'x', 8192);
  ASSERT_TRUE(driver_->CreateSnapshot("v1", "s1", {}).ok());
  EXPECT_FALSE(fs::exists(dir_ + "/tmp-snapshot-s1"));
  EXPECT_EQ(ReadAt(driver_->SnapshotPathOf("s1"), 0, 8192),
            std::string(4096, 'a') + std::string(4096, '\0'));
  // Re-running a finished create keeps the snapshot as it was (not a fresh copy).
  WriteAt(v, 0, 'z', 4096);
  ASSERT_TRUE(driver_->CreateSnapshot("v1", "s1", {}).ok());
  EXPECT_EQ(ReadAt(driver_->SnapshotPathOf("s1"), 0, 4096), std::string(4096, 'a'));
  // The snapshot is no volume.
  auto vols = driver_->ListVolumes();
  ASSERT_TRUE(vols.ok());
  EXPECT_EQ(*vols, std::vector<std::string>{"v1"});
  auto snaps = driver_->ListSnapshots();
  ASSERT_TRUE(snaps.ok());
  EXPECT_EQ(*snaps, std::vector<std::string>{"s1"});
}

TEST_F(FileSnapshotTest, SnapshotOfAMissingVolumeIsNotFound) {
  EXPECT_EQ(driver_->CreateSnapshot("nope", "s1", {}).code(), StatusCode::kNotFound);
  EXPECT_FALSE(fs::exists(driver_->SnapshotPathOf("s1")));
  EXPECT_FALSE(fs::exists(dir_ + "/tmp-snapshot-s1"));
}

TEST_F(FileSnapshotTest, DeleteSnapshotIsIdempotent) {
  ASSERT_TRUE(driver_->CreateSnapshot("v1", "s1", {}).ok());
  EXPECT_TRUE(driver_->DeleteSnapshot("v1", "s1").ok());
  EXPECT_FALSE(fs::exists(driver_->SnapshotPathOf("s1")));
  EXPECT_TRUE(driver_->DeleteSnapshot("v1", "s1").ok());
}

TEST_F(FileSnapshotTest, VolumeFromSnapshotAndCloneCopyBytesAndMayBeLarger) {
  const std::string v = driver_->PathOf("v1");
  WriteAt(v, 4096, 'q', 4096);
  ASSERT_TRUE(driver_->CreateSnapshot("v1", "s1", {}).ok());
  WriteAt(v, 4096, 'r', 4096);
  ASSERT_TRUE(driver_->CreateVolumeFromSnapshot("v2", 2, "v1", "s1").ok());
  EXPECT_EQ(SizeOf(driver_->PathOf("v2")), 2ULL << 30);
  EXPECT_EQ(ReadAt(driver_->PathOf("v2"), 4096, 4096), std::string(4096, 'q'));
  EXPECT_EQ(ReadAt(driver_->PathOf("v2"), (1ULL << 30) + 4096, 4096), std::string(4096, '\0'));
  ASSERT_TRUE(driver_->CloneVolume("v3", 1, "v1").ok());
  EXPECT_EQ(ReadAt(driver_->PathOf("v3"), 4096, 4096), std::string(4096, 'r'));
  // Idempotent: a second run keeps the volume (which may have been written since).
  WriteAt(driver_->PathOf("v3"), 0, 'w', 512);
  ASSERT_TRUE(driver_->CloneVolume("v3", 1, "v1").ok());
  EXPECT_EQ(ReadAt(driver_->PathOf("v3"), 0, 512), std::string(512, 'w'));
}

TEST_F(FileSnapshotTest, NewVolumeSmallerThanItsSourceIsRefused) {
  ASSERT_TRUE(driver_->CreateVolume("big", 2).ok());
  ASSERT_TRUE(driver_->CreateSnapshot("big", "s1", {}).ok());
  EXPECT_EQ(driver_->CreateVolumeFromSnapshot("v2", 1, "big", "s1").code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(driver_->CloneVolume("v3", 1, "big").code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(fs::exists(driver_->PathOf("v2")));
  EXPECT_EQ(driver_->CreateVolumeFromSnapshot("v4", 2, "big", "missing").code(),
            StatusCode::kNotFound);
}

TEST_F(FileSnapshotTest, RevertRestoresTheSnapshotAndKeepsALargerSize) {
  const std::string v = driver_->PathOf("v1");
  WriteAt(v, 0, 'a', 4096);
  ASSERT_TRUE(driver_->CreateSnapshot("v1", "s1", {}).ok());
  WriteAt(v, 0, 'b', 4096);
  WriteAt(v, 64 * kMiB, 'c', 4096);
  ASSERT_TRUE(driver_->ExtendVolume("v1", 2).ok());
  ASSERT_TRUE(driver_->RevertToSnapshot("v1", "s1").ok());
  EXPECT_EQ(ReadAt(v, 0, 4096), std::string(4096, 'a'));
  EXPECT_EQ(ReadAt(v, 64 * kMiB, 4096), std::string(4096, '\0'));
  EXPECT_EQ(SizeOf(v), 2ULL << 30);
  // Re-run (a crash after the rename): same result.
  ASSERT_TRUE(driver_->RevertToSnapshot("v1", "s1").ok());
  EXPECT_EQ(ReadAt(v, 0, 4096), std::string(4096, 'a'));
  // The snapshot is unchanged.
  EXPECT_EQ(ReadAt(driver_->SnapshotPathOf("s1"), 0, 4096), std::string(4096, 'a'));
  EXPECT_EQ(driver_->RevertToSnapshot("v1", "missing").code(), StatusCode::kNotFound);
  EXPECT_EQ(driver_->RevertToSnapshot("gone", "s1").code(), StatusCode::kNotFound);
}

TEST_F(FileSnapshotTest, OpenSnapshotReadsAndRefusesWrites) {
  WriteAt(driver_->PathOf("v1"), 0, 'a', 4096);
  ASSERT_TRUE(driver_->CreateSnapshot("v1", "s1", {}).ok());
  auto dev = driver_->OpenSnapshot("v1", "s1");
  ASSERT_TRUE(dev.ok()) << dev.status().ToString();
  EXPECT_EQ((*dev)->Size(), 1ULL << 30);
  std::vector<std::byte> buf(4096);
  std::promise<Status> r;
  (*dev)->Read(0, buf, [&](Status st) { r.set_value(st); });
  ASSERT_TRUE(r.get_future().get().ok());
  EXPECT_EQ(static_cast<char>(buf[0]), 'a');
  std::promise<Status> w;
  (*dev)->Write(0, buf, false, [&](Status st) { w.set_value(st); });
  EXPECT_EQ(w.get_future().get().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(driver_->OpenSnapshot("v1", "missing").status().code(), StatusCode::kNotFound);
}

TEST(FileCopyTest, DataRangesOfAMissingFileIsNotFound) {
  EXPECT_EQ(FileDataRanges("/nonexistent/x").status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace scoria::volume

namespace scoria::volume {
namespace {

// A sparse copy reports its progress over the data bytes only (holes cost nothing), in steps
// of at most kCopyStep, ending at the total.
TEST_F(FileSnapshotTest, SparseCopyReportsProgressOverDataBytes) {
  const std::string v = driver_->PathOf("v1");
  WriteAt(v, 0, 'a', kMiB);
  WriteAt(v, 512 * kMiB, 'b', 2 * kMiB);
  std::vector<std::pair<uint64_t, uint64_t>> calls;
  ASSERT_TRUE(driver_
                  ->CreateSnapshot("v1", "s1",
                                   [&](uint64_t done, uint64_t total) {
                                     calls.emplace_back(done, total);
                                   })
                  .ok());
  ASSERT_GE(calls.size(), 3u);
  EXPECT_EQ(calls.front(), std::make_pair(uint64_t{0}, 3 * kMiB));
  EXPECT_EQ(calls.back(), std::make_pair(3 * kMiB, 3 * kMiB));
  for (size_t i = 1; i < calls.size(); ++i) {
    EXPECT_GT(calls[i].first, calls[i - 1].first);
    EXPECT_LE(calls[i].first - calls[i - 1].first, kCopyStep);
    EXPECT_EQ(calls[i].second, 3 * kMiB);
  }
  EXPECT_EQ(ReadAt(driver_->SnapshotPathOf("s1"), 512 * kMiB, 4), "bbbb");
}

}  // namespace
}  // namespace scoria::volume
