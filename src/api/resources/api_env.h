// What the resource handlers need from the rest of the daemon: the database and the config.
// Passed to each Register*Routes function, whose handlers keep a copy (it only holds
// references, which must outlive the HTTP server).
#pragma once

#include "api/http/router.h"
#include "common/config.h"
#include "db/database.h"

namespace scoria::api {

struct ApiEnv {
  db::Database& db;
  const Config& config;
};

// One per handler file; RegisterAllRoutes calls them all.
void RegisterVolumeRoutes(Router& router, const ApiEnv& env);
void RegisterSnapshotRoutes(Router& router, const ApiEnv& env);
void RegisterTypeRoutes(Router& router, const ApiEnv& env);
void RegisterAttachmentRoutes(Router& router, const ApiEnv& env);  // >= 3.27
void RegisterAdminRoutes(Router& router, const ApiEnv& env);  // services, AZs, pools, messages
void RegisterQuotaRoutes(Router& router, const ApiEnv& env);  // limits, quota sets and classes
void RegisterTransferRoutes(Router& router, const ApiEnv& env);  // volume transfers
void RegisterBackupRoutes(Router& router, const ApiEnv& env);
// The Cinder policy rule of every route registered above (route_policies.cc); RegisterAllRoutes
// calls it last.
void ProtectAllRoutes(Router& router);
void RegisterAllRoutes(Router& router, const ApiEnv& env);

}  // namespace scoria::api
