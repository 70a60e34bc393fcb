#include "api/api_env.h"

namespace scoria::api {

void RegisterTypeRoutes(Router&, const ApiEnv&) {}

}  // namespace scoria::api
