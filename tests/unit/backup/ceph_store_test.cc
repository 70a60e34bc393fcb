// The ceph store's own behaviour against a real cluster (ceph_test_env.h; the contract it
// shares with every store is in store_test.cc): users without a key or without caps stop
// OpenCephStore with a message naming user and pool, the least caps the docs give are enough,
// a pool at its quota is ResourceExhausted with nothing half-written visible, an object above
// backup_ceph_chunk_size is refused, and a cluster that does not answer is Unavailable in
// bounded time.
#include "backup/ceph_store.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "ceph_test_env.h"
#include "test_util.h"

namespace scoria::backup {
namespace {

using ceph_test::Conf;
using ceph_test::MakeUser;
using ceph_test::RemoveUser;
using ceph_test::TestPool;
using ceph_test::Unique;
using testing::TextBytes;

std::span<const std::byte> Bytes(const std::string& s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

std::string Str(const std::vector<std::byte>& b) {
  return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

CephStoreOptions Options(const std::string& pool, const std::string& user = "admin") {
  CephStoreOptions o;
  o.ceph_conf = Conf();
  o.user = user;
  o.pool = pool;
  o.op_timeout_s = 20;
  return o;
}

class CephStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SCORIA_REQUIRE_CEPH();
    pool_ = std::make_unique<TestPool>("cephstore");
  }
  void TearDown() override {
    for (const auto& u : users_) RemoveUser(u);
    pool_.reset();
  }
  std::string User(const std::string& caps) {
    users_.push_back(Unique("ut-backup"));
    MakeUser(users_.back(), caps);
    return users_.back();
  }
  std::unique_ptr<TestPool> pool_;
  std::vector<std::string> users_;
};

TEST_F(CephStoreTest, UserWithoutAKeyIsAClearError) {
  auto s = OpenCephStore(Options(pool_->name(), "nobody-" + std::to_string(::getpid())));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kFailedPrecondition) << s.status().ToString();
  EXPECT_NE(s.status().message().find("client.nobody-"), std::string::npos)
      << s.status().ToString();
}

TEST_F(CephStoreTest, UserWithoutCapsOnThePoolIsAClearError) {
  for (const std::string& caps : std::vector<std::string>{
           "mon 'allow r' osd 'allow rw pool=some-other-pool'",
           "mon 'allow r' osd 'allow r pool=" + pool_->name() + "'"}) {
    const std::string user = User(caps);
    auto s = OpenCephStore(Options(pool_->name(), user));
    ASSERT_FALSE(s.ok()) << caps;
    const std::string& msg = s.status().message();
    EXPECT_EQ(s.status().code(), StatusCode::kFailedPrecondition) << msg;
    EXPECT_NE(msg.find("client." + user), std::string::npos) << msg;
    EXPECT_NE(msg.find("pool " + pool_->name()), std::string::npos) << msg;
    EXPECT_NE(msg.find("osd 'allow rw pool=" + pool_->name() + "'"), std::string::npos) << msg;
  }
}

// The caps docs/backends.md gives are enough for everything the store does.
TEST_F(CephStoreTest, LeastCapsAreEnough) {
  const std::string user = User("mon 'allow r' osd 'allow rw pool=" + pool_->name() + "'");
  auto s = OpenCephStore(Options(pool_->name(), user));
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  BackupStore& store = **s;
  ASSERT_TRUE(store.Put("chunks/ab/x", Bytes("data")).ok());
  EXPECT_EQ(Str(*store.Get("chunks/ab/x")), "data");
  EXPECT_EQ(store.Stat("chunks/ab/x")->size, 4u);
  auto l = store.List("chunks/");
  ASSERT_TRUE(l.ok()) << l.status().ToString();
  EXPECT_EQ(l->size(), 1u);
  EXPECT_TRUE(store.Delete("chunks/ab/x").ok());
  // the probe objects of the opens are gone
  EXPECT_EQ(ceph_test::Sh("rados -p " + pool_->name() + " ls"), "");
}

TEST_F(CephStoreTest, PoolQuotaReachedIsResourceExhaustedAndLeavesNothingHalfWritten) {
  auto s = OpenCephStore(Options(pool_->name()));
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  BackupStore& store = **s;
  ASSERT_TRUE(store.Put("locks/l", Bytes("the first version")).ok());
  ceph_test::Sh("ceph osd pool set-quota " + pool_->name() + " max_bytes 1048576");
  // The monitors mark the pool full once the OSD's statistics show it over the quota, a few
  // seconds after the bytes are written: fill until the store says so.
  const auto chunk = TextBytes(256 * 1024, 7);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  std::string refused;
  Status st;
  for (int i = 0; std::chrono::steady_clock::now() < deadline; ++i) {
    const std::string name = "chunks/qq/fill-" + std::to_string(i);
    st = store.Put(name, chunk);
    if (!st.ok()) {
      refused = name;
      break;
    }
    if (i >= 8) std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  ASSERT_FALSE(refused.empty()) << "the pool never filled up";
  EXPECT_EQ(st.code(), StatusCode::kResourceExhausted) << st.ToString();
  EXPECT_NE(st.message().find(refused), std::string::npos) << st.ToString();
  EXPECT_NE(st.message().find(pool_->name()), std::string::npos) << st.ToString();
  // Nothing of the refused object is there, and a refused replacement leaves the old bytes.
  // (With "full try" the OSD refuses only writes that grow the pool: a replacement no larger
  // than the object it replaces still succeeds, whole.)
  EXPECT_EQ(store.Stat(refused).status().code(), StatusCode::kNotFound);
  const auto longer = TextBytes(64 * 1024, 9);
  EXPECT_EQ(store.Put("locks/l", longer).code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(Str(*store.Get("locks/l")), "the first version");
  ASSERT_TRUE(store.Put("locks/l", Bytes("the 2nd version")).ok());
  EXPECT_EQ(Str(*store.Get("locks/l")), "the 2nd version");
  auto l = store.List("chunks/qq/");
  ASSERT_TRUE(l.ok()) << l.status().ToString();
  for (const auto& o : *l) EXPECT_EQ(o.size, chunk.size()) << o.name;
  // Deletes still work on a full pool (that is how space comes back).
  EXPECT_TRUE(store.Delete("chunks/qq/fill-0").ok());
  EXPECT_EQ(store.Stat("chunks/qq/fill-0").status().code(), StatusCode::kNotFound);
}

TEST_F(CephStoreTest, ObjectAboveTheChunkSizeIsRefused) {
  CephStoreOptions o = Options(pool_->name());
  o.max_object_bytes = 1 << 20;
  auto s = OpenCephStore(o);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  ASSERT_TRUE((*s)->Put("manifests/fits", TextBytes(1 << 20, 1)).ok());
  Status st = (*s)->Put("manifests/big", TextBytes((1 << 20) + 1, 1));
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << st.ToString();
  EXPECT_NE(st.message().find("manifests/big"), std::string::npos) << st.ToString();
  EXPECT_NE(st.message().find("backup_ceph_chunk_size"), std::string::npos) << st.ToString();
  EXPECT_FALSE(*(*s)->Exists("manifests/big"));
}

TEST_F(CephStoreTest, MissingPoolIsAClearError) {
  auto s = OpenCephStore(Options("no-such-pool-" + std::to_string(::getpid())));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kFailedPrecondition) << s.status().ToString();
  EXPECT_NE(s.status().message().find("backup_ceph_pool"), std::string::npos)
      << s.status().ToString();
}

// A conf naming a monitor address where nothing answers: Unavailable after the op timeout.
TEST_F(CephStoreTest, UnreachableClusterIsUnavailableInBoundedTime) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  ::close(fd);  // a port nobody listens on
  const std::string dir = std::filesystem::path(Conf()).parent_path().string();
  const std::string conf = dir + "/unreachable-" + std::to_string(::getpid()) + ".conf";
  std::ofstream(conf) << "[global]\nmon_host = v2:127.0.0.1:" << ntohs(addr.sin_port)
                      << "\nkeyring = " << dir << "/$cluster.$name.keyring\n"
                      << "log_to_stderr = false\nerr_to_stderr = false\n";
  CephStoreOptions o = Options(pool_->name());
  o.ceph_conf = conf;
  o.op_timeout_s = 3;
  const auto start = std::chrono::steady_clock::now();
  auto s = OpenCephStore(o);
  const auto took = std::chrono::steady_clock::now() - start;
  std::filesystem::remove(conf);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kUnavailable) << s.status().ToString();
  EXPECT_LT(took, std::chrono::seconds(30));
}

}  // namespace
}  // namespace scoria::backup
