#include "api/http/versions.h"

#include "api/http/microversion.h"

namespace scoria::api {

nlohmann::json VersionsDocument(const std::string& base_url) {
  nlohmann::json v3 = {
      {"id", "v3.0"},
      {"status", "CURRENT"},
      {"version", kMaxVersion.ToString()},
      {"min_version", kMinVersion.ToString()},
      {"updated", "2023-08-31T00:00:00Z"},
      {"links",
       nlohmann::json::array(
           {{{"rel", "describedby"}, {"type", "text/html"}, {"href", "https://docs.openstack.org/"}},
            {{"rel", "self"}, {"href", base_url + "/v3/"}}})},
      {"media-types",
       nlohmann::json::array({{{"base", "application/json"},
                               {"type", "application/vnd.openstack.volume+json;version=3"}}})},
  };
  return {{"versions", nlohmann::json::array({v3})}};
}

}  // namespace scoria::api
