// The attach verbs of the scoria CLI, and the HTTP each one speaks (attachments API, 3.54+):
//
//   attach V --initiator IQN [--host H] [--instance UUID] [--mode ro|rw]
//       POST /attachments {"attachment": {volume_uuid, instance_uuid?, mode?, connector:
//            {initiator, host, ip: 127.0.0.1, platform: x86_64, os_type: linux,
//             multipath: false}}}
//       POST /attachments/<id>/action {"os-complete": null}
//       GET  /attachments/<id>
//     prints the connection info and ready-to-paste QEMU options (--image-opts and -drive);
//     with --json the attachment object (with connection_info).
//   detach V [--attachment ID]
//       without ID: GET /attachments?volume_id=<id>&all_tenants=1, which must list exactly one
//       DELETE /attachments/<id>
//   attachment-list [--volume V] [--all-tenants]
//       GET /attachments ?volume_id, all_tenants
//
// QemuImageOpts/QemuDrive build the QEMU strings from a connection_info (tests use them).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "cli/command.h"

namespace scoria::cli {

void AddAttachmentCommands(CLI::App& app, CommandTable& table);

// "--image-opts driver=iscsi,transport=tcp,portal=IP:PORT,target=IQN,lun=0,user=U,password=P,
//  initiator-name=I"
std::string QemuImageOpts(const nlohmann::json& connection_info, const std::string& initiator);
// "-drive file=iscsi://U%P@IP:PORT/IQN/0,format=raw,if=virtio -iscsi initiator-name=I"
std::string QemuDrive(const nlohmann::json& connection_info, const std::string& initiator);

}  // namespace scoria::cli
