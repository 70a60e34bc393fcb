// scoria-manage: the operator's offline commands, in the spirit of cinder-manage, run as
// `scoriad --config FILE --manage <command...>`. They work on the database named by the
// configuration directly (no API, no running daemon needed):
//
//   db sync                        migrate to the newest schema, print its version
//   db version                     print the schema version (0: never migrated)
//   service list                   every service row: binary, host, zone, status, state
//                                  (":-)" up, "XXX" down), frozen, last heartbeat
//   service remove BINARY HOST     delete a service row; refused while it is up
//   volume update_host --currenthost A --newhost B
//                                  move volumes and queued tasks from backend A (host@backend)
//                                  to B (host@backend: each volume keeps its pool;
//                                  host@backend#pool: all take that pool); refused while A's
//                                  volume service is up
//
// Exit codes: 0 done; 1 refused or failed (one line on stderr: unknown service, service up,
// bad host name, database error); 2 usage (CLI11's message).
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "common/config.h"
#include "db/database.h"

namespace scoria::manage {

// Runs the command `args` (what followed --manage) against `db`. Output goes to `out`, the
// one-line error to `err` ("scoriad --manage: <message>"). `now_us` decides which services
// are up (config.service_down_time). Called from the main thread; `db` is not migrated here
// except by `db sync`.
int RunManage(db::Database& db, const Config& config, const std::vector<std::string>& args,
              int64_t now_us, std::ostream& out, std::ostream& err);

}  // namespace scoria::manage
