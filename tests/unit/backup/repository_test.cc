// Repository: config, locks (the GC race rule), Verify, GC, export records.
#include "backup/repository.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "backup/fault_store.h"
#include "job_helpers.h"
#include "test_device.h"

namespace scoria::backup {
namespace {

using namespace testing;  // NOLINT

std::span<const std::byte> Bytes(const std::string& s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

TEST(RepositoryTest, CreatesConfigAndKeepsItsChunkSize) {
  auto store = NewMemoryStore();
  RepositoryOptions o;
  o.chunk_size = 128 * 1024;
  auto r1 = Repository::Open(store, o);
  ASSERT_TRUE(r1.ok());
  EXPECT_TRUE(*store->Exists("config"));
  o.chunk_size = 1 << 20;  // ignored: the repository has its own
  auto r2 = Repository::Open(store, o);
  ASSERT_TRUE(r2.ok());
  EXPECT_EQ((*r2)->chunk_size(), 128u * 1024);
}

TEST(RepositoryTest, OpenErrors) {
  RepositoryOptions o;
  o.create = false;
  EXPECT_EQ(Repository::Open(NewMemoryStore(), o).status().code(), StatusCode::kNotFound);
  o.create = true;
  o.chunk_size = 1000;
  EXPECT_EQ(Repository::Open(NewMemoryStore(), o).status().code(), StatusCode::kInvalidArgument);
  auto store = NewMemoryStore();
  ASSERT_TRUE(store
                  ->Put("config", Bytes(R"({"format":"scoria-backup-repository","version":2,)"
                                        R"("chunk_size":4194304})"))
                  .ok());
  Result<std::shared_ptr<Repository>> newer = Repository::Open(store);
  EXPECT_EQ(newer.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(newer.status().message().find("version 2"), std::string::npos);
  ASSERT_TRUE(store->Put("config", Bytes("garbage")).ok());
  EXPECT_EQ(Repository::Open(store).status().code(), StatusCode::kInternal);
  auto down = std::make_shared<FaultInjectingStore>(NewMemoryStore());
  down->AddRule({StoreOp::kGet, "", 0, FaultEffect::kFail, Unavailable("nfs down")});
  EXPECT_EQ(Repository::Open(down).status().code(), StatusCode::kUnavailable);
}

class LockTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RepositoryOptions o;
    o.clock = [this] { return now_.load(); };
    o.lock_refresh_micros = 10;
    o.lock_stale_micros = 100;
    repo_ = MakeRepo(store_, o);
  }
  std::atomic<int64_t> now_{1000};
  std::shared_ptr<BackupStore> store_ = NewMemoryStore();
  std::shared_ptr<Repository> repo_;
};

TEST_F(LockTest, SharedLocksCoexistExclusiveDoesNot) {
  auto a = repo_->Lock(LockKind::kShared, "backup a");
  auto b = repo_->Lock(LockKind::kShared, "backup b");
  ASSERT_TRUE(a.ok() && b.ok());
  auto x = repo_->Lock(LockKind::kExclusive, "gc");
  ASSERT_EQ(x.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(x.status().message().find("backup"), std::string::npos) << x.status().message();
  EXPECT_EQ(store_->List("locks/")->size(), 2u);  // the refused lock removed itself
  ASSERT_TRUE((*a)->Release().ok());
  b->reset();  // destructor releases
  auto x2 = repo_->Lock(LockKind::kExclusive, "gc");
  ASSERT_TRUE(x2.ok());
  auto c = repo_->Lock(LockKind::kShared, "backup c");
  EXPECT_EQ(c.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(c.status().message().find("gc"), std::string::npos);
}

TEST_F(LockTest, StaleLocksAreIgnoredAndRefreshKeepsALockLive) {
  auto a = repo_->Lock(LockKind::kShared, "crashed backup");
  ASSERT_TRUE(a.ok());
  auto live = repo_->Lock(LockKind::kShared, "live backup");
  ASSERT_TRUE(live.ok());
  now_ += 60;
  ASSERT_TRUE((*live)->RefreshIfDue().ok());  // due (60 > 10): refreshed at 1060
  now_ += 60;                                 // a: 120 old (stale); live: 60 (live)
  EXPECT_EQ(repo_->Lock(LockKind::kExclusive, "gc").status().code(), StatusCode::kUnavailable);
  ASSERT_TRUE((*live)->Release().ok());
  auto gc = repo_->CollectGarbage();  // a is stale now: ignored, then removed
  ASSERT_TRUE(gc.ok()) << gc.status().ToString();
  EXPECT_EQ(gc->stale_locks_removed, 1u);
  // The crashed holder comes back: its lock is gone, so it must stop.
  EXPECT_EQ((*a)->Refresh().code(), StatusCode::kNotFound);
}

TEST_F(LockTest, TakersWriteBeforeTheyLook) {
  // The exclusive taker sees a shared lock written before its own check; simulate the
  // interleaving "shared writes, exclusive writes, exclusive lists, shared lists".
  auto f = std::make_shared<FaultInjectingStore>(NewMemoryStore());
  RepositoryOptions o;
  auto repo = MakeRepo(f, o);
  // Many racing rounds on two threads: never both held.
  std::atomic<int> both{0};
  for (int round = 0; round < 200; ++round) {
    std::unique_ptr<RepositoryLock> s, x;
    std::thread t1([&] {
      auto l = repo->Lock(LockKind::kShared, "job");
      if (l.ok()) s = std::move(*l);
    });
    std::thread t2([&] {
      auto l = repo->Lock(LockKind::kExclusive, "gc");
      if (l.ok()) x = std::move(*l);
    });
    t1.join();
    t2.join();
    if (s && x) ++both;
  }
  EXPECT_EQ(both.load(), 0);
}

// --- Verify and GC over real backups.

class RepoDataTest : public ::testing::Test {
 protected:
  void SetUp() override {
    repo_ = MakeRepo(fault_);
    dev_ = volume::NewMemoryBlockDevice(2 * kMiB);
    WriteBytes(*dev_, 0, RandomBytes(1 * kMiB, 1));
    WriteBytes(*dev_, 1 * kMiB, TextBytes(512 * kKiB, 2));
  }
  std::shared_ptr<FaultInjectingStore> fault_ =
      std::make_shared<FaultInjectingStore>(NewMemoryStore());
  std::shared_ptr<Repository> repo_;
  std::shared_ptr<volume::BlockDevice> dev_;
};

TEST_F(RepoDataTest, VerifyCleanBackup) {
  ASSERT_TRUE(Backup(repo_, dev_, "b1", Whole(*dev_)).ok());
  for (VerifyMode mode : {VerifyMode::kExists, VerifyMode::kFull}) {
    auto v = repo_->Verify("b1", mode);
    ASSERT_TRUE(v.ok()) << v.status().ToString();
    EXPECT_TRUE(v->ok());
    EXPECT_TRUE(v->ToStatus().ok());
    EXPECT_EQ(v->chunks_checked, 16u + 8u);  // 16 random chunks, 8 text chunks
  }
  EXPECT_EQ(repo_->Verify("nope", VerifyMode::kFull).status().code(), StatusCode::kNotFound);
}

TEST_F(RepoDataTest, VerifyFindsCorruptAndMissingChunks) {
  auto m = Backup(repo_, dev_, "b1", Whole(*dev_));
  ASSERT_TRUE(m.ok());
  const ChunkRef bad = m->chunks[3];
  const ChunkRef gone = m->chunks[5];
  auto obj = *fault_->Get(ChunkObjectName(bad.id));
  obj[obj.size() - 1] ^= std::byte{1};  // same size: only a full verify sees it
  ASSERT_TRUE(fault_->inner().Put(ChunkObjectName(bad.id), obj).ok());
  ASSERT_TRUE(fault_->inner().Delete(ChunkObjectName(gone.id)).ok());

  auto quick = repo_->Verify("b1", VerifyMode::kExists);
  ASSERT_TRUE(quick.ok());
  ASSERT_EQ(quick->problems.size(), 1u);
  EXPECT_EQ(quick->problems[0].chunk_index, 5u);
  EXPECT_EQ(quick->problems[0].status.code(), StatusCode::kNotFound);

  auto full = repo_->Verify("b1", VerifyMode::kFull);
  ASSERT_TRUE(full.ok());
  ASSERT_EQ(full->problems.size(), 2u);
  EXPECT_EQ(full->problems[0].chunk_index, 3u);
  EXPECT_EQ(full->problems[0].volume_offset, 3u * kTestChunk);
  EXPECT_EQ(full->problems[0].status.code(), StatusCode::kInternal);
  EXPECT_EQ(full->problems[0].chunk, ToHex(bad.id));
  Status st = full->ToStatus();
  EXPECT_EQ(st.code(), StatusCode::kInternal);
  EXPECT_NE(st.message().find("chunk 3 (offset 196608)"), std::string::npos) << st.message();
}

TEST_F(RepoDataTest, VerifyFailsWhenTheStoreIsDown) {
  ASSERT_TRUE(Backup(repo_, dev_, "b1", Whole(*dev_)).ok());
  fault_->AddRule({StoreOp::kGet, "chunks/", 2, FaultEffect::kFail, Unavailable("nfs down")});
  EXPECT_EQ(repo_->Verify("b1", VerifyMode::kFull).status().code(), StatusCode::kUnavailable);
}

TEST_F(RepoDataTest, GcRemovesOnlyUnreferencedChunks) {
  auto m1 = Backup(repo_, dev_, "b1", Whole(*dev_));
  ASSERT_TRUE(m1.ok());
  WriteBytes(*dev_, 0, RandomBytes(256 * kKiB, 9));  // 4 new chunks in b2
  auto m2 = Backup(repo_, dev_, "b2", Whole(*dev_));
  ASSERT_TRUE(m2.ok());
  auto before = repo_->Stats();
  ASSERT_EQ(before->chunks, 24u + 4u);
  ASSERT_TRUE(repo_->DeleteBackup("b1").ok());
  ASSERT_TRUE(repo_->DeleteBackup("b1").ok());  // idempotent
  auto gc = repo_->CollectGarbage();
  ASSERT_TRUE(gc.ok()) << gc.status().ToString();
  EXPECT_EQ(gc->manifests, 1u);
  EXPECT_EQ(gc->chunks_deleted, 4u);  // b1's first four chunks
  EXPECT_EQ(repo_->Stats()->chunks, 24u);
  auto v = repo_->Verify("b2", VerifyMode::kFull);
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->ok());
  EXPECT_TRUE(repo_->store().List("locks/")->empty());
  // Nothing left to collect.
  EXPECT_EQ(repo_->CollectGarbage()->chunks_deleted, 0u);
}

TEST_F(RepoDataTest, GcStopsOnAnUnreadableManifest) {
  ASSERT_TRUE(Backup(repo_, dev_, "b1", Whole(*dev_)).ok());
  ASSERT_TRUE(fault_->Put("chunks/00/" + std::string(64, '0'), Bytes("orphan")).ok());
  ASSERT_TRUE(fault_->Put("manifests/broken", Bytes("not a manifest")).ok());
  auto gc = repo_->CollectGarbage();
  EXPECT_EQ(gc.status().code(), StatusCode::kInternal);
  EXPECT_NE(gc.status().message().find("broken"), std::string::npos);
  EXPECT_TRUE(*fault_->Exists("chunks/00/" + std::string(64, '0')));  // nothing deleted
  EXPECT_TRUE(repo_->store().List("locks/")->empty());                // lock released
}

TEST_F(RepoDataTest, GcRefusesWhileAJobRunsAndNeverTakesItsChunks) {
  // The job has stored chunks (not yet referenced by any manifest) when the GC comes.
  auto gated = std::make_shared<TestDevice>(dev_);
  BackupJobOptions o;
  o.backup_id = "running";
  o.volume_id = "v";
  o.ranges = Whole(*dev_);
  o.max_inflight_chunks = 2;
  BackupJob job(repo_, gated, o);
  gated->HoldReadsAfter(2);
  std::thread runner([&] { ASSERT_TRUE(job.Run().ok()); });
  while (job.progress().bytes_done < 2 * kTestChunk) std::this_thread::yield();
  while (gated->HeldReads() == 0) std::this_thread::yield();
  const auto stored = repo_->Stats()->chunks;
  ASSERT_GT(stored, 0u);
  ASSERT_TRUE(repo_->ListBackups()->empty());  // unreferenced right now

  auto gc = repo_->CollectGarbage();
  EXPECT_EQ(gc.status().code(), StatusCode::kUnavailable) << gc.status().ToString();
  EXPECT_EQ(repo_->Stats()->chunks, stored);

  EXPECT_EQ(job.state(), BackupJob::State::kTransferring);
  gated->OpenGate();
  runner.join();
  EXPECT_EQ(job.state(), BackupJob::State::kDone);
  ASSERT_TRUE(repo_->CollectGarbage().ok());
  auto v = repo_->Verify("running", VerifyMode::kFull);
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->ok()) << v->ToStatus().ToString();
}

TEST_F(RepoDataTest, JobRefusedWhileGcHoldsTheRepository) {
  auto gc_lock = repo_->Lock(LockKind::kExclusive, "garbage collection");
  ASSERT_TRUE(gc_lock.ok());
  auto r = Backup(repo_, dev_, "b1", Whole(*dev_));
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_TRUE(repo_->Stats()->chunks == 0);
  auto dst = volume::NewMemoryBlockDevice(2 * kMiB);
  EXPECT_EQ(Restore(repo_, dst, "b1").status().code(), StatusCode::kUnavailable);
}

TEST_F(RepoDataTest, BackupsAndGcRacingNeverLoseAChunk) {
  // Each round deletes the previous backup (its chunks become garbage) and backs up the same
  // data under a new id, deduplicating against those very chunks if they are still there,
  // while another thread collects garbage in a loop. A job must never record a chunk that a
  // GC then removes: every backup must verify right after it is made, and at the end.
  std::atomic<bool> stop{false};
  std::atomic<int> gcs{0};
  std::atomic<uint64_t> deleted{0};
  std::thread gc([&] {
    while (!stop.load()) {
      auto r = repo_->CollectGarbage();
      if (r.ok()) {
        ++gcs;
        deleted += r->chunks_deleted;
      }
      std::this_thread::sleep_for(std::chrono::microseconds(300));  // a GC in a tight loop
                                                                    // would starve the jobs
    }
  });
  std::string prev;
  int done = 0;
  // At least 40 rounds, and until GCs have collected chunks of deleted backups 5 times
  // (the race is real), bounded.
  for (int i = 0; i < 2000 && (i < 40 || deleted.load() < 5); ++i) {
    std::string id = "b" + std::to_string(i);
    std::this_thread::sleep_for(std::chrono::microseconds(i % 7 * 150));  // windows for GC
    if (!prev.empty()) {
      Status st = repo_->DeleteBackup(prev);
      ASSERT_TRUE(st.ok()) << st.ToString();
    }
    Result<Manifest> r = Unavailable("not run");
    // A job meeting a GC gets Unavailable; the backup service's task is retried the same way.
    for (int attempt = 0; attempt < 10000 && r.status().code() == StatusCode::kUnavailable;
         ++attempt) {
      r = Backup(repo_, dev_, id, Whole(*dev_));
    }
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ++done;
    prev = id;
    Result<VerifyReport> v = Unavailable("not run");
    while (v.status().code() == StatusCode::kUnavailable)
      v = repo_->Verify(id, VerifyMode::kExists);
    ASSERT_TRUE(v.ok()) << v.status().ToString();
    EXPECT_TRUE(v->ok()) << v->ToStatus().ToString();
  }
  stop = true;
  gc.join();
  ASSERT_GT(done, 0);
  auto ids = repo_->ListBackups();
  ASSERT_TRUE(ids.ok());
  for (const std::string& id : *ids) {
    auto v = repo_->Verify(id, VerifyMode::kFull);
    ASSERT_TRUE(v.ok());
    EXPECT_TRUE(v->ok()) << v->ToStatus().ToString();
    auto dst = volume::NewMemoryBlockDevice(2 * kMiB);
    ASSERT_TRUE(Restore(repo_, dst, id).ok());
    EXPECT_TRUE(SameDevices(*dst, *dev_, 2 * kMiB));
  }
  RecordProperty("gc_runs", gcs.load());
  EXPECT_GT(gcs.load(), 0);
  // The race was real: GCs did collect the chunks of deleted backups in between.
  EXPECT_GE(deleted.load(), 5u);
}

TEST_F(RepoDataTest, RecordMatchesOnlyTheSameManifest) {
  auto m = Backup(repo_, dev_, "b1", Whole(*dev_));
  ASSERT_TRUE(m.ok());
  ManifestRecord rec = MakeRecord(*m);
  EXPECT_TRUE(repo_->CheckRecord(rec).ok());
  auto bytes = repo_->ReadManifestBytes("b1");
  ASSERT_TRUE(bytes.ok());
  EXPECT_EQ(rec.manifest_sha256, ToHex(ManifestDigest(*bytes)));
  ManifestRecord other = rec;
  other.manifest_sha256[0] = other.manifest_sha256[0] == 'a' ? 'b' : 'a';
  EXPECT_EQ(repo_->CheckRecord(other).code(), StatusCode::kFailedPrecondition);
  other = rec;
  other.backup_id = "b2";
  EXPECT_EQ(repo_->CheckRecord(other).code(), StatusCode::kNotFound);
}

TEST_F(RepoDataTest, CorruptedManifestIsRefusedByName) {
  ASSERT_TRUE(Backup(repo_, dev_, "b1", Whole(*dev_)).ok());
  auto bytes = *fault_->Get("manifests/b1");
  bytes[200] ^= std::byte{1};
  ASSERT_TRUE(fault_->Put("manifests/b1", bytes).ok());
  auto m = repo_->LoadManifest("b1");
  EXPECT_EQ(m.status().code(), StatusCode::kInternal);
  EXPECT_NE(m.status().message().find("backup b1: manifest corrupted"), std::string::npos)
      << m.status().message();
  auto dst = volume::NewMemoryBlockDevice(2 * kMiB);
  EXPECT_EQ(Restore(repo_, dst, "b1").status().code(), StatusCode::kInternal);
  // A manifest stored under another backup's name is refused too.
  ASSERT_TRUE(Backup(repo_, dev_, "b2", Whole(*dev_)).ok());
  ASSERT_TRUE(fault_->Put("manifests/b3", *fault_->Get("manifests/b2")).ok());
  EXPECT_EQ(repo_->LoadManifest("b3").status().code(), StatusCode::kInternal);
  EXPECT_EQ(repo_->LoadManifest("../x").status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace scoria::backup
