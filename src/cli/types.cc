#include "cli/types.h"

#include <CLI/CLI.hpp>
#include <memory>

#include "cli/resolve.h"
#include "cli/table.h"
#include "cli/wait.h"

namespace scoria::cli {
namespace {

using nlohmann::json;

std::string TypePath(const std::string& id) { return "/types/" + ApiClient::PathSegment(id); }

const std::vector<std::string> kBool = {"true", "false"};

Row TypeHeader() { return {"ID", "Name", "Description", "Is_Public"}; }

Row TypeRow(const json& t) {
  std::string is_public = ListCell(t, "is_public");
  if (is_public == "-") is_public = ListCell(t, "os-volume-type-access:is_public");
  return {ListCell(t, "id"), ListCell(t, "name"), ListCell(t, "description"), is_public};
}

// `cinder type-create/-update/-default` print the type as a one-row list.
void PrintType(const Output& out, const json& type) {
  if (out.json) {
    out.Json(type);
  } else {
    out.Text(RenderTable(TypeHeader(), {TypeRow(type)}));
  }
}

Result<json> TypeFromBody(const json& body) { return AnswerMember(body, "volume_type"); }

void AddTypeCreate(CLI::App& app, CommandTable& table) {
  struct Opts {
    std::string name, description, is_public = "true";
    CLI::Option* description_opt;
  };
  auto o = std::make_shared<Opts>();
  CLI::App* sub =
      table.Add(app, "type-create", "Creates a volume type.", [o](Context& ctx) -> Status {
        ASSIGN_OR_RETURN(bool is_public, ParseBool(o->is_public));
        json type = {{"name", o->name}, {"os-volume-type-access:is_public", is_public}};
        if (o->description_opt->count()) type["description"] = o->description;
        ASSIGN_OR_RETURN(json body, ctx.api.Post("/types", json{{"volume_type", type}}));
        ASSIGN_OR_RETURN(json created, TypeFromBody(body));
        PrintType(ctx.output, created);
        return Status::Ok();
      });
  sub->add_option("NAME", o->name, "Name of the new volume type.")->required();
  o->description_opt = sub->add_option("--description", o->description, "Description.");
  sub->add_option("--is-public", o->is_public, "Whether every project may use it (default true).")
      ->check(CLI::IsMember(kBool, CLI::ignore_case));
}

void AddTypeList(CLI::App& app, CommandTable& table) {
  table.Add(app, "type-list", "Lists volume types.", [](Context& ctx) -> Status {
    ASSIGN_OR_RETURN(json types, ListAll(ctx.api, "/types", {{"is_public", "None"}}, "volume_types",
                                         /*follow_links=*/true));
    ctx.output.Print(types, RenderList(types, TypeHeader(), TypeRow));
    return Status::Ok();
  });
}

void AddTypeShow(CLI::App& app, CommandTable& table) {
  auto type = std::make_shared<std::string>();
  CLI::App* sub =
      table.Add(app, "type-show", "Shows volume type details.", [type](Context& ctx) -> Status {
        ASSIGN_OR_RETURN(json t, FindVolumeType(ctx.api, *type));
        ctx.output.Print(t, RenderProperties(t));
        return Status::Ok();
      });
  sub->add_option("TYPE", *type, "Name or id of the volume type.")->required();
}

void AddTypeUpdate(CLI::App& app, CommandTable& table) {
  struct Opts {
    std::string type, name, description, is_public;
    CLI::Option *name_opt, *description_opt, *public_opt;
  };
  auto o = std::make_shared<Opts>();
  CLI::App* sub = table.Add(
      app, "type-update", "Changes a volume type's name, description or visibility.",
      [o](Context& ctx) -> Status {
        ASSIGN_OR_RETURN(json t, FindVolumeType(ctx.api, o->type));
        json change = json::object();
        if (o->name_opt->count()) change["name"] = o->name;
        if (o->description_opt->count()) change["description"] = o->description;
        if (o->public_opt->count()) {
          ASSIGN_OR_RETURN(bool is_public, ParseBool(o->is_public));
          change["is_public"] = is_public;
        }
        ASSIGN_OR_RETURN(json body, ctx.api.Put(TypePath(IdOf(t)), json{{"volume_type", change}}));
        ASSIGN_OR_RETURN(json updated, TypeFromBody(body));
        PrintType(ctx.output, updated);
        return Status::Ok();
      });
  sub->add_option("TYPE", o->type, "Name or id of the volume type.")->required();
  o->name_opt = sub->add_option("--name", o->name, "New name.");
  o->description_opt = sub->add_option("--description", o->description, "New description.");
  o->public_opt = sub->add_option("--is-public", o->is_public, "true or false.")
                      ->check(CLI::IsMember(kBool, CLI::ignore_case));
  RequireOneOf(sub, {o->name_opt, o->description_opt, o->public_opt});
}

void AddTypeDelete(CLI::App& app, CommandTable& table) {
  auto types = std::make_shared<std::vector<std::string>>();
  CLI::App* sub =
      table.Add(app, "type-delete", "Deletes volume types.", [types](Context& ctx) -> Status {
        return DeleteEach(ctx, *types, "volume type",
                          [&](const std::string& arg) -> Result<std::string> {
                            ASSIGN_OR_RETURN(json t, FindVolumeType(ctx.api, arg));
                            RETURN_IF_ERROR(ctx.api.Delete(TypePath(IdOf(t))).status());
                            return IdOf(t);
                          });
      });
  sub->add_option("TYPE", *types, "Names or ids of the volume types.")->required();
}

void AddTypeKey(CLI::App& app, CommandTable& table) {
  struct Opts {
    std::string type, action;
    std::vector<std::string> items;
  };
  auto o = std::make_shared<Opts>();
  CLI::App* sub = table.Add(app, "type-key", "Sets or unsets extra specs of a volume type.",
                            [o](Context& ctx) -> Status {
                              ASSIGN_OR_RETURN(json t, FindVolumeType(ctx.api, o->type));
                              return SetOrUnsetKeys(ctx, TypePath(IdOf(t)) + "/extra_specs",
                                                    "extra_specs", o->action, o->items);
                            });
  sub->add_option("TYPE", o->type, "Name or id of the volume type.")->required();
  sub->add_option("ACTION", o->action, "set or unset.")
      ->required()
      ->check(CLI::IsMember({"set", "unset"}));
  sub->add_option("KEYS", o->items, "key=value pairs to set, or keys to unset.")->required();
}

void AddTypeDefault(CLI::App& app, CommandTable& table) {
  table.Add(app, "type-default", "Shows the default volume type.", [](Context& ctx) -> Status {
    ASSIGN_OR_RETURN(json body, ctx.api.Get("/types/default"));
    ASSIGN_OR_RETURN(json type, TypeFromBody(body));
    PrintType(ctx.output, type);
    return Status::Ok();
  });
}

void AddExtraSpecsList(CLI::App& app, CommandTable& table) {
  table.Add(app, "extra-specs-list", "Lists volume types with their extra specs.",
            [](Context& ctx) -> Status {
              ASSIGN_OR_RETURN(json types,
                               ListAll(ctx.api, "/types", {{"is_public", "None"}}, "volume_types",
                                       /*follow_links=*/true));
              ctx.output.Print(
                  types, RenderList(types, {"ID", "Name", "extra_specs"}, [](const json& t) -> Row {
                    json specs = t.contains("extra_specs") ? t["extra_specs"] : json::object();
                    return {ListCell(t, "id"), ListCell(t, "name"), CellText(specs)};
                  }));
              return Status::Ok();
            });
}

}  // namespace

void AddTypeCommands(CLI::App& app, CommandTable& table) {
  AddTypeCreate(app, table);
  AddTypeList(app, table);
  AddTypeShow(app, table);
  AddTypeUpdate(app, table);
  AddTypeDelete(app, table);
  AddTypeKey(app, table);
  AddTypeDefault(app, table);
  AddExtraSpecsList(app, table);
}

}  // namespace scoria::cli
