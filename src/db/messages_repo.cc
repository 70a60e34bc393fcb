#include "db/messages_repo.h"

namespace scoria::db {
namespace {

constexpr const char* kSelect =
    "SELECT id, project_id, request_id, resource_type, resource_uuid, event_id, action_id, "
    "detail_id, message_level, user_message, created_at, expires_at FROM messages";

MessageRecord FromRow(const Row& r) {
  return MessageRecord{r.Str(0),    r.Str(1),    r.OptStr(2), r.Str(3), r.OptStr(4), r.Str(5),
                       r.OptStr(6), r.OptStr(7), r.Str(8),    r.Str(9), r.Int(10),   r.Int(11)};
}

}  // namespace

Status InsertMessage(Transaction& tx, const MessageRecord& m) {
  return tx.Exec("INSERT INTO messages (id, project_id, request_id, resource_type, resource_uuid, "
                 "event_id, action_id, detail_id, message_level, user_message, created_at, "
                 "expires_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                 {m.id, m.project_id, OptStr(m.request_id), m.resource_type,
                  OptStr(m.resource_uuid), m.event_id, OptStr(m.action_id), OptStr(m.detail_id),
                  m.message_level, m.user_message, m.created_at, m.expires_at})
      .status();
}

Result<MessageRecord> GetMessage(Transaction& tx, const std::string& id) {
  ASSIGN_OR_RETURN(auto rows, tx.Query(std::string(kSelect) + " WHERE id = ?", {id}));
  if (rows.empty()) return NotFound("Message " + id + " could not be found.");
  return FromRow(rows[0]);
}

Result<std::vector<MessageRecord>> ListMessages(Transaction& tx,
                                                const std::optional<std::string>& project,
                                                const std::optional<std::string>& resource_uuid) {
  std::string sql = std::string(kSelect) + " WHERE 1=1";
  std::vector<Value> params;
  if (project) {
    sql += " AND project_id = ?";
    params.emplace_back(*project);
  }
  if (resource_uuid) {
    sql += " AND resource_uuid = ?";
    params.emplace_back(*resource_uuid);
  }
  sql += " ORDER BY created_at DESC, id DESC";
  ASSIGN_OR_RETURN(auto rows, tx.Query(sql, params));
  std::vector<MessageRecord> out;
  for (const Row& r : rows) out.push_back(FromRow(r));
  return out;
}

Status DeleteMessage(Transaction& tx, const std::string& id) {
  ASSIGN_OR_RETURN(int64_t n, tx.Exec("DELETE FROM messages WHERE id = ?", {id}));
  if (n == 0) return NotFound("Message " + id + " could not be found.");
  return Status::Ok();
}

Result<int64_t> DeleteExpiredMessages(Transaction& tx, int64_t now_us) {
  return tx.Exec("DELETE FROM messages WHERE expires_at < ?", {now_us});
}

}  // namespace scoria::db

#include "common/clock.h"
#include "common/ids.h"

namespace scoria::db {

Status RecordVolumeMessage(Transaction& tx, const std::string& project_id,
                           const std::string& volume_id, const char* action_id,
                           const char* detail_id, const std::string& text) {
  constexpr int64_t kTtlUs = 30LL * 24 * 3600 * 1000000;
  MessageRecord m;
  m.id = NewUuid();
  m.project_id = project_id;
  m.resource_type = "VOLUME";
  m.resource_uuid = volume_id;
  m.action_id = action_id;
  m.detail_id = detail_id;
  m.event_id = std::string("VOLUME_VOLUME_") + action_id + "_" + detail_id;
  m.user_message = text;
  m.created_at = NowMicros();
  m.expires_at = m.created_at + kTtlUs;
  return InsertMessage(tx, m);
}

}  // namespace scoria::db
