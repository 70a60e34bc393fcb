// Block Storage v3 microversions: the ApiVersion value type and Cinder's negotiation rule.
//
// A client asks for a microversion with the header `OpenStack-API-Version: volume 3.27`
// (keystoneauth's spelling; the header may list several services separated by commas). The
// server answers with the version it used in the same header. Scoria supports the same range
// as the Cinder release it mirrors, [3.0, 3.71]; handlers gate behaviour on the negotiated
// version in Request::version. Reference: docs cinder-api.md §1.2,
// cinder/api/openstack/wsgi.py Request.set_api_version_request.
#pragma once

#include <compare>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace scoria::api {

struct ApiVersion {
  int major = 3;
  int minor = 0;

  constexpr auto operator<=>(const ApiVersion&) const = default;
  // "3.27".
  std::string ToString() const;
};

inline constexpr ApiVersion kMinVersion{3, 0};
inline constexpr ApiVersion kMaxVersion{3, 71};

// Parses "N.N" (no leading zeros except a lone 0 minor, as Cinder's regex). Does not check the
// supported range. InvalidArgument on anything else.
Result<ApiVersion> ParseApiVersion(std::string_view text);

// Negotiates the version for one request from the raw OpenStack-API-Version header value.
//   absent                     -> 3.0
//   "volume 3.27"              -> 3.27
//   "compute 2.1, volume 3.5"  -> 3.5 (the `volume` entry of a multi-service header)
//   "volume latest"            -> kMaxVersion
//   malformed version string   -> InvalidArgument (400)
//   present, no volume entry   -> InvalidArgument (400)
//   outside [kMin, kMax]       -> kUnsupportedVersion (406), message
//     "Version 3.72 is not supported by the API. Minimum is 3.0 and maximum is 3.71."
// Pure function; any thread.
Result<ApiVersion> NegotiateVersion(const std::optional<std::string>& header);

}  // namespace scoria::api
