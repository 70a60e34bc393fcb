#include "api/http/query.h"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "api/http/text.h"

namespace scoria::api {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Python int(): optional sign, decimal digits, surrounding spaces.
Result<int64_t> ParseNonNegative(std::string_view name, std::string_view text) {
  std::string_view t = TrimSpace(text);
  if (!t.empty() && t.front() == '+') t.remove_prefix(1);
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (t.empty() || ec != std::errc() || ptr != t.data() + t.size()) {
    return InvalidArgument(std::string(name) + " param must be an integer");
  }
  if (v < 0) return InvalidArgument(std::string(name) + " param must be positive");
  return v;
}

std::vector<std::string> SplitComma(std::string_view s) {
  std::vector<std::string> out;
  while (true) {
    size_t comma = s.find(',');
    out.emplace_back(TrimSpace(s.substr(0, comma)));
    if (comma == std::string_view::npos) break;
    s.remove_prefix(comma + 1);
  }
  return out;
}

Result<bool> ParseDirection(std::string_view dir) {
  std::string d = Lower(TrimSpace(dir));
  if (d.empty() || d == "desc") return true;
  if (d == "asc") return false;
  return InvalidArgument("Unknown sort direction, must be 'desc' or 'asc'");
}

bool IsReserved(std::string_view name) {
  return name == "limit" || name == "marker" || name == "offset" || name == "sort" ||
         name == "sort_key" || name == "sort_dir" || name == "with_count" ||
         name == "all_tenants";
}

}  // namespace

Result<bool> ParseStrictBool(std::string_view text) {
  std::string t = Lower(TrimSpace(text));
  if (t == "true" || t == "1" || t == "yes" || t == "on" || t == "t" || t == "y") return true;
  if (t == "false" || t == "0" || t == "no" || t == "off" || t == "f" || t == "n") return false;
  return InvalidArgument("Unrecognized value '" + std::string(text) +
                         "', acceptable values are: '0', '1', 'f', 'false', 'n', 'no', 'off', "
                         "'on', 't', 'true', 'y', 'yes'");
}

namespace {

// sort=k1:dir,k2 (3.x) or the deprecated sort_key/sort_dir pair; every key must be the
// collection's (created_at always is).
Result<std::vector<SortKey>> ParseSort(const Request& req, const ListSpec& spec) {
  std::vector<SortKey> out;
  auto sort = req.Get("sort");
  auto sort_key = req.Get("sort_key");
  auto sort_dir = req.Get("sort_dir");
  if (sort.has_value()) {
    if (sort_key.has_value() || sort_dir.has_value()) {
      return InvalidArgument("The 'sort_key' and 'sort_dir' parameters are deprecated and cannot "
                             "be used with the 'sort' parameter.");
    }
    for (const std::string& item : SplitComma(*sort)) {
      size_t colon = item.find(':');
      SortKey k{std::string(TrimSpace(std::string_view(item).substr(0, colon))), true};
      if (colon != std::string::npos) {
        ASSIGN_OR_RETURN(k.desc, ParseDirection(std::string_view(item).substr(colon + 1)));
      }
      out.push_back(std::move(k));
    }
  } else if (sort_key.has_value() || sort_dir.has_value()) {
    std::vector<std::string> keys =
        sort_key.has_value() ? SplitComma(*sort_key) : std::vector<std::string>{"created_at"};
    std::vector<std::string> dirs =
        sort_dir.has_value() ? SplitComma(*sort_dir) : std::vector<std::string>{};
    for (size_t i = 0; i < keys.size(); ++i) {
      SortKey k{keys[i], true};
      if (!dirs.empty()) {
        ASSIGN_OR_RETURN(k.desc, ParseDirection(i < dirs.size() ? dirs[i] : dirs.back()));
      }
      out.push_back(std::move(k));
    }
  }
  for (const SortKey& k : out) {
    // created_at is every collection's default key, so it is always accepted.
    if (k.key != "created_at" && !spec.sort_keys.contains(k.key)) {
      return InvalidArgument("Invalid input received: Invalid sort key " + k.key + ".");
    }
  }
  return out;
}

// The query's other parameters, the filters: a non-admin may use only the collection's
// filter_keys (from 3.31 an unknown one is refused, before that ignored).
Result<std::map<std::string, std::string>> ParseFilters(const Request& req, const ListSpec& spec) {
  std::map<std::string, std::string> out;
  std::vector<std::string> invalid;
  for (const auto& [name, value] : req.query) {
    if (IsReserved(name)) continue;
    if (!req.ctx.is_admin) {
      std::string_view base = name;
      if (base.ends_with('~')) base.remove_suffix(1);
      if (!spec.filter_keys.contains(base)) {
        if (req.version >= ApiVersion{3, 31} &&
            std::find(invalid.begin(), invalid.end(), name) == invalid.end()) {
          invalid.push_back(name);
        }
        continue;
      }
    }
    out[name] = value;
  }
  if (!invalid.empty()) {
    std::string names;
    for (const std::string& n : invalid) names += (names.empty() ? "" : ", ") + n;
    return InvalidArgument("Invalid filters " + names + " are found in query options.");
  }
  return out;
}

}  // namespace

Result<ListParams> ParseListParams(const Request& req, const ListSpec& spec) {
  ListParams p;
  p.page_size = spec.max_limit;
  if (auto v = req.Get("limit")) {
    ASSIGN_OR_RETURN(int64_t limit, ParseNonNegative("limit", *v));
    p.limit = std::min(limit, spec.max_limit);
    p.page_size = *p.limit;
  }
  if (auto v = req.Get("offset")) {
    ASSIGN_OR_RETURN(p.offset, ParseNonNegative("offset", *v));
  }
  p.marker = req.Get("marker");

  ASSIGN_OR_RETURN(p.sort, ParseSort(req, spec));
  if (req.version >= ApiVersion{3, 45}) {
    if (auto v = req.Get("with_count")) {
      ASSIGN_OR_RETURN(p.with_count, ParseStrictBool(*v));
    }
  }
  if (auto v = req.Get("all_tenants")) {
    auto b = ParseStrictBool(*v);
    if (!b.ok()) return InvalidArgument("Invalid value for all_tenants: " + b.status().message());
    p.all_tenants = *b && req.ctx.all_tenants_allowed;
  }

  ASSIGN_OR_RETURN(p.filters, ParseFilters(req, spec));
  return p;
}

std::string NextLink(const Request& req, std::string_view collection, std::string_view last_id,
                     std::optional<int64_t> limit) {
  std::string url = req.base_url + "/v3";
  if (!req.url_project.empty()) url += "/" + UrlEncode(req.url_project);
  url += "/";
  url += collection;
  std::string q;
  auto add = [&q](std::string_view name, std::string_view value) {
    q += q.empty() ? "?" : "&";
    q += UrlEncode(name) + "=" + UrlEncode(value);
  };
  for (const auto& [name, value] : req.query) {
    if (name == "marker" || (limit.has_value() && name == "limit")) continue;
    add(name, value);
  }
  if (limit.has_value()) add("limit", std::to_string(*limit));
  add("marker", last_id);
  return url + q;
}

}  // namespace scoria::api
