// BackupJob and RestoreJob: round trips, what is (not) read, dedup, incrementals, restores
// over old data and into bigger devices, cancellation and every failing edge.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <thread>

#include "backup/fault_store.h"
#include "job_helpers.h"
#include "test_device.h"
#include "volume/block_device.h"

namespace scoria::backup {
namespace {

using namespace testing;  // NOLINT

constexpr uint64_t kVol = 4 * kMiB;  // 64 chunks of 64 KiB

class JobTest : public ::testing::Test {
 protected:
  void SetUp() override {
    repo_ = MakeRepo(fault_);
    src_ = volume::NewMemoryBlockDevice(kVol);
    // [0,1M) random, [1M,1.5M) text, [1.5M,2M) explicit zeroes, [2M,3M) never written,
    // [3M,4M) a copy of the first MiB.
    WriteBytes(*src_, 0, RandomBytes(kMiB, 1));
    WriteBytes(*src_, kMiB, TextBytes(512 * kKiB, 2));
    WriteBytes(*src_, 3 * kMiB, RandomBytes(kMiB, 1));
    allocated_ = {{0, 2 * kMiB}, {3 * kMiB, kMiB}};
  }

  std::shared_ptr<FaultInjectingStore> fault_ =
      std::make_shared<FaultInjectingStore>(NewMemoryStore());
  std::shared_ptr<Repository> repo_;
  std::shared_ptr<volume::BlockDevice> src_;
  std::vector<ByteRange> allocated_;
};

TEST_F(JobTest, FullBackupAndRestoreRoundTrip) {
  BackupStats st;
  auto m = Backup(repo_, src_, "b1", allocated_, nullptr, RangeMode::kAllocated, &st);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->ChunkCount(), 64u);
  EXPECT_EQ(m->volume_size, kVol);
  EXPECT_EQ(m->volume_id, "vol-1");
  EXPECT_TRUE(m->parent_id.empty());
  EXPECT_EQ(st.chunks_read, 48u);  // 2 MiB + 1 MiB allocated
  EXPECT_EQ(st.bytes_read, 3 * kMiB);
  EXPECT_EQ(st.holes, 16u + 8u);           // never written + explicit zeroes
  EXPECT_EQ(st.chunks_stored, 16u + 8u);   // random MiB once, text chunks
  EXPECT_EQ(st.chunks_deduplicated, 16u);  // the copy of the first MiB
  for (uint64_t i = 32; i < 48; ++i) EXPECT_TRUE(m->chunks[i].hole) << i;
  for (uint64_t i = 48; i < 64; ++i) EXPECT_EQ(m->chunks[i], m->chunks[i - 48]);

  auto dst = volume::NewMemoryBlockDevice(kVol);
  RestoreStats rs;
  auto r = Restore(repo_, dst, "b1", true, &rs);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(SameDevices(*dst, *src_, kVol));
  EXPECT_EQ(rs.chunks_written, 40u);
  EXPECT_EQ(rs.hole_bytes, 24 * kTestChunk);
}

TEST_F(JobTest, UnallocatedRangesAreNeverRead) {
  auto dev = std::make_shared<TestDevice>(src_);
  // Allocated: part of chunk 0, and chunk 5 whole. Everything else is a hole, unread.
  std::vector<ByteRange> ranges = {{4096, 8192}, {5 * kTestChunk, kTestChunk}};
  auto m = Backup(repo_, dev, "b1", ranges);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  auto reads = dev->reads();
  ASSERT_EQ(reads.size(), 2u);
  EXPECT_EQ(reads[0], (ByteRange{4096, 8192}));
  EXPECT_EQ(reads[1], (ByteRange{5 * kTestChunk, kTestChunk}));
  for (uint64_t i = 0; i < m->chunks.size(); ++i) {
    EXPECT_EQ(m->chunks[i].hole, i != 0 && i != 5) << i;
  }
  // Chunk 0 holds the read bytes and zeroes elsewhere.
  auto dst = volume::NewMemoryBlockDevice(kVol);
  ASSERT_TRUE(Restore(repo_, dst, "b1").ok());
  std::vector<std::byte> want(kTestChunk);
  auto part = ReadBytes(*src_, 4096, 8192);
  std::copy(part.begin(), part.end(), want.begin() + 4096);
  EXPECT_EQ(ReadBytes(*dst, 0, kTestChunk), want);
}

TEST_F(JobTest, ZeroChunksAreHolesAndNothingIsStored) {
  auto zero = volume::NewMemoryBlockDevice(kVol);
  BackupStats st;
  auto m = Backup(repo_, zero, "z", Whole(*zero), nullptr, RangeMode::kAllocated, &st);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(st.holes, 64u);
  EXPECT_EQ(st.chunks_stored, 0u);
  EXPECT_EQ(repo_->Stats()->chunks, 0u);
}

TEST_F(JobTest, DedupAcrossVolumesGrowsTheRepositoryByTheManifestOnly) {
  ASSERT_TRUE(Backup(repo_, src_, "b1", allocated_).ok());
  auto before = *repo_->Stats();
  auto other = volume::NewMemoryBlockDevice(kVol);
  ASSERT_TRUE(SameDevices(*other, *other, 0));
  for (uint64_t off = 0; off < kVol; off += kMiB)
    WriteBytes(*other, off, ReadBytes(*src_, off, kMiB));
  BackupStats st;
  auto m = Backup(repo_, other, "b2", Whole(*other), nullptr, RangeMode::kAllocated, &st, "vol-2");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(st.chunks_stored, 0u);
  auto after = *repo_->Stats();
  EXPECT_EQ(after.chunks, before.chunks);
  EXPECT_EQ(after.chunk_bytes, before.chunk_bytes);
  EXPECT_EQ(after.manifests, 2u);
  EXPECT_EQ(after.manifest_bytes, 2 * before.manifest_bytes);  // same-length ids
}

TEST_F(JobTest, IncrementalByHashStoresOnlyChangedChunks) {
  auto full = Backup(repo_, src_, "b1", allocated_);
  ASSERT_TRUE(full.ok());
  WriteBytes(*src_, 10 * kTestChunk + 512, RandomBytes(4096, 50));  // chunk 10
  WriteBytes(*src_, 40 * kTestChunk, RandomBytes(512, 51));         // chunk 40 (was never written)
  auto parent = std::make_shared<Manifest>(*full);
  std::vector<ByteRange> alloc = allocated_;
  alloc.push_back({40 * kTestChunk, 512});
  BackupStats st;
  auto inc = Backup(repo_, src_, "b2", alloc, parent, RangeMode::kAllocated, &st);
  ASSERT_TRUE(inc.ok()) << inc.status().ToString();
  EXPECT_EQ(inc->parent_id, "b1");
  EXPECT_EQ(st.chunks_stored, 2u);
  EXPECT_EQ(st.chunks_unchanged, 40u - 1u);  // data chunks of the parent but chunk 10
  auto dst = volume::NewMemoryBlockDevice(kVol);
  ASSERT_TRUE(Restore(repo_, dst, "b2").ok());
  EXPECT_TRUE(SameDevices(*dst, *src_, kVol));
}

TEST_F(JobTest, IncrementalWithChangedRangesReadsOnlyThem) {
  auto full = Backup(repo_, src_, "b1", allocated_);
  ASSERT_TRUE(full.ok());
  WriteBytes(*src_, 7 * kTestChunk + 1024, RandomBytes(1024, 60));
  WriteBytes(*src_, 50 * kTestChunk, RandomBytes(kTestChunk, 61));
  auto dev = std::make_shared<TestDevice>(src_);
  BackupStats st;
  auto inc =
      Backup(repo_, dev, "b2", {{7 * kTestChunk + 1024, 1024}, {50 * kTestChunk, kTestChunk}},
             std::make_shared<Manifest>(*full), RangeMode::kChanged, &st);
  ASSERT_TRUE(inc.ok()) << inc.status().ToString();
  auto reads = dev->reads();
  ASSERT_EQ(reads.size(), 2u);
  EXPECT_EQ(reads[0], (ByteRange{7 * kTestChunk, kTestChunk}));  // the whole touched chunk
  EXPECT_EQ(reads[1], (ByteRange{50 * kTestChunk, kTestChunk}));
  EXPECT_EQ(st.chunks_stored, 2u);
  EXPECT_EQ(st.chunks_unchanged, 62u);
  auto dst = volume::NewMemoryBlockDevice(kVol);
  ASSERT_TRUE(Restore(repo_, dst, "b2").ok());
  EXPECT_TRUE(SameDevices(*dst, *src_, kVol));
}

TEST_F(JobTest, OddSizedVolumeThatGrowsBetweenBackups) {
  const uint64_t small = kMiB + 4608;  // the last chunk is 4608 bytes
  auto v1 = volume::NewMemoryBlockDevice(small);
  WriteBytes(*v1, 0, RandomBytes(small, 70));
  auto full = Backup(repo_, v1, "b1", Whole(*v1));
  ASSERT_TRUE(full.ok()) << full.status().ToString();
  EXPECT_EQ(full->ChunkLength(full->ChunkCount() - 1), 4608u);
  // Extended to 2 MiB; the driver reports only the new area as changed, starting inside the
  // parent's short last chunk.
  auto v2 = volume::NewMemoryBlockDevice(2 * kMiB);
  WriteBytes(*v2, 0, ReadBytes(*v1, 0, small));
  WriteBytes(*v2, small, TextBytes(2 * kMiB - small, 71));
  for (RangeMode mode : {RangeMode::kChanged, RangeMode::kAllocated}) {
    std::string id = mode == RangeMode::kChanged ? "b2" : "b3";
    std::vector<ByteRange> ranges = mode == RangeMode::kChanged
                                        ? std::vector<ByteRange>{{small, 2 * kMiB - small}}
                                        : Whole(*v2);
    auto inc = Backup(repo_, v2, id, ranges, std::make_shared<Manifest>(*full), mode);
    ASSERT_TRUE(inc.ok()) << inc.status().ToString();
    EXPECT_EQ(inc->volume_size, 2 * kMiB);
    auto dst = volume::NewMemoryBlockDevice(2 * kMiB);
    ASSERT_TRUE(Restore(repo_, dst, id).ok());
    EXPECT_TRUE(SameDevices(*dst, *v2, 2 * kMiB)) << id;
  }
  // Grown but nothing written since: no changed range at all. The parent's short last chunk
  // is re-read whole (now 64 KiB long), the rest of the new space is a hole.
  auto v3 = volume::NewMemoryBlockDevice(2 * kMiB);
  WriteBytes(*v3, 0, ReadBytes(*v1, 0, small));
  auto dev3 = std::make_shared<TestDevice>(v3);
  auto inc = Backup(repo_, dev3, "b4", {}, std::make_shared<Manifest>(*full), RangeMode::kChanged);
  ASSERT_TRUE(inc.ok()) << inc.status().ToString();
  ASSERT_EQ(dev3->reads().size(), 1u);
  EXPECT_EQ(dev3->reads()[0], (ByteRange{16 * kTestChunk, kTestChunk}));
  auto d3 = volume::NewMemoryBlockDevice(2 * kMiB);
  WriteBytes(*d3, 0, TextBytes(2 * kMiB, 72));  // old data to overwrite
  ASSERT_TRUE(Restore(repo_, d3, "b4").ok());
  EXPECT_TRUE(SameDevices(*d3, *v3, 2 * kMiB));

  auto dst = volume::NewMemoryBlockDevice(small);
  ASSERT_TRUE(Restore(repo_, dst, "b1").ok());
  EXPECT_TRUE(SameDevices(*dst, *v1, small));
}

TEST_F(JobTest, ChainOfTenIncrementalsEachSelfSufficient) {
  std::vector<std::vector<std::byte>> images;
  std::vector<std::string> ids;
  std::shared_ptr<const Manifest> parent;
  for (int k = 0; k < 10; ++k) {
    if (k > 0) {
      WriteBytes(*src_, (k * 5 % 64) * kTestChunk, RandomBytes(8192, 100 + k));
      WriteBytes(*src_, ((k * 11 + 3) % 64) * kTestChunk, TextBytes(4096, 200 + k));
    }
    std::string id = "inc" + std::to_string(k);
    auto m = Backup(repo_, src_, id, Whole(*src_), parent);
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    parent = std::make_shared<Manifest>(*m);
    images.push_back(ReadBytes(*src_, 0, kVol));
    ids.push_back(id);
  }
  // Delete from the oldest (every parent of what remains), collecting each time: every
  // remaining backup must restore alone and verify in full.
  for (int gone = 0; gone < 10; ++gone) {
    for (int k = gone; k < 10; ++k) {
      auto dst = volume::NewMemoryBlockDevice(kVol);
      ASSERT_TRUE(Restore(repo_, dst, ids[k]).ok()) << ids[k];
      ASSERT_EQ(ReadBytes(*dst, 0, kVol), images[k]) << ids[k] << " after deleting " << gone;
      auto v = repo_->Verify(ids[k], VerifyMode::kFull);
      ASSERT_TRUE(v.ok() && v->ok()) << ids[k];
    }
    ASSERT_TRUE(repo_->DeleteBackup(ids[gone]).ok());
    ASSERT_TRUE(repo_->CollectGarbage().ok());
  }
  EXPECT_EQ(repo_->Stats()->chunks, 0u);
}

TEST_F(JobTest, IncrementalRefusedWhenTheParentIsGone) {
  auto full = Backup(repo_, src_, "b1", allocated_);
  ASSERT_TRUE(full.ok());
  ASSERT_TRUE(repo_->DeleteBackup("b1").ok());
  auto inc = Backup(repo_, src_, "b2", allocated_, std::make_shared<Manifest>(*full));
  EXPECT_EQ(inc.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(inc.status().message().find("full backup"), std::string::npos);
  Manifest other = *full;
  other.chunk_size = 128 * 1024;
  ASSERT_TRUE(Backup(repo_, src_, "b1", allocated_).ok());
  auto bad = Backup(repo_, src_, "b3", allocated_, std::make_shared<Manifest>(other));
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
}

TEST_F(JobTest, RestoreDetectsACorruptedChunkAndNamesIt) {
  auto m = Backup(repo_, src_, "b1", allocated_);
  ASSERT_TRUE(m.ok());
  auto obj = *fault_->Get(ChunkObjectName(m->chunks[2].id));
  obj[100] ^= std::byte{0x10};
  ASSERT_TRUE(fault_->Put(ChunkObjectName(m->chunks[2].id), obj).ok());
  auto dst = volume::NewMemoryBlockDevice(kVol);
  auto r = Restore(repo_, dst, "b1");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInternal);
  // Chunk 2 (offset 131072) or its copy at 50: whichever a worker reached first.
  const std::string msg = r.status().message();
  EXPECT_TRUE(msg.find("chunk 2 (volume offset 131072)") != std::string::npos ||
              msg.find("chunk 50 (volume offset 3276800)") != std::string::npos)
      << msg;
  EXPECT_NE(msg.find(ToHex(m->chunks[2].id)), std::string::npos) << msg;
  EXPECT_NE(msg.find("sha256 mismatch"), std::string::npos) << msg;
}

TEST_F(JobTest, RestoreDetectsCorruptionOnRead) {
  auto m = Backup(repo_, src_, "b1", allocated_);
  ASSERT_TRUE(m.ok());
  fault_->AddRule({StoreOp::kGet, "chunks/", 5, FaultEffect::kCorrupt, {}});
  auto dst = volume::NewMemoryBlockDevice(kVol);
  auto r = Restore(repo_, dst, "b1");
  EXPECT_EQ(r.status().code(), StatusCode::kInternal) << r.status().ToString();
  fault_->ClearRules();
  fault_->AddRule({StoreOp::kGet, "chunks/", 3, FaultEffect::kTruncate, {}});
  auto dst2 = volume::NewMemoryBlockDevice(kVol);
  auto r2 = Restore(repo_, dst2, "b1");
  EXPECT_EQ(r2.status().code(), StatusCode::kInternal);
  EXPECT_NE(r2.status().message().find("stored object is"), std::string::npos);
}

TEST_F(JobTest, RestoreFailsOnAMissingChunk) {
  auto m = Backup(repo_, src_, "b1", allocated_);
  ASSERT_TRUE(m.ok());
  ASSERT_TRUE(fault_->Delete(ChunkObjectName(m->chunks[20].id)).ok());  // a text chunk
  auto dst = volume::NewMemoryBlockDevice(kVol);
  auto r = Restore(repo_, dst, "b1");
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_NE(r.status().message().find("is missing"), std::string::npos);
  EXPECT_NE(r.status().message().find("volume offset"), std::string::npos);
}

TEST_F(JobTest, RestoreZeroesHolesOverOldData) {
  ASSERT_TRUE(Backup(repo_, src_, "b1", allocated_).ok());
  auto dst = std::make_shared<TestDevice>(volume::NewMemoryBlockDevice(kVol));
  WriteBytes(*dst, 0, TextBytes(kVol, 99));  // old data everywhere
  ASSERT_TRUE(Restore(repo_, dst, "b1").ok());
  EXPECT_TRUE(SameDevices(*dst, *src_, kVol));
  // Holes were zeroed, not written: two runs ([1.5M, 3M) as one request).
  auto z = dst->zeroes();
  ASSERT_EQ(z.size(), 1u);
  EXPECT_EQ(z[0], (ByteRange{24 * kTestChunk, 24 * kTestChunk}));
  EXPECT_GE(dst->flushes(), 1);
}

TEST_F(JobTest, RestoreFlushesAsItGoesAndAtTheEnd) {
  ASSERT_TRUE(Backup(repo_, src_, "b1", allocated_).ok());
  for (uint64_t every : {uint64_t{0}, uint64_t{256 * kKiB}}) {
    auto dst = std::make_shared<TestDevice>(volume::NewMemoryBlockDevice(kVol));
    RestoreJobOptions o;
    o.backup_id = "b1";
    o.flush_every_bytes = every;
    RestoreJob job(repo_, dst, o);
    ASSERT_TRUE(job.Run().ok());
    EXPECT_TRUE(SameDevices(*dst, *src_, kVol));
    if (every == 0) {
      EXPECT_EQ(dst->flushes(), 1);
    } else {
      EXPECT_GE(dst->flushes(), 2);  // 2.5 MiB of data: several intermediate flushes
    }
  }
  // A failing flush, intermediate or final, fails the restore.
  for (int ok_flushes : {0, 1}) {
    auto dst = std::make_shared<TestDevice>(volume::NewMemoryBlockDevice(kVol));
    dst->FailFlushesAfter(ok_flushes);
    RestoreJobOptions o;
    o.backup_id = "b1";
    o.flush_every_bytes = 256 * kKiB;
    RestoreJob job(repo_, dst, o);
    auto r = job.Run();
    EXPECT_EQ(r.status().code(), StatusCode::kInternal) << ok_flushes;
    EXPECT_NE(r.status().message().find("flush"), std::string::npos) << r.status().message();
    EXPECT_EQ(job.state(), RestoreJob::State::kFailed);
  }
}

TEST_F(JobTest, RestoreIntoABiggerDevice) {
  ASSERT_TRUE(Backup(repo_, src_, "b1", allocated_).ok());
  for (bool zero_tail : {true, false}) {
    auto dst = volume::NewMemoryBlockDevice(kVol + 3 * kMiB + 512);
    WriteBytes(*dst, kVol, TextBytes(3 * kMiB + 512, 5));
    auto r = Restore(repo_, dst, "b1", zero_tail);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_TRUE(SameDevices(*dst, *src_, kVol));
    auto tail = ReadBytes(*dst, kVol, 3 * kMiB + 512);
    if (zero_tail) {
      EXPECT_TRUE(IsAllZero(tail));
    } else {
      EXPECT_EQ(tail, TextBytes(3 * kMiB + 512, 5));
    }
  }
}

TEST_F(JobTest, RestoreIntoASmallerDeviceIsRefusedBeforeWriting) {
  ASSERT_TRUE(Backup(repo_, src_, "b1", allocated_).ok());
  auto dst = std::make_shared<TestDevice>(volume::NewMemoryBlockDevice(kVol - 512));
  auto r = Restore(repo_, dst, "b1");
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(dst->writes().empty());
  EXPECT_TRUE(dst->zeroes().empty());
  EXPECT_EQ(Restore(repo_, dst, "nope").status().code(), StatusCode::kNotFound);
}

TEST_F(JobTest, ProgressIsMonotonicAndComplete) {
  std::vector<Progress> seen;
  std::mutex mu;
  BackupJobOptions o;
  o.backup_id = "b1";
  o.volume_id = "v";
  o.ranges = allocated_;
  o.progress = [&](const Progress& p) {
    std::lock_guard lock(mu);
    seen.push_back(p);
  };
  BackupJob job(repo_, src_, o);
  ASSERT_TRUE(job.Run().ok());
  ASSERT_EQ(seen.size(), 48u);
  for (size_t i = 1; i < seen.size(); ++i) EXPECT_GT(seen[i].bytes_done, seen[i - 1].bytes_done);
  EXPECT_EQ(seen.back().bytes_done, 3 * kMiB);
  EXPECT_EQ(seen.back().bytes_total, 3 * kMiB);
  EXPECT_EQ(job.state(), BackupJob::State::kDone);
  EXPECT_EQ(job.Run().status().code(), StatusCode::kFailedPrecondition);  // runs once

  std::vector<Progress> rseen;
  RestoreJobOptions ro;
  ro.backup_id = "b1";
  ro.progress = [&](const Progress& p) {
    std::lock_guard lock(mu);
    rseen.push_back(p);
  };
  RestoreJob rjob(repo_, volume::NewMemoryBlockDevice(kVol + kMiB), ro);
  ASSERT_TRUE(rjob.Run().ok());
  EXPECT_EQ(rseen.back().bytes_done, kVol + kMiB);
  EXPECT_EQ(rseen.back().bytes_total, kVol + kMiB);
  EXPECT_EQ(rjob.state(), RestoreJob::State::kDone);
}

TEST_F(JobTest, CancelledBackupWritesNoManifest) {
  auto dev = std::make_shared<TestDevice>(src_);
  dev->HoldReadsAfter(3);
  BackupJobOptions o;
  o.backup_id = "b1";
  o.volume_id = "v";
  o.ranges = allocated_;
  o.max_inflight_chunks = 2;
  BackupJob job(repo_, dev, o);
  Result<Manifest> r = InvalidArgument("not run");
  std::thread t([&] { r = job.Run(); });
  while (dev->HeldReads() == 0) std::this_thread::yield();
  job.Cancel();
  dev->OpenGate();
  t.join();
  EXPECT_TRUE(IsCancelled(r.status())) << r.status().ToString();
  EXPECT_EQ(job.state(), BackupJob::State::kCancelled);
  EXPECT_LT(dev->reads().size(), 48u);
  EXPECT_TRUE(repo_->ListBackups()->empty());
  EXPECT_TRUE(repo_->store().List("locks/")->empty());
  // Its chunks are garbage now.
  auto gc = repo_->CollectGarbage();
  ASSERT_TRUE(gc.ok());
  EXPECT_EQ(repo_->Stats()->chunks, 0u);
}

TEST_F(JobTest, CancelledRestore) {
  ASSERT_TRUE(Backup(repo_, src_, "b1", allocated_).ok());
  RestoreJobOptions o;
  o.backup_id = "b1";
  RestoreJob job(repo_, volume::NewMemoryBlockDevice(kVol), o);
  job.Cancel();  // before it starts: it stops at its first state change
  auto r = job.Run();
  EXPECT_TRUE(IsCancelled(r.status())) << r.status().ToString();
  EXPECT_EQ(job.state(), RestoreJob::State::kCancelled);
}

TEST_F(JobTest, StoreFailureFailsTheBackupWithoutAManifest) {
  fault_->AddRule(
      {StoreOp::kPut, "chunks/", 4, FaultEffect::kFail, ResourceExhausted("disk full")});
  auto r = Backup(repo_, src_, "b1", allocated_);
  EXPECT_EQ(r.status().code(), StatusCode::kResourceExhausted);
  EXPECT_NE(r.status().message().find("volume offset"), std::string::npos) << r.status().message();
  EXPECT_TRUE(repo_->ListBackups()->empty());
  EXPECT_TRUE(repo_->store().List("locks/")->empty());
  fault_->ClearRules();
  ASSERT_TRUE(Backup(repo_, src_, "b1", allocated_).ok());  // a re-run succeeds
}

TEST_F(JobTest, SyncOrManifestFailureLeavesNoBackup) {
  fault_->AddRule({StoreOp::kSync, "", 1, FaultEffect::kFail, Unavailable("nfs down")});
  EXPECT_EQ(Backup(repo_, src_, "b1", allocated_).status().code(), StatusCode::kUnavailable);
  EXPECT_TRUE(repo_->ListBackups()->empty());
  fault_->AddRule({StoreOp::kPut, "manifests/", 1, FaultEffect::kFail, Internal("EIO")});
  EXPECT_EQ(Backup(repo_, src_, "b1", allocated_).status().code(), StatusCode::kInternal);
  EXPECT_TRUE(repo_->ListBackups()->empty());
}

TEST_F(JobTest, DeviceErrorsNameTheChunk) {
  auto dev = std::make_shared<TestDevice>(src_);
  dev->FailReadAt(9 * kTestChunk + 512);
  auto r = Backup(repo_, dev, "b1", allocated_);
  EXPECT_EQ(r.status().code(), StatusCode::kInternal);
  EXPECT_NE(r.status().message().find("reading chunk 9 (volume offset 589824)"), std::string::npos)
      << r.status().message();
  ASSERT_TRUE(Backup(repo_, src_, "b1", allocated_).ok());
  auto dst = std::make_shared<TestDevice>(volume::NewMemoryBlockDevice(kVol));
  dst->FailWrites();
  auto rr = Restore(repo_, dst, "b1");
  EXPECT_EQ(rr.status().code(), StatusCode::kInternal);
  EXPECT_NE(rr.status().message().find("writing chunk"), std::string::npos);
}

TEST_F(JobTest, ZeroingFailuresFailTheRestore) {
  ASSERT_TRUE(Backup(repo_, src_, "b1", allocated_).ok());
  // A run of holes inside the volume, then the tail beyond it.
  for (uint64_t from : {uint64_t{0}, kVol}) {
    auto dst = std::make_shared<TestDevice>(volume::NewMemoryBlockDevice(kVol + kMiB));
    dst->FailZeroesFrom(from);
    RestoreJobOptions o;
    o.backup_id = "b1";
    RestoreJob job(repo_, dst, o);
    auto r = job.Run();
    EXPECT_EQ(r.status().code(), StatusCode::kInternal);
    EXPECT_NE(r.status().message().find(from == 0 ? "zeroing holes" : "beyond the backup"),
              std::string::npos)
        << r.status().message();
    EXPECT_EQ(job.state(), RestoreJob::State::kFailed);
  }
}

TEST_F(JobTest, AJobWhoseLockWasTakenForStaleStops) {
  std::atomic<int64_t> now{1000};
  RepositoryOptions ro;
  ro.clock = [&] { return now.load(); };
  ro.lock_refresh_micros = 10;
  ro.lock_stale_micros = 100;
  auto store = NewMemoryStore();
  auto repo = MakeRepo(store, ro);
  auto dev = std::make_shared<TestDevice>(src_);
  dev->HoldReadsAfter(2);
  BackupJobOptions o;
  o.backup_id = "b1";
  o.volume_id = "v";
  o.ranges = allocated_;
  BackupJob job(repo, dev, o);
  Result<Manifest> r = InvalidArgument("not run");
  std::thread t([&] { r = job.Run(); });
  while (dev->HeldReads() == 0) std::this_thread::yield();
  // Another process judged the lock stale and removed it (a GC may be running now).
  auto locks = store->List("locks/");
  ASSERT_TRUE(locks.ok());
  ASSERT_EQ(locks->size(), 1u);
  ASSERT_TRUE(store->Delete((*locks)[0].name).ok());
  now += 50;  // a refresh is due at the next chunk
  dev->OpenGate();
  t.join();
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound) << r.status().ToString();
  EXPECT_NE(r.status().message().find("disappeared"), std::string::npos);
  EXPECT_TRUE(repo->ListBackups()->empty());
}

TEST_F(JobTest, BadOptionsRefused) {
  EXPECT_EQ(Backup(repo_, src_, "", allocated_).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Backup(repo_, src_, "a/b", allocated_).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Backup(repo_, src_, "b1", {{100, 512}}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Backup(repo_, src_, "b1", allocated_, nullptr, RangeMode::kAllocated, nullptr, "")
                .status()
                .code(),
            StatusCode::kInvalidArgument);
  EXPECT_TRUE(repo_->store().List("locks/")->empty());
}

TEST_F(JobTest, ManyWorkersAndSmallWindow) {
  for (int workers : {1, 4}) {
    BackupJobOptions o;
    o.backup_id = "w" + std::to_string(workers);
    o.volume_id = "v";
    o.ranges = allocated_;
    o.workers = workers;
    o.max_inflight_chunks = 1;
    BackupJob job(repo_, src_, o);
    ASSERT_TRUE(job.Run().ok());
    RestoreJobOptions ro;
    ro.backup_id = o.backup_id;
    ro.workers = workers;
    ro.max_inflight_chunks = 1;
    auto dst = volume::NewMemoryBlockDevice(kVol);
    RestoreJob rj(repo_, dst, ro);
    ASSERT_TRUE(rj.Run().ok());
    EXPECT_TRUE(SameDevices(*dst, *src_, kVol));
  }
}

// --- The real file BlockDevice on sparse files, in a PosixStore.

std::vector<ByteRange> FileDataRanges(const std::string& path) {
  std::vector<ByteRange> out;
  int fd = ::open(path.c_str(), O_RDONLY);
  off_t end = ::lseek(fd, 0, SEEK_END);
  off_t pos = 0;
  while (pos < end) {
    off_t data = ::lseek(fd, pos, SEEK_DATA);
    if (data < 0) break;
    off_t hole = ::lseek(fd, data, SEEK_HOLE);
    out.push_back({static_cast<uint64_t>(data), static_cast<uint64_t>(hole - data)});
    pos = hole;
  }
  ::close(fd);
  return out;
}

std::string MakeSparseFile(const std::string& path, uint64_t size) {
  int fd = ::open(path.c_str(), O_CREAT | O_RDWR | O_TRUNC, 0600);
  EXPECT_EQ(::ftruncate(fd, static_cast<off_t>(size)), 0);
  ::close(fd);
  return path;
}

TEST(FileDeviceJobTest, SparseFileBackupAndRestoreThroughAPosixStore) {
  TempDir dir;
  auto store = OpenPosixStore(dir.path() + "/repo");
  ASSERT_TRUE(store.ok());
  auto repo = MakeRepo(*store);
  const uint64_t size = 16 * kMiB;
  auto src_path = MakeSparseFile(dir.path() + "/src.img", size);
  auto src = volume::OpenFileBlockDevice(src_path);
  ASSERT_TRUE(src.ok()) << src.status().ToString();
  WriteBytes(**src, 1 * kMiB, RandomBytes(kMiB, 1));
  WriteBytes(**src, 9 * kMiB + 4096, TextBytes(200 * kKiB, 2));
  ASSERT_TRUE(Sync([&](volume::IoCallback cb) { (*src)->Flush(std::move(cb)); }).ok());
  auto ranges = FileDataRanges(src_path);
  ASSERT_FALSE(ranges.empty());
  uint64_t allocated = 0;
  for (auto& r : ranges) allocated += r.length;
  EXPECT_LT(allocated, 4 * kMiB);  // really sparse

  BackupStats st;
  auto m = Backup(repo, *src, "b1", ranges, nullptr, RangeMode::kAllocated, &st);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_LE(st.bytes_read, allocated);

  // Restore over a file full of old data: holes come back as holes.
  auto dst_path = dir.path() + "/dst.img";
  MakeSparseFile(dst_path, size + kMiB);
  auto dst = volume::OpenFileBlockDevice(dst_path);
  ASSERT_TRUE(dst.ok());
  for (uint64_t off = 0; off < size + kMiB; off += kMiB) WriteBytes(**dst, off, TextBytes(kMiB, 7));
  auto r = Restore(repo, *dst, "b1");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(SameDevices(**dst, **src, size));
  EXPECT_TRUE(IsAllZero(ReadBytes(**dst, size, kMiB)));
  struct stat sb;
  ASSERT_EQ(::stat(dst_path.c_str(), &sb), 0);
  EXPECT_LT(static_cast<uint64_t>(sb.st_blocks) * 512, 4 * kMiB) << "holes were punched";

  auto v = repo->Verify("b1", VerifyMode::kFull);
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->ok());
}

}  // namespace
}  // namespace scoria::backup
