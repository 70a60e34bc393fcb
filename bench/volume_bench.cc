// BlockDevice benchmarks: 4 KiB random reads and writes at queue depth 1 and 32 on a 1 GiB
// sparse file, io_uring engine vs the thread-pool fallback, with the memory device as the
// null baseline. (Named volume_bench.cc, not block_device_bench.cc: CMake links
// bench/<mod>_bench.cc against scoria_<mod>.)
//
// The file is in the page cache after the first touches, so this measures the engines' own
// overhead (submission, completion thread, wake-ups), not the disk. The issuing thread waits
// for a free slot when QD requests are in flight, as a reactor whose completions are posted
// back to it would.
//
// Run: build/bin/volume_bench [--benchmark_min_time=2]; SCORIA_BENCH_DIR picks the directory
// (default /tmp).
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <random>
#include <semaphore>
#include <string>
#include <vector>

#include "volume/block_device.h"
#include "volume/drivers/file/file_block_device.h"

namespace scoria::volume {
namespace {

constexpr uint64_t kFileSize = 1ull << 30;
constexpr uint64_t kIoSize = 4096;
constexpr int kBatch = 4096;  // I/Os per benchmark iteration

enum Backend { kUring = 0, kThreadPool = 1, kMemory = 2 };

std::string BenchPath() {
  const char* dir = std::getenv("SCORIA_BENCH_DIR");
  return std::string(dir != nullptr ? dir : "/tmp") + "/scoria_volume_bench.img";
}

std::shared_ptr<BlockDevice> OpenBackend(int backend) {
  if (backend == kMemory) return NewMemoryBlockDevice(kFileSize);
  std::string path = BenchPath();
  int fd = ::open(path.c_str(), O_CREAT | O_RDWR, 0600);
  if (fd < 0 || ::ftruncate(fd, kFileSize) != 0) return nullptr;
  ::close(fd);
  FileBlockDeviceOptions o;
  o.engine = backend == kUring ? FileIoEngine::kUring : FileIoEngine::kThreadPool;
  auto r = OpenFileBlockDevice(path, o);
  return r.ok() ? *r : nullptr;
}

// Args: backend, write (0/1), queue depth.
void BM_Random4K(benchmark::State& state) {
  const int backend = static_cast<int>(state.range(0));
  const bool write = state.range(1) != 0;
  const auto qd = static_cast<int>(state.range(2));
  auto dev = OpenBackend(backend);
  if (dev == nullptr) {
    state.SkipWithError("cannot open the device (io_uring unavailable?)");
    return;
  }
  // One buffer per slot; slot i is reused only after its previous I/O completed.
  std::vector<std::vector<std::byte>> bufs(qd, std::vector<std::byte>(kIoSize, std::byte{0x5A}));
  std::counting_semaphore<1024> free_slots(qd);
  std::mt19937_64 rng(42);
  std::atomic<int> errors{0};
  // Round-robin over slots; each slot has its own completion flag so its buffer is not reused
  // while in flight.
  std::vector<std::atomic<bool>> busy(qd);
  for (auto& b : busy) b = false;
  int next = 0;
  for (auto _ : state) {
    for (int i = 0; i < kBatch; ++i) {
      free_slots.acquire();
      while (busy[next].load(std::memory_order_acquire)) next = (next + 1) % qd;
      int slot = next;
      busy[slot].store(true, std::memory_order_relaxed);
      uint64_t off = (rng() % (kFileSize / kIoSize)) * kIoSize;
      auto done = [&, slot](Status st) {
        if (!st.ok()) ++errors;
        busy[slot].store(false, std::memory_order_release);
        free_slots.release();
      };
      if (write) {
        dev->Write(off, bufs[slot], false, done);
      } else {
        dev->Read(off, bufs[slot], done);
      }
    }
    for (int i = 0; i < qd; ++i) free_slots.acquire();  // drain
    for (int i = 0; i < qd; ++i) free_slots.release();
  }
  if (errors.load() != 0) state.SkipWithError("I/O errors");
  state.SetItemsProcessed(state.iterations() * kBatch);
  state.SetBytesProcessed(state.iterations() * kBatch * static_cast<int64_t>(kIoSize));
  dev.reset();
  if (backend != kMemory) ::unlink(BenchPath().c_str());
}

BENCHMARK(BM_Random4K)
    ->ArgNames({"backend", "write", "qd"})
    ->ArgsProduct({{kUring, kThreadPool, kMemory}, {0, 1}, {1, 32}})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace
}  // namespace scoria::volume

BENCHMARK_MAIN();
