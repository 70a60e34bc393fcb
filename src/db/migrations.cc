#include "db/migrations.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <set>

#include "common/clock.h"

namespace scoria::db {

const std::vector<Migration>& Migrations() {
  static const std::vector<Migration> kMigrations = {
      {1,
       "volumes, types, services, tasks, messages, quotas",
       {
           R"(CREATE TABLE volume_types (
                id TEXT PRIMARY KEY,
                name TEXT NOT NULL UNIQUE,
                description TEXT,
                is_public BIGINT NOT NULL DEFAULT 1,
                created_at BIGINT NOT NULL,
                updated_at BIGINT))",
           R"(CREATE TABLE volume_type_extra_specs (
                type_id TEXT NOT NULL REFERENCES volume_types(id) ON DELETE CASCADE,
                key TEXT NOT NULL,
                value TEXT NOT NULL,
                PRIMARY KEY (type_id, key)))",
           R"(CREATE TABLE volume_type_projects (
                type_id TEXT NOT NULL REFERENCES volume_types(id) ON DELETE CASCADE,
                project_id TEXT NOT NULL,
                PRIMARY KEY (type_id, project_id)))",
           R"(CREATE TABLE volumes (
                id TEXT PRIMARY KEY,
                project_id TEXT NOT NULL,
                user_id TEXT NOT NULL,
                name TEXT,
                description TEXT,
                size BIGINT NOT NULL,
                status TEXT NOT NULL,
                previous_status TEXT,
                attach_status TEXT NOT NULL DEFAULT 'detached',
                migration_status TEXT,
                host TEXT,
                availability_zone TEXT NOT NULL,
                volume_type_id TEXT NOT NULL,
                bootable BIGINT NOT NULL DEFAULT 0,
                readonly BIGINT NOT NULL DEFAULT 0,
                multiattach BIGINT NOT NULL DEFAULT 0,
                snapshot_id TEXT,
                source_volid TEXT,
                provider_location TEXT,
                scheduling_attempts BIGINT NOT NULL DEFAULT 0,
                created_at BIGINT NOT NULL,
                updated_at BIGINT,
                launched_at BIGINT))",
           "CREATE INDEX volumes_project_created ON volumes (project_id, created_at)",
           "CREATE INDEX volumes_created ON volumes (created_at)",
           "CREATE INDEX volumes_host ON volumes (host)",
           "CREATE INDEX volumes_type ON volumes (volume_type_id)",
           R"(CREATE TABLE volume_metadata (
                volume_id TEXT NOT NULL REFERENCES volumes(id) ON DELETE CASCADE,
                key TEXT NOT NULL,
                value TEXT NOT NULL,
                PRIMARY KEY (volume_id, key)))",
           R"(CREATE TABLE services (
                host TEXT NOT NULL,
                binary_name TEXT NOT NULL,
                availability_zone TEXT NOT NULL,
                disabled BIGINT NOT NULL DEFAULT 0,
                disabled_reason TEXT,
                capabilities TEXT,
                report_count BIGINT NOT NULL DEFAULT 0,
                created_at BIGINT NOT NULL,
                updated_at BIGINT,
                PRIMARY KEY (host, binary_name)))",
           // A task is work for one target ("scheduler" or "host@backend"). Tasks of the same
           // resource run in id order; a lease marks the task as taken until lease_expires.
           R"(CREATE TABLE tasks (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                kind TEXT NOT NULL,
                target TEXT NOT NULL,
                resource_id TEXT NOT NULL,
                args TEXT NOT NULL,
                attempts BIGINT NOT NULL DEFAULT 0,
                lease_owner TEXT,
                lease_expires BIGINT,
                not_before BIGINT NOT NULL DEFAULT 0,
                created_at BIGINT NOT NULL))",
           "CREATE INDEX tasks_target ON tasks (target, id)",
           "CREATE INDEX tasks_resource ON tasks (resource_id, id)",
           R"(CREATE TABLE messages (
                id TEXT PRIMARY KEY,
                project_id TEXT NOT NULL,
                request_id TEXT,
                resource_type TEXT NOT NULL,
                resource_uuid TEXT,
                event_id TEXT NOT NULL,
                action_id TEXT,
                detail_id TEXT,
                message_level TEXT NOT NULL,
                user_message TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                expires_at BIGINT NOT NULL))",
           "CREATE INDEX messages_project ON messages (project_id, created_at)",
           R"(CREATE TABLE quotas (
                project_id TEXT NOT NULL,
                resource TEXT NOT NULL,
                hard_limit BIGINT NOT NULL,
                PRIMARY KEY (project_id, resource)))",
       }},
      {2,
       "attachments",
       {
           // One row per attachment (Cinder's volume_attachment). connector and
           // connection_info are JSON; exported says the volume service has published the
           // access entry of this row (restored at start). No foreign key to volumes: a volume
           // with attachments cannot be deleted, and reset-state removes rows on its own.
           R"(CREATE TABLE attachments (
                id TEXT PRIMARY KEY,
                volume_id TEXT NOT NULL,
                project_id TEXT NOT NULL,
                user_id TEXT NOT NULL,
                instance_uuid TEXT,
                attached_host TEXT,
                mountpoint TEXT,
                attach_mode TEXT,
                attach_status TEXT NOT NULL,
                connector TEXT,
                initiator TEXT,
                chap_user TEXT,
                chap_secret TEXT,
                connection_info TEXT,
                exported BIGINT NOT NULL DEFAULT 0,
                created_at BIGINT NOT NULL,
                updated_at BIGINT,
                attach_time BIGINT,
                detach_time BIGINT))",
           "CREATE INDEX attachments_volume ON attachments (volume_id, created_at)",
           "CREATE INDEX attachments_project ON attachments (project_id, created_at)",
       }},
      {3,
       "snapshots",
       {
           // One row per snapshot (Cinder's snapshots table, the columns its views need).
           // size is the volume's size when the snapshot was taken (GiB); progress is
           // Cinder's "N%" string. Rows are removed when deleted (like volumes). No foreign
           // key to volumes: the api refuses to delete a volume that has snapshots.
           R"(CREATE TABLE snapshots (
                id TEXT PRIMARY KEY,
                project_id TEXT NOT NULL,
                user_id TEXT NOT NULL,
                volume_id TEXT NOT NULL,
                name TEXT,
                description TEXT,
                size BIGINT NOT NULL,
                status TEXT NOT NULL,
                progress TEXT,
                provider_location TEXT,
                created_at BIGINT NOT NULL,
                updated_at BIGINT))",
           "CREATE INDEX snapshots_project_created ON snapshots (project_id, created_at)",
           "CREATE INDEX snapshots_volume ON snapshots (volume_id, created_at)",
           R"(CREATE TABLE snapshot_metadata (
                snapshot_id TEXT NOT NULL REFERENCES snapshots(id) ON DELETE CASCADE,
                key TEXT NOT NULL,
                value TEXT NOT NULL,
                PRIMARY KEY (snapshot_id, key)))",
       }},
      {4,
       "backups",
       {
           // One row per backup (Cinder's backups table). host is the host whose backup
           // service runs the backup's jobs (its volume's host); progress_* are written while a
           // job runs; verify_* hold the last os-verify; service_metadata is the repository's
           // record of the backup's manifest (export_record carries it). No foreign key to volumes:
           // a backup outlives its volume.
           R"(CREATE TABLE backups (
                id TEXT PRIMARY KEY,
                project_id TEXT NOT NULL,
                user_id TEXT NOT NULL,
                volume_id TEXT NOT NULL,
                snapshot_id TEXT,
                parent_id TEXT,
                name TEXT,
                description TEXT,
                container TEXT,
                availability_zone TEXT NOT NULL,
                host TEXT,
                service TEXT,
                service_metadata TEXT,
                status TEXT NOT NULL,
                fail_reason TEXT,
                size BIGINT NOT NULL,
                object_count BIGINT NOT NULL DEFAULT 0,
                data_timestamp BIGINT NOT NULL,
                temp_snapshot_id TEXT,
                restore_volume_id TEXT,
                progress_op TEXT,
                progress_done BIGINT NOT NULL DEFAULT 0,
                progress_total BIGINT NOT NULL DEFAULT 0,
                verify_result TEXT,
                verified_at BIGINT,
                created_at BIGINT NOT NULL,
                updated_at BIGINT))",
           "CREATE INDEX backups_project_created ON backups (project_id, created_at)",
           "CREATE INDEX backups_volume ON backups (volume_id, data_timestamp)",
           "CREATE INDEX backups_parent ON backups (parent_id)",
           R"(CREATE TABLE backup_metadata (
                backup_id TEXT NOT NULL REFERENCES backups(id) ON DELETE CASCADE,
                key TEXT NOT NULL,
                value TEXT NOT NULL,
                PRIMARY KEY (backup_id, key)))",
       }},
      {5,
       "target CHAP credentials of attachments (mutual CHAP)",
       {
           "ALTER TABLE attachments ADD COLUMN target_chap_user TEXT",
           "ALTER TABLE attachments ADD COLUMN target_chap_secret TEXT",
       }},
      {6,
       "frozen volume services (os-services/freeze, thaw)",
       {
           // 1 while an operator has frozen the backend: the api refuses volume deletes and
           // snapshot creates/deletes on it and the scheduler places nothing there.
           "ALTER TABLE services ADD COLUMN frozen BIGINT NOT NULL DEFAULT 0",
       }},
      {7,
       "list indexes end with id",
       {
           // Listings sort by (created_at, id) (id breaks ties, for stable pages): with id in
           // the index both databases read a page in order instead of sorting it (SQLite's
           // temporary B-tree was 7% of a 200-volume listing).
           "DROP INDEX volumes_created",
           "CREATE INDEX volumes_created ON volumes (created_at, id)",
           "DROP INDEX volumes_project_created",
           "CREATE INDEX volumes_project_created ON volumes (project_id, created_at, id)",
           "DROP INDEX snapshots_project_created",
           "CREATE INDEX snapshots_project_created ON snapshots (project_id, created_at, id)",
           "DROP INDEX backups_project_created",
           "CREATE INDEX backups_project_created ON backups (project_id, created_at, id)",
       }},
      {8,
       "quota classes (os-quota-class-sets)",
       {
           R"(CREATE TABLE quota_classes (
                class_name TEXT NOT NULL,
                resource TEXT NOT NULL,
                hard_limit BIGINT NOT NULL,
                PRIMARY KEY (class_name, resource)))",
       }},
      {9,
       "volume transfers",
       {
           // A pending transfer; accepting or deleting it removes the row. The key is kept
           // only as a salted SHA-256 (crypt_hash), as Cinder keeps a salted SHA-1.
           R"(CREATE TABLE transfers (
                id TEXT PRIMARY KEY,
                volume_id TEXT NOT NULL UNIQUE,
                name TEXT,
                salt TEXT NOT NULL,
                crypt_hash TEXT NOT NULL,
                source_project_id TEXT NOT NULL,
                no_snapshots BIGINT NOT NULL DEFAULT 0,
                created_at BIGINT NOT NULL))",
           "CREATE INDEX transfers_project ON transfers (source_project_id, created_at, id)",
       }},
  };
  return kMigrations;
}

Status ApplyMigrations(Transaction& tx,
                       const std::function<std::string(const std::string&)>& ddl) {
  RETURN_IF_ERROR(
      tx.Exec("CREATE TABLE IF NOT EXISTS schema_version (version BIGINT PRIMARY KEY, "
              "description TEXT NOT NULL, applied_at BIGINT NOT NULL)")
          .status());
  ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT version FROM schema_version"));
  std::set<int> applied;
  for (const Row& r : rows) applied.insert(static_cast<int>(r.Int(0)));
  // Applied by version, each one that is missing: work on several features can add
  // migrations in any order in the list, and a database that has a later one still gets an
  // earlier one it lacks.
  std::vector<const Migration*> all;
  for (const Migration& m : Migrations()) all.push_back(&m);
  std::sort(all.begin(), all.end(),
            [](const Migration* a, const Migration* b) { return a->version < b->version; });
  if (!applied.empty() && !all.empty() && *applied.rbegin() > all.back()->version) {
    return FailedPrecondition("database schema version " + std::to_string(*applied.rbegin()) +
                              " is newer than this scoriad (" +
                              std::to_string(all.back()->version) + "): upgrade scoriad");
  }
  for (const Migration* m : all) {
    if (applied.count(m->version) > 0) continue;
    for (const std::string& stmt : m->statements) {
      auto r = tx.Exec(ddl(stmt));
      if (!r.ok()) {
        return Internal("migration " + std::to_string(m->version) + " failed: " +
                        r.status().message());
      }
    }
    RETURN_IF_ERROR(tx.Exec("INSERT INTO schema_version (version, description, applied_at) "
                            "VALUES (?, ?, ?)",
                            {static_cast<int64_t>(m->version), m->description,
                             NowMicros() / 1'000'000})
                        .status());
    spdlog::info("database: applied migration {} ({})", m->version, m->description);
  }
  return Status::Ok();
}

Result<int> ReadSchemaVersion(Transaction& tx) {
  ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT MAX(version) FROM schema_version"));
  if (rows.empty()) return 0;
  return static_cast<int>(rows[0].Int(0));
}

}  // namespace scoria::db
