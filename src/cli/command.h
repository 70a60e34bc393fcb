// How a verb is plugged in. A resource family (volumes.cc, types.cc, admin.cc, ...) adds its
// subcommands to the CLI11 app through a CommandTable, binding each one's flags to storage it
// owns and giving an Action. After parsing, app.cc builds a Context (the API client, the
// output streams, the clock) and runs the one Action whose subcommand was parsed.
//
// An Action returns OK or the Status to report; it prints its own results through Output
// (tables, or JSON with --json) and never prints errors: app.cc turns the Status into the
// one "scoria: error: ..." line and the exit code.
#pragma once

#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "cli/api_client.h"
#include "common/status.h"

namespace CLI {
class App;
class Option;
}  // namespace CLI

namespace scoria::cli {

class Clock;

// Where results go. Progress of --wait goes to `err` so that stdout stays parsable.
struct Output {
  std::ostream& out;
  std::ostream& err;
  bool json = false;        // --json: print server objects as JSON instead of tables
  bool err_is_tty = false;  // progress as one rewritten line instead of one line per change

  void Json(const nlohmann::json& j) const { out << j.dump(2) << "\n"; }
  void Text(const std::string& s) const { out << s; }
  // Prints `j` as JSON with --json, else `human`.
  void Print(const nlohmann::json& j, const std::string& human) const {
    if (json)
      Json(j);
    else
      Text(human);
  }
};

struct Context {
  ApiClient& api;
  const Output& output;
  Clock& clock;
  double wait_timeout_s = 300;  // --timeout
};

using Action = std::function<Status(Context&)>;

class CommandTable {
 public:
  // Adds subcommand `name` to `app`; `action` runs if it is the one parsed.
  CLI::App* Add(CLI::App& app, const std::string& name, const std::string& description,
                Action action);
  // The action of the subcommand that was parsed, or nullptr if none was.
  const Action* Selected() const;

 private:
  std::vector<std::pair<CLI::App*, Action>> commands_;
};

// Runs `fn` on each argument of a verb that takes several (delete VOLUME...). With one
// argument the result is fn's Status. With several, every failure is reported on err as
// "<verb> for <noun> <arg> failed: <message>", the others still run, and the result carries
// the first failure's code with "<verb> failed for K of N <noun>s".
Status ForEachArg(const Output& output, const std::vector<std::string>& args,
                  const std::string& verb, const std::string& noun,
                  const std::function<Status(const std::string&)>& fn);

// Makes parsing `sub` fail (a usage error, exit 2) unless at least one of `options` is given;
// for verbs like update whose flags are each optional but not all at once.
void RequireOneOf(CLI::App* sub, const std::vector<CLI::Option*>& options);

// "k=v" items -> map. An item without '=' is an InvalidArgument naming it.
Result<std::map<std::string, std::string>> ParseKeyValues(const std::vector<std::string>& items);
// "k=v" or "k" items -> the keys (for unset).
std::vector<std::string> ParseKeys(const std::vector<std::string>& items);
// The set/unset verbs of a key-value sub-resource (volume metadata, type extra specs) at
// `path`: "set" POSTs {member: {k: v, ...}} from "k=v" items and, with --json, prints the
// answer's `member`; any other action ("unset") DELETEs <path>/<key> for each key, stopping at
// the first failure. Errors are returned as the API client gave them.
Status SetOrUnsetKeys(Context& ctx, const std::string& path, const std::string& member,
                      const std::string& action, const std::vector<std::string>& items);
// "true"/"false" (any case; also 1/0, yes/no, on/off as oslo's bool_from_string) -> bool.
Result<bool> ParseBool(const std::string& s);

}  // namespace scoria::cli
