// RbdDriver and the RBD BlockDevice against a real Ceph cluster: the one named by
// SCORIA_TEST_CEPH_CONF (client.admin's keyring next to it), which `make test` starts through
// tests/support/ceph_server.py. Without it every test is skipped with a message saying so.
// Each test gets its own pool (made and removed with client.admin), so tests neither see nor
// disturb each other's images.
#include "volume/drivers/rbd/rbd_driver.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "volume/drivers/rbd/rbd_block_device.h"

namespace scoria::volume {
namespace {

constexpr uint64_t kMiB = 1024 * 1024;

const char* CephConf() { return std::getenv("SCORIA_TEST_CEPH_CONF"); }

// Runs a command (the ceph CLI against the test cluster); its stdout, or a failure.
std::string Sh(const std::string& cmd, int* rc = nullptr) {
  std::string full = "CEPH_CONF='" + std::string(CephConf()) + "' " + cmd + " 2>&1";
  FILE* p = ::popen(full.c_str(), "r");
  std::string out;
  std::array<char, 4096> buf{};
  size_t n;
  while (p != nullptr && (n = std::fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  int status = p != nullptr ? ::pclose(p) : -1;
  if (rc != nullptr) {
    *rc = status;
  } else {
    EXPECT_EQ(status, 0) << cmd << ": " << out;
  }
  return out;
}

// The promise is shared with the callback: the waiter may wake and return while set_value is
// still running on librbd's thread, which must not find the promise destroyed.
Status SyncIo(const std::function<void(IoCallback)>& start) {
  auto done = std::make_shared<std::promise<Status>>();
  auto f = done->get_future();
  start([done](Status st) { done->set_value(std::move(st)); });
  return f.get();
}

std::vector<std::byte> Pattern(size_t n, int seed) {
  std::vector<std::byte> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<std::byte>((i * 31 + seed * 7 + 1) & 0xff);
  return v;
}

class RbdDriverTest : public ::testing::Test {
 protected:
  void SetUp() override {
#if defined(__SANITIZE_THREAD__)
    // librados/librbd are not built with TSan: the hand-offs between their threads and ours
    // (synchronous calls whose buffers their messenger threads read, completions) go through
    // synchronisation TSan cannot see, so every test reports races that are not there (tried:
    // suppressing the libraries' frames still leaves reports on our stack buffers). The plain
    // and ASan builds run these tests.
    GTEST_SKIP() << "librados/librbd are not TSan-instrumented";
#endif
    if (CephConf() == nullptr) {
      GTEST_SKIP() << "SCORIA_TEST_CEPH_CONF is not set: these tests need a Ceph cluster; "
                      "`make test` starts one (tests/support/ceph_server.py), or run "
                      "`/usr/bin/python3 tests/support/ceph_server.py run -- build/bin/unit_volume`";
    }
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name = info->name();
    std::transform(name.begin(), name.end(), name.begin(), ::tolower);
    pool_ = "ut-" + std::to_string(::getpid()) + "-" + name;
    Sh("ceph osd pool create " + pool_ + " 8 8 replicated");
    Sh("rbd pool init " + pool_);
    driver_ = NewDriver(Options());
    ASSERT_TRUE(driver_->Setup().ok());
  }
  void TearDown() override {
    if (pool_.empty()) return;  // skipped
    driver_.reset();
    Sh("ceph osd pool rm " + pool_ + " " + pool_ + " --yes-i-really-really-mean-it");
  }

  BackendConfig::RbdOptions Options() const {
    BackendConfig::RbdOptions o;
    o.pool = pool_;
    o.ceph_conf = CephConf();
    o.connect_timeout = 20;
    return o;
  }
  static std::unique_ptr<RbdDriver> NewDriver(BackendConfig::RbdOptions o) {
    return std::make_unique<RbdDriver>("ceph", std::move(o));
  }

  std::shared_ptr<BlockDevice> OpenVolume(const std::string& id) {
    auto dev = driver_->Open(id);
    EXPECT_TRUE(dev.ok()) << dev.status().ToString();
    return dev.ok() ? *dev : nullptr;
  }
  static void Write(BlockDevice& dev, uint64_t off, const std::vector<std::byte>& data) {
    Status st = SyncIo([&](IoCallback cb) { dev.Write(off, data, false, std::move(cb)); });
    ASSERT_TRUE(st.ok()) << st.ToString();
  }
  static std::vector<std::byte> Read(BlockDevice& dev, uint64_t off, size_t n) {
    std::vector<std::byte> out(n);
    Status st = SyncIo([&](IoCallback cb) { dev.Read(off, out, std::move(cb)); });
    EXPECT_TRUE(st.ok()) << st.ToString();
    return out;
  }
  bool ImageExists(const std::string& image) {
    return Sh("rbd ls " + pool_).find(image + "\n") != std::string::npos;
  }
  std::string Snaps(const std::string& image) { return Sh("rbd snap ls " + pool_ + "/" + image); }
  std::vector<std::string> Volumes() {
    auto v = driver_->ListVolumes();
    EXPECT_TRUE(v.ok()) << v.status().ToString();
    std::vector<std::string> ids = v.ok() ? *v : std::vector<std::string>{};
    std::sort(ids.begin(), ids.end());
    return ids;
  }

  std::string pool_;
  std::unique_ptr<RbdDriver> driver_;
};

TEST_F(RbdDriverTest, CreateExtendDeleteAreIdempotent) {
  ASSERT_TRUE(driver_->CreateVolume("v1", 1).ok());
  ASSERT_TRUE(driver_->CreateVolume("v1", 1).ok());  // a re-run task
  EXPECT_EQ(Volumes(), std::vector<std::string>{"v1"});
  EXPECT_EQ(driver_->ProviderLocation("v1"), pool_ + "/volume-v1");
  auto dev = OpenVolume("v1");
  ASSERT_NE(dev, nullptr);
  EXPECT_EQ(dev->Size(), 1ULL << 30);

  ASSERT_TRUE(driver_->ExtendVolume("v1", 3).ok());
  ASSERT_TRUE(driver_->ExtendVolume("v1", 3).ok());
  ASSERT_TRUE(driver_->ExtendVolume("v1", 2).ok());  // never shrinks
  ASSERT_TRUE(dev->Refresh().ok());
  EXPECT_EQ(dev->Size(), 3ULL << 30);  // seen by an open device after Refresh
  dev.reset();

  EXPECT_EQ(driver_->ExtendVolume("nope", 2).code(), StatusCode::kNotFound);
  EXPECT_EQ(driver_->Open("nope").status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(driver_->DeleteVolume("v1").ok());
  ASSERT_TRUE(driver_->DeleteVolume("v1").ok());
  EXPECT_TRUE(Volumes().empty());
  EXPECT_FALSE(ImageExists("volume-v1"));
  EXPECT_EQ(driver_->CreateVolume("bad", -1).code(), StatusCode::kInvalidArgument);
}

TEST_F(RbdDriverTest, ImagesUseTheConfiguredObjectSizeAndLayering) {
  auto o = Options();
  o.store_chunk_size_mb = 8;
  driver_ = NewDriver(o);
  ASSERT_TRUE(driver_->Setup().ok());
  ASSERT_TRUE(driver_->CreateVolume("v1", 1).ok());
  std::string info = Sh("rbd info " + pool_ + "/volume-v1");
  EXPECT_NE(info.find("order 23 (8 MiB objects)"), std::string::npos) << info;
  EXPECT_NE(info.find("layering"), std::string::npos) << info;
}

TEST_F(RbdDriverTest, BlockDeviceReadsWritesDiscardsAndZeroes) {
  ASSERT_TRUE(driver_->CreateVolume("v1", 1).ok());
  auto dev = OpenVolume("v1");
  ASSERT_NE(dev, nullptr);
  auto a = Pattern(64 * 1024, 1);
  Write(*dev, 0, a);
  Write(*dev, 5 * kMiB + 512, Pattern(4096, 2));
  Status st = SyncIo([&](IoCallback cb) { dev->Write(9 * kMiB, a, true, std::move(cb)); });
  ASSERT_TRUE(st.ok()) << st.ToString();
  ASSERT_TRUE(SyncIo([&](IoCallback cb) { dev->Flush(std::move(cb)); }).ok());
  EXPECT_EQ(Read(*dev, 0, a.size()), a);
  EXPECT_EQ(Read(*dev, 5 * kMiB + 512, 4096), Pattern(4096, 2));
  EXPECT_EQ(Read(*dev, 9 * kMiB, a.size()), a);
  EXPECT_EQ(Read(*dev, 100 * kMiB, 4096), std::vector<std::byte>(4096));  // never written

  ASSERT_TRUE(SyncIo([&](IoCallback cb) { dev->Discard(0, 64 * 1024, std::move(cb)); }).ok());
  EXPECT_EQ(Read(*dev, 0, 64 * 1024), std::vector<std::byte>(64 * 1024));
  ASSERT_TRUE(
      SyncIo([&](IoCallback cb) { dev->WriteZeroes(9 * kMiB, 4096, false, std::move(cb)); }).ok());
  auto tail = Read(*dev, 9 * kMiB, a.size());
  EXPECT_EQ(std::vector<std::byte>(tail.begin(), tail.begin() + 4096), std::vector<std::byte>(4096));
  EXPECT_EQ(std::vector<std::byte>(tail.begin() + 4096, tail.end()),
            std::vector<std::byte>(a.begin() + 4096, a.end()));

  // Out of range: refused before librbd sees it.
  std::vector<std::byte> buf(4096);
  st = SyncIo([&](IoCallback cb) { dev->Read((1ULL << 30) - 512, buf, std::move(cb)); });
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);

  // The bytes are in Ceph: a second, independent client (the rbd CLI) sees them.
  std::string path = std::filesystem::temp_directory_path() / ("rbd-ut-" + pool_);
  Sh("rbd export " + pool_ + "/volume-v1 " + path + " --no-progress");
  std::ifstream f(path, std::ios::binary);
  f.seekg(5 * kMiB + 512);
  std::vector<std::byte> got(4096);
  f.read(reinterpret_cast<char*>(got.data()), 4096);
  EXPECT_EQ(got, Pattern(4096, 2));
  std::filesystem::remove(path);
}

TEST_F(RbdDriverTest, ManyConcurrentRequestsAllComplete) {
  ASSERT_TRUE(driver_->CreateVolume("v1", 1).ok());
  auto dev = OpenVolume("v1");
  ASSERT_NE(dev, nullptr);
  constexpr int kRequests = 256;
  std::vector<std::vector<std::byte>> bufs;
  for (int i = 0; i < kRequests; ++i) bufs.push_back(Pattern(4096, i));
  struct Count {
    std::atomic<int> left{kRequests}, failed{0};
    std::promise<void> all;
  };
  auto count = std::make_shared<Count>();  // outlives the last callback, see SyncIo
  auto all_done = count->all.get_future();
  for (int i = 0; i < kRequests; ++i) {
    dev->Write(static_cast<uint64_t>(i) * 3 * kMiB % (1ULL << 30), bufs[i], false,
               [count](Status st) {
                 if (!st.ok()) ++count->failed;
                 if (--count->left == 0) count->all.set_value();
               });
  }
  all_done.get();
  EXPECT_EQ(count->failed, 0);
  for (int i = 0; i < kRequests; i += 37) {
    EXPECT_EQ(Read(*dev, static_cast<uint64_t>(i) * 3 * kMiB % (1ULL << 30), 4096), bufs[i]);
  }
}

TEST_F(RbdDriverTest, SnapshotOpenRevertAndDelete) {
  ASSERT_TRUE(driver_->CreateVolume("v1", 1).ok());
  auto dev = OpenVolume("v1");
  ASSERT_NE(dev, nullptr);
  Write(*dev, 0, Pattern(8192, 1));
  ASSERT_TRUE(driver_->CreateSnapshot("v1", "s1", nullptr).ok());
  ASSERT_TRUE(driver_->CreateSnapshot("v1", "s1", nullptr).ok());  // idempotent
  Write(*dev, 0, Pattern(8192, 2));

  auto snap = driver_->OpenSnapshot("v1", "s1");
  ASSERT_TRUE(snap.ok()) << snap.status().ToString();
  EXPECT_EQ(Read(**snap, 0, 8192), Pattern(8192, 1));
  auto data = Pattern(512, 3);
  Status st = SyncIo([&](IoCallback cb) { (*snap)->Write(0, data, false, std::move(cb)); });
  EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition);
  snap->reset();
  EXPECT_EQ(driver_->OpenSnapshot("v1", "nope").status().code(), StatusCode::kNotFound);
  auto listed = driver_->ListSnapshots();
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(*listed, std::vector<std::string>{"s1"});

  // Revert (the manager quiesces: the device is closed), after an extend: the size stays.
  dev.reset();
  ASSERT_TRUE(driver_->ExtendVolume("v1", 2).ok());
  ASSERT_TRUE(driver_->RevertToSnapshot("v1", "s1").ok());
  ASSERT_TRUE(driver_->RevertToSnapshot("v1", "s1").ok());
  dev = OpenVolume("v1");
  EXPECT_EQ(dev->Size(), 2ULL << 30);
  EXPECT_EQ(Read(*dev, 0, 8192), Pattern(8192, 1));
  EXPECT_EQ(Read(*dev, (1ULL << 30) + 4096, 4096), std::vector<std::byte>(4096));
  EXPECT_EQ(driver_->RevertToSnapshot("v1", "nope").code(), StatusCode::kNotFound);
  dev.reset();

  ASSERT_TRUE(driver_->DeleteSnapshot("v1", "s1").ok());
  ASSERT_TRUE(driver_->DeleteSnapshot("v1", "s1").ok());
  ASSERT_TRUE(driver_->DeleteSnapshot("gone", "s1").ok());
  EXPECT_TRUE(driver_->ListSnapshots()->empty());
  EXPECT_EQ(driver_->OpenSnapshot("v1", "s1").status().code(), StatusCode::kNotFound)
      << "a deleted snapshot is gone for its users";
  // Kept hidden as the base of the next incremental backup; a newer deleted one replaces it.
  EXPECT_NE(Snaps("volume-v1").find("snapshot-s1.deleted"), std::string::npos);
  ASSERT_TRUE(driver_->CreateSnapshot("v1", "s2", nullptr).ok());
  ASSERT_TRUE(driver_->DeleteSnapshot("v1", "s2").ok());
  EXPECT_EQ(Snaps("volume-v1").find("snapshot-s1"), std::string::npos);
  EXPECT_NE(Snaps("volume-v1").find("snapshot-s2.deleted"), std::string::npos);
  // All go with the volume.
  ASSERT_TRUE(driver_->DeleteVolume("v1").ok());
  EXPECT_FALSE(ImageExists("volume-v1"));
  EXPECT_EQ(driver_->CreateSnapshot("nope", "s2", nullptr).code(), StatusCode::kNotFound);
}

TEST_F(RbdDriverTest, VolumesFromSnapshotsAndClonesAreIndependentLayeredClones) {
  ASSERT_TRUE(driver_->CreateVolume("src", 1).ok());
  auto dev = OpenVolume("src");
  Write(*dev, 4096, Pattern(4096, 1));
  ASSERT_TRUE(driver_->CreateSnapshot("src", "s1", nullptr).ok());
  Write(*dev, 4096, Pattern(4096, 2));

  EXPECT_EQ(driver_->CreateVolumeFromSnapshot("small", 0, "src", "s1").code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(driver_->CreateVolumeFromSnapshot("x", 1, "src", "nope").code(),
            StatusCode::kNotFound);
  ASSERT_TRUE(driver_->CreateVolumeFromSnapshot("fs", 2, "src", "s1").ok());
  ASSERT_TRUE(driver_->CreateVolumeFromSnapshot("fs", 2, "src", "s1").ok());
  ASSERT_TRUE(driver_->CloneVolume("cl", 1, "src").ok());
  ASSERT_TRUE(driver_->CloneVolume("cl", 1, "src").ok());
  EXPECT_EQ(driver_->CloneVolume("x2", 1, "nope").code(), StatusCode::kNotFound);
  EXPECT_EQ(driver_->CloneVolume("x3", 0, "src").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Snaps("volume-src").find("volume-x3.clone_snap"), std::string::npos)
      << "a failed clone leaves no snapshot behind";

  EXPECT_EQ(driver_->CloneDepth("volume-fs").value(), 1);  // layered, not copied
  EXPECT_EQ(driver_->CloneDepth("volume-cl").value(), 1);
  auto fs = OpenVolume("fs");
  auto cl = OpenVolume("cl");
  EXPECT_EQ(fs->Size(), 2ULL << 30);
  EXPECT_EQ(Read(*fs, 4096, 4096), Pattern(4096, 1));
  EXPECT_EQ(Read(*cl, 4096, 4096), Pattern(4096, 2));
  EXPECT_EQ(Read(*fs, (1ULL << 30) + 8192, 4096), std::vector<std::byte>(4096));
  Write(*fs, 4096, Pattern(4096, 3));
  EXPECT_EQ(Read(*dev, 4096, 4096), Pattern(4096, 2));  // the source is untouched
  fs.reset();
  cl.reset();
  dev.reset();

  // The snapshot has a child: its deletion is deferred (hidden, kept), the child reads on.
  ASSERT_TRUE(driver_->DeleteSnapshot("src", "s1").ok());
  ASSERT_TRUE(driver_->DeleteSnapshot("src", "s1").ok());
  EXPECT_TRUE(driver_->ListSnapshots()->empty());
  EXPECT_NE(Snaps("volume-src").find("snapshot-s1.deleted"), std::string::npos);
  // The source has children (fs through s1, cl through its clone snapshot): deferred too.
  ASSERT_TRUE(driver_->DeleteVolume("src").ok());
  ASSERT_TRUE(driver_->DeleteVolume("src").ok());
  EXPECT_EQ(Volumes(), (std::vector<std::string>{"cl", "fs"}));
  EXPECT_TRUE(ImageExists("volume-src.deleted"));
  fs = OpenVolume("fs");
  EXPECT_EQ(Read(*fs, 4096, 4096), Pattern(4096, 3));
  fs.reset();

  // The last child gone, the deferred snapshot and image go with it.
  ASSERT_TRUE(driver_->DeleteVolume("fs").ok());
  EXPECT_TRUE(ImageExists("volume-src.deleted"));  // cl still hangs from it
  cl = OpenVolume("cl");
  EXPECT_EQ(Read(*cl, 4096, 4096), Pattern(4096, 2));
  cl.reset();
  ASSERT_TRUE(driver_->DeleteVolume("cl").ok());
  EXPECT_EQ(Sh("rbd ls " + pool_), "");
}

TEST_F(RbdDriverTest, ClonesDeeperThanMaxCloneDepthAreFlattened) {
  auto o = Options();
  o.max_clone_depth = 2;
  driver_ = NewDriver(o);
  ASSERT_TRUE(driver_->Setup().ok());
  ASSERT_TRUE(driver_->CreateVolume("v0", 1).ok());
  auto dev = OpenVolume("v0");
  Write(*dev, 0, Pattern(4096, 9));
  dev.reset();
  ASSERT_TRUE(driver_->CloneVolume("v1", 1, "v0").ok());
  ASSERT_TRUE(driver_->CloneVolume("v2", 1, "v1").ok());
  ASSERT_TRUE(driver_->CloneVolume("v3", 1, "v2").ok());  // depth 3 > 2: flattened
  EXPECT_EQ(driver_->CloneDepth("volume-v1").value(), 1);
  EXPECT_EQ(driver_->CloneDepth("volume-v2").value(), 2);
  EXPECT_EQ(driver_->CloneDepth("volume-v3").value(), 0);
  dev = OpenVolume("v3");
  EXPECT_EQ(Read(*dev, 0, 4096), Pattern(4096, 9));
  dev.reset();
  // Its clone snapshot on v2 went with the flattening.
  EXPECT_EQ(Snaps("volume-v2"), "");

  // rbd_flatten_volume_from_snapshot: volumes from snapshots are full copies.
  o.flatten_volume_from_snapshot = true;
  driver_ = NewDriver(o);
  ASSERT_TRUE(driver_->Setup().ok());
  ASSERT_TRUE(driver_->CreateSnapshot("v0", "s", nullptr).ok());
  ASSERT_TRUE(driver_->CreateVolumeFromSnapshot("f", 1, "v0", "s").ok());
  EXPECT_EQ(driver_->CloneDepth("volume-f").value(), 0);
  ASSERT_TRUE(driver_->DeleteSnapshot("v0", "s").ok());  // no child left: only the diff base
  EXPECT_NE(Snaps("volume-v0").find("snapshot-s.deleted"), std::string::npos);
  EXPECT_EQ(Snaps("volume-v0").find("protected"), std::string::npos);

  // rbd_max_clone_depth = 0: every clone is a copy.
  o.flatten_volume_from_snapshot = false;
  o.max_clone_depth = 0;
  driver_ = NewDriver(o);
  ASSERT_TRUE(driver_->Setup().ok());
  ASSERT_TRUE(driver_->CloneVolume("c0", 1, "v0").ok());
  EXPECT_EQ(driver_->CloneDepth("volume-c0").value(), 0);
}

TEST_F(RbdDriverTest, ChangedAndAllocatedRangesAreTheWrittenExtents) {
  ASSERT_TRUE(driver_->CreateVolume("v1", 1).ok());
  auto dev = OpenVolume("v1");
  // Before the first snapshot: data in the three 4 MiB objects the extents below land in (so
  // the objects exist on both sides of the diff), and in one object nothing touches later.
  const std::vector<ByteRange> before = {
      {3 * kMiB, 4096}, {11 * kMiB, 4096}, {200 * kMiB, 4096}, {515 * kMiB, 4096}};
  for (const ByteRange& r : before) Write(*dev, r.offset, Pattern(r.length, 7));
  ASSERT_TRUE(driver_->CreateSnapshot("v1", "s1", nullptr).ok());
  // Three extents, none touching another or the data above.
  const std::vector<ByteRange> written = {
      {4096, 8192}, {10 * kMiB + 512, 64 * 1024}, {513 * kMiB, 4096}};
  for (size_t i = 0; i < written.size(); ++i) {
    Write(*dev, written[i].offset, Pattern(written[i].length, static_cast<int>(i)));
  }
  ASSERT_TRUE(driver_->CreateSnapshot("v1", "s2", nullptr).ok());
  Write(*dev, 700 * kMiB, Pattern(4096, 5));  // after: in neither snapshot
  Write(*dev, 4096, Pattern(4096, 6));

  // Exactly the three extents: whole_object off, objects existing on both sides.
  auto changed = driver_->ChangedRanges("v1", "s1", "s2");
  ASSERT_TRUE(changed.ok()) << changed.status().ToString();
  EXPECT_EQ(*changed, written);

  // An object first written after `from` counts from its start to its end of data (RBD knows
  // no finer there): a superset, as the contract allows, within that one object.
  ASSERT_TRUE(driver_->CreateSnapshot("v1", "s3", nullptr).ok());
  changed = driver_->ChangedRanges("v1", "s2", "s3");
  ASSERT_TRUE(changed.ok()) << changed.status().ToString();
  EXPECT_EQ(*changed, (std::vector<ByteRange>{{4096, 4096}, {700 * kMiB, 4096}}));
  dev.reset();

  // Allocated: every byte written before s2 is covered, nothing of the objects never written.
  auto allocated = driver_->AllocatedRanges("v1", "s2");
  ASSERT_TRUE(allocated.ok()) << allocated.status().ToString();
  auto covered = [&](const ByteRange& r) {
    return std::any_of(allocated->begin(), allocated->end(), [&](const ByteRange& a) {
      return a.offset <= r.offset && r.offset + r.length <= a.offset + a.length;
    });
  };
  for (const auto& r : before) EXPECT_TRUE(covered(r)) << r.offset;
  for (const auto& r : written) EXPECT_TRUE(covered(r)) << r.offset;
  uint64_t bytes = 0;
  for (const auto& a : *allocated) bytes += a.length;
  EXPECT_LE(bytes, 5 * 4 * kMiB) << "more than the five objects written";
  EXPECT_FALSE(covered(ByteRange{700 * kMiB, 4096}));
  auto head = driver_->AllocatedRanges("v1", "");
  ASSERT_TRUE(head.ok());
  EXPECT_TRUE(std::any_of(head->begin(), head->end(),
                          [](const ByteRange& a) { return a.offset == 700 * kMiB; }));

  EXPECT_EQ(driver_->ChangedRanges("v1", "s1", "nope").status().code(), StatusCode::kNotFound);
  // The backup service deletes the snapshot a backup read: the next incremental still diffs
  // against it (kept hidden), until a newer deleted snapshot replaces it.
  ASSERT_TRUE(driver_->DeleteSnapshot("v1", "s1").ok());
  changed = driver_->ChangedRanges("v1", "s1", "s2");
  ASSERT_TRUE(changed.ok()) << changed.status().ToString();
  EXPECT_EQ(*changed, written);
  ASSERT_TRUE(driver_->DeleteSnapshot("v1", "s2").ok());
  EXPECT_EQ(driver_->ChangedRanges("v1", "s1", "s3").status().code(),
            StatusCode::kFailedPrecondition);
  EXPECT_TRUE(driver_->ChangedRanges("v1", "s2", "s3").ok());
}

TEST_F(RbdDriverTest, StatsComeFromTheCluster) {
  ASSERT_TRUE(driver_->CreateVolume("a", 3).ok());
  ASSERT_TRUE(driver_->CreateVolume("b", 2).ok());
  auto s = driver_->Stats();
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_TRUE(s->thin_provisioning_support);
  EXPECT_FALSE(s->thick_provisioning_support);
  EXPECT_DOUBLE_EQ(s->provisioned_capacity_gb, 5.0);
  EXPECT_GT(s->total_capacity_gb, 1.0);
  EXPECT_GT(s->free_capacity_gb, 1.0);
  EXPECT_LE(s->free_capacity_gb, s->total_capacity_gb);
  // A pool quota caps the capacity the scheduler sees.
  Sh("ceph osd pool set-quota " + pool_ + " max_bytes " + std::to_string(512 * kMiB));
  s = driver_->Stats();
  ASSERT_TRUE(s.ok());
  EXPECT_NEAR(s->total_capacity_gb, 0.5, 0.01);
}

TEST_F(RbdDriverTest, AUserWithoutCapsOrWithAWrongKeyGetsAClearError) {
  const std::string conf_dir = std::filesystem::path(CephConf()).parent_path();
  // Caps on another pool only.
  const std::string nocaps = "ut-nocaps-" + std::to_string(::getpid());
  Sh("ceph auth get-or-create client." + nocaps +
     " mon 'profile rbd' osd 'profile rbd pool=elsewhere' -o " + conf_dir + "/ceph.client." +
     nocaps + ".keyring");
  auto o = Options();
  o.user = nocaps;
  auto d = NewDriver(o);
  Status st = d->Setup();
  if (st.ok()) st = d->CreateVolume("v1", 1);
  EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition) << st.ToString();
  EXPECT_NE(st.message().find("client." + nocaps), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("pool " + pool_), std::string::npos) << st.message();

  // A key the cluster does not know for that user.
  const std::string wrong = "ut-wrongkey-" + std::to_string(::getpid());
  Sh("ceph auth get-or-create client." + wrong + " mon 'profile rbd' osd 'profile rbd'");
  std::string key = Sh("ceph-authtool --gen-print-key");
  key.erase(key.find_last_not_of("\n") + 1);
  std::ofstream(conf_dir + "/ceph.client." + wrong + ".keyring")
      << "[client." << wrong << "]\n\tkey = " << key << "\n";
  o.user = wrong;
  d = NewDriver(o);
  st = d->Setup();
  EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition) << st.ToString();
  EXPECT_NE(st.message().find("client." + wrong), std::string::npos) << st.message();

  // A pool that does not exist.
  o = Options();
  o.pool = "no-such-pool";
  d = NewDriver(o);
  st = d->Setup();
  EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition) << st.ToString();
  EXPECT_NE(st.message().find("no-such-pool"), std::string::npos) << st.message();
  for (const auto& u : {nocaps, wrong}) Sh("ceph auth del client." + u);
}

TEST_F(RbdDriverTest, AFullPoolIsResourceExhausted) {
  ASSERT_TRUE(driver_->CreateVolume("v1", 1).ok());
  auto dev = OpenVolume("v1");
  Sh("ceph osd pool set-quota " + pool_ + " max_bytes " + std::to_string(4 * kMiB));
  // Fill past the quota; the monitors mark the pool full from the OSDs' next stats report.
  auto data = Pattern(kMiB, 1);
  for (uint64_t off = 0; off < 8 * kMiB; off += kMiB) Write(*dev, off, data);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  const std::string full = "pool '" + pool_ + "' is full";
  while (Sh("ceph health detail").find(full) == std::string::npos &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  ASSERT_NE(Sh("ceph health detail").find(full), std::string::npos);

  Status st = SyncIo([&](IoCallback cb) { dev->Write(64 * kMiB, data, false, std::move(cb)); });
  EXPECT_EQ(st.code(), StatusCode::kResourceExhausted) << st.ToString();
  st = driver_->CreateVolume("v2", 1);
  EXPECT_EQ(st.code(), StatusCode::kResourceExhausted) << st.ToString();
  auto s = driver_->Stats();
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->free_capacity_gb, 0.0);
  // librbd removes through the trash, which a full pool refuses: a clear error, not a false
  // success, and the removal works once the pool has room.
  dev.reset();
  st = driver_->DeleteVolume("v1");
  EXPECT_EQ(st.code(), StatusCode::kResourceExhausted) << st.ToString();
  EXPECT_TRUE(ImageExists("volume-v1"));
  Sh("ceph osd pool set-quota " + pool_ + " max_bytes 0");
  while (Sh("ceph health detail").find(full) != std::string::npos &&
         std::chrono::steady_clock::now() < deadline + std::chrono::seconds(60)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  st = driver_->DeleteVolume("v1");
  EXPECT_TRUE(st.ok()) << st.ToString();
  EXPECT_FALSE(ImageExists("volume-v1"));
}

}  // namespace
}  // namespace scoria::volume
