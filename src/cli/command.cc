#include "cli/command.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cctype>

namespace scoria::cli {

CLI::App* CommandTable::Add(CLI::App& app, const std::string& name, const std::string& description,
                            Action action) {
  CLI::App* sub = app.add_subcommand(name, description);
  commands_.emplace_back(sub, std::move(action));
  return sub;
}

const Action* CommandTable::Selected() const {
  for (const auto& [sub, action] : commands_) {
    if (sub->parsed()) return &action;
  }
  return nullptr;
}

void RequireOneOf(CLI::App* sub, const std::vector<CLI::Option*>& options) {
  sub->callback([options] {
    std::string names;
    for (const CLI::Option* o : options) {
      if (o->count() > 0) return;
      names += (names.empty() ? "" : ", ") + o->get_name();
    }
    throw CLI::ValidationError("at least one of " + names + " is required");
  });
}

Status ForEachArg(const Output& output, const std::vector<std::string>& args,
                  const std::string& verb, const std::string& noun,
                  const std::function<Status(const std::string&)>& fn) {
  if (args.size() == 1) return fn(args.front());
  Status first;
  size_t failed = 0;
  for (const auto& arg : args) {
    Status st = fn(arg);
    if (st.ok()) continue;
    output.err << verb << " for " << noun << " " << arg << " failed: " << st.message() << "\n";
    if (failed++ == 0) first = st;
  }
  if (failed == 0) return Status::Ok();
  return Status(first.code(), verb + " failed for " + std::to_string(failed) + " of " +
                                  std::to_string(args.size()) + " " + noun + "s");
}

Status SetOrUnsetKeys(Context& ctx, const std::string& path, const std::string& member,
                      const std::string& action, const std::vector<std::string>& items) {
  if (action == "set") {
    ASSIGN_OR_RETURN(auto values, ParseKeyValues(items));
    ASSIGN_OR_RETURN(nlohmann::json body, ctx.api.Post(path, nlohmann::json{{member, values}}));
    if (ctx.output.json) {
      ctx.output.Json(body.is_object() ? body.value(member, nlohmann::json()) : body);
    }
    return Status::Ok();
  }
  for (const auto& key : ParseKeys(items)) {
    RETURN_IF_ERROR(ctx.api.Delete(path + "/" + ApiClient::PathSegment(key)).status());
  }
  return Status::Ok();
}

Result<std::map<std::string, std::string>> ParseKeyValues(const std::vector<std::string>& items) {
  std::map<std::string, std::string> out;
  for (const auto& item : items) {
    auto eq = item.find('=');
    if (eq == std::string::npos || eq == 0) {
      return InvalidArgument("expected key=value, got '" + item + "'");
    }
    out[item.substr(0, eq)] = item.substr(eq + 1);
  }
  return out;
}

std::vector<std::string> ParseKeys(const std::vector<std::string>& items) {
  std::vector<std::string> out;
  for (const auto& item : items) out.push_back(item.substr(0, item.find('=')));
  return out;
}

Result<bool> ParseBool(const std::string& s) {
  std::string v = s;
  std::transform(v.begin(), v.end(), v.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (v == "true" || v == "1" || v == "yes" || v == "y" || v == "on" || v == "t") return true;
  if (v == "false" || v == "0" || v == "no" || v == "n" || v == "off" || v == "f") return false;
  return InvalidArgument("expected true or false, got '" + s + "'");
}

}  // namespace scoria::cli
