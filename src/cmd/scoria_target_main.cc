// scoria-target: the target of scoriad without the control plane, for the conformance suite
// and benchmarks: exports one raw file as one iSCSI target to a fixed list of initiators.
// Not for production: scoriad exports volumes from the attachments API.
#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <csignal>
#include <cstdio>

#include "common/log.h"
#include "target/target_server.h"
#include "volume/block_device.h"

int main(int argc, char** argv) {
  CLI::App app{"scoria-target: export one file over iSCSI (tests and benchmarks)"};
  std::string address = "127.0.0.1", file, volume_id = "00000000-0000-0000-0000-000000000001";
  std::string chap_user, chap_secret, log_level = "warning";
  std::vector<std::string> initiators;
  int port = 3260, threads = 0, poll_max_us = 50;
  bool read_only = false;
  app.add_option("--address", address, "IPv4 address to listen on");
  app.add_option("--port", port, "TCP port (0: ephemeral, printed on stdout)");
  app.add_option("--file", file, "raw file to export")->required();
  app.add_option("--volume-id", volume_id, "id used in the target name and VPD");
  app.add_option("--allow", initiators, "initiator IQN allowed to log in (repeatable)")
      ->required();
  app.add_option("--chap-user", chap_user, "CHAP user name (empty: no CHAP)");
  app.add_option("--chap-secret", chap_secret, "CHAP secret");
  app.add_option("--threads", threads, "io threads (0: one per core)");
  app.add_option("--poll-max-us", poll_max_us,
                 "longest adaptive poll before a reactor sleeps, in µs (0: never poll)");
  app.add_flag("--read-only", read_only, "refuse writes");
  app.add_option("--log-level", log_level, "trace, debug, info, warning, error");
  CLI11_PARSE(app, argc, argv);
  (void)scoria::SetUpLogging(log_level, "");

  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  auto dev = scoria::volume::OpenFileBlockDevice(file);
  if (!dev.ok()) {
    std::fprintf(stderr, "scoria-target: %s\n", dev.status().message().c_str());
    return 1;
  }
  scoria::target::TargetServer::Options o;
  o.address = address;
  o.port = static_cast<uint16_t>(port);
  o.io_threads = threads;
  o.poll_max_us = poll_max_us;
  scoria::target::TargetServer server(o);
  if (auto st = server.Start(); !st.ok()) {
    std::fprintf(stderr, "scoria-target: %s\n", st.message().c_str());
    return 1;
  }
  (void)server.Export(volume_id, *dev);
  int n = 0;
  for (const auto& initiator : initiators) {
    scoria::volume::ExportAccess a;
    a.attachment_id = "harness-" + std::to_string(n++);
    a.initiator = initiator;
    a.chap_user = chap_user;
    a.chap_secret = chap_secret;
    a.read_only = read_only;
    (void)server.Allow(volume_id, a);
  }
  std::printf("%s %s\n", server.Portal().c_str(), server.TargetName(volume_id).c_str());
  std::fflush(stdout);
  int sig = 0;
  sigwait(&stop, &sig);
  server.Stop();
  return 0;
}
