// The `scoria` CLI as a function: RunCli parses the arguments (global flags, then one verb),
// talks to the API through the Environment's transport, prints results on the Environment's
// out stream and returns the process exit code. Errors are translated here, once, to one line
// on the err stream, "scoria: error: <message>", and an exit code:
//
//   kExitOk (0)          success
//   kExitError (1)       the API refused (any HTTP error: the fault message and
//                        "(HTTP <code>)"), a name matched no or several resources, or the
//                        server sent something unexpected
//   kExitUsage (2)       bad flags or arguments (CLI11's own message)
//   kExitUnreachable (3) no HTTP answer: "cannot reach <endpoint>: <curl error>"
//   kExitWaitFailed (4)  --wait ended in an error status, or timed out
//
// Global flags (before or after the verb): --endpoint (env SCORIA_ENDPOINT, default
// http://127.0.0.1:8776/v3), --token (SCORIA_TOKEN, default admin:admin), --api-version
// (SCORIA_API_VERSION, default 3.71), --json, --timeout (seconds for --wait, default 300).
//
// Never throws. Single-threaded.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "cli/http_client.h"
#include "common/status.h"

namespace scoria::cli {

class Clock;

inline constexpr int kExitOk = 0;
inline constexpr int kExitError = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitUnreachable = 3;
inline constexpr int kExitWaitFailed = 4;

inline constexpr char kDefaultEndpoint[] = "http://127.0.0.1:8776/v3";
inline constexpr char kDefaultToken[] = "admin:admin";
inline constexpr char kDefaultApiVersion[] = "3.71";

// What the CLI needs from the process; tests substitute each part.
struct Environment {
  std::function<std::optional<std::string>(const std::string&)> getenv;
  std::ostream* out = nullptr;
  std::ostream* err = nullptr;
  bool err_is_tty = false;
  // Makes the transport for the chosen endpoint.
  std::function<std::unique_ptr<HttpClient>(const std::string& endpoint)> make_http;
  Clock* clock = nullptr;
};

// The real process: ::getenv, std::cout/std::cerr, isatty(2), CurlHttpClient, steady clock.
Environment SystemEnvironment();

// args: the command line without argv[0].
int RunCli(const std::vector<std::string>& args, const Environment& env);

// The exit code for a verb's non-OK Status (see the table above).
int ExitCodeFor(const Status& status);

}  // namespace scoria::cli
