// Client: one libnfs context mounted on one NFSv3 export, with blocking calls that answer
// Status. The volume driver, the NFS BlockDevice and the NFS backup store all reach the server
// through this header; nothing else in Scoria includes libnfs.
//
// Model: Connect() makes a context (NFSv3, autoreconnect off, the RPC timeout of the mount
// options, explicit ports when given), mounts the export and answers a Client. Paths are
// relative to the export's root ("volume-1", "chunks/ab/ab12..."). libnfs's own reconnect is
// turned off on purpose: a call fails as soon as the connection does, with Unavailable, and
// the owner decides (the pool drops that client; the block device reconnects on later I/O).
// That keeps "server gone" quick and visible instead of hanging inside libnfs.
//
// Errors: ToStatus maps libnfs's -errno answers: ENOENT -> NotFound, EEXIST -> AlreadyExists,
// ENOSPC/EDQUOT/EFBIG (NFS3ERR_NOSPC/DQUOT/FBIG) -> ResourceExhausted, transport failures
// (ETIMEDOUT, ECONNREFUSED, ECONNRESET, EPIPE, ENOTCONN, EFAULT and EINTR, libnfs's codes for an
// RPC that failed or was cancelled, EIO, ESTALE) -> Unavailable, EINVAL -> InvalidArgument,
// else Internal. After an Unavailable answer the client is `broken()` and must not be used.
//
// Threading: a Client (a libnfs context) is NOT thread-safe: one thread at a time. ClientPool
// hands clients out to one thread each and is itself thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "common/status.h"
#include "nfs/options.h"

struct nfs_context;
struct nfsfh;

namespace scoria::nfs {

// Maps a libnfs -errno answer (err < 0) to a Status (see the model). `what` names the object.
Status ToStatus(int err, const std::string& what, nfs_context* ctx = nullptr);
// libnfs's last error text of `ctx`, "" when it has none (nfs_get_error may answer NULL).
std::string ErrorText(nfs_context* ctx);
// The same with libnfs's error text already taken (`detail`, may be empty).
Status ToStatus(int err, const std::string& what, const std::string& detail);

struct FileStat {
  uint64_t size = 0;
  uint64_t used = 0;  // bytes the server says are allocated (NFSv3 `used`)
  bool is_dir = false;
  bool is_regular = false;
  int64_t mtime_micros = 0;
};

struct FsStat {
  uint64_t total_bytes = 0;
  uint64_t free_bytes = 0;  // available to us (FSSTAT abytes)
};

struct DirEntry {
  std::string name;
  bool is_dir = false;
  bool is_regular = false;
  uint64_t size = 0;
  int64_t mtime_micros = 0;
};

class Client;

// An open file of one Client; closed (nfs_close) at destruction. Used only on the thread that
// uses its Client; must not outlive it.
class File {
 public:
  File(Client* client, nfsfh* fh) : client_(client), fh_(fh) {}
  ~File();
  File(const File&) = delete;
  File& operator=(const File&) = delete;
  nfsfh* fh() const { return fh_; }
  // Reads up to buf.size() bytes at `offset`; answers the count (short only at end of file).
  [[nodiscard]] Result<size_t> PRead(uint64_t offset, std::span<std::byte> buf);
  // Writes all of buf at `offset` (UNSTABLE: durable after Sync()).
  [[nodiscard]] Status PWrite(uint64_t offset, std::span<const std::byte> buf);
  [[nodiscard]] Status Truncate(uint64_t size);
  // COMMIT: everything written so far is on the server's stable storage.
  [[nodiscard]] Status Sync();
  [[nodiscard]] Result<FileStat> Stat();

 private:
  Client* client_;
  nfsfh* fh_;
};

class Client {
 public:
  // Mounts `share` with `options`. Unavailable when the server does not answer (refused,
  // timed out), NotFound when the export does not exist, else Internal.
  [[nodiscard]] static Result<std::unique_ptr<Client>> Connect(const Share& share,
                                                               const MountOptions& options);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  const Share& share() const { return share_; }
  nfs_context* context() const { return ctx_; }
  bool broken() const { return broken_; }
  // The owner saw the connection die (e.g. nfs_service failed): no more calls, no CLOSE.
  void set_broken() { broken_ = true; }
  // Largest single READ/WRITE the server takes (FSINFO rtmax/wtmax).
  uint64_t read_max() const;
  uint64_t write_max() const;

  // open(2) flags: O_RDONLY/O_RDWR, O_CREAT|O_EXCL (create), O_TRUNC. `mode` for creation.
  [[nodiscard]] Result<std::unique_ptr<File>> Open(const std::string& path, int flags,
                                                   int mode = 0600);
  [[nodiscard]] Result<FileStat> Stat(const std::string& path);
  [[nodiscard]] Status Unlink(const std::string& path);  // NotFound when absent
  [[nodiscard]] Status Rename(const std::string& from, const std::string& to);
  [[nodiscard]] Status Mkdir(const std::string& path, int mode);  // AlreadyExists when present
  // Every entry of a directory except "." and "..". NotFound when it is absent.
  [[nodiscard]] Result<std::vector<DirEntry>> List(const std::string& dir);
  [[nodiscard]] Result<FsStat> StatFs();

  // Maps `err` like ToStatus and marks the client broken on Unavailable.
  Status Fail(int err, const std::string& what, const std::string& detail = "");

 private:
  Client(nfs_context* ctx, Share share) : ctx_(ctx), share_(std::move(share)) {}
  static std::string Abs(const std::string& path);
  nfs_context* ctx_;
  Share share_;
  bool broken_ = false;
};

// Connected clients of one share for threads that take turns: Acquire hands one out (a fresh
// connection when none is idle), its Lease returns it at destruction unless it broke (then it
// is dropped, so the next Acquire reconnects). At most `max_idle` idle clients are kept.
// Thread-safe.
class ClientPool {
 public:
  ClientPool(Share share, MountOptions options, size_t max_idle = 4)
      : share_(std::move(share)), options_(std::move(options)), max_idle_(max_idle) {}
  ~ClientPool();

  class Lease {
   public:
    Lease(ClientPool* pool, std::unique_ptr<Client> c) : pool_(pool), c_(std::move(c)) {}
    Lease(Lease&&) = default;
    ~Lease();
    Client* operator->() const { return c_.get(); }
    Client& operator*() const { return *c_; }

   private:
    ClientPool* pool_;
    std::unique_ptr<Client> c_;
  };

  [[nodiscard]] Result<Lease> Acquire(bool fresh = false);
  // Runs `fn` with a client. When it fails with Unavailable on a client that sat idle (its
  // connection may have died while unused, e.g. the server restarted), it runs once more on a
  // fresh connection, so only a server that is really gone makes the call fail.
  [[nodiscard]] Status Do(const std::function<Status(Client&)>& fn);
  const Share& share() const { return share_; }
  const MountOptions& options() const { return options_; }

 private:
  void Release(std::unique_ptr<Client> c);
  const Share share_;
  const MountOptions options_;
  const size_t max_idle_;
  std::mutex mu_;
  std::vector<std::unique_ptr<Client>> idle_;  // guarded by mu_
};

}  // namespace scoria::nfs
