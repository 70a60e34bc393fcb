#include "api/http/list_filters.h"

#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "common/clock.h"

namespace scoria::api {
namespace {

using nlohmann::json;

Status AddMetadata(const std::string& value, ListFilters* out) {
  std::string text = value;
  for (char& c : text) c = c == '\'' ? '"' : c;
  json md = json::parse(text, nullptr, false);
  if (!md.is_object()) {
    return InvalidArgument("Invalid input received: metadata filter must be a dict, got " +
                           value);
  }
  for (auto it = md.begin(); it != md.end(); ++it) {
    out->metadata[it.key()] = it->is_string() ? it->get<std::string>() : it->dump();
  }
  return Status::Ok();
}

Status AddTimeRange(const std::string& key, const std::string& value, ListFilters* out) {
  static const std::set<std::string> kOps = {"gt", "gte", "eq", "neq", "lt", "lte"};
  std::stringstream in(value);
  std::string part;
  while (std::getline(in, part, ',')) {
    auto colon = part.find(':');
    std::string op = colon == std::string::npos ? "eq" : part.substr(0, colon);
    std::string when = colon == std::string::npos ? part : part.substr(colon + 1);
    auto t = ParseIsoTime(when);
    if (!kOps.count(op) || !t) {
      return InvalidArgument("Invalid input received: invalid time filter " + key + "=" + value);
    }
    out->time_ranges.push_back({key, {op, *t}});
  }
  return Status::Ok();
}

}  // namespace

Result<ListFilters> SplitFilters(const ListParams& params, const FilterSpec& spec) {
  ListFilters out;
  for (const auto& [key_in, value] : params.filters) {
    std::string key = key_in;
    const bool like = !key.empty() && key.back() == '~';
    if (like) key.pop_back();
    if (spec.metadata && key == "metadata") {
      RETURN_IF_ERROR(AddMetadata(value, &out));
      continue;
    }
    if (spec.time_ranges && (key == "created_at" || key == "updated_at")) {
      RETURN_IF_ERROR(AddTimeRange(key, value, &out));
      continue;
    }
    auto col = spec.column(key);
    if (!col) continue;
    (like ? out.like : out.equals)[*col] = value;
  }
  return out;
}

}  // namespace scoria::api
