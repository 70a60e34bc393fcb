// The JSON shapes of resources, as Cinder's views build them (cinder/api/v3/views/*), per
// microversion. Pure functions of a record and the request (for links and the version).
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "api/http.h"
#include "db/types_repo.h"
#include "db/volumes_repo.h"

namespace scoria::api {

// [{"rel":"self",...},{"rel":"bookmark",...}] for /<collection>/<id>.
nlohmann::json ResourceLinks(const Request& req, const std::string& collection,
                             const std::string& id);
// Cinder's volume status as users see it.
std::string DisplayVolumeStatus(const std::string& status);

nlohmann::json VolumeSummaryView(const Request& req, const db::VolumeRecord& v);
nlohmann::json VolumeDetailView(const Request& req, const db::VolumeRecord& v,
                                const std::string& type_name);
nlohmann::json VolumeTypeView(const Request& req, const db::VolumeTypeRecord& t);

// Optional timestamps render as null.
nlohmann::json TimeOrNull(const std::optional<int64_t>& micros);

}  // namespace scoria::api
