// RestoreJob (restore_job.h): one handler per state; the write stage is a bounded pipeline
// worker (fetch, verify, decompress) -> device write (async) -> slot released on completion.
#include "backup/restore_job.h"

#include <atomic>
#include <condition_variable>
#include <mutex>

#include "backup/pipeline.h"

namespace scoria::backup {

const char* RestoreJobStateName(RestoreJob::State s) {
  switch (s) {
    case RestoreJob::State::kCreated:
      return "created";
    case RestoreJob::State::kLocking:
      return "locking";
    case RestoreJob::State::kLoading:
      return "loading";
    case RestoreJob::State::kWriting:
      return "writing";
    case RestoreJob::State::kZeroingTail:
      return "zeroing-tail";
    case RestoreJob::State::kFlushing:
      return "flushing";
    case RestoreJob::State::kDone:
      return "done";
    case RestoreJob::State::kFailed:
      return "failed";
    case RestoreJob::State::kCancelled:
      return "cancelled";
  }
  return "?";
}

namespace {
// Zeroing requests are split so progress moves and no single request is huge.
constexpr uint64_t kMaxZeroRequest = 1ull << 30;
}  // namespace

class RestoreJob::Impl final : public internal::JobRunner<State, RestoreStats, RestoreJobOptions> {
 public:
  Impl(std::shared_ptr<Repository> repo, std::shared_ptr<volume::BlockDevice> device,
       RestoreJobOptions options)
      : JobRunner(std::move(repo), std::move(device), std::move(options), "restore",
                  "restore of backup ") {}

 private:
  Status RunStates() override {
    RETURN_IF_ERROR(ctl_.Enter(State::kLoading));
    RETURN_IF_ERROR(HandleLoading());
    RETURN_IF_ERROR(ctl_.Enter(State::kWriting));
    RETURN_IF_ERROR(HandleWriting());
    RETURN_IF_ERROR(ctl_.Enter(State::kZeroingTail));
    RETURN_IF_ERROR(HandleZeroingTail());
    RETURN_IF_ERROR(ctl_.Enter(State::kFlushing));
    return internal::Await([this](volume::IoCallback done) { device_->Flush(std::move(done)); });
  }

  Status HandleLoading() {
    ASSIGN_OR_RETURN(manifest_, repo_->LoadManifest(opts_.backup_id));
    const uint64_t size = device_->Size();
    if (size < manifest_.volume_size) {
      return InvalidArgument("cannot restore backup " + opts_.backup_id + " of " +
                             std::to_string(manifest_.volume_size) + " bytes into a device of " +
                             std::to_string(size) + " bytes");
    }
    const uint32_t bs = device_->BlockSize();
    if (bs == 0 || manifest_.volume_size % bs != 0 || manifest_.chunk_size % bs != 0) {
      return InvalidArgument("backup " + opts_.backup_id + " is not aligned to the device's " +
                             std::to_string(bs) + "-byte blocks");
    }
    tail_ = opts_.zero_beyond_backup ? size - manifest_.volume_size : 0;
    ctl_.Update(nullptr, [&](Progress& p, RestoreStats&) {
      p = {0, manifest_.volume_size + tail_};
    });
    return Status::Ok();
  }

  void Done(uint64_t bytes, bool hole, uint64_t fetched) {
    ctl_.Update(opts_.progress, [&](Progress& p, RestoreStats& s) {
      p.bytes_done += bytes;
      if (hole) {
        s.hole_bytes += bytes;
      } else {
        ++s.chunks_written;
        s.bytes_written += bytes;
        s.bytes_fetched += fetched;
      }
    });
  }

  // Issues WriteZeroes(unmap) for [offset, offset + length), in pieces, within the limiter.
  bool ZeroRange(uint64_t offset, uint64_t length, const std::string& what) {
    while (length > 0) {
      uint64_t n = std::min(length, kMaxZeroRequest);
      if (!ctl_.limiter.Acquire([this] { return ctl_.Stop(); })) return false;
      device_->WriteZeroes(offset, n, /*unmap=*/true, [this, offset, n, what](Status s) {
        if (!s.ok()) {
          ctl_.failure.Set(Status(s.code(), "zeroing " + what + " at volume offset " +
                                                std::to_string(offset) + ": " + s.message()));
        } else {
          Done(n, true, 0);
        }
        ctl_.limiter.Release();
      });
      offset += n;
      length -= n;
    }
    return true;
  }

  Status HandleWriting() {
    const std::vector<std::unique_ptr<ChunkCodec>> codecs = NewCodecs();
    {
      internal::WorkerPool pool(workers_);
      const uint64_t n = manifest_.chunks.size();
      for (uint64_t i = 0; i < n && !ctl_.Stop();) {
        if (manifest_.chunks[i].hole) {
          // A run of holes: one zeroing request, so old data of the device does not survive.
          uint64_t j = i;
          while (j < n && manifest_.chunks[j].hole) ++j;
          uint64_t off = manifest_.ChunkOffset(i);
          uint64_t end = manifest_.ChunkOffset(j - 1) + manifest_.ChunkLength(j - 1);
          if (!ZeroRange(off, end - off, "holes")) break;
          i = j;
          continue;
        }
        if (!ctl_.limiter.Acquire([this] { return ctl_.Stop(); })) break;
        pool.Post([this, i, &codecs](int worker) { RestoreChunk(i, *codecs[worker]); });
        ++i;
      }
      ctl_.limiter.WaitIdle();
    }
    WaitForFlush();
    return ctl_.Drained("restore");
  }

  // On a worker: fetch + verify + decompress chunk i, then write it (the slot is released
  // when the write completes).
  void RestoreChunk(uint64_t i, ChunkCodec& codec) {
    if (ctl_.Stop()) {
      ctl_.limiter.Release();
      return;
    }
    const ChunkRef& ref = manifest_.chunks[i];
    const uint64_t offset = manifest_.ChunkOffset(i);
    auto buf = std::make_shared<std::vector<std::byte>>();
    Status st = repo_->ReadChunk(ref, manifest_.ChunkLength(i), codec, *buf);
    if (!st.ok()) {
      ctl_.failure.Set(Status(st.code(), "backup " + opts_.backup_id + ": chunk " +
                                             std::to_string(i) + " (volume offset " +
                                             std::to_string(offset) + "): " + st.message()));
      ctl_.limiter.Release();
      return;
    }
    st = lock_->RefreshIfDue();
    if (!st.ok()) {
      ctl_.failure.Set(std::move(st));
      ctl_.limiter.Release();
      return;
    }
    const uint32_t fetched = ref.stored_length;
    MaybeStartFlush(buf->size());
    device_->Write(offset, *buf, /*fua=*/false, [this, buf, i, offset, fetched](Status s) {
      if (!s.ok()) {
        ctl_.failure.Set(Status(s.code(), "writing chunk " + std::to_string(i) +
                                              " at volume offset " + std::to_string(offset) + ": " +
                                              s.message()));
      } else {
        Done(buf->size(), false, fetched);
      }
      ctl_.limiter.Release();
    });
  }

  // Starts a background Flush once flush_every_bytes more were issued, one at a time. It
  // covers the writes completed before it; the final Flush covers the rest.
  void MaybeStartFlush(uint64_t bytes) {
    if (opts_.flush_every_bytes == 0) return;
    {
      std::lock_guard lock(flush_mu_);
      unflushed_ += bytes;
      if (unflushed_ < opts_.flush_every_bytes || flush_inflight_) return;
      unflushed_ = 0;
      flush_inflight_ = true;
    }
    device_->Flush([this](Status s) {
      if (!s.ok()) ctl_.failure.Set(Status(s.code(), "flushing the device: " + s.message()));
      std::lock_guard lock(flush_mu_);
      flush_inflight_ = false;
      flush_cv_.notify_all();
    });
  }

  void WaitForFlush() {
    std::unique_lock lock(flush_mu_);
    flush_cv_.wait(lock, [this] { return !flush_inflight_; });
  }

  Status HandleZeroingTail() {
    if (tail_ == 0) return Status::Ok();
    ZeroRange(manifest_.volume_size, tail_, "the space beyond the backup");
    ctl_.limiter.WaitIdle();
    return ctl_.failure.Get();
  }

  // manifest_ (the base's) is set in kLoading, read-only afterwards.
  uint64_t tail_ = 0;
  std::mutex flush_mu_;
  std::condition_variable flush_cv_;
  uint64_t unflushed_ = 0;       // guarded by flush_mu_: bytes issued since the last flush
  bool flush_inflight_ = false;  // guarded by flush_mu_
};

RestoreJob::RestoreJob(std::shared_ptr<Repository> repo,
                       std::shared_ptr<volume::BlockDevice> device, RestoreJobOptions options)
    : impl_(std::make_unique<Impl>(std::move(repo), std::move(device), std::move(options))) {}
RestoreJob::~RestoreJob() = default;
Result<Manifest> RestoreJob::Run() { return impl_->Run(); }
void RestoreJob::Cancel() { impl_->Cancel(); }
RestoreJob::State RestoreJob::state() const { return impl_->state(); }
Progress RestoreJob::progress() const { return impl_->progress(); }
RestoreStats RestoreJob::stats() const { return impl_->stats(); }

}  // namespace scoria::backup
