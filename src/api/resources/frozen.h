// Cinder's assert_not_frozen (cinder/objects/base.py): while an operator has frozen a backend
// (PUT os-services/freeze), its volumes keep serving I/O but the API refuses the management
// operations Cinder refuses there: deleting a volume (plain or forced) and creating or
// deleting a snapshot (plain or forced). Extend, attach, backup and the rest are not gated, as
// in Cinder.
#pragma once

#include <optional>
#include <string>

#include "common/status.h"
#include "db/database.h"

namespace scoria::api {

// InvalidArgument (400, Cinder's InvalidInput wording) when the backend of `volume_host`
// (host@backend#pool) is frozen; Ok when it is not, or when the volume has no host yet (Cinder
// deletes an unplaced volume before it asks).
[[nodiscard]] Status RefuseIfFrozen(db::Transaction& tx,
                                    const std::optional<std::string>& volume_host);
// The same for the backend of a snapshot, i.e. of its volume (Ok when the volume is gone).
[[nodiscard]] Status RefuseIfSnapshotFrozen(db::Transaction& tx, const std::string& volume_id);

}  // namespace scoria::api
