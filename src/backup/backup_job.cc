// BackupJob (backup_job.h): one handler per state; the transfer stage is a bounded pipeline
// device read (async) -> worker (zero check, SHA-256, parent compare, dedup check, zstd, Put).
#include "backup/backup_job.h"

#include <cstring>

#include "backup/pipeline.h"

namespace scoria::backup {

const char* BackupJobStateName(BackupJob::State s) {
  switch (s) {
    case BackupJob::State::kCreated:
      return "created";
    case BackupJob::State::kLocking:
      return "locking";
    case BackupJob::State::kPlanning:
      return "planning";
    case BackupJob::State::kTransferring:
      return "transferring";
    case BackupJob::State::kCommitting:
      return "committing";
    case BackupJob::State::kDone:
      return "done";
    case BackupJob::State::kFailed:
      return "failed";
    case BackupJob::State::kCancelled:
      return "cancelled";
  }
  return "?";
}

class BackupJob::Impl final : public internal::JobRunner<State, BackupStats, BackupJobOptions> {
 public:
  Impl(std::shared_ptr<Repository> repo, std::shared_ptr<volume::BlockDevice> device,
       BackupJobOptions options)
      : JobRunner(std::move(repo), std::move(device), std::move(options), "backup", "backup ") {}

 private:
  // One chunk to read: where its bytes are and which sub-ranges the device must read.
  struct ReadItem {
    uint64_t index = 0;
    uint64_t offset = 0;
    uint32_t length = 0;
    std::vector<ByteRange> reads;  // absolute, inside [offset, offset + length)
  };

  Status RunStates() override {
    RETURN_IF_ERROR(ctl_.Enter(State::kPlanning));
    RETURN_IF_ERROR(HandlePlanning());
    RETURN_IF_ERROR(ctl_.Enter(State::kTransferring));
    RETURN_IF_ERROR(HandleTransferring());
    RETURN_IF_ERROR(ctl_.Enter(State::kCommitting));
    return HandleCommitting();
  }

  Status HandlePlanning() {
    manifest_.backup_id = opts_.backup_id;
    manifest_.volume_id = opts_.volume_id;
    manifest_.parent_id = opts_.parent ? opts_.parent->backup_id : "";
    manifest_.chunk_size = repo_->chunk_size();
    manifest_.volume_size = device_->Size();
    manifest_.created_micros = repo_->Now();
    const uint32_t bs = device_->BlockSize();
    if (manifest_.volume_size % 512 != 0 || bs == 0 || manifest_.chunk_size % bs != 0) {
      return InvalidArgument("volume size " + std::to_string(manifest_.volume_size) +
                             " or block size " + std::to_string(bs) +
                             " does not fit the repository's chunk size");
    }
    for (const ByteRange& r : opts_.ranges) {
      if (r.offset % 512 != 0 || r.length % 512 != 0) {
        return InvalidArgument("range " + std::to_string(r.offset) + "+" +
                               std::to_string(r.length) + " is not aligned to 512 bytes");
      }
    }
    const Manifest* parent = opts_.parent.get();
    if (parent) {
      if (parent->chunk_size != manifest_.chunk_size) {
        return InvalidArgument("parent backup " + parent->backup_id + " uses chunk size " +
                               std::to_string(parent->chunk_size) + ", the repository " +
                               std::to_string(manifest_.chunk_size) + ": do a full backup");
      }
      // Under our lock no GC runs, so if the parent's manifest is still there, every chunk it
      // references is too, and "unchanged" entries may point at them without a check.
      ASSIGN_OR_RETURN(bool exists,
                       repo_->store().Exists(std::string(kManifestPrefix) + parent->backup_id));
      if (!exists) {
        return FailedPrecondition("parent backup " + parent->backup_id +
                                  " is no longer in the repository: do a full backup");
      }
    }
    // Fill the manifest with what needs no reading; list what does.
    RETURN_IF_ERROR(ValidateIds());
    const uint64_t n = manifest_.ChunkCount();
    manifest_.chunks.assign(n, ChunkRef{});
    std::vector<ByteRange> ranges = NormalizeRanges(opts_.ranges, manifest_.volume_size);
    size_t ri = 0;
    uint64_t total = 0;
    BackupStats st;
    for (uint64_t i = 0; i < n; ++i) {
      ReadItem item{i, manifest_.ChunkOffset(i), manifest_.ChunkLength(i), {}};
      const uint64_t end = item.offset + item.length;
      while (ri < ranges.size() && ranges[ri].offset + ranges[ri].length <= item.offset) ++ri;
      for (size_t k = ri; k < ranges.size() && ranges[k].offset < end; ++k) {
        uint64_t b = std::max(ranges[k].offset, item.offset);
        uint64_t e = std::min(ranges[k].offset + ranges[k].length, end);
        item.reads.push_back({b, e - b});
      }
      const bool in_parent =
          parent && i < parent->chunks.size() && parent->ChunkLength(i) == item.length;
      if (opts_.range_mode == RangeMode::kChanged) {
        if (item.reads.empty() && in_parent) {
          manifest_.chunks[i] = parent->chunks[i];
          ++st.chunks_unchanged;
          continue;
        }
        if (item.reads.empty() && parent && i < parent->chunks.size()) {
          // The parent's last chunk was shorter (the volume grew): its bytes must be re-read.
          item.reads.push_back({item.offset, item.length});
        } else if (!item.reads.empty()) {
          item.reads.assign(1, {item.offset, item.length});  // changed: read the whole chunk
        }
      }
      if (item.reads.empty()) {
        ++st.holes;  // unallocated: never read, never stored
        continue;
      }
      total += item.length;
      plan_.push_back(std::move(item));
    }
    ctl_.Update(nullptr, [&](Progress& p, BackupStats& s) {
      s = st;
      p = {0, total};
    });
    return Status::Ok();
  }

  Status ValidateIds() {
    Manifest probe;
    probe.backup_id = manifest_.backup_id;
    probe.volume_id = manifest_.volume_id;
    probe.parent_id = manifest_.parent_id;
    probe.volume_size = 0;
    probe.chunk_size = manifest_.chunk_size;
    return ValidateManifest(probe);
  }

  Status HandleTransferring() {
    codecs_ = NewCodecs();
    enc_buffers_.resize(workers_);
    {
      internal::WorkerPool pool(workers_);
      for (ReadItem& item : plan_) {
        if (!ctl_.limiter.Acquire([this] { return ctl_.Stop(); })) break;
        IssueRead(item, pool);
      }
      ctl_.limiter.WaitIdle();
    }  // joins the workers
    return ctl_.Drained("backup");
  }

  std::vector<std::byte> TakeBuffer(uint32_t size) {
    std::vector<std::byte> b;
    {
      std::lock_guard lock(buf_mu_);
      if (!free_buffers_.empty()) {
        b = std::move(free_buffers_.back());
        free_buffers_.pop_back();
      }
    }
    b.resize(size);
    return b;
  }

  void ReturnBuffer(std::vector<std::byte> b) {
    std::lock_guard lock(buf_mu_);
    free_buffers_.push_back(std::move(b));
  }

  struct Inflight {
    ReadItem* item;
    std::vector<std::byte> buf;
    std::atomic<int> pending{0};
    internal::FirstError error;
  };

  void IssueRead(ReadItem& item, internal::WorkerPool& pool) {
    auto fl = std::make_shared<Inflight>();
    fl->item = &item;
    fl->buf = TakeBuffer(item.length);
    uint64_t covered = 0;
    for (const ByteRange& r : item.reads) covered += r.length;
    if (covered != item.length) std::memset(fl->buf.data(), 0, fl->buf.size());  // unread = 0
    fl->pending.store(static_cast<int>(item.reads.size()));
    for (const ByteRange& r : item.reads) {
      std::span<std::byte> dst(fl->buf.data() + (r.offset - item.offset), r.length);
      device_->Read(r.offset, dst, [this, fl, &pool](Status s) {
        fl->error.Set(std::move(s));
        if (fl->pending.fetch_sub(1) != 1) return;
        // Last read of the chunk: hand it to a worker (never work on the device's thread).
        pool.Post([this, fl](int worker) { Process(*fl, worker); });
      });
    }
  }

  void Process(Inflight& fl, int worker) {
    const ReadItem& item = *fl.item;
    Status st = fl.error.Get();
    if (!st.ok()) {
      ctl_.failure.Set(Status(st.code(), "reading chunk " + std::to_string(item.index) +
                                             " (volume offset " + std::to_string(item.offset) +
                                             "): " + st.message()));
    } else if (!ctl_.Stop()) {
      st = StoreChunk(item, fl.buf, worker);
      if (st.ok()) st = lock_->RefreshIfDue();
      if (!st.ok()) {
        ctl_.failure.Set(Status(st.code(), "chunk " + std::to_string(item.index) +
                                               " (volume offset " + std::to_string(item.offset) +
                                               "): " + st.message()));
      }
    }
    ReturnBuffer(std::move(fl.buf));
    ctl_.limiter.Release();
  }

  Status StoreChunk(const ReadItem& item, std::span<const std::byte> data, int worker) {
    enum { kHole, kUnchanged, kDedup, kStored } outcome;
    ChunkRef ref;
    uint64_t stored = 0;
    if (IsAllZero(data)) {
      outcome = kHole;
    } else {
      ref.hole = false;
      ref.id = Sha256(data);
      const Manifest* parent = opts_.parent.get();
      if (parent && item.index < parent->chunks.size() && !parent->chunks[item.index].hole &&
          parent->chunks[item.index].id == ref.id) {
        ref = parent->chunks[item.index];  // unchanged since the parent: nothing to store
        outcome = kUnchanged;
      } else {
        ASSIGN_OR_RETURN(uint64_t have, repo_->ChunkStoredLength(ref.id));
        if (have > 0) {
          ref.stored_length = static_cast<uint32_t>(have);
          outcome = kDedup;
        } else {
          std::vector<std::byte>& out = enc_buffers_[worker];
          RETURN_IF_ERROR(codecs_[worker]->Encode(data, out));
          ASSIGN_OR_RETURN(ref.stored_length, repo_->PutChunkObject(ref.id, out));
          stored = ref.stored_length;
          outcome = kStored;
        }
      }
    }
    manifest_.chunks[item.index] = ref;  // each index has one worker: no race on the entry
    ctl_.Update(opts_.progress, [&](Progress& p, BackupStats& s) {
      ++s.chunks_read;
      for (const ByteRange& r : item.reads) s.bytes_read += r.length;
      if (outcome == kHole) ++s.holes;
      if (outcome == kUnchanged) ++s.chunks_unchanged;
      if (outcome == kDedup) ++s.chunks_deduplicated;
      if (outcome == kStored) {
        ++s.chunks_stored;
        s.bytes_stored += stored;
      }
      p.bytes_done += item.length;
    });
    return Status::Ok();
  }

  Status HandleCommitting() { return repo_->WriteManifest(manifest_); }

  std::vector<ReadItem> plan_;
  std::vector<std::unique_ptr<ChunkCodec>> codecs_;  // one per worker index
  std::vector<std::vector<std::byte>> enc_buffers_;  // one per worker index
  std::mutex buf_mu_;
  std::vector<std::vector<std::byte>> free_buffers_;  // guarded by buf_mu_
  // manifest_ (the base's) is filled in kPlanning; during kTransferring workers write
  // distinct chunks[i] entries.
};

BackupJob::BackupJob(std::shared_ptr<Repository> repo, std::shared_ptr<volume::BlockDevice> device,
                     BackupJobOptions options)
    : impl_(std::make_unique<Impl>(std::move(repo), std::move(device), std::move(options))) {}
BackupJob::~BackupJob() = default;
Result<Manifest> BackupJob::Run() { return impl_->Run(); }
void BackupJob::Cancel() { impl_->Cancel(); }
BackupJob::State BackupJob::state() const { return impl_->state(); }
Progress BackupJob::progress() const { return impl_->progress(); }
BackupStats BackupJob::stats() const { return impl_->stats(); }

}  // namespace scoria::backup
