// List query parameters as Cinder parses them: pagination, sorting, filters, all_tenants.
//
// Rules (docs cinder-api.md §1.3; cinder/api/common.py, cinder/db/api.py process_sort_params):
// limit and offset are integers >= 0 (limit clamped to the collection's max); sort is
// "k1:asc,k2" (default direction desc) or the legacy sort_key/sort_dir pair (not both);
// with_count exists from 3.45; from 3.31 a non-admin naming a filter the collection does not
// allow gets 400, before 3.31 it is dropped; admins may filter on anything. all_tenants is never
// a filter. Mapping user names to columns ("name" -> "display_name") is the caller's job.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "api/http/http.h"
#include "common/status.h"

namespace scoria::api {

struct SortKey {
  std::string key;
  bool desc = true;
  bool operator==(const SortKey&) const = default;
};

struct ListParams {
  std::optional<int64_t> limit;  // as given, clamped to max_limit; nullopt if absent
  int64_t page_size = 1000;      // limit, or max_limit when absent: the page to return
  std::optional<std::string> marker;
  int64_t offset = 0;
  std::vector<SortKey> sort;  // empty: the collection's default (created_at desc, then id)
  bool with_count = false;    // only >= 3.45
  bool all_tenants = false;   // asked for AND the caller may (ctx.all_tenants_allowed)
  std::map<std::string, std::string> filters;  // other query params (last value wins)
};

// What one collection accepts.
struct ListSpec {
  std::set<std::string, std::less<>> sort_keys;    // user-facing keys, e.g. "name", "size"
  std::set<std::string, std::less<>> filter_keys;  // allowed for non-admins (resource_filters)
  int64_t max_limit = 1000;                        // osapi_max_limit
};

// Parses the list parameters of `req` (uses req.query, req.version, req.ctx). InvalidArgument
// (400) for a bad limit/offset/sort/with_count/all_tenants value, an unknown sort key, sort
// combined with sort_key/sort_dir, or (>= 3.31, non-admin) filters outside spec.filter_keys:
// "Invalid filters a, b are found in query options." A trailing '~' (LIKE filter, >= 3.34) is
// ignored when checking a filter name.
Result<ListParams> ParseListParams(const Request& req, const ListSpec& spec);

// oslo strutils.bool_from_string(strict=True): true/false, 1/0, yes/no, on/off, t/f, y/n,
// case-insensitive, surrounding spaces ignored. InvalidArgument otherwise.
Result<bool> ParseStrictBool(std::string_view text);

// The href of the "next" link of a full page: base_url + "/v3[/<url_project>]/" + collection
// ("volumes/detail") + the request's query with marker = last_id (and limit = *limit when
// given), other parameters kept in order.
std::string NextLink(const Request& req, std::string_view collection, std::string_view last_id,
                     std::optional<int64_t> limit = std::nullopt);

}  // namespace scoria::api
