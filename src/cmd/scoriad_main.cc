// scoriad: flags, configuration, signals; everything else is runtime::Daemon.
#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <csignal>
#include <cstdio>

#include "common/config.h"
#include "common/log.h"
#include "runtime/daemon.h"
#include "scheduler/scheduler_service.h"

int main(int argc, char** argv) {
  CLI::App app{"scoriad: block storage service (Block Storage API v3)"};
  std::string config_path = "/etc/scoria/scoria.conf";
  bool check_only = false;
  app.add_option("--config", config_path, "configuration file (cinder.conf spelling)");
  app.add_flag("--check-config", check_only, "validate the configuration and exit");
  CLI11_PARSE(app, argc, argv);

  auto config = scoria::LoadConfig(config_path);
  if (!config.ok()) {
    std::fprintf(stderr, "scoriad: %s\n", config.status().message().c_str());
    return 2;
  }
  if (auto st = scoria::scheduler::CheckSchedulerConfig(*config); !st.ok()) {
    std::fprintf(stderr, "scoriad: %s\n", st.message().c_str());
    return 2;
  }
  if (check_only) {
    std::printf("%s: OK\n", config_path.c_str());
    return 0;
  }
  if (auto st = scoria::SetUpLogging(config->log_level, config->log_file); !st.ok()) {
    std::fprintf(stderr, "scoriad: %s\n", st.message().c_str());
    return 2;
  }
  // Block the stop signals in every thread; the main thread waits for them below.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  // Logging to stderr already shows the start error: it is printed again only when the log
  // goes to a file, so a failed start is one line on stderr either way.
  const bool log_to_stderr = config->log_file.empty();
  scoria::runtime::Daemon daemon(std::move(*config));
  if (auto st = daemon.Start(); !st.ok()) {
    spdlog::critical("cannot start: {}", st.ToString());
    if (!log_to_stderr) std::fprintf(stderr, "scoriad: cannot start: %s\n", st.message().c_str());
    daemon.Stop();
    return 1;
  }
  int sig = 0;
  sigwait(&stop_signals, &sig);
  spdlog::info("signal {}: stopping", sig);
  daemon.Stop();
  spdlog::info("stopped");
  return 0;
}
