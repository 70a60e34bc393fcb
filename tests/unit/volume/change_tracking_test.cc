// Changed-block tracking of the `file` driver: the ChangeMap model and format, the tracker's
// crash and locking rules (with real child processes), and FileDriver::ChangedRanges.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include "volume/drivers/file/change_map.h"
#include "volume/drivers/file/change_tracker.h"
#include "volume/drivers/file/file_driver.h"

namespace scoria::volume {
namespace {

namespace fs = std::filesystem;
constexpr uint64_t kMiB = 1 << 20;
constexpr uint64_t kG = 4 * kMiB;  // the default granule

std::vector<ByteRange> Ranges(std::initializer_list<std::pair<uint64_t, uint64_t>> l) {
  std::vector<ByteRange> out;
  for (auto [o, n] : l) out.push_back({o, n});
  return out;
}

// ---- ChangeMap

TEST(ChangeMapTest, AnEpochHoldsTheGranulesWrittenBetweenItsBoundaries) {
  ChangeMap m;
  m.Mark(0, 512);               // granule 0
  m.Mark(5 * kG + 7 * 512, 1);  // granule 5
  m.Checkpoint("s1");
  m.Mark(2 * kG - 512, 1024);  // straddles granules 1 and 2
  m.Checkpoint("s2");
  m.Mark(9 * kG, kG);
  auto r = m.Changed("s1", "s2", 64 * kMiB);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, Ranges({{kG, 2 * kG}}));  // granules 1-2, merged into one range
  auto first = m.Changed("", "s1", 64 * kMiB);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(*first, Ranges({{0, kG}, {5 * kG, kG}}));
  // The live epoch is not a boundary yet.
  EXPECT_EQ(m.live.base_id, "s2");
  EXPECT_EQ(m.Changed("s2", "live", 64 * kMiB).status().code(), StatusCode::kNotFound);
}

TEST(ChangeMapTest, ASpanOfSeveralEpochsIsTheirUnion) {
  ChangeMap m;
  m.Checkpoint("s1");
  m.Mark(0, 1);
  m.Checkpoint("s2");  // e.g. a backup's temporary snapshot, deleted since: the boundary stays
  m.Mark(3 * kG, 1);
  m.Checkpoint("s3");
  auto r = m.Changed("s1", "s3", 16 * kG);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, Ranges({{0, kG}, {3 * kG, kG}}));
  auto none = m.Changed("s3", "s3", 16 * kG);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST(ChangeMapTest, RangesAreClippedToTheSnapshotSize) {
  ChangeMap m;
  m.Checkpoint("s1");
  m.Mark(kG + 512, 1);
  m.Mark(10 * kG, 1);  // beyond the size asked for (a later extend)
  m.Checkpoint("s2");
  auto r = m.Changed("s1", "s2", kG + 2 * kMiB);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, Ranges({{kG, 2 * kMiB}}));
}

TEST(ChangeMapTest, UnknownOrInvalidSpansAreRefused) {
  ChangeMap m;
  m.Checkpoint("s1");
  m.Mark(0, 1);
  m.live.valid = false;  // a process died with the volume open
  m.Checkpoint("s2");
  m.Mark(kG, 1);
  m.Checkpoint("s3");
  EXPECT_EQ(m.Changed("s1", "s2", 8 * kG).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(m.Changed("s1", "s3", 8 * kG).status().code(), StatusCode::kFailedPrecondition);
  auto after = m.Changed("s2", "s3", 8 * kG);  // tracking is whole again from s2 on
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_EQ(*after, Ranges({{kG, kG}}));
  EXPECT_EQ(m.Changed("nope", "s3", 8 * kG).status().code(), StatusCode::kFailedPrecondition);
  // A later snapshot is not a base of an earlier one.
  EXPECT_EQ(m.Changed("s3", "s2", 8 * kG).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(m.Changed("s1", "s9", 8 * kG).status().code(), StatusCode::kNotFound);
}

TEST(ChangeMapTest, ARepeatedCheckpointChangesNothing) {
  ChangeMap m;
  m.Mark(0, 1);
  m.Checkpoint("s1");
  m.Mark(kG, 1);
  m.Checkpoint("s1");  // a re-run snapshot task
  ASSERT_EQ(m.epochs.size(), 1u);
  EXPECT_EQ(m.live.base_id, "s1");
  EXPECT_EQ(m.live.bits, std::vector<uint64_t>{2});
}

TEST(ChangeMapTest, TheOldestBoundariesAreMergedAway) {
  ChangeMap m;
  for (size_t i = 0; i < kMaxChangeEpochs + 6; ++i) {
    m.Mark(i * kG, 1);
    m.Checkpoint("s" + std::to_string(i));
  }
  ASSERT_EQ(m.epochs.size(), kMaxChangeEpochs);
  EXPECT_EQ(m.epochs.front().snapshot_id, "s6");
  EXPECT_FALSE(m.HasBoundary("s5"));
  EXPECT_EQ(m.Changed("s5", "s9", 128 * kG).status().code(), StatusCode::kFailedPrecondition);
  // The first epoch kept now covers everything since creation: no write is forgotten.
  auto all = m.Changed("", "s6", 128 * kG);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_EQ(*all, Ranges({{0, 7 * kG}}));
}

TEST(ChangeMapTest, EncodingRoundTripsAndRefusesDamage) {
  ChangeMap m;
  m.Mark(0, 1);
  m.Checkpoint("0b6a4c0e-1111-4222-8333-944445555666");
  m.Mark(200 * kG, 1);
  m.live.valid = false;
  const std::vector<std::byte> data = EncodeChangeMap(m, /*open=*/true);
  auto d = DecodeChangeMap(data);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_TRUE(d->open);
  EXPECT_EQ(d->map, m);
  auto closed = DecodeChangeMap(EncodeChangeMap(m, false));
  ASSERT_TRUE(closed.ok());
  EXPECT_FALSE(closed->open);

  for (size_t at : {size_t{0}, size_t{9}, size_t{40}, data.size() - 40, data.size() - 1}) {
    std::vector<std::byte> bad = data;
    bad[at] ^= std::byte{0x10};
    EXPECT_EQ(DecodeChangeMap(bad).status().code(), StatusCode::kInvalidArgument) << at;
  }
  std::vector<std::byte> cut(data.begin(), data.begin() + 20);
  EXPECT_EQ(DecodeChangeMap(cut).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(DecodeChangeMap({}).status().code(), StatusCode::kInvalidArgument);
}

// ---- ChangeTracker and FileDriver

class ChangeTrackingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "scoria-changes-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr) << std::strerror(errno);
    dir_ = tmpl;
    driver_ = std::make_unique<FileDriver>(dir_);
    ASSERT_TRUE(driver_->Setup().ok());
    ASSERT_TRUE(driver_->CreateVolume("v1", 1).ok());
  }
  void TearDown() override {
    driver_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  static Status Sync(const std::function<void(IoCallback)>& op) {
    std::promise<Status> p;
    op([&](Status st) { p.set_value(std::move(st)); });
    return p.get_future().get();
  }
  static Status WriteAt(BlockDevice& dev, uint64_t offset, uint64_t length) {
    std::vector<std::byte> buf(length, std::byte{0x5a});
    return Sync([&](IoCallback cb) { dev.Write(offset, buf, false, std::move(cb)); });
  }
  DecodedChangeMap Persisted() {
    auto m = LoadChangeMap(dir_, "v1");
    EXPECT_TRUE(m.ok()) << m.status().ToString();
    return m.ok() ? *m : DecodedChangeMap{};
  }
  // Runs `body` in a child process that ends with _exit (no cleanup, as after a SIGKILL, if
  // body calls it itself while holding what must not be released). Returns the exit code.
  static int InChild(const std::function<int()>& body) {
    pid_t pid = ::fork();
    if (pid == 0) ::_exit(body());
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  std::string dir_;
  std::unique_ptr<FileDriver> driver_;
};

TEST_F(ChangeTrackingTest, AcquireNeedsTheVolume) {
  EXPECT_EQ(ChangeTracker::Acquire(dir_, "missing").status().code(), StatusCode::kNotFound);
  EXPECT_FALSE(fs::exists(dir_ + "/changes-missing"));
}

TEST_F(ChangeTrackingTest, TheMapIsOpenOnDiskWhileADeviceIsOpen) {
  auto dev = driver_->Open("v1");
  ASSERT_TRUE(dev.ok()) << dev.status().ToString();
  EXPECT_TRUE(Persisted().open);
  auto second = driver_->Open("v1");  // same process: the same tracker
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  ASSERT_TRUE(WriteAt(**second, 3 * kG, 4096).ok());
  dev->reset();
  EXPECT_TRUE(Persisted().open);  // one holder left
  second->reset();
  DecodedChangeMap closed = Persisted();
  EXPECT_FALSE(closed.open);
  EXPECT_TRUE(closed.map.live.valid);
  EXPECT_EQ(closed.map.live.bits, std::vector<uint64_t>{1u << 3});
}

TEST_F(ChangeTrackingTest, IncrementalRangesThroughTheDriver) {
  {
    auto dev = driver_->Open("v1");
    ASSERT_TRUE(dev.ok());
    ASSERT_TRUE(WriteAt(**dev, 0, 64 * 1024).ok());
    ASSERT_TRUE(driver_->CreateSnapshot("v1", "s1", nullptr).ok());
    ASSERT_TRUE(WriteAt(**dev, 10 * kG + 4096, 4096).ok());
    ASSERT_TRUE(Sync([&](IoCallback cb) { (*dev)->Discard(20 * kG, kG, std::move(cb)); }).ok());
    ASSERT_TRUE(
        Sync([&](IoCallback cb) { (*dev)->WriteZeroes(30 * kG, 512, false, std::move(cb)); }).ok());
    ASSERT_TRUE(driver_->CreateSnapshot("v1", "s2", nullptr).ok());
  }
  auto r = driver_->ChangedRanges("v1", "s1", "s2");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, Ranges({{10 * kG, kG}, {20 * kG, kG}, {30 * kG, kG}}));
  // The boundary outlives its snapshot (a backup's temporary snapshot is deleted at once).
  ASSERT_TRUE(driver_->DeleteSnapshot("v1", "s1").ok());
  auto again = driver_->ChangedRanges("v1", "s1", "s2");
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(*again, *r);
  // A snapshot of a volume nobody has open needs no device: nothing written, nothing changed.
  ASSERT_TRUE(driver_->CreateSnapshot("v1", "s3", nullptr).ok());
  auto none = driver_->ChangedRanges("v1", "s2", "s3");
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_TRUE(none->empty());
  EXPECT_EQ(driver_->ChangedRanges("v1", "s2", "gone").status().code(), StatusCode::kNotFound);
}

TEST_F(ChangeTrackingTest, ARevertCountsAsWritingEverything) {
  ASSERT_TRUE(driver_->CreateSnapshot("v1", "s1", nullptr).ok());
  ASSERT_TRUE(driver_->CreateSnapshot("v1", "s2", nullptr).ok());
  ASSERT_TRUE(driver_->RevertToSnapshot("v1", "s1").ok());
  ASSERT_TRUE(driver_->CreateSnapshot("v1", "s3", nullptr).ok());
  auto r = driver_->ChangedRanges("v1", "s2", "s3");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, Ranges({{0, uint64_t{1} << 30}}));
}

TEST_F(ChangeTrackingTest, AVolumeWithoutARecordAnswersFailedPrecondition) {
  ASSERT_TRUE(driver_->CreateVolume("v2", 1).ok());
  {
    // A snapshot file made without the tracker (e.g. by an older scoriad).
    std::ofstream(dir_ + "/snapshot-old").put('x');
  }
  EXPECT_EQ(driver_->ChangedRanges("v2", "x", "old").status().code(),
            StatusCode::kFailedPrecondition);
  std::ofstream(dir_ + "/changes-v2") << "garbage";
  EXPECT_EQ(driver_->ChangedRanges("v2", "x", "old").status().code(),
            StatusCode::kFailedPrecondition);
}

TEST_F(ChangeTrackingTest, AProcessThatDiesWithTheVolumeOpenInvalidatesOnlyTheLiveEpoch) {
  int code = InChild([&] {
    // Marks go straight to the tracker: a forked child has no io_uring completion thread (the
    // parent's device engine is not inherited), and the data itself does not matter here.
    FileDriver child(dir_);
    auto t = ChangeTracker::Acquire(dir_, "v1");
    if (!t.ok()) return 10;
    (*t)->MarkWritten(0, 4096);
    if (!child.CreateSnapshot("v1", "s1", nullptr).ok()) return 12;
    (*t)->MarkWritten(2 * kG, 4096);
    if (!child.CreateSnapshot("v1", "s2", nullptr).ok()) return 14;
    (*t)->MarkWritten(5 * kG, 4096);  // in memory only: lost with the process
    ::_exit(0);                       // here, with the tracker still held: no close, no cleanup
  });
  ASSERT_EQ(code, 0);
  EXPECT_TRUE(Persisted().open);
  {
    auto dev = driver_->Open("v1");  // the restart: the exports come back
    ASSERT_TRUE(dev.ok()) << dev.status().ToString();
    ASSERT_TRUE(driver_->CreateSnapshot("v1", "s3", nullptr).ok());
    ASSERT_TRUE(WriteAt(**dev, 7 * kG, 4096).ok());
    ASSERT_TRUE(driver_->CreateSnapshot("v1", "s4", nullptr).ok());
  }
  auto before = driver_->ChangedRanges("v1", "s1", "s2");  // closed before the crash: kept
  ASSERT_TRUE(before.ok()) << before.status().ToString();
  EXPECT_EQ(*before, Ranges({{2 * kG, kG}}));
  EXPECT_EQ(driver_->ChangedRanges("v1", "s2", "s3").status().code(),
            StatusCode::kFailedPrecondition);  // the write at 5 * kG would be missed
  EXPECT_EQ(driver_->ChangedRanges("v1", "s1", "s4").status().code(),
            StatusCode::kFailedPrecondition);
  auto after = driver_->ChangedRanges("v1", "s3", "s4");
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_EQ(*after, Ranges({{7 * kG, kG}}));
}

TEST_F(ChangeTrackingTest, AnotherProcessHoldingTheVolumeMakesAcquireUnavailable) {
  int to_child[2], to_parent[2];
  ASSERT_EQ(::pipe(to_child), 0);
  ASSERT_EQ(::pipe(to_parent), 0);
  pid_t pid = ::fork();
  if (pid == 0) {
    auto t = ChangeTracker::Acquire(dir_, "v1");
    char c = t.ok() ? 'y' : 'n';
    (void)!::write(to_parent[1], &c, 1);
    (void)!::read(to_child[0], &c, 1);  // hold it until the parent has tried
    ::_exit(0);
  }
  char c = 0;
  ASSERT_EQ(::read(to_parent[0], &c, 1), 1);
  ASSERT_EQ(c, 'y');
  auto dev = driver_->Open("v1");
  EXPECT_EQ(dev.status().code(), StatusCode::kUnavailable) << dev.status().ToString();
  EXPECT_EQ(driver_->CreateSnapshot("v1", "s1", nullptr).code(), StatusCode::kUnavailable);
  (void)!::write(to_child[1], "x", 1);
  int status = 0;
  ::waitpid(pid, &status, 0);
  auto later = driver_->Open("v1");  // the holder is gone: the lock went with it
  EXPECT_TRUE(later.ok()) << later.status().ToString();
  for (int fd : {to_child[0], to_child[1], to_parent[0], to_parent[1]}) ::close(fd);
}

TEST_F(ChangeTrackingTest, DeleteVolumeRemovesTheMap) {
  ASSERT_TRUE(driver_->CreateSnapshot("v1", "s1", nullptr).ok());
  ASSERT_TRUE(fs::exists(dir_ + "/changes-v1"));
  ASSERT_TRUE(driver_->DeleteSnapshot("v1", "s1").ok());
  ASSERT_TRUE(driver_->DeleteVolume("v1").ok());
  EXPECT_TRUE(fs::is_empty(dir_));
  EXPECT_TRUE(driver_->DeleteVolume("v1").ok());  // idempotent
}

TEST_F(ChangeTrackingTest, AMapThatCannotBeMarkedOpenIsNeverLeftClaimingARecord) {
  ASSERT_TRUE(driver_->CreateSnapshot("v1", "s1", nullptr).ok());  // a closed map on disk
  ASSERT_FALSE(Persisted().open);
  // The next persist cannot create its temporary file (a non-empty directory is in the way,
  // which also defeats removing it): the open must fail, and the closed map must be gone, or
  // writes made now would be missing from a record that says it is complete.
  fs::create_directories(dir_ + "/tmp-changes-v1/x");
  auto dev = driver_->Open("v1");
  EXPECT_FALSE(dev.ok());
  EXPECT_FALSE(fs::exists(dir_ + "/changes-v1"));
  EXPECT_EQ(driver_->ChangedRanges("v1", "s1", "s1").status().code(),
            StatusCode::kFailedPrecondition);
  fs::remove_all(dir_ + "/tmp-changes-v1");
  auto later = driver_->Open("v1");
  ASSERT_TRUE(later.ok()) << later.status().ToString();
  EXPECT_TRUE(Persisted().open);
}

}  // namespace
}  // namespace scoria::volume
