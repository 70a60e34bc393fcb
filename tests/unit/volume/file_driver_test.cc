// FileDriver on a real directory (a fresh mkdtemp per test, removed afterwards).
#include "volume/drivers/file/file_driver.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

namespace scoria::volume {
namespace {

namespace fs = std::filesystem;

class FileDriverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "scoria-file-driver-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr) << "mkdtemp: " << std::strerror(errno);
    root_ = tmpl;
    dir_ = root_ + "/volumes";
  }
  void TearDown() override {
    if (immutable_) {
      std::string cmd = "chattr -i '" + dir_ + "' 2>/dev/null";
      (void)std::system(cmd.c_str());
    }
    std::error_code ec;
    fs::remove_all(root_, ec);
  }

  static struct stat Stat(const std::string& path) {
    struct stat st {};
    EXPECT_EQ(::stat(path.c_str(), &st), 0) << path << ": " << std::strerror(errno);
    return st;
  }

  std::vector<std::string> DirEntries() {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir_)) names.push_back(e.path().filename());
    std::sort(names.begin(), names.end());
    return names;
  }

  std::string root_;
  std::string dir_;
  bool immutable_ = false;
};

// With a driver on dir_, set up.
class FileDriverDirTest : public FileDriverTest {
 protected:
  void SetUp() override {
    FileDriverTest::SetUp();
    driver_ptr_ = std::make_unique<FileDriver>(dir_);
    Status st = driver_ptr_->Setup();
    ASSERT_TRUE(st.ok()) << st.ToString();
  }
  FileDriver& d() { return *driver_ptr_; }
  std::unique_ptr<FileDriver> driver_ptr_;
};

TEST_F(FileDriverDirTest, SetupCreatesTheDirectory) {
  EXPECT_TRUE(fs::is_directory(dir_));
  EXPECT_EQ(d().name(), "file");
  // Setup on an existing directory is fine too (every start calls it).
  EXPECT_TRUE(d().Setup().ok());
}

TEST_F(FileDriverTest, SetupCreatesMissingParents) {
  FileDriver nested(root_ + "/a/b/c");
  Status st = nested.Setup();
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_TRUE(fs::is_directory(root_ + "/a/b/c"));
}

TEST_F(FileDriverTest, SetupFailsClearlyUnderARegularFile) {
  const std::string file = root_ + "/plain";
  std::ofstream(file) << "not a directory";
  const std::string bad = file + "/volumes";
  FileDriver driver(bad);
  Status st = driver.Setup();
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), StatusCode::kInternal) << st.ToString();
  EXPECT_NE(st.message().find(bad), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("file_volume_dir"), std::string::npos) << st.message();
  EXPECT_TRUE(fs::is_regular_file(file));  // untouched
}

TEST_F(FileDriverDirTest, CreateMakesSparseFileOfSizeGiB) {
  ASSERT_TRUE(d().CreateVolume("v1", 3).ok());
  const std::string path = d().PathOf("v1");
  EXPECT_EQ(path, dir_ + "/volume-v1");
  EXPECT_EQ(d().ProviderLocation("v1"), path);
  struct stat st = Stat(path);
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_EQ(st.st_size, 3 * kGiB);
  EXPECT_EQ(st.st_blocks, 0) << "the file should be sparse (thin)";
}

TEST_F(FileDriverDirTest, CreateIsIdempotent) {
  ASSERT_TRUE(d().CreateVolume("v1", 2).ok());
  Status again = d().CreateVolume("v1", 2);
  EXPECT_TRUE(again.ok()) << again.ToString();
  EXPECT_EQ(Stat(d().PathOf("v1")).st_size, 2 * kGiB);
  EXPECT_EQ(DirEntries(), std::vector<std::string>{"volume-v1"});
}

TEST_F(FileDriverDirTest, CreateKeepsExistingData) {
  // A re-run create (after a crash) must not truncate data written meanwhile.
  ASSERT_TRUE(d().CreateVolume("v1", 1).ok());
  {
    std::fstream f(d().PathOf("v1"), std::ios::in | std::ios::out | std::ios::binary);
    f.write("hello", 5);
  }
  ASSERT_TRUE(d().CreateVolume("v1", 1).ok());
  std::ifstream f(d().PathOf("v1"), std::ios::binary);
  std::string head(5, '\0');
  f.read(head.data(), 5);
  EXPECT_EQ(head, "hello");
  EXPECT_EQ(Stat(d().PathOf("v1")).st_size, kGiB);
}

TEST_F(FileDriverDirTest, ExtendGrowsAndNeverShrinks) {
  ASSERT_TRUE(d().CreateVolume("v1", 1).ok());
  ASSERT_TRUE(d().ExtendVolume("v1", 4).ok());
  EXPECT_EQ(Stat(d().PathOf("v1")).st_size, 4 * kGiB);
  // Extending to the size already reached (a re-run) and to a smaller size both succeed
  // without shrinking.
  EXPECT_TRUE(d().ExtendVolume("v1", 4).ok());
  EXPECT_EQ(Stat(d().PathOf("v1")).st_size, 4 * kGiB);
  EXPECT_TRUE(d().ExtendVolume("v1", 2).ok());
  EXPECT_EQ(Stat(d().PathOf("v1")).st_size, 4 * kGiB);
  EXPECT_EQ(Stat(d().PathOf("v1")).st_blocks, 0);
}

TEST_F(FileDriverDirTest, ExtendOfMissingVolumeIsNotFound) {
  Status st = d().ExtendVolume("ghost", 2);
  EXPECT_EQ(st.code(), StatusCode::kNotFound) << st.ToString();
  EXPECT_NE(st.message().find("volume-ghost"), std::string::npos) << st.message();
  EXPECT_FALSE(fs::exists(d().PathOf("ghost")));  // extend never creates
}

TEST_F(FileDriverDirTest, DeleteRemovesAndIsIdempotent) {
  ASSERT_TRUE(d().CreateVolume("v1", 1).ok());
  ASSERT_TRUE(d().CreateVolume("v2", 1).ok());
  ASSERT_TRUE(d().DeleteVolume("v1").ok());
  EXPECT_FALSE(fs::exists(d().PathOf("v1")));
  EXPECT_TRUE(fs::exists(d().PathOf("v2")));
  Status again = d().DeleteVolume("v1");
  EXPECT_TRUE(again.ok()) << again.ToString();
  Status never = d().DeleteVolume("never-existed");
  EXPECT_TRUE(never.ok()) << never.ToString();
  EXPECT_EQ(DirEntries(), std::vector<std::string>{"volume-v2"});
}

TEST_F(FileDriverDirTest, ListVolumesListsIdsOnly) {
  auto empty = d().ListVolumes();
  ASSERT_TRUE(empty.ok()) << empty.status().ToString();
  EXPECT_TRUE(empty->empty());
  ASSERT_TRUE(d().CreateVolume("a", 1).ok());
  ASSERT_TRUE(d().CreateVolume("b-2", 1).ok());
  std::ofstream(dir_ + "/not-a-volume") << "x";  // other files are not volumes
  auto ids = d().ListVolumes();
  ASSERT_TRUE(ids.ok()) << ids.status().ToString();
  std::vector<std::string> sorted = *ids;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(sorted, (std::vector<std::string>{"a", "b-2"}));
}

TEST_F(FileDriverTest, ListVolumesOfMissingDirectoryFails) {
  FileDriver driver(root_ + "/never-set-up");
  auto ids = driver.ListVolumes();
  EXPECT_FALSE(ids.ok());
}

TEST_F(FileDriverDirTest, StatsReportCapacityAndProvisioned) {
  ASSERT_TRUE(d().CreateVolume("v1", 2).ok());
  ASSERT_TRUE(d().CreateVolume("v2", 5).ok());
  ASSERT_TRUE(d().ExtendVolume("v2", 7).ok());
  auto s = d().Stats();
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_GT(s->free_capacity_gb, 0);
  EXPECT_GE(s->total_capacity_gb, s->free_capacity_gb);
  EXPECT_DOUBLE_EQ(s->provisioned_capacity_gb, 9.0);
  EXPECT_DOUBLE_EQ(s->used_capacity_gb, 0.0);  // nothing written yet
  EXPECT_TRUE(s->thin_provisioning_support);
  EXPECT_FALSE(s->thick_provisioning_support);

  ASSERT_TRUE(d().DeleteVolume("v1").ok());
  auto after = d().Stats();
  ASSERT_TRUE(after.ok());
  EXPECT_DOUBLE_EQ(after->provisioned_capacity_gb, 7.0);
}

TEST_F(FileDriverDirTest, StatsOfEmptyBackend) {
  auto s = d().Stats();
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_DOUBLE_EQ(s->provisioned_capacity_gb, 0.0);
  EXPECT_GT(s->total_capacity_gb, 0);
}

TEST_F(FileDriverDirTest, CreateInImmutableDirectoryFailsAndLeavesNothing) {
  std::string cmd = "chattr +i '" + dir_ + "' 2>/dev/null";
  int rc = std::system(cmd.c_str());
  if (rc != 0) GTEST_SKIP() << "chattr +i is unavailable or unsupported here (exit " << rc << ")";
  immutable_ = true;
  // Root bypasses permission bits but not the immutable flag; make sure it really holds.
  const std::string probe = dir_ + "/probe";
  if (FILE* f = std::fopen(probe.c_str(), "w")) {
    std::fclose(f);
    GTEST_SKIP() << "chattr +i did not make " << dir_ << " immutable on this filesystem";
  }

  Status st = d().CreateVolume("v1", 1);
  EXPECT_FALSE(st.ok());
  EXPECT_EQ(st.code(), StatusCode::kInternal) << st.ToString();  // EPERM: not transient
  EXPECT_NE(st.message().find("volume-v1"), std::string::npos) << st.message();

  std::string undo = "chattr -i '" + dir_ + "'";
  ASSERT_EQ(std::system(undo.c_str()), 0);
  immutable_ = false;
  EXPECT_TRUE(DirEntries().empty());
  auto ids = d().ListVolumes();
  ASSERT_TRUE(ids.ok());
  EXPECT_TRUE(ids->empty());
}

}  // namespace
}  // namespace scoria::volume
