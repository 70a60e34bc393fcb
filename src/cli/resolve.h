// Name-or-id resolution, as cinderclient's find_resource does it:
//
//   1. An argument that looks like a UUID is fetched by id (GET /volumes/<id>); found -> done.
//   2. Otherwise, or on 404, list by name and keep exact name matches:
//        volumes: GET /volumes/detail?all_tenants=1&name=<n>
//        types:   GET /types?is_public=None  (the server does not filter types by name)
//   3. 0 matches -> NotFound "No volume with a name or ID of 'x' exists."
//      >1        -> InvalidArgument "Multiple volume matches found for 'x', use an ID to be
//                   more specific."
//
// Success returns the resource's JSON object (as the server sent it). Errors other than a
// 404 in step 1 (transport, 5xx, ...) are returned unchanged.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "cli/api_client.h"
#include "common/status.h"

namespace scoria::cli {

// 8-4-4-4-12 hex digits with dashes, or 32 hex digits (what oslo's is_uuid_like accepts).
bool IsUuidLike(const std::string& s);

// Describes where a resource family lives, for FindResource.
struct ResourceKind {
  std::string noun;        // "volume", "volume type": used in messages
  std::string item_path;   // "/volumes/" or "/types/": + id
  std::string item_key;    // "volume": member of the GET-by-id body
  std::string list_path;   // "/volumes/detail"
  Query list_query;        // extra list parameters
  bool name_query = true;  // add name=<n> to the list query
  std::string list_key;    // "volumes": member of the list body
};

ResourceKind VolumeKind();
ResourceKind VolumeTypeKind();

Result<nlohmann::json> FindResource(ApiClient& api, const ResourceKind& kind,
                                    const std::string& name_or_id);

inline Result<nlohmann::json> FindVolume(ApiClient& api, const std::string& name_or_id) {
  return FindResource(api, VolumeKind(), name_or_id);
}
inline Result<nlohmann::json> FindVolumeType(ApiClient& api, const std::string& name_or_id) {
  return FindResource(api, VolumeTypeKind(), name_or_id);
}

// The "id" member of a resource as a string ("" if absent).
std::string IdOf(const nlohmann::json& resource);

}  // namespace scoria::cli
