// Backup repository benchmark driver: one Scoria backup or restore of a raw image file, timed,
// through the real file BlockDevice (io_uring) and a PosixStore repository. bench/
// backup_bench.sh runs it next to restic and `zstd -1 | sha256sum` on the same image.
//
//   backup_bench full    IMAGE REPO ID                      allocated ranges from SEEK_DATA
//   backup_bench incr    IMAGE REPO ID PARENT               same ranges, compared by hash
//   backup_bench changed IMAGE REPO ID PARENT RANGES_FILE   only "offset length" lines read
//   backup_bench restore IMAGE REPO ID                      into IMAGE (created sparse)
//   backup_bench track   DIR/volume-ID RANGES_OUT N BYTES   N writes of BYTES at random
//       4 KiB-aligned offsets through the file driver's tracked device, between two change
//       boundaries; writes the driver's changed ranges (what ChangedRanges answers) to
//       RANGES_OUT as "offset length" lines, for `changed`
// Options (after the arguments): --workers N (2), --deferred-sync (PosixStore fsync once per
// backup instead of per chunk). Prints one line of JSON with the figures.
#include <fcntl.h>
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

#include "backup/backup_job.h"
#include "backup/repository.h"
#include "backup/restore_job.h"
#include "volume/block_device.h"
#include "volume/drivers/file/change_tracker.h"
#include "volume/drivers/file/file_driver.h"

using namespace scoria;          // NOLINT
using namespace scoria::backup;  // NOLINT

namespace {

std::vector<ByteRange> DataRanges(const std::string& path) {
  std::vector<ByteRange> out;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return out;
  off_t end = ::lseek(fd, 0, SEEK_END);
  for (off_t pos = 0; pos < end;) {
    off_t data = ::lseek(fd, pos, SEEK_DATA);
    if (data < 0) break;
    off_t hole = ::lseek(fd, data, SEEK_HOLE);
    // The file driver would report 512-aligned ranges; round outwards.
    uint64_t b = static_cast<uint64_t>(data) & ~511ull;
    uint64_t e = (static_cast<uint64_t>(hole) + 511) & ~511ull;
    out.push_back({b, e - b});
    pos = hole;
  }
  ::close(fd);
  return out;
}

int Fail(const Status& s) {
  std::fprintf(stderr, "backup_bench: %s\n", s.ToString().c_str());
  return 1;
}

// `track`: the 1% change of the benchmark, made through the file driver so that the ranges
// the incremental reads are the ones its change map records (granules, not exact writes).
int Track(const std::string& image, const std::string& out_path, int count, uint64_t bytes) {
  const std::filesystem::path p(image);
  const std::string dir = p.parent_path().string(), name = p.filename().string();
  if (name.rfind("volume-", 0) != 0) return Fail(InvalidArgument(image + " is not DIR/volume-ID"));
  const std::string id = name.substr(7);
  volume::FileDriver driver(dir);
  auto tracker = volume::ChangeTracker::Acquire(dir, id);
  if (!tracker.ok()) return Fail(tracker.status());
  if (Status st = (*tracker)->Checkpoint("bench-before"); !st.ok()) return Fail(st);
  auto dev = driver.Open(id);
  if (!dev.ok()) return Fail(dev.status());
  const uint64_t size = (*dev)->Size();
  std::mt19937_64 rng(42);
  std::vector<std::byte> buf(bytes);
  for (int i = 0; i < count; ++i) {
    for (auto& b : buf) b = static_cast<std::byte>(rng());
    const uint64_t off = rng() % (size - bytes) / 4096 * 4096;
    std::promise<Status> done;
    (*dev)->Write(off, buf, false, [&](Status st) { done.set_value(std::move(st)); });
    if (Status st = done.get_future().get(); !st.ok()) return Fail(st);
  }
  std::promise<Status> flushed;
  (*dev)->Flush([&](Status st) { flushed.set_value(std::move(st)); });
  if (Status st = flushed.get_future().get(); !st.ok()) return Fail(st);
  if (Status st = (*tracker)->Checkpoint("bench-after"); !st.ok()) return Fail(st);
  dev->reset();
  tracker->reset();
  auto map = volume::LoadChangeMap(dir, id);
  if (!map.ok()) return Fail(map.status());
  auto ranges = map->map.Changed("bench-before", "bench-after", size);
  if (!ranges.ok()) return Fail(ranges.status());
  std::ofstream out(out_path);
  uint64_t total = 0;
  for (const auto& r : *ranges) {
    out << r.offset << " " << r.length << "\n";
    total += r.length;
  }
  std::printf(
      "{\"mode\":\"track\",\"writes\":%d,\"bytes_written\":%llu,\"ranges\":%zu,"
      "\"changed_bytes\":%llu}\n",
      count, static_cast<unsigned long long>(count * bytes), ranges->size(),
      static_cast<unsigned long long>(total));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args;
  int workers = 2;
  bool deferred = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--workers" && i + 1 < argc) {
      workers = std::stoi(argv[++i]);
    } else if (a == "--deferred-sync") {
      deferred = true;
    } else {
      args.push_back(a);
    }
  }
  if (args.size() < 4) {
    std::fprintf(stderr, "usage: backup_bench full|incr|changed|restore IMAGE REPO ID ...\n");
    return 2;
  }
  const std::string& mode = args[0];
  const std::string& image = args[1];
  if (mode == "track") {
    if (args.size() < 5) return Fail(InvalidArgument("track IMAGE RANGES_OUT COUNT BYTES"));
    return Track(image, args[2], std::stoi(args[3]), std::stoull(args[4]));
  }
  PosixStoreOptions so;
  so.sync_each_put = !deferred;
  auto store = OpenPosixStore(args[2], so);
  if (!store.ok()) return Fail(store.status());
  auto repo = Repository::Open(*store);
  if (!repo.ok()) return Fail(repo.status());

  const auto t0 = std::chrono::steady_clock::now();
  std::string extra;
  uint64_t volume_size = 0;
  if (mode == "restore") {
    auto m = (*repo)->LoadManifest(args[3]);
    if (!m.ok()) return Fail(m.status());
    volume_size = m->volume_size;
    int fd = ::open(image.c_str(), O_CREAT | O_RDWR | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || ::ftruncate(fd, static_cast<off_t>(volume_size)) != 0) {
      return Fail(Internal("cannot create " + image));
    }
    ::close(fd);
    auto dev = volume::OpenFileBlockDevice(image);
    if (!dev.ok()) return Fail(dev.status());
    RestoreJobOptions o;
    o.backup_id = args[3];
    o.workers = workers;
    RestoreJob job(*repo, *dev, o);
    auto r = job.Run();
    if (!r.ok()) return Fail(r.status());
    RestoreStats st = job.stats();
    extra = ",\"bytes_written\":" + std::to_string(st.bytes_written) +
            ",\"bytes_fetched\":" + std::to_string(st.bytes_fetched);
  } else {
    auto dev = volume::OpenFileBlockDevice(image);
    if (!dev.ok()) return Fail(dev.status());
    volume_size = (*dev)->Size();
    BackupJobOptions o;
    o.backup_id = args[3];
    o.volume_id = "bench-volume";
    o.workers = workers;
    o.ranges = DataRanges(image);
    if (mode == "incr" || mode == "changed") {
      if (args.size() < 5) return Fail(InvalidArgument("missing PARENT"));
      auto parent = (*repo)->LoadManifest(args[4]);
      if (!parent.ok()) return Fail(parent.status());
      o.parent = std::make_shared<Manifest>(std::move(*parent));
    }
    if (mode == "changed") {
      if (args.size() < 6) return Fail(InvalidArgument("missing RANGES_FILE"));
      std::ifstream in(args[5]);
      o.ranges.clear();
      uint64_t off, len;
      while (in >> off >> len) o.ranges.push_back({off, len});
      o.range_mode = RangeMode::kChanged;
    } else if (mode != "full" && mode != "incr") {
      return Fail(InvalidArgument("unknown mode " + mode));
    }
    BackupJob job(*repo, *dev, o);
    auto r = job.Run();
    if (!r.ok()) return Fail(r.status());
    BackupStats st = job.stats();
    extra = ",\"bytes_read\":" + std::to_string(st.bytes_read) +
            ",\"chunks_stored\":" + std::to_string(st.chunks_stored) +
            ",\"bytes_stored\":" + std::to_string(st.bytes_stored) +
            ",\"chunks_deduplicated\":" + std::to_string(st.chunks_deduplicated) +
            ",\"chunks_unchanged\":" + std::to_string(st.chunks_unchanged) +
            ",\"holes\":" + std::to_string(st.holes);
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  auto stats = (*repo)->Stats();
  if (!stats.ok()) return Fail(stats.status());
  std::printf(
      "{\"mode\":\"%s\",\"seconds\":%.3f,\"volume_bytes\":%llu,\"volume_mb_s\":%.1f,"
      "\"repo_bytes\":%llu%s}\n",
      mode.c_str(), secs, static_cast<unsigned long long>(volume_size),
      static_cast<double>(volume_size) / 1e6 / secs,
      static_cast<unsigned long long>(stats->chunk_bytes + stats->manifest_bytes), extra.c_str());
  return 0;
}
