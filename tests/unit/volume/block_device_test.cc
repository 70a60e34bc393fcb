// BlockDevice implementations: the memory device and the file device on both engines
// (io_uring and the forced thread-pool fallback), and the io_uring file device driven from an
// event-loop thread with its own ThreadIoLoop (as the target's reactors use it), run the same
// contract suite; file-only behaviour (holes punched, online extend, destruction with I/O in
// flight, OS errors) follows.
#include "volume/block_device.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/uio.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <filesystem>
#include <functional>
#include <future>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "volume/drivers/file/file_block_device.h"
#include "volume/io_loop.h"

namespace scoria::volume {
namespace {

constexpr uint64_t kDeviceSize = 64ull << 20;
constexpr uint64_t kKiB = 1024;
constexpr uint64_t kMiB = 1024 * 1024;

enum class Kind { kMemory, kUring, kThreadPool, kUringLocal };

std::string KindName(Kind k) {
  switch (k) {
    case Kind::kMemory:
      return "Memory";
    case Kind::kUring:
      return "FileUring";
    case Kind::kThreadPool:
      return "FileThreadPool";
    case Kind::kUringLocal:
      return "FileUringLocalRing";
  }
  return "?";
}

// An event loop like the target's Reactor: runs posted closures on its own thread, which owns
// a ThreadIoLoop polled every iteration.
class LoopThread {
 public:
  LoopThread() {
    efd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    std::promise<bool> attached;
    auto fut = attached.get_future();
    thread_ = std::thread([this, &attached] { Run(attached); });
    has_ring_ = fut.get();
  }
  ~LoopThread() {
    Post([this] { stop_ = true; });
    thread_.join();
    ::close(efd_);
  }
  bool has_ring() const { return has_ring_; }
  std::thread::id id() const { return thread_.get_id(); }
  bool InThread() const { return std::this_thread::get_id() == id(); }

  void Post(std::function<void()> fn) {
    {
      std::lock_guard lock(mu_);
      queue_.push_back(std::move(fn));
    }
    uint64_t one = 1;
    (void)!::write(efd_, &one, sizeof(one));
  }
  // Runs `fn` on the loop thread and waits for it.
  void RunSync(std::function<void()> fn) {
    if (InThread()) return fn();
    std::promise<void> p;
    Post([&] {
      fn();
      p.set_value();
    });
    p.get_future().wait();
  }

 private:
  void Run(std::promise<bool>& attached) {
    auto ring = AttachIoLoopToThisThread();
    attached.set_value(ring != nullptr);
    int ep = ::epoll_create1(EPOLL_CLOEXEC);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ::epoll_ctl(ep, EPOLL_CTL_ADD, efd_, &ev);
    if (ring) ::epoll_ctl(ep, EPOLL_CTL_ADD, ring->fd(), &ev);
    while (!stop_) {
      epoll_event out[4];
      ::epoll_wait(ep, out, 4, ring && ring->HasUnsubmitted() ? 0 : 100);
      uint64_t v;
      (void)!::read(efd_, &v, sizeof(v));
      std::deque<std::function<void()>> work;
      {
        std::lock_guard lock(mu_);
        work.swap(queue_);
      }
      for (auto& fn : work) fn();
      if (ring) ring->Poll();
    }
    ring.reset();  // completes what is still in flight, on this thread
    ::close(ep);
  }

  int efd_ = -1;
  bool has_ring_ = false;
  bool stop_ = false;  // loop thread only
  std::mutex mu_;
  std::deque<std::function<void()>> queue_;
  std::thread thread_;
};

// Forwards every call to the loop thread, so the file device is used the way a reactor uses
// it: started there, completed there (the test's callbacks are thread-safe). The last
// reference to the real device is dropped on the loop thread too.
class OnLoopDevice final : public BlockDevice {
 public:
  OnLoopDevice(std::shared_ptr<BlockDevice> dev, std::shared_ptr<LoopThread> loop)
      : dev_(std::move(dev)), loop_(std::move(loop)) {}
  ~OnLoopDevice() override {
    loop_->RunSync([this] { dev_.reset(); });
  }
  uint64_t Size() const override { return dev_->Size(); }
  Status Refresh() override { return dev_->Refresh(); }
  void Read(uint64_t off, std::span<std::byte> buf, IoCallback done) override {
    Run([=, this] { dev_->Read(off, buf, done); });
  }
  void Write(uint64_t off, std::span<const std::byte> buf, bool fua, IoCallback done) override {
    Run([=, this] { dev_->Write(off, buf, fua, done); });
  }
  void Flush(IoCallback done) override {
    Run([=, this] { dev_->Flush(done); });
  }
  void Discard(uint64_t off, uint64_t len, IoCallback done) override {
    Run([=, this] { dev_->Discard(off, len, done); });
  }
  void WriteZeroes(uint64_t off, uint64_t len, bool unmap, IoCallback done) override {
    Run([=, this] { dev_->WriteZeroes(off, len, unmap, done); });
  }

 private:
  void Run(std::function<void()> fn) {
    if (loop_->InThread()) return fn();
    loop_->Post(std::move(fn));
  }
  std::shared_ptr<BlockDevice> dev_;
  std::shared_ptr<LoopThread> loop_;
};

// Waits for a number of completions; remembers the first failure.
class Completions {
 public:
  IoCallback Callback() {
    {
      std::lock_guard lock(mu_);
      ++expected_;
    }
    return [this](Status st) {
      std::lock_guard lock(mu_);
      if (!st.ok() && first_error_.ok()) first_error_ = st;
      if (++done_ == expected_) cv_.notify_all();
    };
  }
  Status Wait() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return done_ == expected_; });
    return first_error_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int expected_ = 0;
  int done_ = 0;
  Status first_error_;
};

// Runs one async call and returns its Status. The promise is shared with the callback so it
// outlives set_value even if the waiter returns first.
template <typename Fn>
Status Sync(Fn&& fn) {
  auto p = std::make_shared<std::promise<Status>>();
  auto f = p->get_future();
  fn([p](Status st) { p->set_value(std::move(st)); });
  return f.get();
}

Status ReadSync(BlockDevice& d, uint64_t off, std::span<std::byte> buf) {
  return Sync([&](IoCallback cb) { d.Read(off, buf, std::move(cb)); });
}
Status WriteSync(BlockDevice& d, uint64_t off, std::span<const std::byte> buf, bool fua = false) {
  return Sync([&](IoCallback cb) { d.Write(off, buf, fua, std::move(cb)); });
}

std::vector<std::byte> Pattern(size_t n, uint32_t seed) {
  std::vector<std::byte> v(n);
  std::mt19937 rng(seed);
  for (auto& b : v) b = static_cast<std::byte>(rng());
  return v;
}

bool AllZero(std::span<const std::byte> s) {
  return std::all_of(s.begin(), s.end(), [](std::byte b) { return b == std::byte{0}; });
}

class BlockDeviceTest : public ::testing::TestWithParam<Kind> {
 protected:
  void SetUp() override {
    if (GetParam() == Kind::kMemory) {
      dev_ = NewMemoryBlockDevice(kDeviceSize);
      return;
    }
    char tmpl[] = "/tmp/scoria_bdev_XXXXXX";
    int fd = ::mkstemp(tmpl);
    ASSERT_GE(fd, 0);
    path_ = tmpl;
    ASSERT_EQ(::ftruncate(fd, kDeviceSize), 0);
    ::close(fd);
    dev_ = Open();
    ASSERT_NE(dev_, nullptr);
  }
  void TearDown() override {
    dev_.reset();
    // A callback may still hold the last OnLoopDevice (and with it a loop reference): let the
    // loop finish its iteration so the loop thread is never the one that destroys the loop.
    if (loop_) loop_->RunSync([] {});
    if (!path_.empty()) ::unlink(path_.c_str());
  }

  bool IsFile() const { return GetParam() != Kind::kMemory; }

  std::shared_ptr<BlockDevice> Open(bool read_only = false) {
    FileBlockDeviceOptions o;
    o.engine = GetParam() == Kind::kThreadPool ? FileIoEngine::kThreadPool : FileIoEngine::kUring;
    o.open_read_only = read_only;
    auto r = OpenFileBlockDevice(path_, o);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok()) return nullptr;
    if (GetParam() != Kind::kUringLocal) return *r;
    if (!loop_) loop_ = std::make_shared<LoopThread>();
    EXPECT_TRUE(loop_->has_ring());
    return std::make_shared<OnLoopDevice>(*r, loop_);
  }

  // The thread that issues device calls (where immediate failures complete).
  std::thread::id Issuer() const {
    return loop_ ? loop_->id() : std::this_thread::get_id();
  }

  blkcnt_t Blocks() const {
    struct stat st {};
    EXPECT_EQ(::stat(path_.c_str(), &st), 0);
    return st.st_blocks;
  }

  std::string path_;
  std::shared_ptr<LoopThread> loop_;  // kUringLocal
  std::shared_ptr<BlockDevice> dev_;
};

TEST_P(BlockDeviceTest, SizeAndBlockSize) {
  EXPECT_EQ(dev_->Size(), kDeviceSize);
  EXPECT_EQ(dev_->BlockSize(), 512u);
  EXPECT_TRUE(dev_->Refresh().ok());
  EXPECT_EQ(dev_->Size(), kDeviceSize);
}

TEST_P(BlockDeviceTest, RoundTripAtSeveralOffsetsAndSizesWithUnalignedBuffers) {
  uint32_t seed = 1;
  for (uint64_t len : std::vector<uint64_t>{512, 4 * kKiB, 64 * kKiB + 512, 1 * kMiB}) {
    for (uint64_t off :
         std::vector<uint64_t>{0, 512, 3 * kMiB - 512, 17 * kMiB + 4096, kDeviceSize - len}) {
      // One byte past an aligned allocation: no 512-byte (or even 2-byte) alignment.
      std::vector<std::byte> wstore(len + 1), rstore(len + 1, std::byte{0xEE});
      auto data = Pattern(len, seed++);
      std::memcpy(wstore.data() + 1, data.data(), len);
      std::span<std::byte> w(wstore.data() + 1, len), r(rstore.data() + 1, len);
      ASSERT_TRUE(WriteSync(*dev_, off, w).ok()) << off << "+" << len;
      ASSERT_TRUE(ReadSync(*dev_, off, r).ok()) << off << "+" << len;
      ASSERT_EQ(std::memcmp(r.data(), data.data(), len), 0) << off << "+" << len;
    }
  }
}

TEST_P(BlockDeviceTest, HoleReadsZeroes) {
  std::vector<std::byte> buf(128 * kKiB, std::byte{0xAA});
  ASSERT_TRUE(ReadSync(*dev_, 40 * kMiB, buf).ok());
  EXPECT_TRUE(AllZero(buf));
}

TEST_P(BlockDeviceTest, ZeroLengthRequestsSucceed) {
  EXPECT_TRUE(ReadSync(*dev_, kDeviceSize, {}).ok());
  EXPECT_TRUE(WriteSync(*dev_, 0, {}).ok());
}

// 4 threads, each with 256 x 4 KiB writes in flight at once (1024 in total: more than the
// io_uring engine's 256-entry ring, so its overflow queue is exercised), then reads back.
TEST_P(BlockDeviceTest, ConcurrentIoFromFourThreads) {
  constexpr int kThreads = 4;
  constexpr uint64_t kBlock = 4 * kKiB;
  constexpr int kPerThread = 256;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      uint64_t base = static_cast<uint64_t>(t) * kPerThread * kBlock;
      auto data = Pattern(kPerThread * kBlock, 100 + t);
      Completions writes;
      for (int i = 0; i < kPerThread; ++i) {
        dev_->Write(base + i * kBlock, std::span(data).subspan(i * kBlock, kBlock), i % 7 == 0,
                    writes.Callback());
      }
      if (!writes.Wait().ok()) ++failures;
      std::vector<std::byte> back(data.size());
      Completions reads;
      for (int i = 0; i < kPerThread; ++i) {
        dev_->Read(base + i * kBlock, std::span(back).subspan(i * kBlock, kBlock),
                   reads.Callback());
      }
      if (!reads.Wait().ok() || back != data) ++failures;
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
}

TEST_P(BlockDeviceTest, FuaWriteAndFlushComplete) {
  auto data = Pattern(64 * kKiB, 7);
  ASSERT_TRUE(WriteSync(*dev_, 8 * kMiB, data, /*fua=*/true).ok());
  ASSERT_TRUE(WriteSync(*dev_, 9 * kMiB, data, /*fua=*/false).ok());
  ASSERT_TRUE(Sync([&](IoCallback cb) { dev_->Flush(std::move(cb)); }).ok());
  std::vector<std::byte> back(data.size());
  ASSERT_TRUE(ReadSync(*dev_, 8 * kMiB, back).ok());
  EXPECT_EQ(back, data);
}

TEST_P(BlockDeviceTest, DiscardAndWriteZeroesReadBackZeroes) {
  const uint64_t base = 4 * kMiB;
  auto data = Pattern(4 * kMiB, 9);
  ASSERT_TRUE(WriteSync(*dev_, base, data).ok());
  ASSERT_TRUE(Sync([&](IoCallback cb) { dev_->Flush(std::move(cb)); }).ok());
  blkcnt_t before = IsFile() ? Blocks() : 0;

  ASSERT_TRUE(Sync([&](IoCallback cb) { dev_->Discard(base, 1 * kMiB, std::move(cb)); }).ok());
  ASSERT_TRUE(Sync([&](IoCallback cb) {
                dev_->WriteZeroes(base + 1 * kMiB, 1 * kMiB, /*unmap=*/false, std::move(cb));
              }).ok());
  ASSERT_TRUE(Sync([&](IoCallback cb) {
                dev_->WriteZeroes(base + 2 * kMiB, 1 * kMiB, /*unmap=*/true, std::move(cb));
              }).ok());

  std::vector<std::byte> back(data.size());
  ASSERT_TRUE(ReadSync(*dev_, base, back).ok());
  EXPECT_TRUE(AllZero(std::span(back).first(3 * kMiB)));
  EXPECT_TRUE(std::equal(back.begin() + 3 * kMiB, back.end(), data.begin() + 3 * kMiB));
  if (IsFile()) {
    // Discard and unmapping WriteZeroes punched 2 MiB (4096 sectors) of holes; ZERO_RANGE
    // may or may not keep its blocks (ext4 keeps them as unwritten extents).
    EXPECT_LE(Blocks(), before - 4096) << "before=" << before;
  }
}

TEST_P(BlockDeviceTest, OutOfRangeAndMisalignedFailWithInvalidArgument) {
  std::vector<std::byte> buf(4096);
  const uint64_t size = dev_->Size();
  auto caller = Issuer();
  auto expect_invalid = [&](auto issue, const char* what) {
    std::thread::id where;
    Status st = Sync([&](IoCallback cb) {
      issue([&, cb = std::move(cb)](Status s) {
        where = std::this_thread::get_id();
        cb(std::move(s));
      });
    });
    EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << what << ": " << st.ToString();
    EXPECT_EQ(where, caller) << what << ": should fail fast on the caller's thread";
  };
  expect_invalid([&](IoCallback cb) { dev_->Read(size, buf, std::move(cb)); }, "read at end");
  expect_invalid([&](IoCallback cb) { dev_->Read(size - 512, buf, std::move(cb)); },
                 "read across end");
  expect_invalid([&](IoCallback cb) { dev_->Write(100, buf, false, std::move(cb)); },
                 "misaligned offset");
  expect_invalid(
      [&](IoCallback cb) { dev_->Write(0, std::span(buf).first(100), false, std::move(cb)); },
      "misaligned length");
  expect_invalid([&](IoCallback cb) { dev_->Read(UINT64_MAX - 511, buf, std::move(cb)); },
                 "offset overflow");
  expect_invalid([&](IoCallback cb) { dev_->Discard(size - 512, 1024, std::move(cb)); },
                 "discard across end");
  expect_invalid([&](IoCallback cb) { dev_->WriteZeroes(0, 1000, false, std::move(cb)); },
                 "write zeroes misaligned");
  expect_invalid(
      [&](IoCallback cb) { dev_->WriteZeroes(512, UINT64_MAX - 511, true, std::move(cb)); },
      "length overflow");
}

INSTANTIATE_TEST_SUITE_P(All, BlockDeviceTest,
                         ::testing::Values(Kind::kMemory, Kind::kUring, Kind::kThreadPool,
                                           Kind::kUringLocal),
                         [](const auto& info) { return KindName(info.param); });

// File-only behaviour, on both engines.
class FileBlockDeviceTest : public BlockDeviceTest {};

TEST_P(FileBlockDeviceTest, RefreshSeesOnlineExtend) {
  ASSERT_EQ(::truncate(path_.c_str(), kDeviceSize * 2), 0);
  EXPECT_EQ(dev_->Size(), kDeviceSize);  // cached until Refresh
  std::vector<std::byte> buf(4096);
  EXPECT_EQ(WriteSync(*dev_, kDeviceSize, buf).code(), StatusCode::kInvalidArgument);
  ASSERT_TRUE(dev_->Refresh().ok());
  EXPECT_EQ(dev_->Size(), kDeviceSize * 2);
  auto data = Pattern(4096, 3);
  ASSERT_TRUE(WriteSync(*dev_, kDeviceSize * 2 - 4096, data).ok());
  ASSERT_TRUE(ReadSync(*dev_, kDeviceSize * 2 - 4096, buf).ok());
  EXPECT_EQ(buf, data);
}

TEST_P(FileBlockDeviceTest, SizeRoundsDownToWholeBlocks) {
  ASSERT_EQ(::truncate(path_.c_str(), kDeviceSize + 700), 0);
  ASSERT_TRUE(dev_->Refresh().ok());
  EXPECT_EQ(dev_->Size(), kDeviceSize + 512);
}

TEST_P(FileBlockDeviceTest, DestructionWaitsForEveryCallback) {
  constexpr int kOps = 600;  // > ring depth
  auto data = Pattern(64 * kKiB, 11);
  std::atomic<int> called{0};
  for (int i = 0; i < kOps; ++i) {
    uint64_t off = (static_cast<uint64_t>(i) * 64 * kKiB) % kDeviceSize;
    if (i % 3 == 2) {
      dev_->Flush([&](Status) { ++called; });
    } else {
      dev_->Write(off, data, false, [&](Status) { ++called; });
    }
  }
  dev_.reset();
  EXPECT_EQ(called.load(), kOps);
}

// A device whose last reference dies inside its own callback, on the engine thread, must not
// deadlock waiting for itself.
TEST_P(FileBlockDeviceTest, DestroyedFromItsOwnCallback) {
  auto data = Pattern(4096, 12);
  auto done = std::make_shared<std::promise<Status>>();
  auto fut = done->get_future();
  BlockDevice* raw = dev_.get();
  raw->Write(0, data, false, [keep = std::move(dev_), done](Status st) { done->set_value(st); });
  ASSERT_EQ(fut.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  EXPECT_TRUE(fut.get().ok());
}

TEST_P(FileBlockDeviceTest, WriteThroughReadOnlyFdFailsWithInternal) {
  auto ro = Open(/*read_only=*/true);
  ASSERT_NE(ro, nullptr);
  auto data = Pattern(4096, 5);
  Status st = WriteSync(*ro, 0, data);
  EXPECT_EQ(st.code(), StatusCode::kInternal) << st.ToString();
  st = Sync([&](IoCallback cb) { ro->WriteZeroes(0, 4096, false, std::move(cb)); });
  EXPECT_FALSE(st.ok());
  std::vector<std::byte> buf(4096);
  EXPECT_TRUE(ReadSync(*ro, 0, buf).ok());  // reads still work
}

TEST_P(FileBlockDeviceTest, OpenErrors) {
  FileBlockDeviceOptions o;
  o.engine = GetParam() == Kind::kThreadPool ? FileIoEngine::kThreadPool : FileIoEngine::kUring;
  EXPECT_EQ(OpenFileBlockDevice("/nonexistent/scoria/volume-x", o).status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(OpenFileBlockDevice("/tmp", o).status().code(), StatusCode::kFailedPrecondition);
}

// tmpfs has PUNCH_HOLE but not ZERO_RANGE: WriteZeroes must fall back to writing zeroes.
TEST_P(FileBlockDeviceTest, WriteZeroesWithoutZeroRangeSupport) {
  struct statfs fs {};
  if (::statfs("/dev/shm", &fs) != 0 || fs.f_type != 0x01021994 /* TMPFS_MAGIC */) {
    GTEST_SKIP() << "no tmpfs at /dev/shm";
  }
  std::string shm = "/dev/shm/scoria_bdev_test_" + std::to_string(::getpid());
  int fd = ::open(shm.c_str(), O_CREAT | O_RDWR | O_TRUNC, 0600);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::ftruncate(fd, 4 * kMiB), 0);
  ::close(fd);
  FileBlockDeviceOptions o;
  o.engine = GetParam() == Kind::kThreadPool ? FileIoEngine::kThreadPool : FileIoEngine::kUring;
  auto dev = OpenFileBlockDevice(shm, o);
  ASSERT_TRUE(dev.ok());
  auto data = Pattern(3 * kMiB, 13);
  ASSERT_TRUE(WriteSync(**dev, 0, data).ok());
  for (int round = 0; round < 2; ++round) {  // second round takes the remembered path
    ASSERT_TRUE(WriteSync(**dev, 0, data).ok());
    Status st = Sync(
        [&](IoCallback cb) { (*dev)->WriteZeroes(512, 2 * kMiB + 512, false, std::move(cb)); });
    ASSERT_TRUE(st.ok()) << st.ToString();
    std::vector<std::byte> back(data.size());
    ASSERT_TRUE(ReadSync(**dev, 0, back).ok());
    EXPECT_TRUE(std::equal(back.begin(), back.begin() + 512, data.begin()));
    EXPECT_TRUE(AllZero(std::span(back).subspan(512, 2 * kMiB + 512)));
    EXPECT_TRUE(
        std::equal(back.begin() + 2 * kMiB + 1024, back.end(), data.begin() + 2 * kMiB + 1024));
  }
  ::unlink(shm.c_str());
}

INSTANTIATE_TEST_SUITE_P(All, FileBlockDeviceTest,
                         ::testing::Values(Kind::kUring, Kind::kThreadPool, Kind::kUringLocal),
                         [](const auto& info) { return KindName(info.param); });

// A scratch file of `size` bytes, removed at scope exit.
struct TempFile {
  explicit TempFile(uint64_t size) {
    char tmpl[] = "/tmp/scoria_bdev_XXXXXX";
    int fd = ::mkstemp(tmpl);
    EXPECT_GE(fd, 0);
    path = tmpl;
    EXPECT_EQ(::ftruncate(fd, static_cast<off_t>(size)), 0);
    ::close(fd);
  }
  ~TempFile() { ::unlink(path.c_str()); }
  std::shared_ptr<BlockDevice> Open(FileIoEngine engine) const {
    FileBlockDeviceOptions o;
    o.engine = engine;
    auto r = OpenFileBlockDevice(path, o);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : nullptr;
  }
  std::string path;
};

bool NowaitReadsWork(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  char b[512];
  iovec iov{b, sizeof(b)};
  ssize_t n = ::preadv2(fd, &iov, 1, 0, RWF_NOWAIT);
  int err = errno;
  ::close(fd);
  return n >= 0 || err != EOPNOTSUPP;
}

TEST(LocalIoRingTest, IoCompletesOnTheLoopThreadAndCachedReadsInline) {
  if (DefaultFileIoEngine() != FileIoEngine::kUring) GTEST_SKIP() << "no io_uring";
  TempFile f(4 * kMiB);
  auto loop = std::make_shared<LoopThread>();
  ASSERT_TRUE(loop->has_ring());
  auto dev = f.Open(FileIoEngine::kUring);
  auto data = Pattern(64 * kKiB, 21);
  std::promise<std::thread::id> wrote;
  loop->Post([&] { dev->Write(kMiB, data, false, [&](Status st) {
    EXPECT_TRUE(st.ok()) << st.ToString();
    wrote.set_value(std::this_thread::get_id());
  }); });
  EXPECT_EQ(wrote.get_future().get(), loop->id());
  // The data is in the page cache now: the read completes before Read returns.
  std::vector<std::byte> back(data.size());
  bool inline_done = false;
  bool in_call = true;  // out here: a read that goes to the ring completes after the lambda
  loop->RunSync([&] {
    dev->Read(kMiB, back, [&](Status st) {
      EXPECT_TRUE(st.ok()) << st.ToString();
      EXPECT_TRUE(loop->InThread());
      inline_done = in_call;
    });
    in_call = false;
  });
  if (NowaitReadsWork(f.path)) {
    EXPECT_TRUE(inline_done);
  }
  // Whether inline or not, the bytes are right.
  loop->RunSync([] {});
  EXPECT_EQ(back, data);
  loop->RunSync([&] { dev.reset(); });
}

// Small page-aligned non-FUA writes are done by the loop thread in Poll (not by io-wq through
// the ring): never before Write returns, always on the loop thread, and mixed in one iteration
// with writes that do take the ring (FUA, unaligned, larger than the inline limit).
TEST(LocalIoRingTest, InlineWritesCompleteInPollOnTheLoopThread) {
  if (DefaultFileIoEngine() != FileIoEngine::kUring) GTEST_SKIP() << "no io_uring";
  TempFile f(4 * kMiB);
  auto loop = std::make_shared<LoopThread>();
  ASSERT_TRUE(loop->has_ring());
  auto dev = f.Open(FileIoEngine::kUring);
  struct Case {
    uint64_t offset;
    size_t length;
    bool fua;
  };
  const std::vector<Case> cases = {
      {0, 4096, false},               // inline
      {64 * kKiB, 64 * kKiB, false},  // inline, at the limit
      {kMiB, 128 * kKiB, false},      // too large: ring
      {2 * kMiB + 512, 1024, false},  // not page-aligned: ring
      {3 * kMiB, 4096, true},         // FUA: ring
  };
  std::vector<std::vector<std::byte>> data;
  for (size_t i = 0; i < cases.size(); ++i) data.push_back(Pattern(cases[i].length, 40 + i));
  std::atomic<int> done{0};
  std::atomic<bool> any_early{false}, any_elsewhere{false};
  // Set once each Write has returned; outlives the loop below, since the callbacks run later.
  auto returned = std::make_unique<std::atomic<bool>[]>(cases.size());
  loop->RunSync([&] {
    for (size_t i = 0; i < cases.size(); ++i) {
      dev->Write(cases[i].offset, data[i], cases[i].fua, [&, i](Status st) {
        EXPECT_TRUE(st.ok()) << st.ToString();
        if (!returned[i]) any_early = true;
        if (!loop->InThread()) any_elsewhere = true;
        ++done;
      });
      returned[i] = true;
    }
  });
  // Turn the loop until every write has completed: the RWF_DSYNC one waits for the disk, which
  // a busy machine makes slow (a bound of 1,000 quick turns failed under load). The deadline
  // only keeps a lost completion from hanging the run.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (done.load() < int(cases.size()) && std::chrono::steady_clock::now() < deadline) {
    loop->RunSync([] {});
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_EQ(done.load(), int(cases.size()));
  EXPECT_FALSE(any_early);
  EXPECT_FALSE(any_elsewhere);
  for (size_t i = 0; i < cases.size(); ++i) {
    std::vector<std::byte> back(cases[i].length);
    ASSERT_TRUE(ReadSync(*dev, cases[i].offset, back).ok());
    EXPECT_EQ(back, data[i]) << "case " << i;
  }
  loop->RunSync([&] { dev.reset(); });
}

// The OS error of an inline write reaches `done` mapped like a ring write's (EBADF on a
// read-only fd -> Internal), on the loop thread.
// Regression: when a per-thread ring could not be set up (here: no descriptor left), the
// failed ring's destructor tore down a ring that did not exist, closing descriptor 0 (its
// zeroed ring_fd). Attaching must fail cleanly and leave every other descriptor open.
TEST(LocalIoRingTest, FailedAttachClosesNoOtherDescriptor) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  // The sanitizers' runtimes need descriptors of their own while they check a call (UBSan's
  // vptr check probes memory through a pipe), so with none left they report errors that are
  // not there. The plain build runs this test.
  GTEST_SKIP() << "needs free descriptors under sanitizers";
#endif
  if (DefaultFileIoEngine() != FileIoEngine::kUring) GTEST_SKIP() << "no io_uring";
  if (::fcntl(0, F_GETFD) == -1) {
    ASSERT_EQ(::open("/dev/null", O_RDONLY), 0);
  }
  // The shared engine exists first (a per-thread ring is only tried when it does).
  TempFile f(kMiB);
  auto dev = f.Open(FileIoEngine::kUring);
  std::vector<std::byte> back(4096);
  ASSERT_TRUE(ReadSync(*dev, 0, back).ok());
  // The lowest free descriptor is the limit: nothing new can be opened while it holds.
  const int probe = ::dup(0);
  ASSERT_GE(probe, 0);
  ::close(probe);
  rlimit old{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &old), 0);
  rlimit low = old;
  low.rlim_cur = static_cast<rlim_t>(probe);
  std::unique_ptr<ThreadIoLoop> loop;
  std::thread([&] {
    ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &low), 0);
    loop = AttachIoLoopToThisThread();
    ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &old), 0);
  }).join();
  EXPECT_EQ(loop, nullptr);
  EXPECT_NE(::fcntl(0, F_GETFD), -1) << "descriptor 0 was closed";
}

TEST(LocalIoRingTest, InlineWriteErrorMapsToStatus) {
  if (DefaultFileIoEngine() != FileIoEngine::kUring) GTEST_SKIP() << "no io_uring";
  TempFile f(kMiB);
  auto loop = std::make_shared<LoopThread>();
  ASSERT_TRUE(loop->has_ring());
  FileBlockDeviceOptions o;
  o.engine = FileIoEngine::kUring;
  o.open_read_only = true;
  auto opened = OpenFileBlockDevice(f.path, o);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  std::shared_ptr<BlockDevice> dev = *opened;
  auto data = Pattern(4096, 45);
  std::promise<std::pair<Status, bool>> result;
  loop->Post([&] {
    dev->Write(0, data, false, [&](Status st) { result.set_value({st, loop->InThread()}); });
  });
  auto [st, on_loop] = result.get_future().get();
  EXPECT_EQ(st.code(), StatusCode::kInternal) << st.ToString();
  EXPECT_TRUE(on_loop);
  loop->RunSync([&] { dev.reset(); });
}

TEST(LocalIoRingTest, StoppingTheLoopCompletesInFlightIo) {
  if (DefaultFileIoEngine() != FileIoEngine::kUring) GTEST_SKIP() << "no io_uring";
  TempFile f(8 * kMiB);
  auto dev = f.Open(FileIoEngine::kUring);
  auto data = Pattern(4 * kKiB, 22);
  std::atomic<int> called{0};
  {
    LoopThread loop;
    ASSERT_TRUE(loop.has_ring());
    loop.Post([&] {
      for (int i = 0; i < 600; ++i) {  // more than the ring's 256 entries
        dev->Write(uint64_t(i) * 4 * kKiB, data, i % 100 == 0, [&](Status st) {
          EXPECT_TRUE(st.ok()) << st.ToString();
          ++called;
        });
      }
    });
  }  // the loop stops with writes in flight: its ring completes them before the thread ends
  EXPECT_EQ(called.load(), 600);
}

TEST(LocalIoRingTest, ThreadPoolDevicesAndOtherThreadsDoNotUseTheRing) {
  if (DefaultFileIoEngine() != FileIoEngine::kUring) GTEST_SKIP() << "no io_uring";
  TempFile f(4 * kMiB);
  auto loop = std::make_shared<LoopThread>();
  ASSERT_TRUE(loop->has_ring());
  auto pool = f.Open(FileIoEngine::kThreadPool);
  auto uring = f.Open(FileIoEngine::kUring);
  auto data = Pattern(4 * kKiB, 23);
  std::promise<std::thread::id> where;
  loop->Post([&] { pool->Write(0, data, false, [&](Status) {
    where.set_value(std::this_thread::get_id());
  }); });
  EXPECT_NE(where.get_future().get(), loop->id());
  // A uring device used from a thread without a ring goes to the shared engine.
  EXPECT_TRUE(WriteSync(*uring, 4 * kKiB, data).ok());
  // A second ring on the loop's thread is refused.
  loop->RunSync([] { EXPECT_EQ(AttachIoLoopToThisThread(), nullptr); });
  loop->RunSync([&] { pool.reset(); uring.reset(); });
}

TEST(FileBlockDeviceEngineTest, AutoPicksUringWhenAvailable) {
  FileIoEngine e = DefaultFileIoEngine();
  EXPECT_TRUE(e == FileIoEngine::kUring || e == FileIoEngine::kThreadPool);
  FileBlockDeviceOptions o;
  o.engine = FileIoEngine::kUring;
  auto r = OpenFileBlockDevice("/nonexistent/x", o);
  EXPECT_EQ(r.status().code(),
            e == FileIoEngine::kUring ? StatusCode::kNotFound : StatusCode::kUnavailable);
}

}  // namespace
}  // namespace scoria::volume
