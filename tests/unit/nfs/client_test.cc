// nfs/options.h (pure parsing) and nfs/client.h against the real ganesha of nfs_server.py.
#include "nfs/client.h"

#include <fcntl.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "nfs/options.h"
#include "nfs_test_env.h"

namespace scoria::nfs {
namespace {

TEST(NfsOptionsTest, ParsesShares) {
  auto s = ParseShare("10.0.0.1:/srv/vols/");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->host, "10.0.0.1");
  EXPECT_EQ(s->path, "/srv/vols");
  EXPECT_EQ(s->Spec(), "10.0.0.1:/srv/vols");
  auto v6 = ParseShare("[fd00::1]:/e");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->host, "fd00::1");
  EXPECT_EQ(v6->Spec(), "[fd00::1]:/e");
  for (const char* bad : {"", "host", "host:", "host:relative", ":/e", "[::1/e", "h:/a b"}) {
    auto r = ParseShare(bad);
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_EQ(ParseShare("nas").status().message(), "NFS share \"nas\": expected host:/export");
}

TEST(NfsOptionsTest, ParsesShareLinesWithOptions) {
  auto s = ParseShareLine("  nas:/e1 -o port=2049,timeo=600  # main");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->Spec(), "nas:/e1");
  EXPECT_EQ(s->options, "port=2049,timeo=600");
  auto blank = ParseShareLine("   # nothing");
  ASSERT_TRUE(blank.ok());
  EXPECT_TRUE(blank->host.empty());
  EXPECT_EQ(ParseShareLine("nas:/e1 -o vers=4").status().code(), StatusCode::kInvalidArgument);
}

TEST(NfsOptionsTest, ParsesSharesFile) {
  std::string path = ::testing::TempDir() + "/nfs_shares_" + std::to_string(::getpid());
  {
    std::ofstream f(path);
    f << "# shares\n\nnas:/a\nnas:/b -o port=1\n";
  }
  auto shares = ParseSharesFile(path);
  ASSERT_TRUE(shares.ok()) << shares.status().ToString();
  ASSERT_EQ(shares->size(), 2u);
  EXPECT_EQ((*shares)[1].options, "port=1");
  {
    std::ofstream f(path);
    f << "nas:/a\nnas:/a\n";
  }
  EXPECT_EQ(ParseSharesFile(path).status().message(), path + ":2: share nas:/a is listed twice");
  {
    std::ofstream f(path);
    f << "# none\n";
  }
  EXPECT_EQ(ParseSharesFile(path).status().code(), StatusCode::kInvalidArgument);
  std::remove(path.c_str());
  EXPECT_EQ(ParseSharesFile(path).status().code(), StatusCode::kNotFound);
}

TEST(NfsOptionsTest, MountOptionsAppliedIgnoredRefused) {
  auto o =
      ParseMountOptions("nfsvers=3,port=2049,mountport=20048,timeo=25,hard,rsize=1048576,uid=0");
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_EQ(o->nfs_port, 2049);
  EXPECT_EQ(o->mount_port, 20048);
  EXPECT_EQ(o->timeout_ms, 3000);  // 2.5 s rounded up to whole seconds (libnfs)
  EXPECT_EQ(o->uid, 0);
  EXPECT_EQ(o->ignored, (std::vector<std::string>{"hard", "rsize=1048576"}));
  EXPECT_EQ(ParseMountOptions("vers=4.1").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseMountOptions("proto=udp").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseMountOptions("port=x").status().message(),
            "mount option port: expected an integer in 0..65535, got \"x\"");
  EXPECT_EQ(ParseMountOptions("frobnicate").status().code(), StatusCode::kInvalidArgument);
  // A share's own options override the backend's.
  auto base = ParseMountOptions("port=1,timeo=10");
  ASSERT_TRUE(base.ok());
  auto merged = ParseMountOptions("port=2", *base);
  ASSERT_TRUE(merged.ok());
  EXPECT_EQ(merged->nfs_port, 2);
  EXPECT_EQ(merged->timeout_ms, 1000);
}

class NfsClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    env_ = nfs_test::GetEnv();
    SCORIA_REQUIRE_NFS(env_);
    auto share = ParseShare(env_.shares[0]);
    ASSERT_TRUE(share.ok());
    share_ = *share;
    auto opts = ParseMountOptions(env_.mount_options);
    ASSERT_TRUE(opts.ok());
    opts_ = *opts;
  }
  nfs_test::Env env_;
  Share share_;
  MountOptions opts_;
};

TEST_F(NfsClientTest, FileLifecycle) {
  auto c = Client::Connect(share_, opts_);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  const std::string name = "client-test-" + std::to_string(::getpid());
  (void)(*c)->Unlink(name);
  {
    auto f = (*c)->Open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
    ASSERT_TRUE(f.ok()) << f.status().ToString();
    std::string data(3 << 20, 'x');  // larger than one READ/WRITE of most servers
    data[12345] = 'y';
    ASSERT_TRUE((*f)->PWrite(4096, std::as_bytes(std::span(data))).ok());
    ASSERT_TRUE((*f)->Sync().ok());
    std::vector<std::byte> back(data.size() + 4096);
    auto n = (*f)->PRead(0, back);
    ASSERT_TRUE(n.ok());
    EXPECT_EQ(*n, back.size());
    EXPECT_EQ(back[0], std::byte{0});
    EXPECT_EQ(back[4096 + 12345], std::byte{'y'});
    ASSERT_TRUE((*f)->Truncate(64 << 20).ok());
    auto st = (*f)->Stat();
    ASSERT_TRUE(st.ok());
    EXPECT_EQ(st->size, 64u << 20);
  }
  // O_EXCL on an existing file.
  EXPECT_EQ((*c)->Open(name, O_RDWR | O_CREAT | O_EXCL).status().code(),
            StatusCode::kAlreadyExists);
  ASSERT_TRUE((*c)->Rename(name, name + ".b").ok());
  auto list = (*c)->List("");
  ASSERT_TRUE(list.ok());
  bool seen = false;
  for (const auto& e : *list) seen |= e.name == name + ".b" && e.is_regular && e.size == 64u << 20;
  EXPECT_TRUE(seen);
  ASSERT_TRUE((*c)->Unlink(name + ".b").ok());
  EXPECT_EQ((*c)->Unlink(name + ".b").code(), StatusCode::kNotFound);
  EXPECT_EQ((*c)->Stat(name).status().code(), StatusCode::kNotFound);
  auto fs = (*c)->StatFs();
  ASSERT_TRUE(fs.ok());
  EXPECT_GT(fs->total_bytes, 0u);
  EXPECT_LE(fs->free_bytes, fs->total_bytes);
}

TEST_F(NfsClientTest, MissingExportIsAnError) {
  Share bad = share_;
  bad.path = "/no-such-export";
  auto c = Client::Connect(bad, opts_);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("/no-such-export"), std::string::npos);
}

TEST_F(NfsClientTest, NoServerIsUnavailableQuickly) {
  MountOptions o = opts_;
  o.nfs_port = 1;  // nothing listens there
  o.mount_port = 1;
  const auto t0 = std::chrono::steady_clock::now();
  auto c = Client::Connect(share_, o);
  const auto took = std::chrono::steady_clock::now() - t0;
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kUnavailable) << c.status().ToString();
  EXPECT_LT(took, std::chrono::seconds(5));
}

TEST_F(NfsClientTest, PoolReconnectsAfterAFailedClient) {
  ClientPool pool(share_, opts_);
  ASSERT_TRUE(pool.Do([](Client& c) { return c.StatFs().status(); }).ok());
  // A client that reports a dead connection is dropped, not reused.
  ASSERT_TRUE(pool.Do([](Client& c) {
                    c.set_broken();
                    return Unavailable("simulated");
                  })
                  .code() == StatusCode::kUnavailable);
  EXPECT_TRUE(pool.Do([](Client& c) { return c.StatFs().status(); }).ok());
}

}  // namespace
}  // namespace scoria::nfs
