#include "volume/drivers/nfs/nfs_block_device.h"

#include <fcntl.h>
#include <nfsc/libnfs.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <future>
#include <mutex>
#include <thread>
#include <unordered_set>
#include <vector>

#include "nfs/client.h"

namespace scoria::volume {
namespace {

using Clock = std::chrono::steady_clock;

// Zeroes for WriteZeroes/Discard: one buffer shared by every device (never written).
constexpr size_t kZeroBytes = 1 << 20;
const std::byte* Zeroes() {
  static const std::vector<std::byte> z(kZeroBytes);
  return z.data();
}

enum class Kind { kRead, kWrite, kFlush, kZeroes, kStat };

// One BlockDevice call, queued for the service thread.
struct Request {
  Kind kind = Kind::kRead;
  uint64_t offset = 0;
  uint64_t length = 0;
  std::byte* rbuf = nullptr;
  const std::byte* wbuf = nullptr;
  bool fua = false;
  IoCallback done;
  // Service-thread state: pieces still in flight, the first failure.
  int pending = 0;
  Status status;
  bool commit_after = false;  // a FUA write: COMMIT once every piece is written
};

// One libnfs RPC of a request (a request larger than rtmax/wtmax has several).
struct Piece {
  Request* req;
  std::byte* rbuf;  // reads: where the bytes go
  uint64_t length;
};

class NfsBlockDevice;
thread_local NfsBlockDevice* tl_device = nullptr;  // the device whose service thread this is

// The device's state and service thread. The thread holds a reference, so the core outlives
// a Handle destroyed from one of its own completions (the target may drop its last reference
// there): then the thread is detached and finishes alone.
class NfsBlockDevice final : public BlockDevice,
                             public std::enable_shared_from_this<NfsBlockDevice> {
 public:
  NfsBlockDevice(nfs::Share share, nfs::MountOptions options, std::string path)
      : share_(std::move(share)), options_(std::move(options)), path_(std::move(path)) {}

  ~NfsBlockDevice() override {
    if (wake_fd_ >= 0) ::close(wake_fd_);
  }

  // Lets requests in flight and queued finish, then ends the service thread: joined, or
  // detached when called on it.
  void Stop() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    Wake();
    if (!thread_.joinable()) return;
    if (thread_.get_id() == std::this_thread::get_id()) {
      thread_.detach();
    } else {
      thread_.join();
    }
  }

  // Connects and opens on the caller's thread (so Open answers NotFound/Unavailable), then
  // hands the context to the service thread.
  Status Start() {
    RETURN_IF_ERROR(Connect());
    wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (wake_fd_ < 0) return Internal(std::string("eventfd: ") + std::strerror(errno));
    thread_ = std::thread([self = shared_from_this()] { self->Run(); });
    return Status::Ok();
  }

  uint64_t Size() const override { return size_.load(std::memory_order_acquire); }

  Status Refresh() override {
    auto promise = std::make_shared<std::promise<Status>>();
    auto future = promise->get_future();
    auto req = std::make_unique<Request>();
    req->kind = Kind::kStat;
    req->done = [promise](Status st) { promise->set_value(std::move(st)); };
    Enqueue(std::move(req));
    return future.get();
  }

  void Read(uint64_t offset, std::span<std::byte> buf, IoCallback done) override {
    auto req = std::make_unique<Request>();
    req->kind = Kind::kRead;
    req->offset = offset;
    req->length = buf.size();
    req->rbuf = buf.data();
    req->done = std::move(done);
    Submit(std::move(req));
  }

  void Write(uint64_t offset, std::span<const std::byte> buf, bool fua, IoCallback done) override {
    auto req = std::make_unique<Request>();
    req->kind = Kind::kWrite;
    req->offset = offset;
    req->length = buf.size();
    req->wbuf = buf.data();
    req->fua = fua;
    req->done = std::move(done);
    Submit(std::move(req));
  }

  void Flush(IoCallback done) override {
    auto req = std::make_unique<Request>();
    req->kind = Kind::kFlush;
    req->done = std::move(done);
    Enqueue(std::move(req));
  }

  void Discard(uint64_t offset, uint64_t length, IoCallback done) override {
    WriteZeroes(offset, length, true, std::move(done));
  }

  void WriteZeroes(uint64_t offset, uint64_t length, bool, IoCallback done) override {
    auto req = std::make_unique<Request>();
    req->kind = Kind::kZeroes;
    req->offset = offset;
    req->length = length;
    req->done = std::move(done);
    Submit(std::move(req));
  }

 private:
  // ---- any thread

  void Submit(std::unique_ptr<Request> req) {
    const uint64_t size = Size();
    if (req->offset % 512 != 0 || req->length % 512 != 0 || req->offset > size ||
        req->length > size - req->offset) {
      req->done(InvalidArgument("nfs volume " + path_ + ": I/O at " + std::to_string(req->offset) +
                                "+" + std::to_string(req->length) + " outside its " +
                                std::to_string(size) + " bytes"));
      return;
    }
    if (req->length == 0) {
      req->done(Status::Ok());
      return;
    }
    Enqueue(std::move(req));
  }

  void Enqueue(std::unique_ptr<Request> req) {
    {
      std::lock_guard lock(mu_);
      queue_.push_back(std::move(req));
    }
    Wake();
  }

  void Wake() {
    if (wake_fd_ < 0) return;
    uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(wake_fd_, &one, sizeof(one));
  }

  // ---- service thread (and Start(), before the thread exists)

  Status Connect() {
    last_attempt_ = Clock::now();
    ASSIGN_OR_RETURN(client_, nfs::Client::Connect(share_, options_));
    auto file = client_->Open(path_, O_RDWR);
    if (!file.ok()) {
      client_.reset();
      return file.status();
    }
    file_ = std::move(*file);
    auto st = file_->Stat();
    if (!st.ok()) {
      file_.reset();
      client_.reset();
      return st.status();
    }
    size_.store(st->size, std::memory_order_release);
    read_max_ = std::max<uint64_t>(client_->read_max(), 4096);
    write_max_ = std::max<uint64_t>(client_->write_max(), 4096);
    return Status::Ok();
  }

  // Drops the connection: everything in flight fails with `why` (Unavailable).
  void Disconnect(const Status& why) {
    if (!client_) return;
    spdlog::warn(
        "nfs device {}:{}: connection lost ({}); {} request(s) in flight fail, the next "
        "I/O reconnects",
        share_.Spec(), path_, why.message(), inflight_.size());
    // Pieces leave the set before the context goes, so callbacks libnfs may run while it tears
    // the context down find nothing and touch nothing.
    std::unordered_set<Piece*> lost;
    lost.swap(inflight_);
    client_->set_broken();  // no CLOSE on a dead connection
    file_.reset();
    client_.reset();
    for (Piece* p : lost) {
      Request* r = p->req;
      delete p;
      PieceDone(r, why);
    }
  }

  void Run() {
    tl_device = this;
    while (true) {
      std::deque<std::unique_ptr<Request>> batch;
      bool stopping;
      {
        std::lock_guard lock(mu_);
        batch.swap(queue_);
        stopping = stopping_;
      }
      for (auto& r : batch) Start(r.release());
      if (stopping && batch.empty() && inflight_.empty()) break;

      pollfd fds[2] = {{wake_fd_, POLLIN, 0}, {-1, 0, 0}};
      nfds_t n = 1;
      if (client_) {
        fds[1].fd = nfs_get_fd(client_->context());
        fds[1].events = static_cast<short>(nfs_which_events(client_->context()));
        n = 2;
      }
      // 100 ms: libnfs checks RPC timeouts only from nfs_service.
      ::poll(fds, n, 100);
      if (fds[0].revents & POLLIN) {
        uint64_t v;
        [[maybe_unused]] ssize_t r = ::read(wake_fd_, &v, sizeof(v));
      }
      if (client_) {
        if (nfs_service(client_->context(), n == 2 ? fds[1].revents : 0) < 0) {
          Disconnect(Unavailable("nfs share " + share_.Spec() + ": " +
                                 nfs::ErrorText(client_->context())));
        } else if (broken_) {
          Disconnect(broken_status_);
        }
        broken_ = false;
      }
    }
    file_.reset();  // nfs_close while the context is still ours
    client_.reset();
    tl_device = nullptr;
  }

  // Issues a request's RPCs (or fails it at once when the server is away).
  void Start(Request* r) {
    if (!client_) {
      // One reconnect attempt a second: while the server stays away, I/O fails fast.
      if (Clock::now() - last_attempt_ < std::chrono::seconds(1)) {
        return Finish(
            r, Unavailable("nfs share " + share_.Spec() + " is unreachable (" + path_ + ")"));
      }
      Status st = Connect();
      if (!st.ok()) {
        if (st.code() != StatusCode::kUnavailable) st = Unavailable(st.message());
        return Finish(r, st);
      }
      spdlog::info("nfs device {}:{}: reconnected", share_.Spec(), path_);
    }
    nfs_context* ctx = client_->context();
    switch (r->kind) {
      case Kind::kStat: {
        r->pending = 1;
        auto* p = new Piece{r, nullptr, 0};
        inflight_.insert(p);
        if (nfs_fstat64_async(ctx, file_->fh(), &OnStat, p) != 0) Refused(p);
        return;
      }
      case Kind::kFlush: {
        r->pending = 1;
        auto* p = new Piece{r, nullptr, 0};
        inflight_.insert(p);
        if (nfs_fsync_async(ctx, file_->fh(), &OnDone, p) != 0) Refused(p);
        return;
      }
      case Kind::kRead:
      case Kind::kWrite:
      case Kind::kZeroes:
        break;
    }
    const uint64_t max = r->kind == Kind::kRead     ? read_max_
                         : r->kind == Kind::kZeroes ? std::min<uint64_t>(write_max_, kZeroBytes)
                                                    : write_max_;
    r->commit_after = r->fua;
    r->pending = static_cast<int>((r->length + max - 1) / max);
    for (uint64_t at = 0; at < r->length; at += max) {
      const uint64_t len = std::min(max, r->length - at);
      auto* p = new Piece{r, r->rbuf ? r->rbuf + at : nullptr, len};
      inflight_.insert(p);
      int rc;
      if (r->kind == Kind::kRead) {
        rc = nfs_pread_async(ctx, file_->fh(), r->offset + at, len, &OnRead, p);
      } else {
        const void* src = r->kind == Kind::kZeroes ? static_cast<const void*>(Zeroes())
                                                   : static_cast<const void*>(r->wbuf + at);
        rc = nfs_pwrite_async(ctx, file_->fh(), r->offset + at, len, src, &OnWritten, p);
      }
      if (rc != 0) Refused(p);
    }
  }

  // libnfs would not queue the RPC (out of memory, or the context is unusable).
  void Refused(Piece* p) {
    inflight_.erase(p);
    Request* r = p->req;
    delete p;
    MarkBroken(
        Unavailable("nfs share " + share_.Spec() + ": " + nfs::ErrorText(client_->context())));
    PieceDone(r, broken_status_);
  }

  void MarkBroken(Status why) {
    broken_ = true;
    broken_status_ = std::move(why);
  }

  // Takes a piece back from libnfs; null when the connection was dropped meanwhile.
  static Piece* Claim(void* data) {
    NfsBlockDevice* d = tl_device;
    auto* p = static_cast<Piece*>(data);
    if (d == nullptr || d->inflight_.erase(p) == 0) return nullptr;
    return p;
  }

  Status StatusOf(int err, const char* what, nfs_context* ctx) {
    Status st = nfs::ToStatus(err, "nfs volume " + share_.Spec() + ":" + path_ + ": " + what, ctx);
    if (st.code() == StatusCode::kUnavailable) MarkBroken(st);
    return st;
  }

  static void OnRead(int err, nfs_context* ctx, void* data, void* priv) {
    Piece* p = Claim(priv);
    if (p == nullptr) return;
    NfsBlockDevice* d = tl_device;
    Status st;
    if (err < 0) {
      st = d->StatusOf(err, "read", ctx);
    } else {
      const auto got = std::min<uint64_t>(static_cast<uint64_t>(err), p->length);
      std::memcpy(p->rbuf, data, got);
      // Past the end of the file (shrunk behind our back): zeroes, as a sparse tail reads.
      if (got < p->length) std::memset(p->rbuf + got, 0, p->length - got);
    }
    Request* r = p->req;
    delete p;
    d->PieceDone(r, st);
  }

  static void OnWritten(int err, nfs_context* ctx, void*, void* priv) {
    Piece* p = Claim(priv);
    if (p == nullptr) return;
    NfsBlockDevice* d = tl_device;
    Status st;
    if (err < 0) {
      st = d->StatusOf(err, "write", ctx);
    } else if (static_cast<uint64_t>(err) != p->length) {
      st = Internal("nfs volume " + d->path_ + ": short write (" + std::to_string(err) + " of " +
                    std::to_string(p->length) + " bytes)");
    }
    Request* r = p->req;
    delete p;
    d->PieceDone(r, st);
  }

  static void OnDone(int err, nfs_context* ctx, void*, void* priv) {
    Piece* p = Claim(priv);
    if (p == nullptr) return;
    NfsBlockDevice* d = tl_device;
    Status st = err < 0 ? d->StatusOf(err, "commit", ctx) : Status::Ok();
    Request* r = p->req;
    delete p;
    d->PieceDone(r, st);
  }

  static void OnStat(int err, nfs_context* ctx, void* data, void* priv) {
    Piece* p = Claim(priv);
    if (p == nullptr) return;
    NfsBlockDevice* d = tl_device;
    Status st;
    if (err < 0) {
      st = d->StatusOf(err, "stat", ctx);
    } else {
      d->size_.store(static_cast<const nfs_stat_64*>(data)->nfs_size, std::memory_order_release);
    }
    Request* r = p->req;
    delete p;
    d->PieceDone(r, st);
  }

  void PieceDone(Request* r, const Status& st) {
    if (!st.ok() && r->status.ok()) r->status = st;
    if (--r->pending > 0) return;
    if (r->status.ok() && r->commit_after && client_) {
      r->commit_after = false;
      r->pending = 1;
      auto* p = new Piece{r, nullptr, 0};
      inflight_.insert(p);
      if (nfs_fsync_async(client_->context(), file_->fh(), &OnDone, p) != 0) Refused(p);
      return;
    }
    if (r->status.ok() && r->commit_after) r->status = Unavailable("nfs share unreachable");
    Finish(r, r->status);
  }

  void Finish(Request* r, const Status& st) {
    std::unique_ptr<Request> owned(r);
    owned->done(st);
  }

  const nfs::Share share_;
  const nfs::MountOptions options_;
  const std::string path_;
  std::atomic<uint64_t> size_{0};

  std::mutex mu_;
  std::deque<std::unique_ptr<Request>> queue_;  // guarded by mu_
  bool stopping_ = false;                       // guarded by mu_
  int wake_fd_ = -1;
  std::thread thread_;

  // Service thread only.
  std::unique_ptr<nfs::Client> client_;
  std::unique_ptr<nfs::File> file_;
  std::unordered_set<Piece*> inflight_;
  uint64_t read_max_ = 4096;
  uint64_t write_max_ = 4096;
  Clock::time_point last_attempt_{};
  bool broken_ = false;
  Status broken_status_;
};

// What OpenNfsBlockDevice hands out: its destruction stops the core's thread.
class Handle final : public BlockDevice {
 public:
  explicit Handle(std::shared_ptr<NfsBlockDevice> core) : core_(std::move(core)) {}
  ~Handle() override { core_->Stop(); }
  uint64_t Size() const override { return core_->Size(); }
  Status Refresh() override { return core_->Refresh(); }
  void Read(uint64_t offset, std::span<std::byte> buf, IoCallback done) override {
    core_->Read(offset, buf, std::move(done));
  }
  void Write(uint64_t offset, std::span<const std::byte> buf, bool fua, IoCallback done) override {
    core_->Write(offset, buf, fua, std::move(done));
  }
  void Flush(IoCallback done) override { core_->Flush(std::move(done)); }
  void Discard(uint64_t offset, uint64_t length, IoCallback done) override {
    core_->Discard(offset, length, std::move(done));
  }
  void WriteZeroes(uint64_t offset, uint64_t length, bool unmap, IoCallback done) override {
    core_->WriteZeroes(offset, length, unmap, std::move(done));
  }

 private:
  const std::shared_ptr<NfsBlockDevice> core_;
};

}  // namespace

Result<std::shared_ptr<BlockDevice>> OpenNfsBlockDevice(const nfs::Share& share,
                                                        const nfs::MountOptions& options,
                                                        const std::string& path) {
  auto core = std::make_shared<NfsBlockDevice>(share, options, path);
  RETURN_IF_ERROR(core->Start());
  return std::shared_ptr<BlockDevice>(std::make_shared<Handle>(std::move(core)));
}

}  // namespace scoria::volume
