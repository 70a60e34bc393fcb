#include "cli/admin.h"

#include <CLI/CLI.hpp>
#include <memory>

#include "cli/table.h"

namespace scoria::cli {
namespace {

using nlohmann::json;

void AddGetPools(CLI::App& app, CommandTable& table) {
  auto detail = std::make_shared<bool>(false);
  CLI::App* sub =
      table.Add(app, "get-pools", "Shows the backend pools the scheduler sees (admin).",
                [detail](Context& ctx) -> Status {
                  Query query;
                  if (*detail) query.emplace_back("detail", "true");
                  ASSIGN_OR_RETURN(json body, ctx.api.Get("/scheduler-stats/get_pools", query));
                  ASSIGN_OR_RETURN(json pools, AnswerMember(body, "pools", true));
                  if (ctx.output.json) {
                    ctx.output.Json(pools);
                    return Status::Ok();
                  }
                  // As cinder: one Property/Value table per pool, capabilities flattened into it.
                  for (const auto& pool : pools) {
                    json flat = json::object();
                    flat["name"] = pool.value("name", json());
                    if (pool.contains("capabilities") && pool["capabilities"].is_object()) {
                      for (const auto& [k, v] : pool["capabilities"].items()) flat[k] = v;
                    }
                    ctx.output.Text(RenderProperties(flat));
                  }
                  return Status::Ok();
                });
  sub->add_flag("--detail", *detail, "Shows each pool's capabilities.");
}

const std::vector<Column> kServiceColumns = {{"Binary", "binary"},
                                             {"Host", "host"},
                                             {"Zone", "zone"},
                                             {"Status", "status"},
                                             {"State", "state"},
                                             {"Updated_at", "updated_at"},
                                             {"Cluster", "cluster"},
                                             {"Disabled Reason", "disabled_reason"},
                                             {"Backend State", "backend_state"}};

void AddServiceList(CLI::App& app, CommandTable& table) {
  struct Opts {
    std::string host, binary;
    CLI::Option *host_opt, *binary_opt;
  };
  auto o = std::make_shared<Opts>();
  CLI::App* sub =
      table.Add(app, "service-list", "Lists services (admin).", [o](Context& ctx) -> Status {
        Query query;
        if (o->host_opt->count()) query.emplace_back("host", o->host);
        if (o->binary_opt->count()) query.emplace_back("binary", o->binary);
        ASSIGN_OR_RETURN(json body, ctx.api.Get("/os-services", query));
        ASSIGN_OR_RETURN(json services, AnswerMember(body, "services", true));
        ctx.output.Print(services, RenderList(services, kServiceColumns));
        return Status::Ok();
      });
  o->host_opt = sub->add_option("--host", o->host, "Only services on this host.");
  o->binary_opt = sub->add_option("--binary", o->binary, "Only this service binary.");
}

void AddServiceToggle(CLI::App& app, CommandTable& table, bool enable) {
  struct Opts {
    std::string host, binary, reason;
    CLI::Option* reason_opt = nullptr;
  };
  auto o = std::make_shared<Opts>();
  CLI::App* sub =
      table.Add(app, enable ? "service-enable" : "service-disable",
                enable ? "Enables a service (admin)." : "Disables a service (admin).",
                [o, enable](Context& ctx) -> Status {
                  json request = {{"host", o->host}, {"binary", o->binary}};
                  std::string path = enable ? "/os-services/enable" : "/os-services/disable";
                  bool with_reason = o->reason_opt != nullptr && o->reason_opt->count() > 0;
                  if (with_reason) {
                    request["disabled_reason"] = o->reason;
                    path = "/os-services/disable-log-reason";
                  }
                  ASSIGN_OR_RETURN(json body, ctx.api.Put(path, request));
                  std::vector<Column> columns = {
                      {"Host", "host"}, {"Binary", "binary"}, {"Status", "status"}};
                  if (with_reason) columns.push_back({"Disabled Reason", "disabled_reason"});
                  ctx.output.Print(body, RenderList(json::array({body}), columns));
                  return Status::Ok();
                });
  sub->add_option("HOST", o->host, "Host of the service, e.g. node1@lvm.")->required();
  sub->add_option("BINARY", o->binary, "Service binary, e.g. cinder-volume.")->required();
  if (!enable) o->reason_opt = sub->add_option("--reason", o->reason, "Why it is disabled.");
}

// freeze-host / thaw-host: as cinder, nothing is printed on success (the API answers 200 with
// an empty body).
void AddFreezeThaw(CLI::App& app, CommandTable& table, bool freeze) {
  auto host = std::make_shared<std::string>();
  CLI::App* sub = table.Add(
      app, freeze ? "freeze-host" : "thaw-host",
      freeze ? "Freezes and disables a volume backend: no volume deletes, no snapshot creates "
               "or deletes, no new volumes there (admin)."
             : "Thaws and enables a volume backend (admin).",
      [host, freeze](Context& ctx) -> Status {
        return ctx.api.Put(freeze ? "/os-services/freeze" : "/os-services/thaw", {{"host", *host}})
            .status();
      });
  sub->add_option("HOST", *host, "Backend, e.g. node1@lvm.")->required();
}

void AddHostList(CLI::App& app, CommandTable& table) {
  auto zone = std::make_shared<std::string>();
  CLI::App* sub =
      table.Add(app, "host-list", "Lists the enabled services' hosts (admin).",
                [zone](Context& ctx) -> Status {
                  Query query;
                  if (!zone->empty()) query.emplace_back("zone", *zone);
                  ASSIGN_OR_RETURN(json body, ctx.api.Get("/os-hosts", query));
                  ASSIGN_OR_RETURN(json hosts, AnswerMember(body, "hosts", true));
                  ctx.output.Print(hosts, RenderList(hosts, {{"Host Name", "host_name"},
                                                             {"Service", "service"},
                                                             {"Zone", "zone"},
                                                             {"Service Status", "service-status"},
                                                             {"Service State", "service-state"},
                                                             {"Last Update", "last-update"}}));
                  return Status::Ok();
                });
  sub->add_option("--zone", *zone, "Only hosts in this availability zone.");
}

void AddHostShow(CLI::App& app, CommandTable& table) {
  auto host = std::make_shared<std::string>();
  CLI::App* sub = table.Add(
      app, "host-show", "Shows a volume backend's usage per project (admin).",
      [host](Context& ctx) -> Status {
        ASSIGN_OR_RETURN(json body, ctx.api.Get("/os-hosts/" + ApiClient::PathSegment(*host)));
        ASSIGN_OR_RETURN(json rows, AnswerMember(body, "host", true));
        json flat = json::array();
        for (const auto& r : rows) {
          flat.push_back(r.is_object() && r.contains("resource") ? r["resource"] : r);
        }
        ctx.output.Print(rows, RenderList(flat, {{"Host", "host"},
                                                 {"Project", "project"},
                                                 {"Volumes", "volume_count"},
                                                 {"Volume GB", "total_volume_gb"},
                                                 {"Snapshots", "snapshot_count"},
                                                 {"Snapshot GB", "total_snapshot_gb"}}));
        return Status::Ok();
      });
  sub->add_option("HOST", *host, "Backend, e.g. node1@lvm.")->required();
}

void AddAvailabilityZoneList(CLI::App& app, CommandTable& table) {
  table.Add(app, "availability-zone-list", "Lists availability zones.", [](Context& ctx) -> Status {
    ASSIGN_OR_RETURN(json body, ctx.api.Get("/os-availability-zone"));
    ASSIGN_OR_RETURN(json zones, AnswerMember(body, "availabilityZoneInfo", true));
    ctx.output.Print(zones, RenderList(zones, {"Name", "Status"}, [](const json& z) -> Row {
                       bool available =
                           z.contains("zoneState") && z["zoneState"].is_object() &&
                           z["zoneState"].value("available", false);  // not a status: a JSON key
                       return {ListCell(z, "zoneName"),
                               available ? "available"  // not a status: zone state
                                         : "not available"};
                     }));
    return Status::Ok();
  });
}

void AddSummary(CLI::App& app, CommandTable& table) {
  table.Add(app, "summary", "Shows the number and total size of volumes.",
            [](Context& ctx) -> Status {
              ASSIGN_OR_RETURN(json body, ctx.api.Get("/volumes/summary"));
              ASSIGN_OR_RETURN(json summary, AnswerMember(body, "volume-summary", false));
              ctx.output.Print(summary, RenderProperties(summary));
              return Status::Ok();
            });
}

void AddMessageList(CLI::App& app, CommandTable& table) {
  table.Add(app, "message-list", "Lists user messages (why an operation failed).",
            [](Context& ctx) -> Status {
              ASSIGN_OR_RETURN(json messages, ListAll(ctx.api, "/messages", {}, "messages", true));
              ctx.output.Print(messages, RenderList(messages, {{"ID", "id"},
                                                               {"Resource Type", "resource_type"},
                                                               {"Resource UUID", "resource_uuid"},
                                                               {"Event ID", "event_id"},
                                                               {"User Message", "user_message"},
                                                               {"Created At", "created_at"}}));
              return Status::Ok();
            });
}

void AddAbsoluteLimits(CLI::App& app, CommandTable& table) {
  table.Add(app, "absolute-limits", "Shows the project's absolute limits and usage.",
            [](Context& ctx) -> Status {
              ASSIGN_OR_RETURN(json body, ctx.api.Get("/limits"));
              ASSIGN_OR_RETURN(json limits, AnswerMember(body, "limits", false));
              json absolute = limits.contains("absolute") && limits["absolute"].is_object()
                                  ? limits["absolute"]
                                  : json::object();
              ctx.output.Print(limits, RenderProperties(absolute, "Name", "Value", {}));
              return Status::Ok();
            });
}

}  // namespace

void AddAdminCommands(CLI::App& app, CommandTable& table) {
  AddGetPools(app, table);
  AddServiceList(app, table);
  AddServiceToggle(app, table, /*enable=*/true);
  AddServiceToggle(app, table, /*enable=*/false);
  AddFreezeThaw(app, table, /*freeze=*/true);
  AddFreezeThaw(app, table, /*freeze=*/false);
  AddHostList(app, table);
  AddHostShow(app, table);
  AddAvailabilityZoneList(app, table);
  AddSummary(app, table);
  AddMessageList(app, table);
  AddAbsoluteLimits(app, table);
}

}  // namespace scoria::cli
