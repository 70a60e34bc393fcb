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

namespace scoria::db {

// Cinder's message ids (cinder/message/message_field.py), the ones Scoria emits.
namespace message_action {
inline constexpr const char* kScheduleAllocateVolume = "001";
inline constexpr const char* kExtendVolume = "007";
inline constexpr const char* kCreateVolume = "013";  // create volume on the backend
inline constexpr const char* kDeleteVolume = "014";
}  // namespace message_action
namespace message_detail {
inline constexpr const char* kUnknownError = "001";
inline constexpr const char* kNoBackendAvailable = "003";
inline constexpr const char* kNotEnoughSpace = "007";
inline constexpr const char* kDriverFailed = "009";
}  // namespace message_detail

// Records an ERROR user message about a volume ("<action>: <text>"), kept 30 days.
Status RecordVolumeMessage(Transaction& tx, const std::string& project_id,
                           const std::string& volume_id, const char* action_id,
                           const char* detail_id, const std::string& text);

}  // namespace scoria::db
