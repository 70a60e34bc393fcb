// The service-level verbs of the cinder CLI, and the HTTP each one speaks:
//
//   get-pools [--detail]          GET /scheduler-stats/get_pools[?detail=true]
//   service-list                  GET /os-services ?host,binary
//   service-enable HOST BINARY    PUT /os-services/enable {host, binary}
//   service-disable HOST BINARY   PUT /os-services/disable {host, binary}, or with --reason
//                                 PUT /os-services/disable-log-reason {.., disabled_reason}
//   freeze-host HOST              PUT /os-services/freeze {host}
//   thaw-host HOST                PUT /os-services/thaw {host}
//   host-list [--zone Z]          GET /os-hosts ?zone
//   host-show HOST                GET /os-hosts/HOST
//   availability-zone-list        GET /os-availability-zone
//   summary                       GET /volumes/summary (>= 3.12)
//   message-list                  GET /messages (>= 3.3)
//   absolute-limits               GET /limits
#pragma once

#include "cli/command.h"

namespace scoria::cli {

void AddAdminCommands(CLI::App& app, CommandTable& table);

}  // namespace scoria::cli
