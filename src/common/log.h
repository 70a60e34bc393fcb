// Logging: spdlog, configured once at start by the daemon. Modules call spdlog directly
// (spdlog::info(...)); this header only holds the set-up. Secrets (CHAP passwords, tokens) are
// never passed to a log call: callers log ids, not credentials.
#pragma once

#include <string>

#include "common/status.h"

namespace scoria {

// level: trace, debug, info, warning, error. file: empty = stderr.
Status SetUpLogging(const std::string& level, const std::string& file);

}  // namespace scoria
