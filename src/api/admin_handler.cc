#include "api/api_env.h"

namespace scoria::api {

void RegisterAdminRoutes(Router&, const ApiEnv&) {}

}  // namespace scoria::api
