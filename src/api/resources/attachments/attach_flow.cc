#include "api/resources/attachments/attach_flow.h"

#include <algorithm>
#include <chrono>
#include <thread>

#include "common/clock.h"
#include "common/ids.h"
#include "db/services_repo.h"
#include "db/tasks_repo.h"
#include "tasks/protocol.h"

namespace scoria::api {

using nlohmann::json;

namespace {
constexpr auto kPollInterval = std::chrono::milliseconds(2);
constexpr auto kWaitLimit = std::chrono::seconds(30);
constexpr size_t kChapUserLength = 20;
constexpr size_t kChapSecretLength = 16;

// "host@backend#pool" -> "host@backend", the volume service's task target.
Result<std::string> BackendOf(const db::VolumeRecord& v) {
  if (!v.host || v.host->empty()) {
    return FailedPrecondition("Invalid volume: Volume " + v.id + " has no host yet.");
  }
  return v.host->substr(0, v.host->find('#'));
}
}  // namespace

Status ValidateConnector(const json& connector) {
  if (!connector.is_object()) {
    return InvalidArgument("Invalid input received: connector must be an object, got " +
                           connector.dump());
  }
  auto it = connector.find("initiator");
  if (it == connector.end() || !it->is_string() || it->get<std::string>().empty()) {
    return InvalidArgument("Invalid input received: the connector has no iSCSI 'initiator'; "
                           "Scoria exports volumes over iSCSI only");
  }
  if (connector.contains("mode") && !connector["mode"].is_null()) {
    if (!connector["mode"].is_string()) {
      return InvalidArgument("Invalid input received: connector mode must be rw or ro");
    }
    RETURN_IF_ERROR(ValidateMode(connector["mode"].get<std::string>()));
  }
  return Status::Ok();
}

Status ValidateMode(const std::string& mode) {
  if (mode == "rw" || mode == "ro") return Status::Ok();
  return InvalidArgument("Invalid input received: Invalid attach mode '" + mode +
                         "', must be one of rw, ro");
}

db::AttachmentRecord NewAttachmentRow(const Request& req, const db::VolumeRecord& v) {
  db::AttachmentRecord a;
  a.id = NewUuid();
  a.volume_id = v.id;
  a.project_id = req.ctx.project_id;
  a.user_id = req.ctx.user_id;
  a.attach_status = db::attach_status::kReserved;
  a.chap_user = RandomAlnum(kChapUserLength);
  a.chap_secret = RandomAlnum(kChapSecretLength);
  // Mutual CHAP: the target answers the initiator's challenge with a secret of its own,
  // which must differ from the initiator's (RFC 7143 §12.1.3).
  a.target_chap_user = "target-" + RandomAlnum(kChapUserLength - 7);
  do {
    a.target_chap_secret = RandomAlnum(kChapSecretLength);
  } while (a.target_chap_secret == a.chap_secret);
  a.created_at = NowMicros();
  return a;
}

Result<bool> VolumeServiceIsUp(db::Transaction& tx, const Config& config,
                               const db::VolumeRecord& v) {
  ASSIGN_OR_RETURN(std::string target, BackendOf(v));
  ASSIGN_OR_RETURN(auto services, db::ListServices(tx, target, std::string(db::kVolumeBinary)));
  const int64_t now = NowMicros();
  return std::any_of(services.begin(), services.end(), [&](const db::ServiceRecord& s) {
    return db::ServiceIsUp(s, now, config.service_down_time);
  });
}

Result<int64_t> EnqueueExport(db::Transaction& tx, const Config& config, db::AttachmentRecord& a,
                              const db::VolumeRecord& v, const json& connector,
                              const std::optional<std::string>& mode, bool keep_attached) {
  ASSIGN_OR_RETURN(std::string target, BackendOf(v));
  ASSIGN_OR_RETURN(bool up, VolumeServiceIsUp(tx, config, v));
  if (!up) {
    return Unavailable("The volume service " + target +
                       " is down: the volume cannot be exported until it is back.");
  }
  a.connector = connector.dump();
  a.initiator = connector["initiator"].get<std::string>();
  if (mode) {
    a.attach_mode = *mode;
  } else if (!a.attach_mode) {
    if (connector.contains("mode") && connector["mode"].is_string()) {
      a.attach_mode = connector["mode"].get<std::string>();
    } else {
      a.attach_mode = v.readonly ? "ro" : "rw";
    }
  }
  if (connector.contains("host") && connector["host"].is_string()) {
    a.attached_host = connector["host"].get<std::string>();
  }
  if (connector.contains("mountpoint") && connector["mountpoint"].is_string()) {
    a.mountpoint = connector["mountpoint"].get<std::string>();
  }
  if (!keep_attached || a.attach_status != db::attach_status::kAttached) {
    a.attach_status = db::attach_status::kAttaching;
  }
  a.exported = false;
  a.connection_info.reset();
  RETURN_IF_ERROR(db::UpdateAttachment(tx, a));
  return tasks::Enqueue(tx, target, v.id, tasks::ExportAttachment{.attachment_id = a.id});
}

Result<int64_t> EnqueueUnexport(db::Transaction& tx, const db::AttachmentRecord& a,
                                const db::VolumeRecord& v, bool delete_row) {
  ASSIGN_OR_RETURN(std::string target, BackendOf(v));
  return tasks::Enqueue(tx, target, v.id,
                        tasks::UnexportAttachment{.attachment_id = a.id, .delete_row = delete_row});
}

Status WaitForTask(db::Database& db, int64_t task_id, const std::string& timeout_message) {
  const auto deadline = std::chrono::steady_clock::now() + kWaitLimit;
  while (true) {
    bool queued = true;
    RETURN_IF_ERROR(db::InReadTransaction(db, [&](db::Transaction& tx) {
      ASSIGN_OR_RETURN(queued, db::TaskQueued(tx, task_id));
      return Status::Ok();
    }));
    if (!queued) return Status::Ok();
    if (std::chrono::steady_clock::now() >= deadline) return Unavailable(timeout_message);
    std::this_thread::sleep_for(kPollInterval);
  }
}

}  // namespace scoria::api
