// NfsDriver against the real ganesha of tests/support/nfs_server.py (SCORIA_TEST_NFS_*): every
// operation, idempotence, placement by free space, errors. Files are checked through the
// exports' local directories, which is where ganesha keeps them.
#include "volume/drivers/nfs/nfs_driver.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <future>
#include <random>
#include <string>
#include <vector>

#include "../nfs/nfs_test_env.h"

namespace scoria::volume {
namespace {

namespace fs = std::filesystem;

std::string RandomId() {
  static std::mt19937_64 rng(std::random_device{}());
  char buf[40];
  std::snprintf(buf, sizeof(buf), "t%016llx", static_cast<unsigned long long>(rng()));
  return buf;
}

Status Sync(const std::function<void(IoCallback)>& op) {
  std::promise<Status> p;
  auto f = p.get_future();
  op([&p](Status st) { p.set_value(std::move(st)); });
  return f.get();
}

// Copies of whole GiB volumes over NFS on one thread: under ThreadSanitizer they cost a minute
// and check no threading; the normal and ASan runs cover them.
#if defined(__SANITIZE_THREAD__)
#define SKIP_COPY_HEAVY_UNDER_TSAN() GTEST_SKIP() << "single-threaded GiB copies: not under TSan"
#else
#define SKIP_COPY_HEAVY_UNDER_TSAN() (void)0
#endif

class NfsDriverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    env_ = nfs_test::GetEnv();
    SCORIA_REQUIRE_NFS(env_);
    conf_dir_ = ::testing::TempDir() + "/nfs-driver-" + RandomId();
    fs::create_directories(conf_dir_);
  }
  void TearDown() override {
    // Remove what a test left on the exports (its ids are random, so only its own files).
    for (const auto& dir : AllDirs()) {
      std::error_code ec;
      for (const auto& e : fs::directory_iterator(dir, ec)) {
        for (const auto& id : ids_) {
          if (e.path().filename().string().find(id) != std::string::npos) fs::remove(e.path(), ec);
        }
      }
    }
    std::error_code ec;
    fs::remove_all(conf_dir_, ec);
  }

  std::vector<std::string> AllDirs() const {
    auto d = env_.export_dirs;
    if (!env_.small_dir.empty()) d.push_back(env_.small_dir);
    return d;
  }

  std::string NewId() {
    ids_.push_back(RandomId());
    return ids_.back();
  }

  // A driver over `shares` (default: every normal export) with `mount_options` added.
  std::unique_ptr<NfsDriver> MakeDriver(std::vector<std::string> shares = {},
                                        const std::string& extra_options = "", bool sparse = true) {
    if (shares.empty()) shares = env_.shares;
    const std::string path = conf_dir_ + "/shares-" + RandomId();
    std::ofstream f(path);
    f << "# written by nfs_driver_test\n";
    for (const auto& s : shares) f << s << "\n";
    f.close();
    BackendConfig::NfsOptions o;
    o.shares_config = path;
    o.sparsed_volumes = sparse;
    o.mount_options = env_.mount_options + (extra_options.empty() ? "" : "," + extra_options);
    return std::make_unique<NfsDriver>("nfs-test", o);
  }

  // Local path of `file` on the export of `share` ("127.0.0.1:/export1").
  std::string LocalPath(const std::string& share, const std::string& file) const {
    for (size_t i = 0; i < env_.shares.size(); ++i) {
      if (env_.shares[i] == share) return env_.export_dirs[i] + "/" + file;
    }
    if (share == env_.small_share) return env_.small_dir + "/" + file;
    ADD_FAILURE() << "unknown share " << share;
    return "/nonexistent";
  }

  static void WriteAt(const std::string& path, uint64_t off, const std::string& data) {
    int fd = ::open(path.c_str(), O_WRONLY);
    ASSERT_GE(fd, 0) << path;
    ASSERT_EQ(::pwrite(fd, data.data(), data.size(), static_cast<off_t>(off)),
              static_cast<ssize_t>(data.size()));
    ::close(fd);
  }
  static std::string ReadAt(const std::string& path, uint64_t off, size_t n) {
    std::string out(n, '\0');
    int fd = ::open(path.c_str(), O_RDONLY);
    EXPECT_GE(fd, 0) << path;
    if (fd < 0) return "";
    EXPECT_EQ(::pread(fd, out.data(), n, static_cast<off_t>(off)), static_cast<ssize_t>(n));
    ::close(fd);
    return out;
  }
  static uint64_t SizeOf(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
  }

  nfs_test::Env env_;
  std::string conf_dir_;
  std::vector<std::string> ids_;
};

TEST_F(NfsDriverTest, CreateExtendDeleteAreIdempotent) {
  auto d = MakeDriver();
  ASSERT_TRUE(d->Setup().ok());
  const std::string id = NewId();
  ASSERT_TRUE(d->CreateVolume(id, 1).ok());
  const std::string share = d->ProviderLocation(id);
  ASSERT_FALSE(share.empty());
  const std::string path = LocalPath(share, "volume-" + id);
  EXPECT_EQ(SizeOf(path), uint64_t{kGiB});
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_LT(st.st_blocks * 512, 1 << 20) << "a sparse volume takes no space until written";
  WriteAt(path, 4096, "kept");
  ASSERT_TRUE(d->CreateVolume(id, 1).ok()) << "creating what exists succeeds";
  EXPECT_EQ(ReadAt(path, 4096, 4), "kept") << "and leaves its bytes alone";

  ASSERT_TRUE(d->ExtendVolume(id, 2).ok());
  EXPECT_EQ(SizeOf(path), uint64_t{2 * kGiB});
  ASSERT_TRUE(d->ExtendVolume(id, 2).ok());
  ASSERT_TRUE(d->ExtendVolume(id, 1).ok()) << "never shrinks";
  EXPECT_EQ(SizeOf(path), uint64_t{2 * kGiB});

  auto ids = d->ListVolumes();
  ASSERT_TRUE(ids.ok());
  EXPECT_NE(std::find(ids->begin(), ids->end(), id), ids->end());

  // A fresh driver (a restarted daemon) finds the volume by looking on the shares, even one
  // nobody called Setup on (the backup service builds its own drivers that way).
  auto d2 = MakeDriver();
  EXPECT_EQ(d2->ProviderLocation(id), share);
  auto ranges = d2->AllocatedRanges(id, "");
  ASSERT_TRUE(ranges.ok()) << ranges.status().ToString();

  ASSERT_TRUE(d->DeleteVolume(id).ok());
  EXPECT_FALSE(fs::exists(path));
  ASSERT_TRUE(d->DeleteVolume(id).ok()) << "deleting what is gone succeeds";
  ASSERT_TRUE(d2->DeleteVolume(id).ok());
  EXPECT_EQ(d->ExtendVolume(id, 3).code(), StatusCode::kNotFound);
  EXPECT_EQ(d->CreateVolume(NewId(), -1).code(), StatusCode::kInvalidArgument);
}

// Regression guard: a crashed create or copy leaves `.tmp-<name>` with bytes in it; the re-run
// must not hand them out (copies skip zero blocks, so stale bytes would show through).
TEST_F(NfsDriverTest, LeftoverTemporaryFilesLendNoBytes) {
  auto d = MakeDriver({env_.shares[0]});
  ASSERT_TRUE(d->Setup().ok());
  const std::string vol = NewId(), snap = NewId();
  const std::string dir = env_.export_dirs[0];
  {
    std::ofstream f(dir + "/.tmp-volume-" + vol);
    f << std::string(1 << 20, 'S');
  }
  ASSERT_TRUE(d->CreateVolume(vol, 1).ok());
  EXPECT_EQ(ReadAt(dir + "/volume-" + vol, 0, 8), std::string(8, '\0'));
  EXPECT_FALSE(fs::exists(dir + "/.tmp-volume-" + vol));
  {
    std::ofstream f(dir + "/.tmp-volume-" + vol + ".snapshot-" + snap);
    f << std::string(1 << 20, 'S');
  }
  SKIP_COPY_HEAVY_UNDER_TSAN();
  ASSERT_TRUE(d->CreateSnapshot(vol, snap, {}).ok());
  EXPECT_EQ(ReadAt(dir + "/volume-" + vol + ".snapshot-" + snap, 4096, 8), std::string(8, '\0'));
  ASSERT_TRUE(d->DeleteSnapshot(vol, snap).ok());
  ASSERT_TRUE(d->DeleteVolume(vol).ok());
}

TEST_F(NfsDriverTest, ThickVolumesAreWritten) {
  SKIP_COPY_HEAVY_UNDER_TSAN();
  auto d = MakeDriver({}, "", /*sparse=*/false);
  ASSERT_TRUE(d->Setup().ok());
  const std::string id = NewId();
  ASSERT_TRUE(d->CreateVolume(id, 1).ok());
  struct stat st {};
  ASSERT_EQ(::stat(LocalPath(d->ProviderLocation(id), "volume-" + id).c_str(), &st), 0);
  EXPECT_GE(static_cast<uint64_t>(st.st_blocks) * 512, uint64_t{kGiB});
  auto stats = d->Stats();
  ASSERT_TRUE(stats.ok());
  EXPECT_TRUE(stats->thick_provisioning_support);
  EXPECT_FALSE(stats->thin_provisioning_support);
  ASSERT_TRUE(d->DeleteVolume(id).ok());
}

TEST_F(NfsDriverTest, PlacesVolumesOnTheShareWithTheMostFreeSpace) {
  if (env_.small_share.empty()) GTEST_SKIP() << "the small (loop-mounted) export is missing";
  // The small share is listed first: the driver must still choose the big one.
  auto d = MakeDriver({env_.small_share, env_.shares[0]});
  ASSERT_TRUE(d->Setup().ok());
  const std::string id = NewId();
  ASSERT_TRUE(d->CreateVolume(id, 1).ok());
  EXPECT_EQ(d->ProviderLocation(id), env_.shares[0]);
  EXPECT_TRUE(fs::exists(env_.export_dirs[0] + "/volume-" + id));
  EXPECT_FALSE(fs::exists(env_.small_dir + "/volume-" + id));
  // Stats sum both shares.
  auto one = MakeDriver({env_.shares[0]});
  ASSERT_TRUE(one->Setup().ok());
  auto both = d->Stats();
  auto single = one->Stats();
  ASSERT_TRUE(both.ok() && single.ok());
  EXPECT_GT(both->total_capacity_gb, single->total_capacity_gb);
  EXPECT_GE(both->provisioned_capacity_gb, 1.0);
  ASSERT_TRUE(d->DeleteVolume(id).ok());
}

TEST_F(NfsDriverTest, AFullShareIsResourceExhausted) {
  if (env_.small_share.empty()) GTEST_SKIP() << "the small (loop-mounted) export is missing";
  auto thick = MakeDriver({env_.small_share}, "", /*sparse=*/false);
  ASSERT_TRUE(thick->Setup().ok());
  EXPECT_EQ(thick->CreateVolume(NewId(), 1).code(), StatusCode::kResourceExhausted);

  // A sparse volume fits until it is written: then NFS3ERR_NOSPC comes back from the device.
  auto d = MakeDriver({env_.small_share});
  ASSERT_TRUE(d->Setup().ok());
  const std::string id = NewId();
  ASSERT_TRUE(d->CreateVolume(id, 1).ok());
  auto dev = d->Open(id);
  ASSERT_TRUE(dev.ok()) << dev.status().ToString();
  std::vector<std::byte> buf(4 << 20, std::byte{0x5a});
  Status st;
  for (int i = 0; i < 16 && st.ok(); ++i) {
    st = Sync([&](IoCallback cb) { (*dev)->Write(uint64_t(i) * buf.size(), buf, true, cb); });
  }
  EXPECT_EQ(st.code(), StatusCode::kResourceExhausted) << st.ToString();
  dev->reset();
  ASSERT_TRUE(d->DeleteVolume(id).ok());
}

TEST_F(NfsDriverTest, SnapshotsClonesAndRevertCopyBytes) {
  SKIP_COPY_HEAVY_UNDER_TSAN();
  auto d = MakeDriver();
  ASSERT_TRUE(d->Setup().ok());
  const std::string vol = NewId(), snap = NewId(), clone = NewId(), fromsnap = NewId();
  ASSERT_TRUE(d->CreateVolume(vol, 1).ok());
  const std::string share = d->ProviderLocation(vol);
  const std::string vpath = LocalPath(share, "volume-" + vol);
  WriteAt(vpath, 0, "first");
  WriteAt(vpath, 700 << 20, "deep");

  uint64_t last_done = 0;
  ASSERT_TRUE(d->CreateSnapshot(vol, snap, [&](uint64_t done, uint64_t total) {
                 EXPECT_EQ(total, uint64_t{kGiB});
                 last_done = done;
               }).ok());
  EXPECT_EQ(last_done, uint64_t{kGiB});
  const std::string spath = LocalPath(share, "volume-" + vol + ".snapshot-" + snap);
  EXPECT_EQ(ReadAt(spath, 0, 5), "first");
  EXPECT_EQ(ReadAt(spath, 700 << 20, 4), "deep");
  struct stat st {};
  ASSERT_EQ(::stat(spath.c_str(), &st), 0);
  EXPECT_LT(st.st_blocks * 512, 8 << 20) << "zero blocks are skipped: the copy stays sparse";
  ASSERT_TRUE(d->CreateSnapshot(vol, snap, {}).ok()) << "idempotent";
  // Snapshots open read-only (what backups read), and are whole files to read.
  {
    auto sdev = d->OpenSnapshot(vol, snap);
    ASSERT_TRUE(sdev.ok()) << sdev.status().ToString();
    std::vector<std::byte> head(512);
    ASSERT_TRUE(Sync([&](IoCallback cb) { (*sdev)->Read(0, head, cb); }).ok());
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(head.data()), 5), "first");
    EXPECT_EQ(Sync([&](IoCallback cb) { (*sdev)->Write(0, head, false, cb); }).code(),
              StatusCode::kFailedPrecondition);
    auto sranges = d->AllocatedRanges(vol, snap);
    ASSERT_TRUE(sranges.ok());
    EXPECT_EQ(*sranges, (std::vector<ByteRange>{{0, uint64_t{kGiB}}}));
    EXPECT_EQ(d->OpenSnapshot(vol, "no-such-snap").status().code(), StatusCode::kNotFound);
  }
  auto snaps = d->ListSnapshots();
  ASSERT_TRUE(snaps.ok());
  EXPECT_NE(std::find(snaps->begin(), snaps->end(), snap), snaps->end());
  auto vols = d->ListVolumes();
  ASSERT_TRUE(vols.ok());
  EXPECT_EQ(std::count(vols->begin(), vols->end(), snap), 0) << "a snapshot is not a volume";

  // The volume changes and grows; revert brings the snapshot's bytes back, keeps the size.
  WriteAt(vpath, 0, "later");
  ASSERT_TRUE(d->ExtendVolume(vol, 2).ok());
  WriteAt(vpath, uint64_t{kGiB} + 10, "tail");
  ASSERT_TRUE(d->RevertToSnapshot(vol, snap).ok());
  EXPECT_EQ(ReadAt(vpath, 0, 5), "first");
  EXPECT_EQ(SizeOf(vpath), uint64_t{2 * kGiB});
  EXPECT_EQ(ReadAt(vpath, uint64_t{kGiB} + 10, 4), std::string(4, '\0'));
  ASSERT_TRUE(d->RevertToSnapshot(vol, snap).ok()) << "idempotent";

  // A volume from the snapshot, larger than it; a clone of the volume.
  ASSERT_TRUE(d->CreateVolumeFromSnapshot(fromsnap, 2, vol, snap).ok());
  EXPECT_EQ(d->ProviderLocation(fromsnap), share);
  const std::string fpath = LocalPath(share, "volume-" + fromsnap);
  EXPECT_EQ(SizeOf(fpath), uint64_t{2 * kGiB});
  EXPECT_EQ(ReadAt(fpath, 700 << 20, 4), "deep");
  ASSERT_TRUE(d->CreateVolumeFromSnapshot(fromsnap, 2, vol, snap).ok()) << "idempotent";
  EXPECT_EQ(d->CreateVolumeFromSnapshot(NewId(), 2, vol, "no-such-snap").code(),
            StatusCode::kNotFound);
  WriteAt(vpath, 100, "clone-me");
  ASSERT_TRUE(d->CloneVolume(clone, 2, vol).ok());
  EXPECT_EQ(ReadAt(LocalPath(share, "volume-" + clone), 100, 8), "clone-me");
  EXPECT_EQ(d->CloneVolume(NewId(), 1, vol).code(), StatusCode::kInvalidArgument)
      << "smaller than its source";

  // Sources can go; copies stay.
  ASSERT_TRUE(d->DeleteSnapshot(vol, snap).ok());
  ASSERT_TRUE(d->DeleteSnapshot(vol, snap).ok()) << "idempotent";
  EXPECT_FALSE(fs::exists(spath));
  ASSERT_TRUE(d->DeleteVolume(vol).ok());
  EXPECT_EQ(ReadAt(fpath, 0, 5), "first");
  EXPECT_EQ(d->RevertToSnapshot(vol, snap).code(), StatusCode::kNotFound);
  for (const auto& id : {clone, fromsnap}) ASSERT_TRUE(d->DeleteVolume(id).ok());
  // No temporary file is left behind.
  for (const auto& e : fs::directory_iterator(fs::path(vpath).parent_path())) {
    EXPECT_NE(e.path().filename().string().rfind(".tmp-", 0), 0u) << e.path();
  }
}

TEST_F(NfsDriverTest, BlockDeviceReadsWritesAndSeesExtends) {
  auto d = MakeDriver();
  ASSERT_TRUE(d->Setup().ok());
  const std::string id = NewId();
  ASSERT_TRUE(d->CreateVolume(id, 1).ok());
  auto dev = d->Open(id);
  ASSERT_TRUE(dev.ok()) << dev.status().ToString();
  EXPECT_EQ((*dev)->Size(), uint64_t{kGiB});
  // 3 MiB: more than one WRITE/READ RPC.
  std::vector<std::byte> data(3 << 20);
  for (size_t i = 0; i < data.size(); ++i) data[i] = std::byte(i * 7 + 3);
  ASSERT_TRUE(Sync([&](IoCallback cb) { (*dev)->Write(1 << 20, data, false, cb); }).ok());
  ASSERT_TRUE(Sync([&](IoCallback cb) { (*dev)->Flush(cb); }).ok());
  std::vector<std::byte> back(data.size());
  ASSERT_TRUE(Sync([&](IoCallback cb) { (*dev)->Read(1 << 20, back, cb); }).ok());
  EXPECT_EQ(back, data);
  EXPECT_EQ(ReadAt(LocalPath(d->ProviderLocation(id), "volume-" + id), 1 << 20, 16),
            std::string(reinterpret_cast<const char*>(data.data()), 16));
  // Zeroes over part of it.
  ASSERT_TRUE(Sync([&](IoCallback cb) { (*dev)->WriteZeroes(1 << 20, 4096, false, cb); }).ok());
  ASSERT_TRUE(Sync([&](IoCallback cb) { (*dev)->Read(1 << 20, back, cb); }).ok());
  EXPECT_EQ(back[0], std::byte{0});
  EXPECT_EQ(back[4095], std::byte{0});
  EXPECT_EQ(back[4096], data[4096]);
  // Out of range and unaligned requests fail without reaching the server.
  std::vector<std::byte> small(512);
  EXPECT_EQ(Sync([&](IoCallback cb) { (*dev)->Read(uint64_t{kGiB}, small, cb); }).code(),
            StatusCode::kInvalidArgument);
  // An online extend is seen after Refresh.
  ASSERT_TRUE(d->ExtendVolume(id, 2).ok());
  ASSERT_TRUE((*dev)->Refresh().ok());
  EXPECT_EQ((*dev)->Size(), uint64_t{2 * kGiB});
  ASSERT_TRUE(
      Sync([&](IoCallback cb) { (*dev)->Write(uint64_t{kGiB} + 512, small, true, cb); }).ok());
  // The last reference may go inside a completion (on the device's own thread).
  std::shared_ptr<BlockDevice> holder = std::move(*dev);
  std::promise<void> released;
  holder->Read(0, small, [&holder, &released](Status) {
    holder.reset();
    released.set_value();
  });
  released.get_future().get();

  EXPECT_EQ(d->Open(NewId()).status().code(), StatusCode::kNotFound);

  auto ranges = d->AllocatedRanges(id, "");
  ASSERT_TRUE(ranges.ok());
  EXPECT_EQ(*ranges, (std::vector<ByteRange>{{0, uint64_t{2 * kGiB}}})) << "NFSv3: whole file";
  EXPECT_EQ(d->ChangedRanges(id, "a", "b").status().code(), StatusCode::kNotImplemented);
  ASSERT_TRUE(d->DeleteVolume(id).ok());
}

TEST_F(NfsDriverTest, NoServerIsUnavailableQuickly) {
  // Nothing listens on port 1: Setup and every operation fail fast, as Unavailable.
  auto d = MakeDriver({}, "port=1,mountport=1");
  const auto t0 = std::chrono::steady_clock::now();
  Status st = d->Setup();
  EXPECT_EQ(st.code(), StatusCode::kUnavailable) << st.ToString();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
}

TEST_F(NfsDriverTest, AMissingShareDoesNotHideTheOthers) {
  // One share cannot be mounted: the driver works on the other, and a volume it cannot find
  // is Unavailable (it may be on the missing share), not NotFound.
  auto d = MakeDriver({env_.shares[0], "127.0.0.1:/no-such-export"});
  ASSERT_TRUE(d->Setup().ok());
  const std::string id = NewId();
  ASSERT_TRUE(d->CreateVolume(id, 1).ok());
  EXPECT_EQ(d->ProviderLocation(id), env_.shares[0]);
  EXPECT_NE(d->ExtendVolume(NewId(), 2).code(), StatusCode::kOk);
  ASSERT_TRUE(d->Stats().ok());
  ASSERT_TRUE(d->DeleteVolume(id).ok());
}

TEST_F(NfsDriverTest, BadConfigurationIsInvalidArgument) {
  auto d = MakeDriver({}, "vers=4");
  Status st = d->Setup();
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("only NFS version 3"), std::string::npos) << st.message();
  BackendConfig::NfsOptions o;
  o.shares_config = conf_dir_ + "/missing";
  NfsDriver missing("nfs-test", o);
  st = missing.Setup();
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find(o.shares_config), std::string::npos) << st.message();
}

}  // namespace
}  // namespace scoria::volume
