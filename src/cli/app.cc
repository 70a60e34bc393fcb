#include "cli/app.h"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <iostream>

#include "cli/admin.h"
#include "cli/attachments.h"
#include "cli/backups.h"
#include "cli/api_client.h"
#include "cli/command.h"
#include "cli/curl_http_client.h"
#include "cli/snapshots.h"
#include "cli/types.h"
#include "cli/volumes.h"
#include "cli/wait.h"

namespace scoria::cli {
namespace {

struct GlobalFlags {
  std::string endpoint, token, api_version;
  bool json = false;
  double timeout = 300;
  CLI::Option *endpoint_opt, *token_opt, *version_opt;
};

// Flag, else environment variable, else default.
std::string Pick(CLI::Option* opt, const std::string& flag_value, const Environment& env,
                 const char* var, const char* fallback) {
  if (opt->count() > 0) return flag_value;
  if (env.getenv) {
    if (auto v = env.getenv(var); v && !v->empty()) return *v;
  }
  return fallback;
}

int Run(const std::vector<std::string>& args, const Environment& env) {
  CLI::App app{"scoria: the Scoria block storage client (Cinder Block Storage API v3).", "scoria"};
  app.fallthrough();  // global flags may also follow the verb
  app.require_subcommand(1);
  app.footer(
      "Exit codes: 0 ok, 1 API or user error, 2 usage error, 3 cannot reach the "
      "endpoint, 4 --wait ended in an error state or timed out.");
  GlobalFlags g;
  g.endpoint_opt = app.add_option(
      "--endpoint", g.endpoint,
      "API endpoint (env SCORIA_ENDPOINT; default " + std::string(kDefaultEndpoint) + ")");
  g.token_opt = app.add_option("--token", g.token,
                               "X-Auth-Token, user[:project] for noauth (env SCORIA_TOKEN; default "
                               "admin:admin)");
  g.version_opt = app.add_option("--api-version", g.api_version,
                                 "Microversion 3.N (env SCORIA_API_VERSION; default 3.71)")
                      ->check(CLI::Validator(
                          [](std::string& v) -> std::string {
                            auto dot = v.find('.');
                            bool ok = v.size() >= 3 && v.rfind("3.", 0) == 0 && dot == 1 &&
                                      v.find_first_not_of("0123456789", 2) == std::string::npos;
                            return ok ? "" : "expected 3.N, got '" + v + "'";
                          },
                          "3.N"));
  app.add_flag("--json", g.json, "Print the server's JSON objects instead of tables.");
  app.add_option("--timeout", g.timeout, "Seconds --wait waits at most (default 300).")
      ->check(CLI::PositiveNumber);

  CommandTable table;
  AddVolumeCommands(app, table);
  AddSnapshotCommands(app, table);
  AddTypeCommands(app, table);
  AddAdminCommands(app, table);
  AddAttachmentCommands(app, table);
  AddBackupCommands(app, table);

  try {
    app.parse(std::vector<std::string>(args.rbegin(), args.rend()));
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e, *env.out, *env.err);
    return rc == 0 ? kExitOk : kExitUsage;
  }
  const Action* action = table.Selected();
  if (action == nullptr) {  // unreachable with require_subcommand(1)
    *env.err << app.help();
    return kExitUsage;
  }

  std::string endpoint = Pick(g.endpoint_opt, g.endpoint, env, "SCORIA_ENDPOINT", kDefaultEndpoint);
  while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
  ApiOptions api_options;
  api_options.token = Pick(g.token_opt, g.token, env, "SCORIA_TOKEN", kDefaultToken);
  api_options.api_version =
      Pick(g.version_opt, g.api_version, env, "SCORIA_API_VERSION", kDefaultApiVersion);
  // Without an explicit version, speak the highest both sides know.
  bool version_in_env = false;
  if (env.getenv) {
    auto v = env.getenv("SCORIA_API_VERSION");
    version_in_env = v && !v->empty();
  }
  api_options.negotiate = g.version_opt->count() == 0 && !version_in_env;

  std::unique_ptr<HttpClient> http = env.make_http(endpoint);
  ApiClient api(*http, api_options);
  Output output{*env.out, *env.err, g.json, env.err_is_tty};
  Context ctx{api, output, *env.clock, g.timeout};

  Status status;
  try {
    status = (*action)(ctx);
  } catch (const nlohmann::json::exception& e) {
    status = Internal(std::string("unexpected answer from the server: ") + e.what());
  }
  env.out->flush();
  if (status.ok()) return kExitOk;
  *env.err << "scoria: error: " << status.message() << "\n";
  return ExitCodeFor(status);
}

}  // namespace

int ExitCodeFor(const Status& status) {
  switch (status.code()) {
    case StatusCode::kOk:
      return kExitOk;
    case StatusCode::kUnavailable:
      return kExitUnreachable;
    case StatusCode::kFailedPrecondition:
      return kExitWaitFailed;
    default:
      return kExitError;
  }
}

Environment SystemEnvironment() {
  Environment env;
  env.getenv = [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
  env.out = &std::cout;
  env.err = &std::cerr;
  env.err_is_tty = isatty(STDERR_FILENO) != 0;
  env.make_http = [](const std::string& endpoint) -> std::unique_ptr<HttpClient> {
    return std::make_unique<CurlHttpClient>(endpoint);
  };
  env.clock = &SystemClock();
  return env;
}

int RunCli(const std::vector<std::string>& args, const Environment& env) {
  try {
    return Run(args, env);
  } catch (const std::exception& e) {
    *env.err << "scoria: error: " << e.what() << "\n";
    return kExitError;
  }
}

}  // namespace scoria::cli
