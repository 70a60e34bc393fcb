// Renaming a volume backend (cinder-manage volume update_host): the rows that name a backend
// by its host@backend string move to a new name in one transaction. Volumes carry it in
// `host` (host@backend#pool), the task queue in `target`; snapshots follow their volume and
// backups name a node's backup service (backup@node), so neither changes.
#pragma once

#include <cstdint>
#include <string>

#include "db/database.h"

namespace scoria::db {

struct BackendMove {
  int64_t volumes = 0;
  int64_t tasks = 0;
};

// Volumes on `from` (from or from#pool) move to `to`: when `to` names no pool each keeps its
// own (from#p -> to#p), when it does (host@backend#pool) all take that one. Tasks whose target
// is `from` move to the backend of `to` with their lease cleared (the old service is gone, the
// new one takes them at once). `from` is host@backend without a pool; the caller checks the
// names. Moving to the same name changes nothing.
Result<BackendMove> MoveBackend(Transaction& tx, const std::string& from, const std::string& to);

}  // namespace scoria::db
