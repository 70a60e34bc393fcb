#include "cli/attachments.h"

#include <CLI/CLI.hpp>
#include <memory>

#include "cli/resolve.h"
#include "cli/table.h"

namespace scoria::cli {
namespace {

using nlohmann::json;

std::string AttachmentPath(const std::string& id) {
  return "/attachments/" + ApiClient::PathSegment(id);
}

Result<json> AttachmentFromBody(const json& body) { return AnswerMember(body, "attachment"); }

std::string Str(const json& data, const char* key) {
  if (!data.is_object() || !data.contains(key)) return "";
  const json& v = data[key];
  return v.is_string() ? v.get<std::string>() : v.dump();
}

// The connection table plus the QEMU lines.
std::string RenderAttached(const json& att, const std::string& initiator) {
  const json ci = att.value("connection_info", json::object());
  const json data = ci.value("data", json::object());
  json props = {{"attachment_id", att.value("id", "")},
                {"volume_id", att.value("volume_id", "")},
                {"status", att.value("status", "")},
                {"attach_mode", att.value("attach_mode", "")},
                {"driver_volume_type", ci.value("driver_volume_type", "")}};
  for (const char* k : {"target_iqn", "target_portal", "target_lun", "auth_method",
                        "auth_username", "auth_password", "access_mode"}) {
    if (data.contains(k)) props[k] = data[k];
  }
  std::string out = RenderProperties(props);
  out += "\nQEMU (-blockdev style):\n  " + QemuImageOpts(ci, initiator) + "\n";
  out += "QEMU (-drive style):\n  " + QemuDrive(ci, initiator) + "\n";
  return out;
}

void AddAttach(CLI::App& app, CommandTable& table) {
  struct Opts {
    std::string volume, initiator, host = "localhost", instance, mode;
    CLI::Option *instance_opt, *mode_opt;
  };
  auto o = std::make_shared<Opts>();
  CLI::App* sub = table.Add(
      app, "attach", "Attaches a volume to an iSCSI initiator and prints how to connect.",
      [o](Context& ctx) -> Status {
        ASSIGN_OR_RETURN(json v, FindVolume(ctx.api, o->volume));
        json connector = {{"initiator", o->initiator}, {"host", o->host},
                          {"ip", "127.0.0.1"},         {"platform", "x86_64"},
                          {"os_type", "linux"},        {"multipath", false}};
        json att = {{"volume_uuid", IdOf(v)}, {"connector", connector}};
        if (o->instance_opt->count()) att["instance_uuid"] = o->instance;
        if (o->mode_opt->count()) att["mode"] = o->mode;
        ASSIGN_OR_RETURN(json body, ctx.api.Post("/attachments", json{{"attachment", att}}));
        ASSIGN_OR_RETURN(json created, AttachmentFromBody(body));
        const std::string id = IdOf(created);
        RETURN_IF_ERROR(
            ctx.api.Post(AttachmentPath(id) + "/action", json{{"os-complete", nullptr}}).status());
        ASSIGN_OR_RETURN(body, ctx.api.Get(AttachmentPath(id)));
        ASSIGN_OR_RETURN(json done, AttachmentFromBody(body));
        ctx.output.Print(done, RenderAttached(done, o->initiator));
        return Status::Ok();
      });
  sub->add_option("VOLUME", o->volume, "Name or id of the volume.")->required();
  sub->add_option("--initiator", o->initiator, "iSCSI initiator IQN allowed to connect.")
      ->required();
  sub->add_option("--host", o->host, "Host name of the initiator (default localhost).");
  o->instance_opt = sub->add_option("--instance", o->instance, "Instance (server) UUID.");
  o->mode_opt = sub->add_option("--mode", o->mode, "Attach mode: rw (default) or ro.")
                    ->check(CLI::IsMember({"rw", "ro"}));
}

void AddDetach(CLI::App& app, CommandTable& table) {
  struct Opts {
    std::string volume, attachment;
    CLI::Option* attachment_opt;
  };
  auto o = std::make_shared<Opts>();
  CLI::App* sub = table.Add(
      app, "detach", "Removes an attachment of a volume (its only one without --attachment).",
      [o](Context& ctx) -> Status {
        ASSIGN_OR_RETURN(json v, FindVolume(ctx.api, o->volume));
        std::string id = o->attachment;
        if (!o->attachment_opt->count()) {
          ASSIGN_OR_RETURN(json list, ctx.api.Get("/attachments", {{"volume_id", IdOf(v)},
                                                                   {"all_tenants", "1"}}));
          const json items = list.value("attachments", json::array());
          if (items.empty()) {
            return InvalidArgument("volume " + o->volume + " has no attachment");
          }
          if (items.size() > 1) {
            return InvalidArgument("volume " + o->volume + " has " +
                                   std::to_string(items.size()) +
                                   " attachments; name one with --attachment");
          }
          id = IdOf(items[0]);
        }
        ASSIGN_OR_RETURN(json body, ctx.api.Delete(AttachmentPath(id)));
        ctx.output.Print(body, "Attachment " + id + " of volume " + o->volume + " deleted.\n");
        return Status::Ok();
      });
  sub->add_option("VOLUME", o->volume, "Name or id of the volume.")->required();
  o->attachment_opt = sub->add_option("--attachment", o->attachment, "Attachment id.");
}

void AddList(CLI::App& app, CommandTable& table) {
  struct Opts {
    std::string volume;
    bool all_tenants = false;
    CLI::Option* volume_opt;
  };
  auto o = std::make_shared<Opts>();
  CLI::App* sub = table.Add(app, "attachment-list", "Lists attachments.",
                            [o](Context& ctx) -> Status {
                              Query query;
                              if (o->all_tenants) query.emplace_back("all_tenants", "1");
                              if (o->volume_opt->count()) {
                                ASSIGN_OR_RETURN(json v, FindVolume(ctx.api, o->volume));
                                query.emplace_back("volume_id", IdOf(v));
                              }
                              ASSIGN_OR_RETURN(json list, ctx.api.Get("/attachments", query));
                              const json items = list.value("attachments", json::array());
                              ctx.output.Print(items,
                                               RenderList(items, {{"ID", "id"},
                                                                  {"Volume ID", "volume_id"},
                                                                  {"Status", "status"},
                                                                  {"Server ID", "instance"}}));
                              return Status::Ok();
                            });
  o->volume_opt = sub->add_option("--volume", o->volume, "Only this volume's attachments.");
  sub->add_flag("--all-tenants", o->all_tenants, "Attachments of all projects (admin).");
}

}  // namespace

std::string QemuImageOpts(const json& ci, const std::string& initiator) {
  const json data = ci.value("data", json::object());
  return "--image-opts driver=iscsi,transport=tcp,portal=" + Str(data, "target_portal") +
         ",target=" + Str(data, "target_iqn") + ",lun=" + Str(data, "target_lun") +
         ",user=" + Str(data, "auth_username") + ",password=" + Str(data, "auth_password") +
         ",initiator-name=" + initiator;
}

std::string QemuDrive(const json& ci, const std::string& initiator) {
  const json data = ci.value("data", json::object());
  // CHAP user and secret are alphanumeric, so the URL needs no escaping.
  return "-drive file=iscsi://" + Str(data, "auth_username") + "%" +
         Str(data, "auth_password") + "@" + Str(data, "target_portal") + "/" +
         Str(data, "target_iqn") + "/" + Str(data, "target_lun") +
         ",format=raw,if=virtio -iscsi initiator-name=" + initiator;
}

void AddAttachmentCommands(CLI::App& app, CommandTable& table) {
  AddAttach(app, table);
  AddDetach(app, table);
  AddList(app, table);
}

}  // namespace scoria::cli
