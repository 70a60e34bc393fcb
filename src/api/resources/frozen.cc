#include "api/resources/frozen.h"

#include "db/services_repo.h"
#include "db/volumes_repo.h"

namespace scoria::api {

Status RefuseIfFrozen(db::Transaction& tx, const std::optional<std::string>& volume_host) {
  if (!volume_host) return Status::Ok();
  ASSIGN_OR_RETURN(bool frozen, db::IsBackendFrozen(tx, *volume_host));
  if (!frozen) return Status::Ok();
  return InvalidArgument(
      "Invalid input received: Modification operations are not allowed on frozen storage "
      "backends.");
}

Status RefuseIfSnapshotFrozen(db::Transaction& tx, const std::string& volume_id) {
  auto v = db::GetVolume(tx, volume_id);
  if (!v.ok()) return v.status().code() == StatusCode::kNotFound ? Status::Ok() : v.status();
  return RefuseIfFrozen(tx, v->host);
}

}  // namespace scoria::api
