#include "db/attachments_repo.h"

#include "common/clock.h"
#include "lifecycle/transitions.h"
#include "lifecycle/volume_status.h"

namespace scoria::db {
namespace {

constexpr const char* kColumns =
    "a.id, a.volume_id, a.project_id, a.user_id, a.instance_uuid, a.attached_host, a.mountpoint, "
    "a.attach_mode, a.attach_status, a.connector, a.initiator, a.chap_user, a.chap_secret, "
    "a.connection_info, a.exported, a.created_at, a.updated_at, a.attach_time, a.detach_time, "
    "a.target_chap_user, a.target_chap_secret";

AttachmentRecord FromRow(const Row& r) {
  AttachmentRecord a;
  a.id = r.Str(0);
  a.volume_id = r.Str(1);
  a.project_id = r.Str(2);
  a.user_id = r.Str(3);
  a.instance_uuid = r.OptStr(4);
  a.attached_host = r.OptStr(5);
  a.mountpoint = r.OptStr(6);
  a.attach_mode = r.OptStr(7);
  a.attach_status = r.Str(8);
  a.connector = r.OptStr(9);
  a.initiator = r.OptStr(10);
  a.chap_user = r.OptStr(11);
  a.chap_secret = r.OptStr(12);
  a.connection_info = r.OptStr(13);
  a.exported = r.Int(14) != 0;
  a.created_at = r.Int(15);
  a.updated_at = r.OptInt(16);
  a.attach_time = r.OptInt(17);
  a.detach_time = r.OptInt(18);
  a.target_chap_user = r.OptStr(19);
  a.target_chap_secret = r.OptStr(20);
  return a;
}

Value OptInt(const std::optional<int64_t>& v) { return v ? Value(*v) : Null(); }

std::vector<Value> MutableParams(const AttachmentRecord& a) {
  return {OptStr(a.instance_uuid), OptStr(a.attached_host), OptStr(a.mountpoint),
          OptStr(a.attach_mode),   a.attach_status,         OptStr(a.connector),
          OptStr(a.initiator),     OptStr(a.chap_user),     OptStr(a.chap_secret),
          OptStr(a.connection_info), int64_t{a.exported},   OptInt(a.attach_time),
          OptInt(a.detach_time), OptStr(a.target_chap_user), OptStr(a.target_chap_secret)};
}

std::string SelectSql(const std::string& where) {
  return std::string("SELECT ") + kColumns + " FROM attachments a " + where +
         " ORDER BY a.created_at DESC, a.id DESC";
}

Result<std::vector<AttachmentRecord>> Select(Transaction& tx, const std::string& where,
                                             const std::vector<Value>& params) {
  ASSIGN_OR_RETURN(auto rows, tx.Query(SelectSql(where), params));
  std::vector<AttachmentRecord> out;
  out.reserve(rows.size());
  for (const Row& r : rows) out.push_back(FromRow(r));
  return out;
}

}  // namespace

Result<AttachmentRecord> GetAttachment(Transaction& tx, const std::string& id) {
  ASSIGN_OR_RETURN(auto rows, Select(tx, "WHERE a.id = ?", {id}));
  if (rows.empty()) {
    return NotFound("Volume attachment could not be found with filter: attachment_id = " + id +
                    ".");
  }
  return std::move(rows[0]);
}

Result<std::vector<AttachmentRecord>> ListAttachments(Transaction& tx,
                                                      const AttachmentFilter& f) {
  std::string where = "WHERE 1=1";
  std::vector<Value> params;
  auto add = [&](const char* col, const std::optional<std::string>& v) {
    if (!v) return;
    where += std::string(" AND a.") + col + " = ?";
    params.emplace_back(*v);
  };
  add("project_id", f.project_id);
  add("volume_id", f.volume_id);
  add("instance_uuid", f.instance_uuid);
  add("attach_status", f.attach_status);
  return Select(tx, where, params);
}

Result<std::vector<AttachmentRecord>> VolumeAttachments(Transaction& tx,
                                                        const std::string& volume_id) {
  return Select(tx, "WHERE a.volume_id = ?", {volume_id});
}

Statement AttachmentsOfVolumesQuery(const std::vector<std::string>& volume_ids) {
  // No volume: a statement that matches nothing, so callers need no special case.
  std::string in = volume_ids.empty() ? "NULL" : "";
  std::vector<Value> params;
  for (size_t i = 0; i < volume_ids.size(); ++i) {
    in += i ? ",?" : "?";
    params.emplace_back(volume_ids[i]);
  }
  return {SelectSql("WHERE a.volume_id IN (" + in + ")"), std::move(params)};
}

std::map<std::string, std::vector<AttachmentRecord>> AttachmentsByVolume(
    const std::vector<Row>& rows) {
  std::map<std::string, std::vector<AttachmentRecord>> out;
  for (const Row& r : rows) {
    AttachmentRecord a = FromRow(r);
    out[a.volume_id].push_back(std::move(a));
  }
  return out;
}

Result<std::map<std::string, std::vector<AttachmentRecord>>> AttachmentsOfVolumes(
    Transaction& tx, const std::vector<std::string>& volume_ids) {
  if (volume_ids.empty()) return std::map<std::string, std::vector<AttachmentRecord>>{};
  Statement q = AttachmentsOfVolumesQuery(volume_ids);
  ASSIGN_OR_RETURN(auto rows, tx.Query(q.sql, q.params));
  return AttachmentsByVolume(rows);
}

Result<std::vector<AttachmentRecord>> ExportedAttachmentsOnBackend(Transaction& tx,
                                                                   const std::string& backend) {
  return Select(tx,
                "JOIN volumes v ON v.id = a.volume_id WHERE a.exported = 1 AND "
                "(v.host = ? OR v.host LIKE ?)",
                {backend, backend + "#%"});
}

Status InsertAttachment(Transaction& tx, const AttachmentRecord& a) {
  std::vector<Value> p = MutableParams(a);
  p.insert(p.begin(), {Value(a.id), Value(a.volume_id), Value(a.project_id), Value(a.user_id)});
  p.insert(p.end(), {Value(a.created_at), OptInt(a.updated_at)});
  return tx.Exec("INSERT INTO attachments (id, volume_id, project_id, user_id, instance_uuid, "
                 "attached_host, mountpoint, attach_mode, attach_status, connector, initiator, "
                 "chap_user, chap_secret, connection_info, exported, attach_time, detach_time, "
                 "target_chap_user, target_chap_secret, created_at, updated_at) "
                 "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                 p)
      .status();
}

Status UpdateAttachment(Transaction& tx, const AttachmentRecord& a) {
  std::vector<Value> p = MutableParams(a);
  p.push_back(NowMicros());
  p.push_back(a.id);
  ASSIGN_OR_RETURN(int64_t n,
                   tx.Exec("UPDATE attachments SET instance_uuid=?, attached_host=?, "
                           "mountpoint=?, attach_mode=?, attach_status=?, connector=?, "
                           "initiator=?, chap_user=?, chap_secret=?, connection_info=?, "
                           "exported=?, attach_time=?, detach_time=?, target_chap_user=?, "
                           "target_chap_secret=?, updated_at=? WHERE id=?",
                           p));
  if (n == 0) {
    return NotFound("Volume attachment could not be found with filter: attachment_id = " + a.id +
                    ".");
  }
  return Status::Ok();
}

Status DeleteAttachment(Transaction& tx, const std::string& id) {
  return tx.Exec("DELETE FROM attachments WHERE id = ?", {id}).status();
}

Result<bool> TaskQueued(Transaction& tx, int64_t task_id) {
  ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT 1 FROM tasks WHERE id = ?", {task_id}));
  return !rows.empty();
}

std::pair<std::string, std::string> VolumeStatusFor(const std::vector<AttachmentRecord>& atts) {
  std::optional<std::string> first;
  for (const auto& a : atts) {
    if (a.attach_status == attach_status::kErrorAttaching) continue;
    if (!first || a.attach_status < *first) first = a.attach_status;
  }
  if (!first) return {volume_status::kAvailable, volume_attach_status::kDetached};
  if (*first == attach_status::kAttached) {
    return {volume_status::kInUse, volume_attach_status::kAttached};
  }
  return {*first, *first};
}

Status RecomputeVolumeStatus(Transaction& tx, VolumeRecord& v) {
  ASSIGN_OR_RETURN(auto atts, VolumeAttachments(tx, v.id));
  auto [status, attach] = VolumeStatusFor(atts);
  if (v.status == lifecycle::Of(lifecycle::VolumeOp::kExtend).during) {
    v.previous_status = status;
  } else {
    v.status = status;
  }
  v.attach_status = attach;
  return UpdateVolume(tx, v);
}

}  // namespace scoria::db
