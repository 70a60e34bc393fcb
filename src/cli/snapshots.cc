#include "cli/snapshots.h"

#include <CLI/CLI.hpp>
#include <memory>

#include "cli/resolve.h"
#include "cli/table.h"
#include "cli/volumes.h"
#include "cli/wait.h"

namespace scoria::cli {
namespace {

using nlohmann::json;

std::string SnapshotPath(const std::string& id) {
  return "/snapshots/" + ApiClient::PathSegment(id);
}

WaitSpec SnapshotWait(const std::string& id) { return WaitOn("snapshot", id, SnapshotPath(id)); }

Result<json> SnapshotFromBody(const json& body) { return AnswerMember(body, "snapshot"); }

const std::vector<Column> kSnapshotColumns = {{"ID", "id"},
                                              {"Volume ID", "volume_id"},
                                              {"Status", "status"},
                                              {"Name", "name"},
                                              {"Size", "size"}};

void AddSnapshotCreate(CLI::App& app, CommandTable& table) {
  struct Opts {
    std::string volume, name, description;
    std::vector<std::string> metadata;
    bool force = false, wait = false;
    CLI::Option *name_opt, *description_opt;
  };
  auto o = std::make_shared<Opts>();
  CLI::App* sub = table.Add(
      app, "snapshot-create", "Creates a snapshot of a volume.", [o](Context& ctx) -> Status {
        ASSIGN_OR_RETURN(json v, FindVolume(ctx.api, o->volume));
        json snap = {{"volume_id", IdOf(v)}};
        if (o->name_opt->count()) snap["name"] = o->name;
        if (o->description_opt->count()) snap["description"] = o->description;
        if (o->force) snap["force"] = true;  // before 3.66: allows an in-use volume
        if (!o->metadata.empty()) {
          ASSIGN_OR_RETURN(auto metadata, ParseKeyValues(o->metadata));
          snap["metadata"] = metadata;
        }
        ASSIGN_OR_RETURN(json body, ctx.api.Post("/snapshots", json{{"snapshot", snap}}));
        ASSIGN_OR_RETURN(json created, SnapshotFromBody(body));
        if (o->wait) {
          ASSIGN_OR_RETURN(created, WaitFor(ctx, SnapshotWait(IdOf(created))));
        }
        ctx.output.Print(created, RenderProperties(created));
        return Status::Ok();
      });
  sub->add_option("VOLUME", o->volume, "Name or id of the volume to snapshot.")->required();
  o->name_opt = sub->add_option("--name", o->name, "Snapshot name.");
  o->description_opt = sub->add_option("--description", o->description, "Snapshot description.");
  sub->add_option("--metadata", o->metadata, "Metadata key=value pairs.")->expected(1, -1);
  sub->add_flag("--force", o->force, "Snapshots an in-use volume (needed before 3.66).");
  sub->add_flag("--wait", o->wait, "Wait until the snapshot is available (or failed).");
}

void AddSnapshotList(CLI::App& app, CommandTable& table) {
  struct Opts {
    bool all_tenants = false;
    std::string volume, name, status;
    long limit = 0;
    CLI::Option *volume_opt, *name_opt, *status_opt, *limit_opt;
  };
  auto o = std::make_shared<Opts>();
  CLI::App* sub = table.Add(app, "snapshot-list", "Lists snapshots.", [o](Context& ctx) -> Status {
    Query query;
    if (o->all_tenants) query.emplace_back("all_tenants", "1");
    if (o->volume_opt->count()) {
      ASSIGN_OR_RETURN(json v, FindVolume(ctx.api, o->volume));
      query.emplace_back("volume_id", IdOf(v));
    }
    if (o->name_opt->count()) query.emplace_back("name", o->name);
    if (o->status_opt->count()) query.emplace_back("status", o->status);
    if (o->limit_opt->count()) query.emplace_back("limit", std::to_string(o->limit));
    ASSIGN_OR_RETURN(json snaps, ListAll(ctx.api, "/snapshots/detail", query, "snapshots",
                                         /*follow_links=*/o->limit_opt->count() == 0));
    ctx.output.Print(snaps, RenderList(snaps, kSnapshotColumns));
    return Status::Ok();
  });
  sub->add_flag("--all-tenants", o->all_tenants, "Shows snapshots of all projects (admin).");
  o->volume_opt = sub->add_option("--volume", o->volume, "Only the snapshots of this volume.");
  o->name_opt = sub->add_option("--name", o->name, "Filters by name.");
  o->status_opt = sub->add_option("--status", o->status, "Filters by status.");
  o->limit_opt = sub->add_option("--limit", o->limit, "Maximum number of snapshots to return.")
                     ->check(CLI::NonNegativeNumber);
}

void AddSnapshotShow(CLI::App& app, CommandTable& table) {
  auto snapshot = std::make_shared<std::string>();
  CLI::App* sub = table.Add(app, "snapshot-show", "Shows snapshot details.",
                            [snapshot](Context& ctx) -> Status {
                              ASSIGN_OR_RETURN(json s, FindSnapshot(ctx.api, *snapshot));
                              ctx.output.Print(s, RenderProperties(s));
                              return Status::Ok();
                            });
  sub->add_option("SNAPSHOT", *snapshot, "Name or id of the snapshot.")->required();
}

void AddSnapshotDelete(CLI::App& app, CommandTable& table) {
  struct Opts {
    std::vector<std::string> snapshots;
    bool wait = false;
  };
  auto o = std::make_shared<Opts>();
  CLI::App* sub = table.Add(app, "snapshot-delete", "Removes one or more snapshots.",
                            [o](Context& ctx) -> Status {
                              return DeleteEach(
                                  ctx, o->snapshots, "snapshot",
                                  [&](const std::string& arg) -> Result<std::string> {
                                    ASSIGN_OR_RETURN(json s, FindSnapshot(ctx.api, arg));
                                    RETURN_IF_ERROR(ctx.api.Delete(SnapshotPath(IdOf(s))).status());
                                    return IdOf(s);
                                  },
                                  o->wait ? SnapshotWait : nullptr);
                            });
  sub->add_option("SNAPSHOT", o->snapshots, "Names or ids of the snapshots.")->required();
  sub->add_flag("--wait", o->wait, "Waits until the snapshots are gone.");
}

void AddRevert(CLI::App& app, CommandTable& table) {
  struct Opts {
    std::string volume, snapshot;
    bool wait = false;
  };
  auto o = std::make_shared<Opts>();
  CLI::App* sub = table.Add(
      app, "revert", "Reverts a volume to its latest snapshot.", [o](Context& ctx) -> Status {
        ASSIGN_OR_RETURN(json v, FindVolume(ctx.api, o->volume));
        ASSIGN_OR_RETURN(json s, FindSnapshot(ctx.api, o->snapshot));
        const std::string id = IdOf(v);
        json body = {{"revert", {{"snapshot_id", IdOf(s)}}}};
        RETURN_IF_ERROR(
            ctx.api.Post("/volumes/" + ApiClient::PathSegment(id) + "/action", body).status());
        if (!o->wait) {
          if (!ctx.output.json) {
            ctx.output.Text("Request to revert volume " + o->volume + " has been accepted.\n");
          }
          return Status::Ok();
        }
        ASSIGN_OR_RETURN(json done, WaitFor(ctx, WaitOn("volume", id,
                                                        "/volumes/" + ApiClient::PathSegment(id))));
        ctx.output.Print(done, RenderProperties(done));
        return Status::Ok();
      });
  sub->add_option("VOLUME", o->volume, "Name or id of the volume.")->required();
  sub->add_option("SNAPSHOT", o->snapshot, "Name or id of its latest snapshot.")->required();
  sub->add_flag("--wait", o->wait, "Wait until the volume is available again (or failed).");
}

}  // namespace

Result<json> FindSnapshot(ApiClient& api, const std::string& name_or_id) {
  ResourceKind kind{"snapshot",          "/snapshots/",          "snapshot",
                    "/snapshots/detail", {{"all_tenants", "1"}}, true,
                    "snapshots"};
  return FindResource(api, kind, name_or_id);
}

void AddSnapshotCommands(CLI::App& app, CommandTable& table) {
  AddSnapshotCreate(app, table);
  AddSnapshotList(app, table);
  AddSnapshotShow(app, table);
  AddSnapshotDelete(app, table);
  AddRevert(app, table);
}

}  // namespace scoria::cli
