#include "nfs/client.h"

#include <fcntl.h>
#include <nfsc/libnfs-raw-nfs.h>
#include <nfsc/libnfs.h>
#include <poll.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace scoria::nfs {
namespace {

int64_t Micros(uint64_t sec, uint64_t nsec) {
  return static_cast<int64_t>(sec) * 1000000 + static_cast<int64_t>(nsec / 1000);
}

// One asynchronous call driven to its end on this thread. libnfs's own blocking wrappers
// replace a failed WRITE's error text (which names NFS3ERR_NOSPC) by an empty one, so READ and
// WRITE go through here to keep it.
struct Waiter {
  bool done = false;
  int err = 0;
  std::string error;  // nfs_get_error at completion, when err < 0
  // Reads: where the bytes go. libnfs's buffer lives only during the callback.
  std::byte* read_to = nullptr;
  size_t read_max = 0;
  static void Cb(int err, nfs_context* ctx, void* data, void* priv) {
    auto* w = static_cast<Waiter*>(priv);
    w->done = true;
    w->err = err;
    if (err > 0 && w->read_to != nullptr) {
      w->err = static_cast<int>(std::min<size_t>(static_cast<size_t>(err), w->read_max));
      std::memcpy(w->read_to, data, static_cast<size_t>(w->err));
    }
    if (err < 0) {
      const char* e = nfs_get_error(ctx);  // NULL when libnfs has no text
      w->error = e != nullptr ? e : "";
    }
  }
};

// Runs the event loop until `w` completes. Answers -EIO when the connection fails first.
int Wait(nfs_context* ctx, Waiter& w, std::string& error) {
  while (!w.done) {
    pollfd pfd{nfs_get_fd(ctx), static_cast<short>(nfs_which_events(ctx)), 0};
    if (::poll(&pfd, 1, 100) < 0 && errno != EINTR) return -errno;
    if (nfs_service(ctx, pfd.revents) < 0) {
      error = ErrorText(ctx);
      if (error.empty()) error = "connection lost";
      return w.done ? w.err : -EIO;
    }
  }
  error = w.error;
  return w.err;
}

}  // namespace

std::string ErrorText(nfs_context* ctx) {
  const char* e = ctx != nullptr ? nfs_get_error(ctx) : nullptr;
  return e != nullptr ? e : "";
}

Status ToStatus(int err, const std::string& what, nfs_context* ctx) {
  return ToStatus(err, what, ErrorText(ctx));
}

Status ToStatus(int err, const std::string& what, const std::string& d) {
  const int e = err < 0 ? -err : err;
  std::string msg = what + ": " + std::strerror(e);
  if (!d.empty()) msg += " (" + d + ")";
  // libnfs answers -EFAULT both for a transport failure and for a server error inside a
  // request it split (pwrite/pread); only its error text tells them apart.
  if (e == EFAULT) {
    if (d.find("NOSPC") != std::string::npos || d.find("DQUOT") != std::string::npos ||
        d.find("FBIG") != std::string::npos) {
      return ResourceExhausted(msg);
    }
    if (d.find("NFS3ERR_") != std::string::npos) return Internal(msg);
  }
  switch (e) {
    case ENOENT:
      return NotFound(msg);
    case EEXIST:
      return AlreadyExists(msg);
    case ENOSPC:
    case EDQUOT:
    case EFBIG:
      return ResourceExhausted(msg);
    case ETIMEDOUT:
    case ECONNREFUSED:
    case ECONNRESET:
    case EPIPE:
    case ENOTCONN:
    case EFAULT:  // libnfs: the RPC failed (connection error)
    case EINTR:   // libnfs: the RPC was cancelled (timeout, context torn down)
    case EIO:
    case ESTALE:
    case EHOSTUNREACH:
    case ENETUNREACH:
    case EAGAIN:
      return Unavailable(msg);
    case EINVAL:
      return InvalidArgument(msg);
    default:
      return Internal(msg);
  }
}

// ---- File

File::~File() {
  if (fh_ != nullptr && !client_->broken()) nfs_close(client_->context(), fh_);
  // A broken context cannot send CLOSE (NFSv3 has none on the wire anyway): libnfs frees the
  // handle's memory with the context.
}

Result<size_t> File::PRead(uint64_t offset, std::span<std::byte> buf) {
  const uint64_t max = std::max<uint64_t>(client_->read_max(), 4096);
  size_t done = 0;
  while (done < buf.size()) {
    const uint64_t n = std::min<uint64_t>(max, buf.size() - done);
    Waiter w;
    w.read_to = buf.data() + done;
    w.read_max = n;
    std::string error;
    int r = nfs_pread_async(client_->context(), fh_, offset + done, n, &Waiter::Cb, &w);
    if (r == 0) r = Wait(client_->context(), w, error);
    if (r < 0) return client_->Fail(r, "read", error);
    if (r == 0) break;  // end of file
    done += static_cast<size_t>(r);
  }
  return done;
}

Status File::PWrite(uint64_t offset, std::span<const std::byte> buf) {
  const uint64_t max = std::max<uint64_t>(client_->write_max(), 4096);
  size_t done = 0;
  while (done < buf.size()) {
    const uint64_t n = std::min<uint64_t>(max, buf.size() - done);
    Waiter w;
    std::string error;
    int r = nfs_pwrite_async(client_->context(), fh_, offset + done, n, buf.data() + done,
                             &Waiter::Cb, &w);
    if (r == 0) r = Wait(client_->context(), w, error);
    if (r < 0) return client_->Fail(r, "write", error);
    if (r == 0) return Internal("write: the server accepted no bytes");
    done += static_cast<size_t>(r);
  }
  return Status::Ok();
}

Status File::Truncate(uint64_t size) {
  int r = nfs_ftruncate(client_->context(), fh_, size);
  return r < 0 ? client_->Fail(r, "truncate") : Status::Ok();
}

// What callers need of an NFS stat, for File::Stat and Client::Stat alike.
static FileStat ToFileStat(const struct nfs_stat_64& st) {
  FileStat out;
  out.size = st.nfs_size;
  out.used = st.nfs_used;
  out.is_dir = S_ISDIR(st.nfs_mode);
  out.is_regular = S_ISREG(st.nfs_mode);
  out.mtime_micros = Micros(st.nfs_mtime, st.nfs_mtime_nsec);
  return out;
}

Status File::Sync() {
  int r = nfs_fsync(client_->context(), fh_);
  return r < 0 ? client_->Fail(r, "commit") : Status::Ok();
}

Result<FileStat> File::Stat() {
  struct nfs_stat_64 st {};
  int r = nfs_fstat64(client_->context(), fh_, &st);
  if (r < 0) return client_->Fail(r, "stat");
  return ToFileStat(st);
}

// ---- Client

Result<std::unique_ptr<Client>> Client::Connect(const Share& share, const MountOptions& options) {
  nfs_context* ctx = nfs_init_context();
  if (ctx == nullptr) return Internal("cannot create an NFS context for " + share.Spec());
  auto fail = [&](Status st) {
    nfs_destroy_context(ctx);
    return st;
  };
  // Ports go through libnfs's URL arguments, its only public way to skip rpcbind.
  std::string url = "nfs://" + share.host + share.path + "?version=3";
  if (options.nfs_port > 0) url += "&nfsport=" + std::to_string(options.nfs_port);
  if (options.mount_port > 0) url += "&mountport=" + std::to_string(options.mount_port);
  nfs_url* parsed = nfs_parse_url_dir(ctx, url.c_str());
  if (parsed == nullptr) {
    return fail(InvalidArgument("NFS share " + share.Spec() + ": " + ErrorText(ctx)));
  }
  nfs_destroy_url(parsed);
  nfs_set_autoreconnect(ctx, 0);
  nfs_set_timeout(ctx, options.timeout_ms);
  if (options.uid >= 0) nfs_set_uid(ctx, options.uid);
  if (options.gid >= 0) nfs_set_gid(ctx, options.gid);
  int r = nfs_mount(ctx, share.host.c_str(), share.path.c_str());
  if (r < 0) {
    Status st = ToStatus(r, "mount " + share.Spec(), ctx);
    // libnfs reports a refused MNT (no such export, access denied) as a generic failure; the
    // server answered, so it is not Unavailable unless the transport says so.
    return fail(st);
  }
  return std::unique_ptr<Client>(new Client(ctx, share));
}

Client::~Client() {
  if (ctx_ != nullptr) nfs_destroy_context(ctx_);
}

uint64_t Client::read_max() const { return nfs_get_readmax(ctx_); }
uint64_t Client::write_max() const { return nfs_get_writemax(ctx_); }

std::string Client::Abs(const std::string& path) {
  return path.empty() || path.front() != '/' ? "/" + path : path;
}

Status Client::Fail(int err, const std::string& what, const std::string& detail) {
  Status st = detail.empty() ? ToStatus(err, share_.Spec() + ": " + what, ctx_)
                             : ToStatus(err, share_.Spec() + ": " + what, detail);
  if (st.code() == StatusCode::kUnavailable) broken_ = true;
  return st;
}

Result<std::unique_ptr<File>> Client::Open(const std::string& path, int flags, int mode) {
  nfsfh* fh = nullptr;
  int r = (flags & O_CREAT) ? nfs_create(ctx_, Abs(path).c_str(), flags, mode, &fh)
                            : nfs_open(ctx_, Abs(path).c_str(), flags, &fh);
  if (r < 0) return Fail(r, "open " + path);
  return std::make_unique<File>(this, fh);
}

Result<FileStat> Client::Stat(const std::string& path) {
  struct nfs_stat_64 st {};
  int r = nfs_stat64(ctx_, Abs(path).c_str(), &st);
  if (r < 0) return Fail(r, "stat " + path);
  return ToFileStat(st);
}

Status Client::Unlink(const std::string& path) {
  int r = nfs_unlink(ctx_, Abs(path).c_str());
  return r < 0 ? Fail(r, "delete " + path) : Status::Ok();
}

Status Client::Rename(const std::string& from, const std::string& to) {
  int r = nfs_rename(ctx_, Abs(from).c_str(), Abs(to).c_str());
  return r < 0 ? Fail(r, "rename " + from + " to " + to) : Status::Ok();
}

Status Client::Mkdir(const std::string& path, int mode) {
  int r = nfs_mkdir2(ctx_, Abs(path).c_str(), mode);
  return r < 0 ? Fail(r, "mkdir " + path) : Status::Ok();
}

Result<std::vector<DirEntry>> Client::List(const std::string& dir) {
  nfsdir* d = nullptr;
  int r = nfs_opendir(ctx_, Abs(dir).c_str(), &d);
  if (r < 0) return Fail(r, "list " + (dir.empty() ? std::string("/") : dir));
  std::vector<DirEntry> out;
  while (nfsdirent* e = nfs_readdir(ctx_, d)) {
    if (std::strcmp(e->name, ".") == 0 || std::strcmp(e->name, "..") == 0) continue;
    DirEntry de;
    de.name = e->name;
    de.is_dir = e->type == NF3DIR;
    de.is_regular = e->type == NF3REG;
    de.size = e->size;
    de.mtime_micros = Micros(static_cast<uint64_t>(e->mtime.tv_sec), e->mtime_nsec);
    out.push_back(std::move(de));
  }
  nfs_closedir(ctx_, d);
  return out;
}

Result<FsStat> Client::StatFs() {
  struct nfs_statvfs_64 st {};
  int r = nfs_statvfs64(ctx_, "/", &st);
  if (r < 0) return Fail(r, "fsstat");
  FsStat out;
  out.total_bytes = st.f_blocks * st.f_frsize;
  out.free_bytes = st.f_bavail * st.f_frsize;
  return out;
}

// ---- ClientPool

ClientPool::~ClientPool() = default;

ClientPool::Lease::~Lease() {
  if (c_ != nullptr && pool_ != nullptr) pool_->Release(std::move(c_));
}

Result<ClientPool::Lease> ClientPool::Acquire(bool fresh) {
  if (!fresh) {
    std::lock_guard lock(mu_);
    if (!idle_.empty()) {
      auto c = std::move(idle_.back());
      idle_.pop_back();
      return Lease(this, std::move(c));
    }
  }
  ASSIGN_OR_RETURN(auto c, Client::Connect(share_, options_));
  return Lease(this, std::move(c));
}

Status ClientPool::Do(const std::function<Status(Client&)>& fn) {
  bool was_idle = false;
  {
    std::lock_guard lock(mu_);
    was_idle = !idle_.empty();
  }
  Status st;
  {
    ASSIGN_OR_RETURN(Lease lease, Acquire());
    st = fn(*lease);
  }
  if (st.code() != StatusCode::kUnavailable || !was_idle) return st;
  ASSIGN_OR_RETURN(Lease lease, Acquire(/*fresh=*/true));
  return fn(*lease);
}

void ClientPool::Release(std::unique_ptr<Client> c) {
  if (c->broken()) return;  // destroyed here; the next Acquire reconnects
  std::lock_guard lock(mu_);
  if (idle_.size() < max_idle_) idle_.push_back(std::move(c));
}

}  // namespace scoria::nfs
