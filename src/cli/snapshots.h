// The snapshot verbs of the `scoria` CLI, and the HTTP each one speaks (cinderclient's
// spelling):
//
//   snapshot-create VOLUME   POST /snapshots {"snapshot": {volume_id, name?, description?,
//                                             force?, metadata?}}   [--wait: until available]
//   snapshot-list            GET /snapshots/detail ?all_tenants,volume_id,name,status,limit
//                            (follows snapshots_links when no --limit)
//   snapshot-show S          GET /snapshots/<id>, or by name (snapshots/detail?name=)
//   snapshot-delete S...     DELETE /snapshots/<id>   [--wait: until 404]
//   revert VOLUME SNAPSHOT   POST /volumes/<id>/action {"revert": {"snapshot_id": ...}}
//                            (3.40+)   [--wait: until the volume is available again]
//
// `create --snapshot-id S` / `create --source-volid V` (cli/volumes.cc) make volumes from them.
#pragma once

#include <nlohmann/json.hpp>

#include "cli/api_client.h"
#include "cli/command.h"

namespace scoria::cli {

void AddSnapshotCommands(CLI::App& app, CommandTable& table);

// Name-or-id resolution of a snapshot (cli/resolve.h rules).
Result<nlohmann::json> FindSnapshot(ApiClient& api, const std::string& name_or_id);

}  // namespace scoria::cli
