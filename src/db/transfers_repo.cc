#include "db/transfers_repo.h"

#include "common/clock.h"

namespace scoria::db {
namespace {

constexpr const char* kColumns =
    "id, volume_id, name, salt, crypt_hash, source_project_id, no_snapshots, created_at";

TransferRecord FromRow(const Row& r) {
  TransferRecord t;
  t.id = r.Str(0);
  t.volume_id = r.Str(1);
  t.name = r.OptStr(2);
  t.salt = r.Str(3);
  t.crypt_hash = r.Str(4);
  t.source_project_id = r.Str(5);
  t.no_snapshots = r.Int(6) != 0;
  t.created_at = r.Int(7);
  return t;
}

}  // namespace

Status InsertTransfer(Transaction& tx, const TransferRecord& t) {
  return tx
      .Exec(std::string("INSERT INTO transfers (") + kColumns + ") VALUES (?,?,?,?,?,?,?,?)",
            {t.id, t.volume_id, t.name ? Value(*t.name) : Value(), t.salt, t.crypt_hash,
             t.source_project_id, static_cast<int64_t>(t.no_snapshots), t.created_at})
      .status();
}

Result<TransferRecord> GetTransfer(Transaction& tx, const std::string& id) {
  ASSIGN_OR_RETURN(
      auto rows,
      tx.Query(std::string("SELECT ") + kColumns + " FROM transfers WHERE id = ?", {id}));
  if (rows.empty()) return NotFound("Transfer " + id + " could not be found.");
  return FromRow(rows[0]);
}

Result<std::vector<TransferRecord>> ListTransfers(Transaction& tx,
                                                  const std::optional<std::string>& project) {
  std::string sql = std::string("SELECT ") + kColumns + " FROM transfers";
  std::vector<Value> params;
  if (project) {
    sql += " WHERE source_project_id = ?";
    params.emplace_back(*project);
  }
  sql += " ORDER BY created_at, id";
  ASSIGN_OR_RETURN(auto rows, tx.Query(sql, params));
  std::vector<TransferRecord> out;
  for (const Row& r : rows) out.push_back(FromRow(r));
  return out;
}

Status DeleteTransfer(Transaction& tx, const std::string& id) {
  return tx.Exec("DELETE FROM transfers WHERE id = ?", {id}).status();
}

Status MoveVolumeToProject(Transaction& tx, const std::string& volume_id,
                           const std::string& project, const std::string& user,
                           bool with_snapshots) {
  const int64_t now = NowMicros();
  RETURN_IF_ERROR(tx.Exec("UPDATE volumes SET project_id = ?, user_id = ?, updated_at = ? "
                          "WHERE id = ?",
                          {project, user, now, volume_id})
                      .status());
  if (!with_snapshots) return Status::Ok();
  return tx
      .Exec("UPDATE snapshots SET project_id = ?, user_id = ?, updated_at = ? WHERE volume_id = ?",
            {project, user, now, volume_id})
      .status();
}

}  // namespace scoria::db
