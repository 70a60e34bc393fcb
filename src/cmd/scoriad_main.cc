// scoriad: flags, configuration, signals; everything else is runtime::Daemon, or, with
// --manage, manage::RunManage (the operator's offline commands).
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/config.h"
#include "common/log.h"
#include "db/database.h"
#include "manage/manage.h"
#include "runtime/daemon.h"
#include "scheduler/scheduler_service.h"

int main(int argc, char** argv) {
  // Everything after --manage is a manage command with flags of its own.
  int own_argc = argc;
  std::vector<std::string> manage_args;
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--manage") {
      own_argc = i;
      manage_args.assign(argv + i + 1, argv + argc);
      break;
    }
  }
  const bool manage = own_argc != argc;
  CLI::App app{"scoriad: block storage service (Block Storage API v3)"};
  std::string config_path = "/etc/scoria/scoria.conf";
  bool check_only = false;
  bool help_config = false;
  app.add_option("--config", config_path, "configuration file (cinder.conf spelling)");
  app.add_flag("--check-config", check_only, "validate the configuration and exit");
  app.add_flag("--help-config", help_config,
               "print every option (section, type, default, meaning) as docs/configuration.md "
               "lists them, and exit");
  app.footer(
      "--manage COMMAND...: operator commands on the database (db sync|version, "
      "service list|remove, volume update_host); see src/manage/manage.h");
  CLI11_PARSE(app, own_argc, argv);
  if (help_config) {
    std::fputs(scoria::OptionTableMarkdown().c_str(), stdout);
    return 0;
  }

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
  if (manage) {
    // stdout carries the command's answer (e.g. the schema version); the log goes to stderr.
    spdlog::set_default_logger(spdlog::stderr_logger_mt("manage"));
    auto db = scoria::db::OpenDatabase(config->database_connection);
    if (!db.ok()) {
      std::fprintf(stderr, "scoriad --manage: %s\n", db.status().message().c_str());
      return 1;
    }
    return scoria::manage::RunManage(**db, *config, manage_args, scoria::NowMicros(), std::cout,
                                     std::cerr);
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
