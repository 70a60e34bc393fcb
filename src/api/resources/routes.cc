#include "api/resources/api_env.h"

namespace scoria::api {

void RegisterAllRoutes(Router& router, const ApiEnv& env) {
  RegisterVolumeRoutes(router, env);
  RegisterSnapshotRoutes(router, env);
  RegisterTypeRoutes(router, env);
  RegisterAttachmentRoutes(router, env);
  RegisterAdminRoutes(router, env);
  RegisterQuotaRoutes(router, env);
  RegisterTransferRoutes(router, env);
  RegisterBackupRoutes(router, env);
  ProtectAllRoutes(router);
}

}  // namespace scoria::api
