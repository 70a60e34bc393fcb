// Volume transfers (POST /volume-transfers): a volume offered by its project to whichever
// project presents the transfer's auth key. A pending transfer is a row; accepting it moves the
// volume (and, unless no_snapshots, its snapshots) to the accepting project and removes the
// row, in one transaction; deleting it removes the row.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "db/database.h"

namespace scoria::db {

struct TransferRecord {
  std::string id;
  std::string volume_id;
  std::optional<std::string> name;
  std::string salt;
  std::string crypt_hash;  // hex SHA-256 of salt + auth key
  std::string source_project_id;
  bool no_snapshots = false;
  int64_t created_at = 0;
};

Status InsertTransfer(Transaction& tx, const TransferRecord& t);
// NotFound "Transfer <id> could not be found." when there is none.
Result<TransferRecord> GetTransfer(Transaction& tx, const std::string& id);
// Pending transfers of a project (nullopt: of every project), oldest first.
Result<std::vector<TransferRecord>> ListTransfers(Transaction& tx,
                                                  const std::optional<std::string>& project);
Status DeleteTransfer(Transaction& tx, const std::string& id);
// Gives the volume, and its snapshots unless `with_snapshots` is false, to `project`/`user`.
Status MoveVolumeToProject(Transaction& tx, const std::string& volume_id,
                           const std::string& project, const std::string& user,
                           bool with_snapshots);

}  // namespace scoria::db
