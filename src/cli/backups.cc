#include "cli/backups.h"

#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>

#include "cli/resolve.h"
#include "cli/table.h"
#include "cli/wait.h"
#include "lifecycle/backup_status.h"
#include "lifecycle/volume_status.h"

namespace scoria::cli {
namespace {

using nlohmann::json;

ResourceKind BackupKind() {
  return {"backup", "/backups/", "backup", "/backups/detail", {{"all_tenants", "1"}},
          true,     "backups"};
}

std::string BackupPath(const std::string& id) { return "/backups/" + ApiClient::PathSegment(id); }

WaitSpec BackupWait(const std::string& id) { return WaitOn("backup", id, BackupPath(id)); }

std::string Str(const json& obj, const std::string& key) {
  return obj.is_object() && obj.contains(key) && obj[key].is_string() ? obj[key].get<std::string>()
                                                                      : "";
}

// Draws a job's progress on stderr (see backups.h).
class ProgressDrawer {
 public:
  explicit ProgressDrawer(const Output& out) : out_(out) {}
  ~ProgressDrawer() {
    if (drawn_) out_.err << "\n" << std::flush;
  }
  void Show(const std::string& what, const json& progress) {
    if (!progress.is_object()) return;
    const uint64_t done = progress.value("bytes_done", uint64_t{0});
    const uint64_t total = progress.value("bytes_total", uint64_t{0});
    const std::string line = what + " " + ProgressBar(done, total);
    if (out_.err_is_tty) {
      std::string pad(last_len_ > line.size() ? last_len_ - line.size() : 0, ' ');
      out_.err << "\r" << line << pad << std::flush;
      last_len_ = line.size();
      drawn_ = true;
      return;
    }
    const int step = total == 0 ? 0 : static_cast<int>(done * 10 / total);
    if (step != last_step_) {
      out_.err << line << "\n" << std::flush;
      last_step_ = step;
    }
  }

 private:
  const Output& out_;
  size_t last_len_ = 0;
  bool drawn_ = false;
  int last_step_ = -1;
};

// Polls the backup while its status is `busy`, drawing its progress; returns it once the
// status changed.
Result<json> WaitWhile(Context& ctx, const std::string& id, const std::string& busy,
                       const std::string& what) {
  const double start = ctx.clock.Now();
  ProgressDrawer drawer(ctx.output);
  while (true) {
    ASSIGN_OR_RETURN(json body, ctx.api.Get(BackupPath(id)));
    ASSIGN_OR_RETURN(json backup, AnswerMember(body, "backup"));
    if (Str(backup, "status") != busy) {
      if (Str(backup, "status") == backup_status::kAvailable) {
        json last = {{"bytes_done", 1}, {"bytes_total", 1}};
        drawer.Show(what, last);  // the final 100 %
      }
      return backup;
    }
    drawer.Show(what, backup.value("progress", json()));
    if (ctx.clock.Now() - start >= ctx.wait_timeout_s) {
      return FailedPrecondition("timed out after " +
                                std::to_string(static_cast<long>(ctx.wait_timeout_s)) +
                                " s waiting for backup " + id + " (status '" + busy + "')");
    }
    ctx.clock.Sleep(0.25);
  }
}

Status FailedBackup(const json& backup) {
  std::string message = "backup " + Str(backup, "id") + " is in status '" + Str(backup, "status") + "'";
  if (!Str(backup, "fail_reason").empty()) message += ": " + Str(backup, "fail_reason");
  return FailedPrecondition(message);
}

void PrintBackup(const Output& out, const json& backup) { out.Print(backup, RenderProperties(backup)); }

void AddCreate(CLI::App& app, CommandTable& table) {
  struct Opts {
    std::string volume, snapshot, name, description, container;
    bool incremental = false, force = false, wait = false;
    CLI::Option *snapshot_opt, *name_opt, *description_opt, *container_opt;
  };
  auto o = std::make_shared<Opts>();
  CLI::App* sub = table.Add(app, "backup-create", "Creates a backup of a volume.",
                            [o](Context& ctx) -> Status {
    ASSIGN_OR_RETURN(json v, FindVolume(ctx.api, o->volume));
    json backup = {{"volume_id", IdOf(v)}};
    if (o->incremental) backup["incremental"] = true;
    if (o->force) backup["force"] = true;
    if (o->snapshot_opt->count()) backup["snapshot_id"] = o->snapshot;
    if (o->name_opt->count()) backup["name"] = o->name;
    if (o->description_opt->count()) backup["description"] = o->description;
    if (o->container_opt->count()) backup["container"] = o->container;
    ASSIGN_OR_RETURN(json body, ctx.api.Post("/backups", json{{"backup", backup}}));
    ASSIGN_OR_RETURN(json created, AnswerMember(body, "backup"));
    if (o->wait) {
      ASSIGN_OR_RETURN(created, WaitWhile(ctx, IdOf(created), backup_status::kCreating, "backup"));
      if (Str(created, "status") != backup_status::kAvailable) return FailedBackup(created);
    }
    PrintBackup(ctx.output, created);
    return Status::Ok();
  });
  sub->add_option("VOLUME", o->volume, "Name or id of the volume to back up.")->required();
  sub->add_flag("--incremental", o->incremental,
                "Incremental backup on top of the volume's latest available backup.");
  sub->add_flag("--force", o->force, "Backs up an in-use (attached) volume.");
  o->snapshot_opt = sub->add_option("--snapshot-id", o->snapshot, "Backs up this snapshot.");
  o->name_opt = sub->add_option("--name", o->name, "Backup name.");
  o->description_opt = sub->add_option("--description", o->description, "Backup description.");
  o->container_opt = sub->add_option("--container", o->container, "Backup container.");
  sub->add_flag("--wait", o->wait, "Waits until the backup is available, drawing its progress.");
}

void AddList(CLI::App& app, CommandTable& table) {
  struct Opts {
    bool all_tenants = false;
    std::string volume, status, name;
    CLI::Option *volume_opt, *status_opt, *name_opt;
  };
  auto o = std::make_shared<Opts>();
  CLI::App* sub = table.Add(app, "backup-list", "Lists backups.", [o](Context& ctx) -> Status {
    Query query;
    if (o->all_tenants) query.emplace_back("all_tenants", "1");
    if (o->volume_opt->count()) query.emplace_back("volume_id", o->volume);
    if (o->status_opt->count()) query.emplace_back("status", o->status);
    if (o->name_opt->count()) query.emplace_back("name", o->name);
    ASSIGN_OR_RETURN(json backups, ListAll(ctx.api, "/backups/detail", query, "backups", true));
    ctx.output.Print(backups, RenderList(backups, {{"ID", "id"},
                                                   {"Volume ID", "volume_id"},
                                                   {"Status", "status"},
                                                   {"Name", "name"},
                                                   {"Size", "size"},
                                                   {"Object Count", "object_count"},
                                                   {"Incremental", "is_incremental"},
                                                   {"Container", "container"}}));
    return Status::Ok();
  });
  sub->add_flag("--all-tenants", o->all_tenants, "Shows backups of all projects (admin).");
  o->volume_opt = sub->add_option("--volume-id", o->volume, "Filters by volume id.");
  o->status_opt = sub->add_option("--status", o->status, "Filters by status.");
  o->name_opt = sub->add_option("--name", o->name, "Filters by name.");
}

void AddShow(CLI::App& app, CommandTable& table) {
  auto backup = std::make_shared<std::string>();
  CLI::App* sub =
      table.Add(app, "backup-show", "Shows backup details.", [backup](Context& ctx) -> Status {
        ASSIGN_OR_RETURN(json b, FindResource(ctx.api, BackupKind(), *backup));
        PrintBackup(ctx.output, b);
        return Status::Ok();
      });
  sub->add_option("BACKUP", *backup, "Name or id of the backup.")->required();
}

void AddRestore(CLI::App& app, CommandTable& table) {
  struct Opts {
    std::string backup, volume, name;
    bool wait = false;
    CLI::Option *volume_opt, *name_opt;
  };
  auto o = std::make_shared<Opts>();
  CLI::App* sub = table.Add(
      app, "backup-restore", "Restores a backup into a new or an existing volume.",
      [o](Context& ctx) -> Status {
        ASSIGN_OR_RETURN(json b, FindResource(ctx.api, BackupKind(), o->backup));
        const std::string id = IdOf(b);
        json restore = json::object();
        if (o->volume_opt->count()) {
          ASSIGN_OR_RETURN(json v, FindVolume(ctx.api, o->volume));
          restore["volume_id"] = IdOf(v);
        }
        if (o->name_opt->count()) restore["name"] = o->name;
        ASSIGN_OR_RETURN(json body,
                         ctx.api.Post(BackupPath(id) + "/restore", json{{"restore", restore}}));
        ASSIGN_OR_RETURN(json result, AnswerMember(body, "restore"));
        if (o->wait) {
          ASSIGN_OR_RETURN(json done, WaitWhile(ctx, id, backup_status::kRestoring, "restore"));
          const std::string volume_id = Str(result, "volume_id");
          ASSIGN_OR_RETURN(json vbody, ctx.api.Get("/volumes/" + ApiClient::PathSegment(volume_id)));
          ASSIGN_OR_RETURN(json volume, AnswerMember(vbody, "volume"));
          const std::string vstatus = Str(volume, "status");
          if (vstatus != volume_status::kAvailable) {
            std::string message = "volume " + volume_id + " is in status '" + vstatus + "'";
            if (!Str(done, "fail_reason").empty()) message += ": " + Str(done, "fail_reason");
            return FailedPrecondition(message);
          }
        }
        ctx.output.Print(result, RenderProperties(result));
        return Status::Ok();
      });
  sub->add_option("BACKUP", o->backup, "Name or id of the backup.")->required();
  o->volume_opt = sub->add_option("--volume", o->volume,
                                  "Existing volume to restore into (name or id); default: a new "
                                  "volume.");
  o->name_opt = sub->add_option("--name", o->name, "Name of the new volume.");
  sub->add_flag("--wait", o->wait, "Waits until the restore ends, drawing its progress.");
}

void AddDelete(CLI::App& app, CommandTable& table) {
  struct Opts {
    std::vector<std::string> backups;
    bool force = false, wait = false;
  };
  auto o = std::make_shared<Opts>();
  CLI::App* sub = table.Add(app, "backup-delete", "Removes one or more backups.",
                            [o](Context& ctx) -> Status {
    return DeleteEach(
        ctx, o->backups, "backup",
        [&](const std::string& arg) -> Result<std::string> {
          ASSIGN_OR_RETURN(json b, FindResource(ctx.api, BackupKind(), arg));
          const std::string id = IdOf(b);
          if (o->force) {
            RETURN_IF_ERROR(
                ctx.api.Post(BackupPath(id) + "/action", json{{"os-force_delete", json::object()}})
                    .status());
          } else {
            RETURN_IF_ERROR(ctx.api.Delete(BackupPath(id)).status());
          }
          return id;
        },
        o->wait ? BackupWait : nullptr);
  });
  sub->add_option("BACKUP", o->backups, "Names or ids of the backups.")->required();
  sub->add_flag("--force", o->force, "Deletes whatever the backup's status (admin).");
  sub->add_flag("--wait", o->wait, "Waits until the backups are gone.");
}

void AddExport(CLI::App& app, CommandTable& table) {
  auto backup = std::make_shared<std::string>();
  CLI::App* sub = table.Add(app, "backup-export", "Exports a backup's record (admin).",
                            [backup](Context& ctx) -> Status {
    ASSIGN_OR_RETURN(json b, FindResource(ctx.api, BackupKind(), *backup));
    ASSIGN_OR_RETURN(json body, ctx.api.Get(BackupPath(IdOf(b)) + "/export_record"));
    ASSIGN_OR_RETURN(json record, AnswerMember(body, "backup-record"));
    ctx.output.Print(record, RenderProperties(record));
    return Status::Ok();
  });
  sub->add_option("BACKUP", *backup, "Name or id of the backup.")->required();
}

void AddImport(CLI::App& app, CommandTable& table) {
  struct Opts {
    std::string service, url;
  };
  auto o = std::make_shared<Opts>();
  CLI::App* sub = table.Add(app, "backup-import", "Imports a backup record (admin).",
                            [o](Context& ctx) -> Status {
    json record = {{"backup_service", o->service}, {"backup_url", o->url}};
    ASSIGN_OR_RETURN(json body, ctx.api.Post("/backups/import_record",
                                             json{{"backup-record", record}}));
    ASSIGN_OR_RETURN(json b, AnswerMember(body, "backup"));
    ctx.output.Print(b, RenderProperties(b));
    return Status::Ok();
  });
  sub->add_option("BACKUP_SERVICE", o->service, "backup_service of the exported record.")
      ->required();
  sub->add_option("BACKUP_URL", o->url, "backup_url of the exported record.")->required();
}

void AddVerify(CLI::App& app, CommandTable& table) {
  auto backup = std::make_shared<std::string>();
  CLI::App* sub = table.Add(
      app, "backup-verify",
      "Checks that every chunk of a backup is in the repository and intact, without restoring "
      "it (Scoria extension).",
      [backup](Context& ctx) -> Status {
        ASSIGN_OR_RETURN(json b, FindResource(ctx.api, BackupKind(), *backup));
        const std::string id = IdOf(b);
        RETURN_IF_ERROR(
            ctx.api.Post(BackupPath(id) + "/action", json{{"os-verify", json::object()}}).status());
        const double start = ctx.clock.Now();
        while (true) {
          ASSIGN_OR_RETURN(json body, ctx.api.Get(BackupPath(id)));
          ASSIGN_OR_RETURN(json cur, AnswerMember(body, "backup"));
          if (cur.contains("verified_at") && !cur["verified_at"].is_null()) {
            const std::string result = Str(cur, "verify_result");
            json out = {{"id", id}, {"verify_result", result}, {"verified_at", cur["verified_at"]}};
            ctx.output.Print(out, RenderProperties(out));
            if (result != "ok") return FailedPrecondition("backup " + id + " is damaged: " + result);
            return Status::Ok();
          }
          if (ctx.clock.Now() - start >= ctx.wait_timeout_s) {
            return FailedPrecondition("timed out waiting for the verification of backup " + id);
          }
          ctx.clock.Sleep(0.25);
        }
      });
  sub->add_option("BACKUP", *backup, "Name or id of the backup.")->required();
}

}  // namespace

std::string HumanBytes(uint64_t bytes) {
  static const char* kUnits[] = {"KiB", "MiB", "GiB", "TiB", "PiB"};
  if (bytes < 1024) return std::to_string(bytes) + " B";
  double v = static_cast<double>(bytes) / 1024;
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f %s", v, kUnits[u]);
  return buf;
}

std::string ProgressBar(uint64_t done, uint64_t total, int width) {
  if (done > total) done = total;
  const int percent = total == 0 ? 0 : static_cast<int>(done * 100 / total);
  const int filled = total == 0 ? 0 : static_cast<int>(done * static_cast<uint64_t>(width) / total);
  std::string bar = "[" + std::string(static_cast<size_t>(filled), '#') +
                    std::string(static_cast<size_t>(width - filled), '-') + "]";
  char pct[8];
  std::snprintf(pct, sizeof(pct), "%3d%%", percent);
  return bar + " " + pct + "  " + HumanBytes(done) + " / " + HumanBytes(total);
}

void AddBackupCommands(CLI::App& app, CommandTable& table) {
  AddCreate(app, table);
  AddList(app, table);
  AddShow(app, table);
  AddRestore(app, table);
  AddDelete(app, table);
  AddExport(app, table);
  AddImport(app, table);
  AddVerify(app, table);
}

}  // namespace scoria::cli
