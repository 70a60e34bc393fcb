// BackupStore contract on every implementation (memory, posix with per-put and deferred
// durability, the fault wrapper with no rules, nfs against the ganesha of
// tests/support/nfs_server.py when it runs, s3 and swift against the radosgw of
// tests/support/ceph_server.py --rgw when it runs, ceph against that script's cluster, in a pool
// of its own), then posix specifics and fault injection.
#include "backup/store.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <thread>

#include "../nfs/nfs_test_env.h"
#include "backup/ceph_store.h"
#include "backup/fault_store.h"
#include "backup/nfs_store.h"
#include "backup/s3_store.h"
#include "backup/swift_store.h"
#include "ceph_test_env.h"
#include "rgw_test_env.h"
#include "test_util.h"

namespace scoria::backup {
namespace {

using testing::TempDir;
using testing::TextBytes;

std::span<const std::byte> Bytes(const std::string& s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

std::string Str(const std::vector<std::byte>& b) {
  return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

enum class Kind { kMemory, kPosixSync, kPosixDeferred, kFaultWrapper, kNfs, kS3, kSwift, kCeph };

class StoreContractTest : public ::testing::TestWithParam<Kind> {
 protected:
  void SetUp() override {
    switch (GetParam()) {
      case Kind::kMemory:
        store_ = NewMemoryStore();
        break;
      case Kind::kPosixSync:
      case Kind::kPosixDeferred: {
        PosixStoreOptions o;
        o.sync_each_put = GetParam() == Kind::kPosixSync;
        auto s = OpenPosixStore(dir_.path() + "/repo", o);
        ASSERT_TRUE(s.ok()) << s.status().ToString();
        store_ = *s;
        break;
      }
      case Kind::kFaultWrapper:
        store_ = std::make_shared<FaultInjectingStore>(NewMemoryStore());
        break;
      case Kind::kNfs: {
        auto env = nfs_test::GetEnv();
        SCORIA_REQUIRE_NFS(env);
        // A directory of its own on the first export, removed through its local path.
        const std::string sub =
            "contract-" + std::filesystem::path(dir_.path()).filename().string();
        nfs_local_ = env.export_dirs[0] + "/" + sub;
        auto s = OpenNfsStore({env.shares[0], env.mount_options, sub});
        ASSERT_TRUE(s.ok()) << s.status().ToString();
        store_ = *s;
        break;
      }
      case Kind::kS3: {
        auto env = rgw_test::GetEnv();
        SCORIA_REQUIRE_RGW(env);
        S3StoreOptions o;  // a bucket of its own, so List sees only this test's objects
        o.endpoint_url = env.url;
        o.access_key = env.s3_access_key;
        o.secret_key = env.s3_secret_key;
        o.bucket = rgw_test::UniqueBucket("contract");
        auto s = OpenS3Store(o);
        ASSERT_TRUE(s.ok()) << s.status().ToString();
        store_ = *s;
        break;
      }
      case Kind::kSwift: {
        auto env = rgw_test::GetEnv();
        SCORIA_REQUIRE_RGW(env);
        SwiftStoreOptions o;  // a container of its own
        o.auth_url = env.swift_auth_url();
        o.user = env.swift_user;
        o.key = env.swift_key;
        o.container = rgw_test::UniqueBucket("contract");
        auto s = OpenSwiftStore(o);
        ASSERT_TRUE(s.ok()) << s.status().ToString();
        store_ = *s;
        break;
      }
      case Kind::kCeph: {
        SCORIA_REQUIRE_CEPH();
        ceph_pool_ = std::make_unique<ceph_test::TestPool>("contract");  // List sees only ours
        CephStoreOptions o;
        o.ceph_conf = ceph_test::Conf();
        o.user = "admin";
        o.pool = ceph_pool_->name();
        o.op_timeout_s = 30;
        auto s = OpenCephStore(o);
        ASSERT_TRUE(s.ok()) << s.status().ToString();
        store_ = *s;
        break;
      }
    }
  }
  void TearDown() override {
    if (!nfs_local_.empty()) std::filesystem::remove_all(nfs_local_);
    store_.reset();
    ceph_pool_.reset();
  }
  TempDir dir_;
  std::string nfs_local_;
  std::unique_ptr<ceph_test::TestPool> ceph_pool_;
  std::shared_ptr<BackupStore> store_;
};

TEST_P(StoreContractTest, PutGetStatDelete) {
  ASSERT_TRUE(store_->Put("manifests/b1", Bytes("hello")).ok());
  auto got = store_->Get("manifests/b1");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(Str(*got), "hello");
  auto info = store_->Stat("manifests/b1");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->size, 5u);
  EXPECT_GT(info->modified_micros, 0);
  EXPECT_TRUE(*store_->Exists("manifests/b1"));
  ASSERT_TRUE(store_->Delete("manifests/b1").ok());
  EXPECT_FALSE(*store_->Exists("manifests/b1"));
  EXPECT_EQ(store_->Get("manifests/b1").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->Stat("manifests/b1").status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(store_->Delete("manifests/b1").ok());  // idempotent
  EXPECT_TRUE(store_->Sync().ok());
}

TEST_P(StoreContractTest, PutReplacesWholeObject) {
  ASSERT_TRUE(store_->Put("locks/a", Bytes("a much longer first version")).ok());
  ASSERT_TRUE(store_->Put("locks/a", Bytes("v2")).ok());
  EXPECT_EQ(Str(*store_->Get("locks/a")), "v2");
}

TEST_P(StoreContractTest, EmptyAndLargeObjects) {
  ASSERT_TRUE(store_->Put("e", {}).ok());
  EXPECT_EQ(store_->Get("e")->size(), 0u);
  auto big = TextBytes(9 << 20, 1);
  ASSERT_TRUE(store_->Put("chunks/ab/big", big).ok());
  EXPECT_EQ(*store_->Get("chunks/ab/big"), big);
}

TEST_P(StoreContractTest, ListByPrefix) {
  for (std::string n : {"chunks/aa/aa1", "chunks/aa/aa2", "chunks/ab/ab1", "manifests/m1",
                        "manifests/m2", "config"}) {
    ASSERT_TRUE(store_->Put(n, Bytes(n)).ok());
  }
  auto names = [&](std::string_view prefix) {
    auto l = store_->List(prefix);
    EXPECT_TRUE(l.ok());
    std::vector<std::string> out;
    for (auto& o : *l) out.push_back(o.name);
    std::sort(out.begin(), out.end());
    return out;
  };
  EXPECT_EQ(names("chunks/"),
            (std::vector<std::string>{"chunks/aa/aa1", "chunks/aa/aa2", "chunks/ab/ab1"}));
  EXPECT_EQ(names("chunks/aa/"), (std::vector<std::string>{"chunks/aa/aa1", "chunks/aa/aa2"}));
  EXPECT_EQ(names("chunks/a"),
            (std::vector<std::string>{"chunks/aa/aa1", "chunks/aa/aa2", "chunks/ab/ab1"}));
  EXPECT_EQ(names("manifests/m"), (std::vector<std::string>{"manifests/m1", "manifests/m2"}));
  EXPECT_EQ(names("nothing/"), std::vector<std::string>{});
  EXPECT_EQ(names("").size(), 6u);
  auto l = store_->List("manifests/");
  for (auto& o : *l) EXPECT_EQ(o.size, o.name.size());
}

TEST_P(StoreContractTest, BadNamesRefused) {
  for (std::string n : std::vector<std::string>{"", "/abs", "a//b", "../x", "a/../b", ".hidden",
                                                "a/.tmp", "sp ace", "a/", std::string(1100, 'x')}) {
    EXPECT_EQ(store_->Put(n, Bytes("x")).code(), StatusCode::kInvalidArgument) << n;
    EXPECT_EQ(store_->Get(n).status().code(), StatusCode::kInvalidArgument) << n;
  }
}

TEST_P(StoreContractTest, ConcurrentPutsOfOneNameLeaveAWholeObject) {
  std::vector<std::thread> ts;
  for (int t = 0; t < 4; ++t) {
    ts.emplace_back([&, t] {
      auto data = TextBytes(256 * 1024, static_cast<uint32_t>(t));
      for (int i = 0; i < 20; ++i) ASSERT_TRUE(store_->Put("chunks/zz/same", data).ok());
    });
  }
  for (auto& t : ts) t.join();
  auto got = store_->Get("chunks/zz/same");
  ASSERT_TRUE(got.ok());
  bool whole = false;
  for (uint32_t t = 0; t < 4; ++t) whole |= *got == TextBytes(256 * 1024, t);
  EXPECT_TRUE(whole);
}

INSTANTIATE_TEST_SUITE_P(All, StoreContractTest,
                         ::testing::Values(Kind::kMemory, Kind::kPosixSync, Kind::kPosixDeferred,
                                           Kind::kFaultWrapper, Kind::kNfs, Kind::kS3,
                                           Kind::kSwift, Kind::kCeph),
                         [](const auto& info) {
                           switch (info.param) {
                             case Kind::kMemory:
                               return "Memory";
                             case Kind::kPosixSync:
                               return "PosixSync";
                             case Kind::kPosixDeferred:
                               return "PosixDeferred";
                             case Kind::kNfs:
                               return "Nfs";
                             case Kind::kS3:
                               return "S3";
                             case Kind::kSwift:
                               return "Swift";
                             case Kind::kCeph:
                               return "Ceph";
                             default:
                               return "FaultWrapper";
                           }
                         });

TEST(PosixStoreTest, LayoutFansOutAndHidesTempFiles) {
  TempDir dir;
  auto s = OpenPosixStore(dir.path() + "/r");
  ASSERT_TRUE(s.ok());
  ASSERT_TRUE((*s)->Put("chunks/ab/abcdef", Bytes("x")).ok());
  EXPECT_TRUE(std::filesystem::is_regular_file(dir.path() + "/r/chunks/ab/abcdef"));
  struct stat sb;
  ASSERT_EQ(::stat((dir.path() + "/r/chunks/ab/abcdef").c_str(), &sb), 0);
  EXPECT_EQ(sb.st_mode & 0007, 0u);  // no access for others (Cinder's 0660/0770)
  // A temp file a crash left behind is not an object.
  std::ofstream(dir.path() + "/r/chunks/ab/.abc.tmp.123") << "partial";
  auto l = (*s)->List("chunks/");
  ASSERT_TRUE(l.ok());
  ASSERT_EQ(l->size(), 1u);
  EXPECT_EQ((*l)[0].name, "chunks/ab/abcdef");
  // No temp file stays after successful puts.
  size_t files = 0;
  for (auto& e : std::filesystem::recursive_directory_iterator(dir.path() + "/r")) {
    files += e.is_regular_file();
  }
  EXPECT_EQ(files, 2u);  // the object and the planted temp file
}

TEST(PosixStoreTest, OpenRefusesMissingWithoutCreateAndFiles) {
  TempDir dir;
  PosixStoreOptions o;
  o.create = false;
  EXPECT_EQ(OpenPosixStore(dir.path() + "/nope", o).status().code(), StatusCode::kNotFound);
  std::ofstream(dir.path() + "/file") << "x";
  EXPECT_EQ(OpenPosixStore(dir.path() + "/file").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(OpenPosixStore("").status().code(), StatusCode::kInvalidArgument);
}

TEST(PosixStoreTest, WriteFailureLeavesOldObjectAndNoTemp) {
  if (::geteuid() == 0) GTEST_SKIP() << "root ignores directory permissions";
  TempDir dir;
  auto s = OpenPosixStore(dir.path() + "/r");
  ASSERT_TRUE((*s)->Put("manifests/m", Bytes("old")).ok());
  ::chmod((dir.path() + "/r/manifests").c_str(), 0500);
  EXPECT_FALSE((*s)->Put("manifests/m", Bytes("new")).ok());
  ::chmod((dir.path() + "/r/manifests").c_str(), 0700);
  EXPECT_EQ(Str(*(*s)->Get("manifests/m")), "old");
}

TEST(PosixStoreTest, PutOverADirectoryFailsCleanly) {
  TempDir dir;
  auto s = OpenPosixStore(dir.path() + "/r");
  ASSERT_TRUE((*s)->Put("a/b", Bytes("x")).ok());
  Status st = (*s)->Put("a", Bytes("y"));  // "a" is a directory
  EXPECT_FALSE(st.ok());
  EXPECT_EQ(st.code(), StatusCode::kInternal) << st.ToString();
  EXPECT_NE(st.message().find("a"), std::string::npos);
  size_t temps = 0;
  for (auto& e : std::filesystem::recursive_directory_iterator(dir.path() + "/r")) {
    temps += e.path().filename().string().starts_with(".");
  }
  EXPECT_EQ(temps, 0u);
  EXPECT_EQ(Str(*(*s)->Get("a/b")), "x");
}

TEST(FaultStoreTest, FailsTheNthMatchingOp) {
  auto f = std::make_shared<FaultInjectingStore>(NewMemoryStore());
  f->AddRule({StoreOp::kPut, "chunks/", 2, FaultEffect::kFail, ResourceExhausted("disk full")});
  EXPECT_TRUE(f->Put("chunks/a", Bytes("1")).ok());
  EXPECT_TRUE(f->Put("manifests/x", Bytes("1")).ok());  // other prefix: not counted
  Status st = f->Put("chunks/b", Bytes("2"));
  EXPECT_EQ(st.code(), StatusCode::kResourceExhausted);
  EXPECT_FALSE(*f->inner().Exists("chunks/b"));  // the inner store was not called
  EXPECT_TRUE(f->Put("chunks/c", Bytes("3")).ok());
  EXPECT_EQ(f->Injected(), 1u);
  EXPECT_EQ(f->OpCount(StoreOp::kPut), 4u);
}

TEST(FaultStoreTest, EveryOpAndClear) {
  auto f = std::make_shared<FaultInjectingStore>(NewMemoryStore());
  ASSERT_TRUE(f->Put("x", Bytes("1")).ok());
  f->AddRule({StoreOp::kAny, "", 0, FaultEffect::kFail, Unavailable("nfs gone")});
  EXPECT_EQ(f->Get("x").status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(f->Stat("x").status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(f->List("").status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(f->Delete("x").code(), StatusCode::kUnavailable);
  EXPECT_EQ(f->Sync().code(), StatusCode::kUnavailable);
  f->ClearRules();
  EXPECT_TRUE(f->Get("x").ok());
}

TEST(FaultStoreTest, CorruptsAndTruncatesReads) {
  auto f = std::make_shared<FaultInjectingStore>(NewMemoryStore());
  ASSERT_TRUE(f->Put("x", Bytes("0123456789")).ok());
  f->AddRule({StoreOp::kGet, "x", 1, FaultEffect::kCorrupt, {}});
  f->AddRule({StoreOp::kGet, "x", 2, FaultEffect::kTruncate, {}});
  auto a = f->Get("x");
  ASSERT_TRUE(a.ok());
  EXPECT_NE(Str(*a), "0123456789");
  EXPECT_EQ(a->size(), 10u);
  auto b = f->Get("x");
  EXPECT_EQ(Str(*b), "01234");
  EXPECT_EQ(Str(*f->Get("x")), "0123456789");
  EXPECT_EQ(Str(*f->inner().Get("x")), "0123456789");  // stored data untouched
}

}  // namespace
}  // namespace scoria::backup
