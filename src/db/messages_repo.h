// User messages (GET /messages): why an asynchronous operation failed, in words a user can act
// on, like Cinder's user messages. Expire after 30 days (Cinder's message_ttl default).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "db/database.h"

namespace scoria::db {

struct MessageRecord {
  std::string id;
  std::string project_id;
  std::optional<std::string> request_id;
  std::string resource_type;  // "VOLUME"
  std::optional<std::string> resource_uuid;
  std::string event_id;       // "VOLUME_VOLUME_001_002"
  std::optional<std::string> action_id;  // "001"
  std::optional<std::string> detail_id;  // "002"
  std::string message_level = "ERROR";
  std::string user_message;
  int64_t created_at = 0;
  int64_t expires_at = 0;
};

Status InsertMessage(Transaction& tx, const MessageRecord& m);
Result<MessageRecord> GetMessage(Transaction& tx, const std::string& id);
// project nullopt = all; newest first.
Result<std::vector<MessageRecord>> ListMessages(Transaction& tx,
                                                const std::optional<std::string>& project,
                                                const std::optional<std::string>& resource_uuid);
Status DeleteMessage(Transaction& tx, const std::string& id);
Result<int64_t> DeleteExpiredMessages(Transaction& tx, int64_t now_us);

}  // namespace scoria::db
