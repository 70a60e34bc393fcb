// Backups: /backups, /backups/detail, /backups/{id} (show, update >= 3.9, delete),
// /backups/{id}/restore, /backups/{id}/export_record, /backups/import_record, and the actions
// os-reset_status, os-force_delete and os-verify (a Scoria extension: check a backup without
// restoring it). Rules as cinder/backup/api.py (cinder-api.md 1.7). Every job is a row change
// plus a task for the backup service of the volume's host, in one transaction (DESIGN.md
// "Durable tasks"); the handler answers once it is committed and never waits for a job.
#include <openssl/evp.h>

#include <nlohmann/json.hpp>

#include <set>

#include "api/http/fault.h"
#include "api/http/list_filters.h"
#include "api/http/memory_page.h"
#include "api/http/query.h"
#include "api/http/validation.h"
#include "api/resources/api_env.h"
#include "api/resources/backups/backup_flow.h"
#include "api/resources/backups/backup_source.h"
#include "api/resources/backups/backup_views.h"
#include "api/resources/quota.h"
#include "api/resources/visibility.h"
#include "common/clock.h"
#include "common/ids.h"
#include "db/backups_repo.h"
#include "db/tasks_repo.h"
#include "db/volumes_repo.h"
#include "lifecycle/transitions.h"
#include "tasks/protocol.h"

namespace scoria::api {
namespace {

using nlohmann::json;
using lifecycle::BackupOp;

// What export_record names as backup_service (Cinder's class path of the POSIX driver, so
// Cinder's tools recognise it); import_record accepts it and the other spellings of posix.
constexpr char kPosixServiceName[] = "cinder.backup.drivers.posix.PosixBackupDriver";
const std::set<std::string>& PosixServiceNames() {
  static const std::set<std::string> kSet = {kPosixServiceName, "posix",
                                             "cinder.backup.drivers.nfs.NFSBackupDriver"};
  return kSet;
}
// Cinder gives imported backups this volume_id until the record says otherwise.
constexpr char kNullVolumeId[] = "00000000-0000-0000-0000-000000000000";

std::string Base64Encode(const std::string& in) {
  std::string out(4 * ((in.size() + 2) / 3), '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()),
                          static_cast<int>(in.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

std::optional<std::string> Base64Decode(std::string in) {
  std::erase_if(in, [](char c) { return c == '\n' || c == '\r' || c == ' '; });
  if (in.empty() || in.size() % 4 != 0) return std::nullopt;
  std::string out(in.size() / 4 * 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()),
                          static_cast<int>(in.size()));
  if (n < 0) return std::nullopt;
  // EVP_DecodeBlock counts the padding as zero bytes.
  size_t pad = 0;
  if (in.back() == '=') ++pad;
  if (in.size() >= 2 && in[in.size() - 2] == '=') ++pad;
  out.resize(static_cast<size_t>(n) - pad);
  return out;
}

// A create request's body, checked (everything that needs no database).
struct CreateBackupRequest {
  std::string volume_id;
  std::optional<std::string> name, description, container, snapshot_id;
  std::optional<std::string> availability_zone;  // 3.51
  bool incremental = false, force = false;
  std::map<std::string, std::string> metadata;  // 3.43
};

Result<CreateBackupRequest> ParseCreateBackup(const Request& req, const json& in) {
  RETURN_IF_ERROR(RejectUnknownKeys(in, {"volume_id", "container", "name", "description",
                                         "incremental", "force", "snapshot_id", "metadata",
                                         "availability_zone"}));
  CreateBackupRequest c;
  ASSIGN_OR_RETURN(c.volume_id, RequiredString(in, "volume_id"));
  ASSIGN_OR_RETURN(c.name, OptionalString(in, "name"));
  ASSIGN_OR_RETURN(c.description, OptionalString(in, "description"));
  ASSIGN_OR_RETURN(c.container, OptionalString(in, "container"));
  ASSIGN_OR_RETURN(c.snapshot_id, OptionalString(in, "snapshot_id", 36));
  for (auto [key, out] : {std::pair{"incremental", &c.incremental}, std::pair{"force", &c.force}}) {
    if (!in.contains(key) || in[key].is_null()) continue;
    ASSIGN_OR_RETURN(*out, ParseBoolValue(in[key], key));
  }
  if (in.contains("metadata") && req.version >= ApiVersion{3, 43}) {
    ASSIGN_OR_RETURN(c.metadata, ParseMetadata(in["metadata"]));
  }
  if (req.version >= ApiVersion{3, 51}) {
    ASSIGN_OR_RETURN(c.availability_zone, OptionalString(in, "availability_zone"));
  }
  return c;
}

// The rules of a backup of `v` (cinder/backup/api.py create): its source, its zone, a backup
// service on the volume's host, a parent for an incremental one, the quota; then the rows and
// the task, all in `tx`. Fills the placement fields of `b`.
Status StartBackup(db::Transaction& tx, const Config& config, const CreateBackupRequest& c,
                   db::VolumeRecord& v, db::BackupRecord& b) {
  ASSIGN_OR_RETURN(BackupSource source, CheckBackupSource(tx, v, c.snapshot_id, c.force));
  if (c.availability_zone && *c.availability_zone != v.availability_zone) {
    return FailedPrecondition("Invalid input received: the backup must be in the volume's "
                              "availability zone " + v.availability_zone + ".");
  }
  const std::string host = VolumeServiceHost(v);
  RETURN_IF_ERROR(CheckBackupServiceUp(tx, config, host));
  b.host = host;
  b.availability_zone = v.availability_zone;
  b.size = v.size;
  b.snapshot_id = c.snapshot_id;
  b.data_timestamp = source.data_timestamp.value_or(b.created_at);
  if (c.incremental) {
    ASSIGN_OR_RETURN(auto parent, db::LatestAvailableBackup(tx, v.id, b.project_id,
                                                            source.data_timestamp));
    if (!parent) {
      return FailedPrecondition("Invalid backup: No backups available to do an incremental "
                                "backup.");
    }
    b.parent_id = parent->id;
  }
  RETURN_IF_ERROR(CheckBackupQuota(tx, config, b.project_id, 1, b.size));
  RETURN_IF_ERROR(MarkBackupSource(tx, v, source, b));
  RETURN_IF_ERROR(db::InsertBackup(tx, b));
  return tasks::Enqueue(tx, db::BackupTarget(host), b.id, tasks::CreateBackup{}).status();
}

// The record of import_record (what export_record wrote, base64 JSON), checked.
Result<json> ParseBackupRecord(const json& in) {
  for (const char* k : {"backup_service", "backup_url"}) {
    if (!in.contains(k) || !in[k].is_string()) {
      return InvalidArgument(std::string("Invalid input received: '") + k +
                             "' is a required property and must be a string");
    }
  }
  const std::string service = in["backup_service"].get<std::string>();
  if (!PosixServiceNames().count(service)) {
    return Unavailable("Service " + service + " could not be found.");
  }
  auto decoded = Base64Decode(in["backup_url"].get<std::string>());
  json record = decoded ? json::parse(*decoded, nullptr, false) : json();
  if (!record.is_object()) return InvalidArgument("Invalid backup: Can't parse backup record.");
  if (!record.contains("id") || !record["id"].is_string() ||
      !IsUuid(record["id"].get<std::string>()) || !record.contains("size") ||
      !record["size"].is_number_integer() || record["size"].get<int64_t>() < 0) {
    return InvalidArgument("Invalid backup: Backup record is missing id or size "
                           "(or they are not a UUID and an integer).");
  }
  return record;
}

// The row an imported record becomes: the record's fields, owned by the caller's project, in
// the default zone, `creating` until the backup service has checked the repository.
db::BackupRecord ImportedBackup(const Request& req, const Config& config, const json& record) {
  auto str = [&](const char* k) -> std::optional<std::string> {
    if (record.contains(k) && record[k].is_string()) return record[k].get<std::string>();
    return std::nullopt;
  };
  db::BackupRecord b;
  b.id = record["id"].get<std::string>();
  b.project_id = req.ctx.project_id;
  b.user_id = req.ctx.user_id;
  b.volume_id = str("volume_id").value_or(kNullVolumeId);
  b.parent_id = str("parent_id");
  b.name = str("display_name");
  b.description = str("display_description");
  b.container = str("container");
  b.snapshot_id = str("snapshot_id");
  b.service = "posix";
  b.service_metadata = str("service_metadata");
  b.size = record["size"].get<int64_t>();
  if (record.contains("object_count") && record["object_count"].is_number_integer()) {
    b.object_count = record["object_count"].get<int64_t>();
  }
  b.status = db::backup_status::kCreating;
  b.created_at = NowMicros();
  b.data_timestamp = b.created_at;
  if (auto t = str("data_timestamp")) b.data_timestamp = ParseIsoTime(*t).value_or(b.created_at);
  if (record.contains("metadata") && record["metadata"].is_object()) {
    for (auto it = record["metadata"].begin(); it != record["metadata"].end(); ++it) {
      if (it->is_string()) b.metadata[it.key()] = it->get<std::string>();
    }
  }
  b.availability_zone = config.storage_availability_zone;
  return b;
}

class BackupsApi {
 public:
  explicit BackupsApi(const ApiEnv& env) : env_(env) {}

  Response Create(Request& req, const PathParams&);
  Response List(Request& req, bool detail);
  Response Show(Request& req, const PathParams& p);
  Response Update(Request& req, const PathParams& p);
  Response Delete(Request& req, const PathParams& p);
  Response Restore(Request& req, const PathParams& p);
  Response ExportRecord(Request& req, const PathParams& p);
  Response ImportRecord(Request& req, const PathParams&);
  Response Action(Request& req, const PathParams& p);

 private:
  // The backup, if the caller may see it (admins see every project's).
  static Result<db::BackupRecord> Load(db::Transaction& tx, const Request& req,
                                       const std::string& id) {
    return LoadVisibleBackup(tx, req, id);
  }
  static Result<json> Detail(db::Transaction& tx, const Request& req, const db::BackupRecord& b) {
    ASSIGN_OR_RETURN(int64_t deps, db::CountDependentBackups(tx, b.id));
    return BackupDetailView(req, b, deps);
  }
  // Marks the backup deleting and queues the repository delete (or removes a row that never
  // reached a backup service). force: any status (os-force_delete).
  Status StartDelete(db::Transaction& tx, db::BackupRecord& b, bool force);
  Response ResetStatus(Request& req, const std::string& id, const json& args);
  Response ForceDelete(Request& req, const std::string& id);
  Response Verify(Request& req, const std::string& id, const json& args);

  const ApiEnv env_;
};

Response BackupsApi::Create(Request& req, const PathParams&) {
  auto obj = ParseBodyObject(req, "backup");
  if (!obj.ok()) return FaultResponse(obj.status());
  auto parsed = ParseCreateBackup(req, *obj);
  if (!parsed.ok()) return FaultResponse(parsed.status());
  CreateBackupRequest& c = *parsed;
  db::BackupRecord b;
  b.id = NewUuid();
  b.project_id = req.ctx.project_id;
  b.user_id = req.ctx.user_id;
  b.volume_id = c.volume_id;
  b.name = c.name;
  b.description = c.description;
  b.container = c.container;
  b.status = lifecycle::Of(BackupOp::kCreate).during;
  b.service = "posix";
  b.metadata = std::move(c.metadata);
  b.created_at = NowMicros();
  Status st = db::InWriteTransaction(env_.db, [&](db::Transaction& tx) {
    ASSIGN_OR_RETURN(auto vol, LoadVisibleVolume(tx, req, c.volume_id));
    return StartBackup(tx, env_.config, c, vol, b);
  });
  if (!st.ok()) return FaultResponse(st);
  return JsonResponse(202, {{"backup", BackupSummaryView(req, b)}});
}

Response BackupsApi::List(Request& req, bool detail) {
  ListSpec spec;
  spec.sort_keys = {"id",         "name",         "display_name", "status",
                    "size",       "created_at",   "updated_at",   "volume_id",
                    "data_timestamp", "availability_zone", "container", "project_id"};
  spec.filter_keys = {"name", "status", "volume_id"};
  spec.max_limit = env_.config.osapi_max_limit;
  auto params = ParseListParams(req, spec);
  if (!params.ok()) return FaultResponse(params.status());
  FilterSpec filter_spec;
  filter_spec.column = [](const std::string& key) -> std::optional<std::string> {
    const std::string col = key == "display_name" ? "name" : key;
    if (!db::IsBackupColumn(col)) return std::nullopt;  // as Cinder's DB layer: dropped
    return col;
  };
  auto filters = SplitFilters(*params, filter_spec);
  if (!filters.ok()) return FaultResponse(filters.status());
  db::BackupFilter filter;
  if (!params->all_tenants) filter.project_id = req.ctx.project_id;
  filter.equals = std::move(filters->equals);
  filter.like = std::move(filters->like);
  std::vector<db::BackupRecord> backups;
  std::map<std::string, int64_t> deps;
  Status st = db::InReadTransaction(env_.db, [&](db::Transaction& tx) {
    ASSIGN_OR_RETURN(backups, db::ListBackups(tx, filter));
    std::vector<std::string> ids;
    for (const auto& b : backups) ids.push_back(b.id);
    ASSIGN_OR_RETURN(deps, db::DependentCounts(tx, ids));
    return Status::Ok();
  });
  if (!st.ok()) return FaultResponse(st);
  auto field = [](const db::BackupRecord& b, const std::string& key) -> json {
    if (key == "name" || key == "display_name") return b.name ? json(*b.name) : json(nullptr);
    if (key == "status") return b.status;
    if (key == "size") return b.size;
    if (key == "created_at") return b.created_at;
    if (key == "updated_at") return b.updated_at ? json(*b.updated_at) : json(nullptr);
    if (key == "volume_id") return b.volume_id;
    if (key == "data_timestamp") return b.data_timestamp;
    if (key == "availability_zone") return b.availability_zone;
    if (key == "container") return b.container ? json(*b.container) : json(nullptr);
    if (key == "project_id") return b.project_id;
    return b.id;
  };
  auto view = [&](const db::BackupRecord& b) -> json {
    if (!detail) return BackupSummaryView(req, b);
    auto it = deps.find(b.id);
    return BackupDetailView(req, b, it == deps.end() ? 0 : it->second);
  };
  MemoryPageSpec page{detail ? "backups/detail" : "backups", "backups", "backups_links",
                      "Backup", params->with_count};
  return PageInMemory(req, std::move(backups), *params, page, field, view);
}

Response BackupsApi::Show(Request& req, const PathParams& p) {
  json out;
  Status st = db::InReadTransaction(env_.db, [&](db::Transaction& tx) {
    ASSIGN_OR_RETURN(auto b, Load(tx, req, p.at("backup_id")));
    ASSIGN_OR_RETURN(out, Detail(tx, req, b));
    return Status::Ok();
  });
  if (!st.ok()) return FaultResponse(st);
  return JsonResponse(200, {{"backup", out}});
}

Response BackupsApi::Update(Request& req, const PathParams& p) {
  auto obj = ParseBodyObject(req, "backup");
  if (!obj.ok()) return FaultResponse(obj.status());
  const json& in = *obj;
  Status bad = req.version >= ApiVersion{3, 43}
                   ? RejectUnknownKeys(in, {"name", "description", "metadata"})
                   : RejectUnknownKeys(in, {"name", "description"});
  if (!bad.ok()) return FaultResponse(bad);
  std::optional<std::optional<std::string>> name, desc;
  if (in.contains("name")) {
    auto s = OptionalString(in, "name");
    if (!s.ok()) return FaultResponse(s.status());
    name = *s;
  }
  if (in.contains("description")) {
    auto s = OptionalString(in, "description");
    if (!s.ok()) return FaultResponse(s.status());
    desc = *s;
  }
  std::optional<std::map<std::string, std::string>> md;
  if (in.contains("metadata")) {
    auto m = ParseMetadata(in["metadata"]);
    if (!m.ok()) return FaultResponse(m.status());
    md = std::move(*m);
  }
  db::BackupRecord b;
  Status st = db::InWriteTransaction(env_.db, [&](db::Transaction& tx) {
    ASSIGN_OR_RETURN(b, Load(tx, req, p.at("backup_id")));
    if (name) b.name = *name;
    if (desc) b.description = *desc;
    RETURN_IF_ERROR(db::UpdateBackup(tx, b));
    if (md) RETURN_IF_ERROR(db::ReplaceBackupMetadata(tx, b.id, *md));
    return Status::Ok();
  });
  if (!st.ok()) return FaultResponse(st);
  return JsonResponse(200, {{"backup", BackupSummaryView(req, b)}});
}

Status BackupsApi::StartDelete(db::Transaction& tx, db::BackupRecord& b, bool force) {
  if (!force && !lifecycle::Can(BackupOp::kDelete, b.status)) {
    return FailedPrecondition("Invalid backup: Backup status must be available or error");
  }
  ASSIGN_OR_RETURN(int64_t deps, db::CountDependentBackups(tx, b.id));
  if (deps > 0) {
    return FailedPrecondition("Invalid backup: Incremental backups exist for this backup.");
  }
  if (b.status == db::backup_status::kDeleting) {
    ASSIGN_OR_RETURN(bool pending, db::HasPendingTask(tx, b.id));
    if (pending) return Status::Ok();  // already on its way
  }
  if (!b.host) return db::DeleteBackup(tx, b.id);
  // A running create or restore sees `deleting` and stops; the delete task runs after it.
  b.status = lifecycle::Of(BackupOp::kDelete).during;
  RETURN_IF_ERROR(db::UpdateBackup(tx, b));
  return tasks::Enqueue(tx, db::BackupTarget(*b.host), b.id, tasks::DeleteBackup{})
      .status();
}

Response BackupsApi::Delete(Request& req, const PathParams& p) {
  Status st = db::InWriteTransaction(env_.db, [&](db::Transaction& tx) {
    ASSIGN_OR_RETURN(auto b, Load(tx, req, p.at("backup_id")));
    return StartDelete(tx, b, /*force=*/false);
  });
  if (!st.ok()) return FaultResponse(st);
  return EmptyResponse(202);
}

Response BackupsApi::Restore(Request& req, const PathParams& p) {
  auto body = ParseJsonBody(req);
  if (!body.ok()) return FaultResponse(body.status());
  if (!body->contains("restore")) {
    return FaultResponse(
        InvalidArgument("Invalid input received: 'restore' is a required property"));
  }
  json in = (*body)["restore"];
  if (in.is_null()) in = json::object();
  if (!in.is_object()) {
    return FaultResponse(InvalidArgument("Invalid input for field/attribute restore. Value: " +
                                         in.dump() + ". " + in.dump() +
                                         " is not of type 'object', 'null'"));
  }
  Status bad = RejectUnknownKeys(in, {"volume_id", "name"});
  if (!bad.ok()) return FaultResponse(bad);
  auto volume_id = OptionalString(in, "volume_id", 36);
  if (!volume_id.ok()) return FaultResponse(volume_id.status());
  auto name = OptionalString(in, "name");
  if (!name.ok()) return FaultResponse(name.status());
  const std::string backup_id = p.at("backup_id");
  json out;
  Status st = db::InWriteTransaction(env_.db, [&](db::Transaction& tx) {
    ASSIGN_OR_RETURN(auto b, Load(tx, req, backup_id));
    RETURN_IF_ERROR(CheckRestorable(b));
    db::VolumeRecord v;
    if (*volume_id) {
      ASSIGN_OR_RETURN(v, LoadVisibleVolume(tx, req, **volume_id));
      RETURN_IF_ERROR(StartRestore(tx, env_.config, b, v));
    } else {
      ASSIGN_OR_RETURN(v, NewRestoreVolume(tx, env_.config, req.ctx.project_id, req.ctx.user_id,
                                           b.size, name->value_or("restore_backup_" + b.id)));
      RETURN_IF_ERROR(StartRestoreIntoNewVolume(tx, env_.config, b, v));
    }
    out = {{"backup_id", b.id}, {"volume_id", v.id}, {"volume_name", v.name ? json(*v.name) : json(nullptr)}};
    return Status::Ok();
  });
  if (!st.ok()) return FaultResponse(st);
  return JsonResponse(202, {{"restore", out}});
}

Response BackupsApi::ExportRecord(Request& req, const PathParams& p) {
  db::BackupRecord b;
  Status st = db::InReadTransaction(env_.db, [&](db::Transaction& tx) {
    ASSIGN_OR_RETURN(b, Load(tx, req, p.at("backup_id")));
    return Status::Ok();
  });
  if (!st.ok()) return FaultResponse(st);
  if (b.status != db::backup_status::kAvailable) {
    return FaultResponse(FailedPrecondition("Invalid backup: Backup status must be available and "
                                            "not " + b.status + "."));
  }
  // Every field of the row (Cinder's backup_url), and the repository's record of the
  // manifest in service_metadata, which import_record checks against the repository.
  json record = {{"id", b.id},
                 {"user_id", b.user_id},
                 {"project_id", b.project_id},
                 {"volume_id", b.volume_id},
                 {"host", b.host ? json(*b.host) : json(nullptr)},
                 {"availability_zone", b.availability_zone},
                 {"container", b.container ? json(*b.container) : json(nullptr)},
                 {"parent_id", b.parent_id ? json(*b.parent_id) : json(nullptr)},
                 {"status", b.status},
                 {"fail_reason", nullptr},
                 {"size", b.size},
                 {"display_name", b.name ? json(*b.name) : json(nullptr)},
                 {"display_description", b.description ? json(*b.description) : json(nullptr)},
                 {"service_metadata", b.service_metadata ? json(*b.service_metadata) : json(nullptr)},
                 {"service", kPosixServiceName},
                 {"object_count", b.object_count},
                 {"snapshot_id", b.snapshot_id ? json(*b.snapshot_id) : json(nullptr)},
                 {"data_timestamp", FormatIsoTime(b.data_timestamp)},
                 {"created_at", FormatIsoTime(b.created_at)},
                 {"metadata", b.metadata},
                 {"encryption_key_id", nullptr},
                 {"driver_info", json::object()}};
  return JsonResponse(200, {{"backup-record",
                             {{"backup_service", kPosixServiceName},
                              {"backup_url", Base64Encode(record.dump())}}}});
}

Response BackupsApi::ImportRecord(Request& req, const PathParams&) {
  auto obj = ParseBodyObject(req, "backup-record");
  if (!obj.ok()) return FaultResponse(obj.status());
  auto record = ParseBackupRecord(*obj);
  if (!record.ok()) return FaultResponse(record.status());
  db::BackupRecord b = ImportedBackup(req, env_.config, *record);
  Status st = db::InWriteTransaction(env_.db, [&](db::Transaction& tx) {
    auto existing = db::GetBackup(tx, b.id);
    if (existing.ok()) {
      return FailedPrecondition("Invalid backup: Backup already exists in database.");
    }
    if (existing.status().code() != StatusCode::kNotFound) return existing.status();
    ASSIGN_OR_RETURN(std::string host, AnyBackupServiceHost(tx, env_.config));
    b.host = host;
    RETURN_IF_ERROR(CheckBackupQuota(tx, env_.config, b.project_id, 1, b.size));
    RETURN_IF_ERROR(db::InsertBackup(tx, b));
    return tasks::Enqueue(tx, db::BackupTarget(host), b.id, tasks::ImportBackup{})
        .status();
  });
  if (!st.ok()) return FaultResponse(st);
  return JsonResponse(201, {{"backup", BackupSummaryView(req, b)}});
}

Response BackupsApi::Action(Request& req, const PathParams& p) {
  auto parsed = ParseActionBody(req.body);
  if (!parsed.ok()) return FaultResponse(parsed.status());
  const auto& [action, args] = *parsed;
  const std::string& id = p.at("backup_id");
  if (action == "os-reset_status") return ResetStatus(req, id, args);
  if (action == "os-force_delete") return ForceDelete(req, id);
  if (action == "os-verify") return Verify(req, id, args);
  return FaultResponse(InvalidArgument("There is no such action: " + action));
}

Response BackupsApi::ResetStatus(Request& req, const std::string& id, const json& args) {
  if (!args.is_object() || !args.contains("status") || !args["status"].is_string()) {
    return FaultResponse(InvalidArgument("Invalid input received: 'status' is a required "
                                         "property and must be a string"));
  }
  Status bad = RejectUnknownKeys(args, {"status"});
  if (!bad.ok()) return FaultResponse(bad);
  std::string status = args["status"].get<std::string>();
  for (char& c : status) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (status != db::backup_status::kAvailable && status != db::backup_status::kError) {
    return FaultResponse(InvalidArgument("Invalid input received: backup status must be "
                                         "available or error, not " + status));
  }
  Status st = db::InWriteTransaction(env_.db, [&](db::Transaction& tx) {
    ASSIGN_OR_RETURN(auto b, Load(tx, req, id));
    b.status = status;
    b.progress_op.reset();
    return db::UpdateBackup(tx, b);
  });
  if (!st.ok()) return FaultResponse(st);
  return EmptyResponse(202);
}

Response BackupsApi::ForceDelete(Request& req, const std::string& id) {
  Status st = db::InWriteTransaction(env_.db, [&](db::Transaction& tx) {
    ASSIGN_OR_RETURN(auto b, Load(tx, req, id));
    return StartDelete(tx, b, /*force=*/true);
  });
  if (!st.ok()) return FaultResponse(st);
  return EmptyResponse(202);
}

Response BackupsApi::Verify(Request& req, const std::string& id, const json& args) {
  if (!args.is_null() && !(args.is_object() && args.empty())) {
    return FaultResponse(InvalidArgument("Invalid input received: os-verify takes no arguments"));
  }
  Status st = db::InWriteTransaction(env_.db, [&](db::Transaction& tx) {
    ASSIGN_OR_RETURN(auto b, Load(tx, req, id));
    if (b.status != db::backup_status::kAvailable) {
      return FailedPrecondition("Invalid backup: Backup status must be available to verify, "
                                "but is " + b.status + ".");
    }
    if (!b.host) return FailedPrecondition("Invalid backup: Backup " + id + " has no host.");
    RETURN_IF_ERROR(CheckBackupServiceUp(tx, env_.config, *b.host));
    b.verify_result.reset();
    b.verified_at.reset();
    RETURN_IF_ERROR(db::UpdateBackup(tx, b));
    return tasks::Enqueue(tx, db::BackupTarget(*b.host), b.id, tasks::VerifyBackup{})
        .status();
  });
  if (!st.ok()) return FaultResponse(st);
  return EmptyResponse(202);
}

}  // namespace

void RegisterBackupRoutes(Router& r, const ApiEnv& env) {
  auto api = std::make_shared<BackupsApi>(env);
  auto bind = [api](auto fn) { return BindMethod(api, fn); };
  r.Add("POST", "/backups", bind(&BackupsApi::Create));
  r.Add("GET", "/backups", [api](Request& req, const PathParams&) { return api->List(req, false); });
  r.Add("GET", "/backups/detail",
        [api](Request& req, const PathParams&) { return api->List(req, true); });
  r.Add("POST", "/backups/import_record", bind(&BackupsApi::ImportRecord));
  r.Add("GET", "/backups/{backup_id}", bind(&BackupsApi::Show));
  r.Add("PUT", "/backups/{backup_id}", bind(&BackupsApi::Update), ApiVersion{3, 9});
  r.Add("DELETE", "/backups/{backup_id}", bind(&BackupsApi::Delete));
  r.Add("POST", "/backups/{backup_id}/restore", bind(&BackupsApi::Restore));
  r.Add("GET", "/backups/{backup_id}/export_record", bind(&BackupsApi::ExportRecord));
  r.Add("POST", "/backups/{backup_id}/action", bind(&BackupsApi::Action));
}

}  // namespace scoria::api
