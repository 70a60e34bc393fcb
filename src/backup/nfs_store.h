// OpenNfsStore: a directory on an NFSv3 share as a BackupStore (store.h), reached through
// libnfs (backup_driver = nfs; Cinder's NFSBackupDriver). Same layout and contract as the POSIX
// store: object "a/b/c" is the file <dir>/a/b/c on the export (directories 0770, files 0660,
// made on demand), written as ".<basename>.tmp.<random>" next to the target, COMMITted (NFSv3
// stable storage), then renamed over it; NFSv3 RENAME is atomic on the server, so a reader sees
// the old object or the new one. Every Put is durable when it returns (the server commits
// directory operations before answering), so Sync() is a no-op.
//
// Errors as store.h says; a server that does not answer (refused, timed out, connection lost)
// is Unavailable, a full share (NFS3ERR_NOSPC/DQUOT) ResourceExhausted.
//
// Threading: thread-safe; each call takes its own connection from a pool (nfs/client.h), so
// calls run in parallel on separate connections.
#pragma once

#include <memory>
#include <string>

#include "backup/store.h"

namespace scoria::backup {

struct NfsStoreOptions {
  std::string share;          // "host:/export" (backup_share)
  std::string mount_options;  // backup_mount_options (nfs/options.h)
  std::string dir;            // a directory under the export's root ("" = the root itself)
};

// Checks the options, mounts the share and creates `dir` when missing. InvalidArgument for a
// bad share or option, Unavailable when the server does not answer.
[[nodiscard]] Result<std::shared_ptr<BackupStore>> OpenNfsStore(const NfsStoreOptions& options);

}  // namespace scoria::backup
