// Sorting and paging a short collection in memory with Cinder's list semantics: sort keys
// (default created_at desc, id as the tiebreaker), marker (404 when unknown), offset, page
// size and the `<collection>_links` next link. For collections that are small by nature
// (volume types, user messages); volumes are paged in SQL (db/volumes_repo.h).
#pragma once

#include <algorithm>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/http/fault.h"
#include "api/http/http.h"
#include "api/http/query.h"

namespace scoria::api {

struct MemoryPageSpec {
  std::string collection;   // path for the next link: "types", "messages"
  std::string items_key;    // "volume_types", "messages"
  std::string links_key;    // "volume_type_links", "messages_links"
  std::string not_found;    // "Volume type" -> "Volume type <marker> could not be found."
  bool with_count = false;  // add "count": every item, before paging (3.45 with_count)
};

// `field(item, key)` returns the JSON value a sort key compares; `view(item)` the item's JSON;
// items have an `id` member.
template <typename T, typename FieldFn, typename ViewFn>
Response PageInMemory(const Request& req, std::vector<T> items, const ListParams& params,
                      const MemoryPageSpec& spec, FieldFn field, ViewFn view) {
  using nlohmann::json;
  const size_t total = items.size();
  std::vector<SortKey> sort = params.sort;
  if (sort.empty()) sort = {{"created_at", true}};
  std::stable_sort(items.begin(), items.end(), [&](const T& a, const T& b) {
    for (const SortKey& k : sort) {
      json fa = field(a, k.key), fb = field(b, k.key);
      if (fa == fb) continue;
      return k.desc ? fb < fa : fa < fb;
    }
    return sort.front().desc ? b.id < a.id : a.id < b.id;
  });
  size_t start = 0;
  if (params.marker) {
    auto it = std::find_if(items.begin(), items.end(),
                           [&](const T& t) { return t.id == *params.marker; });
    if (it == items.end()) {
      return FaultResponse(NotFound(spec.not_found + " " + *params.marker +
                                    " could not be found."));
    }
    start = static_cast<size_t>(it - items.begin()) + 1;
  }
  start += static_cast<size_t>(params.offset);
  json out_items = json::array();
  std::string last_id;
  for (size_t i = start;
       i < items.size() && static_cast<int64_t>(out_items.size()) < params.page_size; ++i) {
    out_items.push_back(view(items[i]));
    last_id = items[i].id;
  }
  const bool full =
      !out_items.empty() && static_cast<int64_t>(out_items.size()) == params.page_size;
  json out = {{spec.items_key, std::move(out_items)}};
  if (full) {
    out[spec.links_key] = json::array(
        {{{"rel", "next"}, {"href", NextLink(req, spec.collection, last_id, params.limit)}}});
  }
  if (spec.with_count) out["count"] = total;
  return JsonResponse(200, out);
}

}  // namespace scoria::api
