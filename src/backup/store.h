// BackupStore: where a backup repository keeps its objects (DESIGN.md "Interfaces").
//
// Model: a flat namespace of immutable named objects. A name is a relative path of
// '/'-separated components made of [A-Za-z0-9._-] (no empty component, no "." or "..",
// at most 1024 bytes); the repository chooses names such as "chunks/ab/ab12...",
// "manifests/<id>" and "locks/<id>" (docs/format/backup.md). Objects are written whole and
// never modified in place: a Put either leaves the complete new object or (on failure, or a
// crash) the previous state; a reader never sees a partial object. Put replaces an existing
// object of the same name atomically (the repository relies on this only for locks and for
// re-writing a manifest a crashed job left).
//
// Durability: when Put returns OK the object survives a crash (PosixStore: temp file, fsync,
// rename, directory fsync) unless the store was built with deferred durability, in which case
// everything Put before a successful Sync() is durable when Sync() returns. Callers that
// publish a reference to objects (the manifest) call Sync() first; it is a no-op when every
// Put is already durable.
//
// Errors: NotFound (Get/Stat of an absent object), InvalidArgument (a bad name),
// ResourceExhausted (ENOSPC/EDQUOT), Unavailable (the store is unreachable: an NFS mount gone
// stale, later a network error; retryable), Internal (anything else). Messages name the object.
//
// Threading: every method may be called from any thread, concurrently, including concurrent
// Puts of the same name (last one wins, both complete objects).
//
// Implementations: OpenPosixStore (a directory: local disk or an NFS mount),
// NewMemoryStore (tests, benchmarks), FaultInjectingStore (fault_store.h, tests), OpenNfsStore
// (nfs_store.h), OpenS3Store (s3_store.h), OpenSwiftStore (swift_store.h), OpenCephStore
// (ceph_store.h). Unavailable also covers an object store that still answers 5xx after its
// retries, and a Ceph cluster that does not answer in time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace scoria::backup {

struct ObjectInfo {
  std::string name;
  uint64_t size = 0;            // bytes of the stored object
  int64_t modified_micros = 0;  // last Put, microseconds since the epoch (store's clock)
};

class BackupStore {
 public:
  virtual ~BackupStore() = default;

  // Creates or atomically replaces `name` with `data` (see the model above).
  [[nodiscard]] virtual Status Put(std::string_view name, std::span<const std::byte> data) = 0;
  // The whole object. NotFound when absent.
  [[nodiscard]] virtual Result<std::vector<std::byte>> Get(std::string_view name) = 0;
  // Size and time of the object, without reading it. NotFound when absent.
  [[nodiscard]] virtual Result<ObjectInfo> Stat(std::string_view name) = 0;
  // Every object whose name starts with `prefix` (a plain string prefix, "" lists all), in
  // no particular order. Objects Put or deleted concurrently may or may not appear.
  [[nodiscard]] virtual Result<std::vector<ObjectInfo>> List(std::string_view prefix) = 0;
  // Removes the object. Idempotent: deleting an absent object is OK.
  [[nodiscard]] virtual Status Delete(std::string_view name) = 0;
  // Durability barrier for stores with deferred durability (see the model). OK otherwise.
  [[nodiscard]] virtual Status Sync() = 0;

  // True when the object exists (Stat without the NotFound dance).
  [[nodiscard]] Result<bool> Exists(std::string_view name);
};

// InvalidArgument unless `name` follows the naming rule above. Stores call it first.
[[nodiscard]] Status CheckObjectName(std::string_view name);

struct PosixStoreOptions {
  // true: every Put is durable when it returns (file fsync + rename + directory fsync).
  // false: Put still renames atomically but skips the fsyncs; Sync() makes everything durable
  // with one syncfs(2) of the store's filesystem. Faster on disks where fsync is expensive;
  // the repository calls Sync() before writing a manifest either way.
  bool sync_each_put = true;
  // Create the directory (and parents) when it does not exist.
  bool create = true;
};

// A directory as a BackupStore: object "a/b/c" is the file <root>/a/b/c (directories are
// created on demand, mode 0770; files 0660 like Cinder's posix driver). Temp files are
// ".<basename>.tmp.<random>" next to the target: no object name starts with '.', so List
// never shows them (a crash may leave one behind; it is garbage, never data). NotFound when the
// directory is absent and !create; Unavailable on ESTALE/ENOTCONN/EIO from the root.
[[nodiscard]] Result<std::shared_ptr<BackupStore>> OpenPosixStore(const std::string& root,
                                                                  PosixStoreOptions options = {});

// A thread-safe in-memory store (a map under a mutex). modified_micros comes from NowMicros().
std::shared_ptr<BackupStore> NewMemoryStore();

}  // namespace scoria::backup
