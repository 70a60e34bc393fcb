// Repository: a backup repository inside a BackupStore (docs/format/backup.md).
//
// Model: objects
//   config                       RepositoryConfig as JSON (format version, chunk size); the
//                                repository exists when this object does
//   chunks/<2 hex>/<64 hex>      chunk objects (chunk.h), named by the plaintext's SHA-256,
//                                stored once whatever backup or volume they came from
//   manifests/<backup id>        one manifest per backup (manifest.h), written LAST by its job
//   locks/<lock id>              one lock per running job or GC (JSON: kind, purpose, host,
//                                pid, created and refreshed times)
// A backup exists in the repository exactly when its manifest does. Chunks written by a job
// that failed or was cancelled stay until a GC finds them unreferenced.
//
// Locks and GC (the race rule): BackupJob, RestoreJob and Verify hold a SHARED lock for their
// whole run, CollectGarbage an EXCLUSIVE one. Taking a lock = Put the lock object, THEN list
// locks/: a shared taker backs off (removes its lock, Unavailable) if a live exclusive lock
// exists; an exclusive taker backs off if any other live lock exists. Because both sides
// write before they look, two racing takers cannot both miss each other (at worst both back
// off and retry), so a GC never runs while a job that may reference a chunk is running, and a
// job never starts while a GC is deleting. A lock is live while refreshed within
// lock_stale_micros (holders refresh every lock_refresh_micros); a stale lock (a crashed
// holder) is ignored, and removed by the next GC.
//
// Errors: NotFound (no such backup, or no repository and !create), FailedPrecondition (the
// repository's format version is newer than this code, or its chunk size differs from what a
// caller requires), Unavailable (lock conflict: retry later; store unreachable), Internal (a
// corrupted object: the message names it), or the store's errors.
//
// Threading: a Repository is thread-safe and shared (std::shared_ptr) by the jobs using it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "backup/chunk.h"
#include "backup/manifest.h"
#include "backup/store.h"
#include "common/status.h"

namespace scoria::backup {

inline constexpr uint32_t kRepositoryVersion = 1;
inline constexpr std::string_view kConfigObject = "config";
inline constexpr std::string_view kLockPrefix = "locks/";

struct RepositoryOptions {
  // Used when the repository is created; an existing repository keeps its own.
  uint32_t chunk_size = kDefaultChunkSize;
  // zstd level for new chunks (1 = fastest of the normal levels; chunks stay readable at any).
  int compression_level = 1;
  // Create the config object when the store holds no repository yet.
  bool create = true;
  // Lock holders refresh their lock this often; a lock not refreshed for lock_stale_micros
  // is taken for the remains of a crashed process.
  int64_t lock_refresh_micros = 5LL * 60 * 1000000;
  int64_t lock_stale_micros = 30LL * 60 * 1000000;
  // The clock (tests move it); NowMicros when empty.
  std::function<int64_t()> clock;
  // Written into locks for operators ("host:pid"); the host name when empty.
  std::string owner;
};

enum class LockKind { kShared, kExclusive };

// A lock held in the repository. Released by Release() or the destructor (best effort).
// Must not outlive the Repository that made it. Jobs refresh theirs after each chunk when
// due, so a job stalled for lock_stale_micros on one device read loses its lock and fails at
// its next refresh. Thread-safe: Refresh may run on a worker while another thread reads id().
class RepositoryLock {
 public:
  virtual ~RepositoryLock() = default;
  virtual const std::string& id() const = 0;
  virtual LockKind kind() const = 0;
  // Re-writes the lock with the current time. Unavailable/Internal from the store.
  // NotFound when the lock object disappeared (someone judged it stale and removed it): the
  // holder must stop, as a GC may be running.
  [[nodiscard]] virtual Status Refresh() = 0;
  // Refresh() when lock_refresh_micros passed since the last one; OK otherwise. Cheap.
  [[nodiscard]] virtual Status RefreshIfDue() = 0;
  [[nodiscard]] virtual Status Release() = 0;
};

enum class VerifyMode {
  kExists,  // every referenced chunk object exists with the recorded stored length (Stat)
  kFull,    // ... and decodes: header, zstd, length and SHA-256 (reads everything)
};

struct VerifyProblem {
  uint64_t chunk_index = 0;
  uint64_t volume_offset = 0;
  std::string chunk;  // hex id
  Status status;      // NotFound (missing) or Internal (corrupt / wrong size)
};

struct VerifyReport {
  std::string backup_id;
  uint64_t chunks_checked = 0;          // distinct chunk ids examined
  uint64_t bytes_read = 0;              // stored bytes read (kFull)
  std::vector<VerifyProblem> problems;  // every bad chunk, in index order (first index each)
  bool ok() const { return problems.empty(); }
  // OK, or Internal("backup X: N chunk(s) bad; first: chunk 12 (offset 50331648) ab12..: ...").
  Status ToStatus() const;
};

struct GcReport {
  uint64_t manifests = 0;  // manifests read (all of them)
  uint64_t chunks_seen = 0;
  uint64_t chunks_deleted = 0;
  uint64_t bytes_deleted = 0;
  uint64_t stale_locks_removed = 0;
};

struct RepositoryStats {
  uint64_t chunks = 0;
  uint64_t chunk_bytes = 0;
  uint64_t manifests = 0;
  uint64_t manifest_bytes = 0;
};

class Repository {
 public:
  // Opens (or, with options.create, initialises) the repository held by `store`.
  [[nodiscard]] static Result<std::shared_ptr<Repository>> Open(std::shared_ptr<BackupStore> store,
                                                                RepositoryOptions options = {});

  virtual ~Repository() = default;

  virtual uint32_t chunk_size() const = 0;
  virtual int compression_level() const = 0;
  virtual BackupStore& store() = 0;
  virtual int64_t Now() const = 0;

  // Takes a lock (see the race rule). Unavailable("... held by <purpose> on <owner> ...")
  // when a conflicting live lock exists.
  [[nodiscard]] virtual Result<std::unique_ptr<RepositoryLock>> Lock(LockKind kind,
                                                                     std::string_view purpose) = 0;

  // ---- Manifests. A backup exists when its manifest does.
  // Validates, Syncs the store (so every chunk it references is durable), then Puts the
  // manifest. Re-writing an existing backup's manifest replaces it (a re-run job).
  [[nodiscard]] virtual Status WriteManifest(const Manifest& m) = 0;
  // NotFound when absent; Internal("backup X: manifest corrupted: ...") when it fails to decode.
  [[nodiscard]] virtual Result<Manifest> LoadManifest(std::string_view backup_id) = 0;
  // The encoded manifest as stored (for ManifestDigest / export records).
  [[nodiscard]] virtual Result<std::vector<std::byte>> ReadManifestBytes(
      std::string_view backup_id) = 0;
  [[nodiscard]] virtual Result<std::vector<std::string>> ListBackups() = 0;
  // Removes the manifest only (chunks go at the next GC). Idempotent. The API layer decides
  // whether dependants forbid it; the repository never needs a parent.
  [[nodiscard]] virtual Status DeleteBackup(std::string_view backup_id) = 0;
  // OK when the backup's manifest exists and its digest is record.manifest_sha256
  // (import_record); NotFound / FailedPrecondition("... differs ...") otherwise.
  [[nodiscard]] virtual Status CheckRecord(const ManifestRecord& record) = 0;

  // ---- Chunks (used by the jobs; callers hold a shared lock).
  // Stored length of the chunk object when it exists, 0 when it does not.
  [[nodiscard]] virtual Result<uint64_t> ChunkStoredLength(const ChunkId& id) = 0;
  // Stores an encoded chunk object; returns its length.
  [[nodiscard]] virtual Result<uint32_t> PutChunkObject(const ChunkId& id,
                                                        std::span<const std::byte> object) = 0;
  // Reads and verifies chunk `ref` (length and SHA-256) into `out`. NotFound("chunk <hex>
  // missing") or Internal("chunk <hex> corrupted: ..."); the caller adds index and offset.
  [[nodiscard]] virtual Status ReadChunk(const ChunkRef& ref, uint32_t raw_length,
                                         ChunkCodec& codec, std::vector<std::byte>& out) = 0;

  // ---- Maintenance.
  // Checks a backup without restoring it; takes a shared lock. The report lists every bad
  // chunk; the Result fails only when the check itself could not run (lock, manifest).
  [[nodiscard]] virtual Result<VerifyReport> Verify(std::string_view backup_id,
                                                    VerifyMode mode) = 0;
  // Under an exclusive lock: removes stale locks, reads every manifest, deletes every chunk
  // no manifest references. Unavailable when a job holds a live lock (retry later).
  // Internal when a manifest fails to decode: nothing is deleted then, since its chunks
  // cannot be known.
  [[nodiscard]] virtual Result<GcReport> CollectGarbage() = 0;
  [[nodiscard]] virtual Result<RepositoryStats> Stats() = 0;
};

}  // namespace scoria::backup
