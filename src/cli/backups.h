// The backup verbs of the scoria CLI (cinder's names), and the HTTP each one speaks:
//
//   backup-create VOLUME [--incremental] [--force] [--snapshot-id S] [--name N]
//                 [--description D] [--container C]              [--wait]
//       POST /backups {"backup": {volume_id, incremental?, force?, snapshot_id?, name?, ...}}
//   backup-list [--all-tenants] [--volume-id V] [--status S] [--name N]
//       GET /backups/detail (follows backups_links)
//   backup-show BACKUP               name or id, as cinder's find_resource
//   backup-restore BACKUP [--volume V] [--name N]                  [--wait]
//       POST /backups/<id>/restore {"restore": {volume_id?, name?}}
//   backup-delete BACKUP... [--force] [--wait]
//       DELETE /backups/<id>, or --force: POST /backups/<id>/action {"os-force_delete": {}}
//   backup-export BACKUP             GET /backups/<id>/export_record
//   backup-import SERVICE URL        POST /backups/import_record {"backup-record": {...}}
//   backup-verify BACKUP             POST /backups/<id>/action {"os-verify": {}}, then polls
//                                    the backup until verified_at is set (Scoria extension)
//
// --wait of backup-create and backup-restore draws a progress bar from the backup's
// "progress" object (bytes and percent; Scoria extension) on stderr: one rewritten line on a
// terminal, one line per 10 % otherwise. A backup ending in error, a restore leaving its
// volume in error, or a verify finding a problem ends with exit code 4 and the reason.
#pragma once

#include <cstdint>
#include <string>

#include "cli/command.h"

namespace scoria::cli {

void AddBackupCommands(CLI::App& app, CommandTable& table);

// "[##########----------]  50%  512.0 MiB / 1.0 GiB" (width = number of bar cells). total 0:
// an empty bar at 0 %.
std::string ProgressBar(uint64_t done, uint64_t total, int width = 30);
// 1536 -> "1.5 KiB"; below 1 KiB: "<n> B".
std::string HumanBytes(uint64_t bytes);

}  // namespace scoria::cli
