#include "cli/volumes.h"

#include <CLI/CLI.hpp>
#include <memory>

#include "cli/resolve.h"
#include "cli/snapshots.h"
#include "cli/wait.h"
#include "lifecycle/volume_status.h"

namespace scoria::cli {
namespace {

using nlohmann::json;

std::string VolumePath(const std::string& id) { return "/volumes/" + ApiClient::PathSegment(id); }

Status VolumeAction(Context& ctx, const std::string& id, const std::string& action,
                    const json& args) {
  json body = json::object();
  body[action] = args;
  return ctx.api.Post(VolumePath(id) + "/action", body).status();
}

// Prints a volume the way `cinder show` does, or as JSON.
void PrintVolume(const Output& out, const json& volume) {
  out.Print(volume, RenderProperties(volume));
}

Result<json> VolumeFromBody(const json& body) { return AnswerMember(body, "volume"); }

WaitSpec VolumeWait(const std::string& id) { return WaitOn("volume", id, VolumePath(id)); }

// Extend is done when the volume is usable again at the new size. Back to a usable status at
// the old size after passing through another status (extending) means the extend was rolled
// back (e.g. no capacity), which Cinder reports only through a user message.
Verdict ExtendVerdict(long new_size, const json& volume, const std::vector<std::string>& seen) {
  Verdict v = StatusVerdict(volume, seen);
  if (v != Verdict::kDone) return v;
  long size =
      volume.contains("size") && volume["size"].is_number() ? volume["size"].get<long>() : 0;
  if (size >= new_size) return Verdict::kDone;
  for (const auto& s : seen) {
    if (s != volume_status::kAvailable && s != volume_status::kInUse) return Verdict::kFailed;
  }
  return Verdict::kPending;
}

const std::vector<std::string> kBool = {"true", "false"};

void AddCreate(CLI::App& app, CommandTable& table) {
  struct Opts {
    long size = 0;
    std::string name, description, volume_type, availability_zone, snapshot, source;
    std::vector<std::string> metadata;
    bool wait = false;
    CLI::Option *name_opt, *description_opt, *type_opt, *az_opt, *size_opt, *snapshot_opt,
        *source_opt;
  };
  auto o = std::make_shared<Opts>();
  CLI::App* sub = table.Add(app, "create", "Creates a volume.", [o](Context& ctx) -> Status {
    json volume = json::object();
    if (o->size_opt->count()) volume["size"] = o->size;
    if (o->snapshot_opt->count()) {
      ASSIGN_OR_RETURN(json s, FindSnapshot(ctx.api, o->snapshot));
      volume["snapshot_id"] = IdOf(s);
    }
    if (o->source_opt->count()) {
      ASSIGN_OR_RETURN(json v, FindVolume(ctx.api, o->source));
      volume["source_volid"] = IdOf(v);
    }
    if (o->name_opt->count()) volume["name"] = o->name;
    if (o->description_opt->count()) volume["description"] = o->description;
    if (o->type_opt->count()) volume["volume_type"] = o->volume_type;
    if (o->az_opt->count()) volume["availability_zone"] = o->availability_zone;
    if (!o->metadata.empty()) {
      ASSIGN_OR_RETURN(auto metadata, ParseKeyValues(o->metadata));
      volume["metadata"] = metadata;
    }
    ASSIGN_OR_RETURN(json body, ctx.api.Post("/volumes", json{{"volume", volume}}));
    ASSIGN_OR_RETURN(json created, VolumeFromBody(body));
    if (o->wait) {
      ASSIGN_OR_RETURN(created, WaitFor(ctx, VolumeWait(IdOf(created))));
    }
    PrintVolume(ctx.output, created);
    return Status::Ok();
  });
  o->size_opt = sub->add_option("SIZE", o->size,
                                "Size of the volume in GiB (default with a source: its size).")
                    ->check(CLI::PositiveNumber);
  o->snapshot_opt = sub->add_option("--snapshot-id", o->snapshot,
                                    "Creates the volume from this snapshot (name or id).");
  o->source_opt = sub->add_option("--source-volid", o->source,
                                  "Creates the volume as a clone of this volume (name or id).");
  o->snapshot_opt->excludes(o->source_opt);
  // A usage error (exit 2), like a missing required option.
  sub->parse_complete_callback([o] {
    if (!o->size_opt->count() && !o->snapshot_opt->count() && !o->source_opt->count()) {
      throw CLI::RequiredError("SIZE (or --snapshot-id, --source-volid)");
    }
  });
  o->name_opt = sub->add_option("--name", o->name, "Volume name.");
  o->description_opt = sub->add_option("--description", o->description, "Volume description.");
  o->type_opt = sub->add_option("--volume-type", o->volume_type, "Volume type name or id.");
  o->az_opt = sub->add_option("--availability-zone", o->availability_zone, "Availability zone.");
  sub->add_option("--metadata", o->metadata, "Metadata key=value pairs.")->expected(1, -1);
  sub->add_flag("--wait", o->wait, "Wait until the volume is available (or failed).");
}

void AddList(CLI::App& app, CommandTable& table) {
  struct Opts {
    bool all_tenants = false;
    std::string name, status, marker, sort;
    long limit = 0;
    CLI::Option *name_opt, *status_opt, *limit_opt, *marker_opt, *sort_opt;
  };
  auto o = std::make_shared<Opts>();
  CLI::App* sub = table.Add(app, "list", "Lists volumes.", [o](Context& ctx) -> Status {
    Query query;
    if (o->all_tenants) query.emplace_back("all_tenants", "1");
    if (o->name_opt->count()) query.emplace_back("name", o->name);
    if (o->status_opt->count()) query.emplace_back("status", o->status);
    if (o->limit_opt->count()) query.emplace_back("limit", std::to_string(o->limit));
    if (o->marker_opt->count()) query.emplace_back("marker", o->marker);
    if (o->sort_opt->count()) query.emplace_back("sort", o->sort);
    ASSIGN_OR_RETURN(json volumes, ListAll(ctx.api, "/volumes/detail", query, "volumes",
                                           /*follow_links=*/o->limit_opt->count() == 0));
    ctx.output.Print(volumes, RenderList(volumes, VolumeListHeader(), VolumeListRow));
    return Status::Ok();
  });
  sub->add_flag("--all-tenants", o->all_tenants, "Shows volumes of all projects (admin).");
  o->name_opt = sub->add_option("--name", o->name, "Filters by name.");
  o->status_opt = sub->add_option("--status", o->status, "Filters by status.");
  o->limit_opt = sub->add_option("--limit", o->limit, "Maximum number of volumes to return.")
                     ->check(CLI::NonNegativeNumber);
  o->marker_opt = sub->add_option("--marker", o->marker, "Begins after the volume with this id.");
  o->sort_opt = sub->add_option("--sort", o->sort, "key[:asc|desc][,key[:dir]...]");
}

void AddShow(CLI::App& app, CommandTable& table) {
  auto volume = std::make_shared<std::string>();
  CLI::App* sub = table.Add(app, "show", "Shows volume details.", [volume](Context& ctx) -> Status {
    ASSIGN_OR_RETURN(json v, FindVolume(ctx.api, *volume));
    PrintVolume(ctx.output, v);
    return Status::Ok();
  });
  sub->add_option("VOLUME", *volume, "Name or id of the volume.")->required();
}

void AddUpdate(CLI::App& app, CommandTable& table) {
  struct Opts {
    std::string volume, name, description;
    CLI::Option *name_opt, *description_opt;
  };
  auto o = std::make_shared<Opts>();
  CLI::App* sub = table.Add(
      app, "update", "Renames a volume or changes its description.", [o](Context& ctx) -> Status {
        ASSIGN_OR_RETURN(json v, FindVolume(ctx.api, o->volume));
        json change = json::object();
        if (o->name_opt->count()) change["name"] = o->name;
        if (o->description_opt->count()) change["description"] = o->description;
        ASSIGN_OR_RETURN(json body, ctx.api.Put(VolumePath(IdOf(v)), json{{"volume", change}}));
        ASSIGN_OR_RETURN(json updated, VolumeFromBody(body));
        PrintVolume(ctx.output, updated);
        return Status::Ok();
      });
  sub->add_option("VOLUME", o->volume, "Name or id of the volume.")->required();
  o->name_opt = sub->add_option("--name", o->name, "New name.");
  o->description_opt = sub->add_option("--description", o->description, "New description.");
  RequireOneOf(sub, {o->name_opt, o->description_opt});
}

void AddDelete(CLI::App& app, CommandTable& table) {
  struct Opts {
    std::vector<std::string> volumes;
    bool cascade = false, force = false, wait = false;
  };
  auto o = std::make_shared<Opts>();
  CLI::App* sub =
      table.Add(app, "delete", "Removes one or more volumes.", [o](Context& ctx) -> Status {
        Query query;
        if (o->cascade) query.emplace_back("cascade", "true");
        if (o->force) query.emplace_back("force", "true");
        return DeleteEach(
            ctx, o->volumes, "volume",
            [&](const std::string& arg) -> Result<std::string> {
              ASSIGN_OR_RETURN(json v, FindVolume(ctx.api, arg));
              RETURN_IF_ERROR(ctx.api.Delete(VolumePath(IdOf(v)), query).status());
              return IdOf(v);
            },
            o->wait ? VolumeWait : nullptr);
      });
  sub->add_option("VOLUME", o->volumes, "Names or ids of the volumes.")->required();
  sub->add_flag("--cascade", o->cascade, "Also deletes the volume's snapshots.");
  sub->add_flag("--force", o->force, "Deletes whatever the volume's status (admin).");
  sub->add_flag("--wait", o->wait, "Waits until the volumes are gone.");
}

void AddExtend(CLI::App& app, CommandTable& table) {
  struct Opts {
    std::string volume;
    long new_size = 0;
    bool wait = false;
  };
  auto o = std::make_shared<Opts>();
  CLI::App* sub = table.Add(app, "extend", "Grows a volume.", [o](Context& ctx) -> Status {
    ASSIGN_OR_RETURN(json v, FindVolume(ctx.api, o->volume));
    const std::string id = IdOf(v);
    RETURN_IF_ERROR(VolumeAction(ctx, id, "os-extend", {{"new_size", o->new_size}}));
    if (!o->wait) return Status::Ok();
    WaitSpec spec = VolumeWait(id);
    long new_size = o->new_size;
    spec.judge = [new_size](const json& volume, const std::vector<std::string>& seen) {
      return ExtendVerdict(new_size, volume, seen);
    };
    ASSIGN_OR_RETURN(json done, WaitFor(ctx, spec));
    if (ctx.output.json) ctx.output.Json(done);
    return Status::Ok();
  });
  sub->add_option("VOLUME", o->volume, "Name or id of the volume.")->required();
  sub->add_option("NEW_SIZE", o->new_size, "New size in GiB.")
      ->required()
      ->check(CLI::PositiveNumber);
  sub->add_flag("--wait", o->wait, "Waits until the volume has its new size.");
}

void AddResetState(CLI::App& app, CommandTable& table) {
  struct Opts {
    std::vector<std::string> volumes;
    std::string state, attach_status;
    bool reset_migration = false;
    CLI::Option *state_opt, *attach_opt;
  };
  auto o = std::make_shared<Opts>();
  CLI::App* sub =
      table.Add(app, "reset-state", "Sets a volume's status in the database only (admin).",
                [o](Context& ctx) -> Status {
                  json args = json::object();
                  if (o->state_opt->count()) args["status"] = o->state;
                  if (o->attach_opt->count()) args["attach_status"] = o->attach_status;
                  if (o->reset_migration) args["migration_status"] = "none";
                  // As cinder always did: with nothing to set, reset the status to available.
                  if (args.empty()) args["status"] = volume_status::kAvailable;
                  return ForEachArg(ctx.output, o->volumes, "Reset state", "volume",
                                    [&](const std::string& arg) -> Status {
                                      ASSIGN_OR_RETURN(json v, FindVolume(ctx.api, arg));
                                      return VolumeAction(ctx, IdOf(v), "os-reset_status", args);
                                    });
                });
  sub->add_option("VOLUME", o->volumes, "Names or ids of the volumes.")->required();
  o->state_opt = sub->add_option("--state", o->state, "The status to set (default: available).");
  o->attach_opt = sub->add_option("--attach-status", o->attach_status,
                                  "The attach status to set: attached or detached.");
  sub->add_flag("--reset-migration-status", o->reset_migration, "Clears the migration status.");
}

void AddForceDelete(CLI::App& app, CommandTable& table) {
  auto volumes = std::make_shared<std::vector<std::string>>();
  CLI::App* sub =
      table.Add(app, "force-delete", "Deletes volumes whatever their status (admin).",
                [volumes](Context& ctx) -> Status {
                  return ForEachArg(ctx.output, *volumes, "Delete", "volume",
                                    [&](const std::string& arg) -> Status {
                                      ASSIGN_OR_RETURN(json v, FindVolume(ctx.api, arg));
                                      return VolumeAction(ctx, IdOf(v), "os-force_delete", nullptr);
                                    });
                });
  sub->add_option("VOLUME", *volumes, "Names or ids of the volumes.")->required();
}

// set-bootable and readonly-mode-update: VOLUME true|false -> {"<action>": {"<key>": bool}}.
void AddFlagAction(CLI::App& app, CommandTable& table, const std::string& verb,
                   const std::string& help, const std::string& action, const std::string& key) {
  struct Opts {
    std::string volume, value;
  };
  auto o = std::make_shared<Opts>();
  CLI::App* sub = table.Add(app, verb, help, [o, action, key](Context& ctx) -> Status {
    ASSIGN_OR_RETURN(bool value, ParseBool(o->value));
    ASSIGN_OR_RETURN(json v, FindVolume(ctx.api, o->volume));
    return VolumeAction(ctx, IdOf(v), action, {{key, value}});
  });
  sub->add_option("VOLUME", o->volume, "Name or id of the volume.")->required();
  sub->add_option("VALUE", o->value, "true or false.")
      ->required()
      ->check(CLI::IsMember(kBool, CLI::ignore_case));
}

void AddMetadata(CLI::App& app, CommandTable& table) {
  struct Opts {
    std::string volume, action;
    std::vector<std::string> items;
  };
  auto o = std::make_shared<Opts>();
  CLI::App* sub =
      table.Add(app, "metadata", "Sets or deletes volume metadata.", [o](Context& ctx) -> Status {
        ASSIGN_OR_RETURN(json v, FindVolume(ctx.api, o->volume));
        return SetOrUnsetKeys(ctx, VolumePath(IdOf(v)) + "/metadata", "metadata", o->action,
                              o->items);
      });
  sub->add_option("VOLUME", o->volume, "Name or id of the volume.")->required();
  sub->add_option("ACTION", o->action, "set or unset.")
      ->required()
      ->check(CLI::IsMember({"set", "unset"}));
  sub->add_option("METADATA", o->items, "key=value pairs to set, or keys to unset.")->required();
}

void AddMetadataShow(CLI::App& app, CommandTable& table) {
  auto volume = std::make_shared<std::string>();
  CLI::App* sub =
      table.Add(app, "metadata-show", "Shows volume metadata.", [volume](Context& ctx) -> Status {
        ASSIGN_OR_RETURN(json v, FindVolume(ctx.api, *volume));
        json metadata =
            v.contains("metadata") && v["metadata"].is_object() ? v["metadata"] : json::object();
        ctx.output.Print(metadata, RenderProperties(metadata, "Metadata-property", "Value", {}));
        return Status::Ok();
      });
  sub->add_option("VOLUME", *volume, "Name or id of the volume.")->required();
}

}  // namespace

Row VolumeListHeader() {
  return {"ID", "Status", "Name", "Size", "Volume Type", "Bootable", "Attached to"};
}

Row VolumeListRow(const json& v) {
  std::string attached;
  if (v.contains("attachments") && v["attachments"].is_array()) {
    for (const auto& a : v["attachments"]) {
      if (!a.is_object()) continue;
      std::string server = ListCell(a, "server_id");
      if (server == "-") continue;
      if (!attached.empty()) attached += ",";
      attached += server;
    }
  }
  return {ListCell(v, "id"),
          ListCell(v, "status"),
          ListCell(v, "name"),
          ListCell(v, "size"),
          ListCell(v, "volume_type"),
          ListCell(v, "bootable"),
          attached};
}

void AddVolumeCommands(CLI::App& app, CommandTable& table) {
  AddCreate(app, table);
  AddList(app, table);
  AddShow(app, table);
  AddUpdate(app, table);
  AddDelete(app, table);
  AddExtend(app, table);
  AddResetState(app, table);
  AddForceDelete(app, table);
  AddFlagAction(app, table, "set-bootable", "Sets or clears a volume's bootable flag.",
                "os-set_bootable", "bootable");
  AddFlagAction(app, table, "readonly-mode-update", "Sets or clears a volume's read-only flag.",
                "os-update_readonly_flag", "readonly");
  AddMetadata(app, table);
  AddMetadataShow(app, table);
}

}  // namespace scoria::cli
