// The volume-type verbs of the cinder CLI, and the HTTP each one speaks:
//
//   type-create NAME       POST /types {"volume_type": {name, description?,
//                                       "os-volume-type-access:is_public": bool}}
//   type-list              GET /types?is_public=None (public and private, as cinder)
//   type-show T            resolve T (cli/resolve.h)
//   type-update T          PUT /types/<id> {"volume_type": {name?, description?, is_public?}}
//   type-delete T...       DELETE /types/<id>
//   type-key T set k=v...  POST /types/<id>/extra_specs {"extra_specs": {...}}
//   type-key T unset k...  DELETE /types/<id>/extra_specs/<k>, per key
//   type-default           GET /types/default
//   extra-specs-list       GET /types?is_public=None, with each type's extra_specs
#pragma once

#include "cli/command.h"

namespace scoria::cli {

void AddTypeCommands(CLI::App& app, CommandTable& table);

}  // namespace scoria::cli
