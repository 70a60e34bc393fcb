// The volume verbs of the cinder CLI, and the HTTP each one speaks:
//
//   create SIZE            POST /volumes {"volume": {size, name?, description?, volume_type?,
//                                         availability_zone?, metadata?}}   [--wait]
//   list                   GET /volumes/detail ?all_tenants,name,status,limit,marker,sort
//                          (follows volumes_links when no --limit)
//   show V                 resolve V (cli/resolve.h)
//   update V               PUT /volumes/<id> {"volume": {name?, description?}}
//   delete V...            DELETE /volumes/<id> ?cascade=true ?force=true   [--wait: until 404]
//   extend V N             POST /volumes/<id>/action {"os-extend": {"new_size": N}}   [--wait]
//   reset-state V...       {"os-reset_status": {status?, attach_status?, migration_status?}}
//   force-delete V...      {"os-force_delete": null}
//   set-bootable V B       {"os-set_bootable": {"bootable": B}}
//   readonly-mode-update V B   {"os-update_readonly_flag": {"readonly": B}}
//   metadata V set k=v...  POST /volumes/<id>/metadata {"metadata": {...}}
//   metadata V unset k...  DELETE /volumes/<id>/metadata/<k>, per key
//   metadata-show V        the resolved volume's "metadata"
//
// VolumeListRows/VolumeListHeader give the columns of `list` (shared with later verbs that
// list volumes).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/command.h"
#include "cli/table.h"

namespace scoria::cli {

void AddVolumeCommands(CLI::App& app, CommandTable& table);

Row VolumeListHeader();
Row VolumeListRow(const nlohmann::json& volume);

}  // namespace scoria::cli
