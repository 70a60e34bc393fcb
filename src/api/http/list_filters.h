// The filters of a list request, as the volumes, snapshots and backups collections share them.
//
// ParseListParams (query.h) checks which filter names a caller may use; this splits what is left
// into what the collections' storage layers take: exact matches, substring matches (`key~`,
// 3.34), metadata matches (`metadata={'k': 'v'}`, a Python dict literal or JSON) and time ranges
// (`created_at=gt:2020-01-01T00:00:00,lt:...`, 3.60). Each collection says which user keys map
// to which column; a key it does not map is dropped, as Cinder's DB layer drops unknown keys.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "api/http/query.h"
#include "common/status.h"

namespace scoria::api {

struct ListFilters {
  std::map<std::string, std::string> equals;    // column -> value
  std::map<std::string, std::string> like;      // column -> substring
  std::map<std::string, std::string> metadata;  // key -> value (non-strings as their JSON)
  // column, (operator: gt gte eq neq lt lte, microseconds since the epoch)
  std::vector<std::pair<std::string, std::pair<std::string, int64_t>>> time_ranges;
};

struct FilterSpec {
  // The column of a user key ("display_name" -> "name" ...); nullopt: the key is dropped.
  std::function<std::optional<std::string>(const std::string& key)> column;
  bool metadata = false;     // `metadata` is a filter of this collection
  bool time_ranges = false;  // created_at/updated_at take 3.60's operator ranges
};

// InvalidArgument (400, Cinder's wording) for a metadata filter that is not a dict or a time
// filter that does not parse.
Result<ListFilters> SplitFilters(const ListParams& params, const FilterSpec& spec);

}  // namespace scoria::api
