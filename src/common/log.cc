#include "common/log.h"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

namespace scoria {

Status SetUpLogging(const std::string& level, const std::string& file) {
  try {
    std::shared_ptr<spdlog::logger> logger;
    if (file.empty()) {
      logger = spdlog::stderr_logger_mt("scoria");
    } else {
      logger = spdlog::basic_logger_mt("scoria", file);
    }
    logger->set_pattern("%Y-%m-%d %H:%M:%S.%e %t %l %v");
    spdlog::set_default_logger(logger);
    spdlog::set_level(spdlog::level::from_str(level == "warning" ? "warn" : level));
    spdlog::flush_on(spdlog::level::info);
  } catch (const spdlog::spdlog_ex& e) {
    return InvalidArgument(std::string("cannot set up logging: ") + e.what());
  }
  return Status::Ok();
}

}  // namespace scoria
