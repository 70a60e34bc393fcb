// The API versions document served on GET / (300) and GET /v3, /v3/ (200), unauthenticated.
//
// cinderclient reads it to negotiate: it takes the entry whose "version" contains "3." and
// uses its version/min_version (docs cinder-api.md §1.2). Field names and values are Cinder's.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace scoria::api {

// The document for a server reached at `base_url` ("http://host:port"); the self link is
// base_url + "/v3/".
nlohmann::json VersionsDocument(const std::string& base_url);

}  // namespace scoria::api
