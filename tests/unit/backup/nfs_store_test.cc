// The NFS backup store (nfs_store.h) against the real ganesha of tests/support/nfs_server.py:
// the POSIX layout on the export, a repository on it, and the failure codes. The BackupStore
// contract itself runs on it in store_test.cc (StoreContractTest/Nfs). Each test works in its
// own directory of the first export.
#include "backup/nfs_store.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>

#include "../nfs/nfs_test_env.h"
#include "backup/repository.h"
#include "test_util.h"

namespace scoria::backup {
namespace {

namespace fs = std::filesystem;
using testing::TextBytes;

std::span<const std::byte> Bytes(const std::string& s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}
std::string Str(const std::vector<std::byte>& b) {
  return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

class NfsStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    env_ = nfs_test::GetEnv();
    SCORIA_REQUIRE_NFS(env_);
    std::mt19937_64 rng(std::random_device{}());
    sub_ = "store-test-" + std::to_string(rng() % 1000000000);
    auto s = OpenNfsStore({env_.shares[0], env_.mount_options, sub_});
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = *s;
  }
  void TearDown() override {
    if (!sub_.empty() && !env_.export_dirs.empty()) {
      std::error_code ec;
      fs::remove_all(Local(""), ec);
    }
  }
  std::string Local(const std::string& rel) const {
    return env_.export_dirs[0] + "/" + sub_ + (rel.empty() ? "" : "/" + rel);
  }
  std::vector<std::string> Names(std::string_view prefix) {
    auto l = store_->List(prefix);
    EXPECT_TRUE(l.ok()) << l.status().ToString();
    std::vector<std::string> out;
    if (l.ok()) {
      for (auto& o : *l) out.push_back(o.name);
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  nfs_test::Env env_;
  std::string sub_;
  std::shared_ptr<BackupStore> store_;
};

TEST_F(NfsStoreTest, PutGetStatDelete) {
  ASSERT_TRUE(store_->Put("manifests/b1", Bytes("hello")).ok());
  EXPECT_EQ(Str(*store_->Get("manifests/b1")), "hello");
  auto info = store_->Stat("manifests/b1");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->size, 5u);
  const auto now = std::chrono::duration_cast<std::chrono::microseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  EXPECT_NEAR(static_cast<double>(info->modified_micros), static_cast<double>(now), 60e6);
  EXPECT_TRUE(*store_->Exists("manifests/b1"));
  // The POSIX layout, on the export.
  std::ifstream local(Local("manifests/b1"));
  std::string content((std::istreambuf_iterator<char>(local)), {});
  EXPECT_EQ(content, "hello");
  struct stat sb {};
  ASSERT_EQ(::stat(Local("manifests/b1").c_str(), &sb), 0);
  EXPECT_EQ(sb.st_mode & 0777, 0660u);
  ASSERT_TRUE(store_->Delete("manifests/b1").ok());
  EXPECT_FALSE(*store_->Exists("manifests/b1"));
  EXPECT_EQ(store_->Get("manifests/b1").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->Stat("manifests/b1").status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(store_->Delete("manifests/b1").ok()) << "idempotent";
  EXPECT_TRUE(store_->Sync().ok());
}

TEST_F(NfsStoreTest, PutReplacesWholeObjectAndLeavesNoTemp) {
  ASSERT_TRUE(store_->Put("locks/a", Bytes("a much longer first version")).ok());
  ASSERT_TRUE(store_->Put("locks/a", Bytes("v2")).ok());
  EXPECT_EQ(Str(*store_->Get("locks/a")), "v2");
  size_t files = 0;
  for (auto& e : fs::recursive_directory_iterator(Local(""))) files += e.is_regular_file();
  EXPECT_EQ(files, 1u);
  // A temp file a crash left behind is not an object.
  std::ofstream(Local("locks/.a.tmp.123")) << "partial";
  EXPECT_EQ(Names("locks/"), std::vector<std::string>{"locks/a"});
}

TEST_F(NfsStoreTest, HoldsARepository) {
  RepositoryOptions o;
  o.owner = "nfs-store-test";
  auto repo = Repository::Open(store_, o);
  ASSERT_TRUE(repo.ok()) << repo.status().ToString();
  EXPECT_FALSE(Names("").empty()) << "the repository wrote its config";
  auto again = Repository::Open(store_, o);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ((*again)->chunk_size(), (*repo)->chunk_size());
}

TEST_F(NfsStoreTest, OpenErrors) {
  EXPECT_EQ(OpenNfsStore({"nas", "", ""}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(OpenNfsStore({env_.shares[0], "vers=4", ""}).status().code(),
            StatusCode::kInvalidArgument);
  const auto t0 = std::chrono::steady_clock::now();
  auto gone = OpenNfsStore({env_.shares[0], "port=1,mountport=1", ""});
  EXPECT_EQ(gone.status().code(), StatusCode::kUnavailable) << gone.status().ToString();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
  ASSERT_TRUE(store_->Put("file", Bytes("x")).ok());
  EXPECT_EQ(OpenNfsStore({env_.shares[0], env_.mount_options, sub_ + "/file"}).status().code(),
            StatusCode::kInvalidArgument)
      << "a file where the directory should be";
}

TEST_F(NfsStoreTest, AFullShareIsResourceExhausted) {
  if (env_.small_share.empty()) GTEST_SKIP() << "the small (loop-mounted) export is missing";
  auto s = OpenNfsStore({env_.small_share, env_.mount_options, sub_});
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  auto big = TextBytes(48 << 20, 7);  // more than the 32 MiB filesystem holds
  Status st = (*s)->Put("chunks/ff/too-big", big);
  EXPECT_EQ(st.code(), StatusCode::kResourceExhausted) << st.ToString();
  EXPECT_FALSE(*(*s)->Exists("chunks/ff/too-big"));
  std::error_code ec;
  fs::remove_all(env_.small_dir + "/" + sub_, ec);
}

}  // namespace
}  // namespace scoria::backup
