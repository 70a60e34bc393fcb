#include "api/http/microversion.h"

#include <cctype>
#include <charconv>
#include <vector>

#include "api/http/text.h"

namespace scoria::api {
namespace {

// One decimal component as Cinder's "^([1-9]\d*)\.([1-9]\d*|0)$": no sign, no leading zero.
bool ParseComponent(std::string_view s, bool allow_zero, int* out) {
  if (s.empty() || s.size() > 6) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  if (s[0] == '0' && (s.size() > 1 || !allow_zero)) return false;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && ptr == s.data() + s.size();
}

}  // namespace

std::string ApiVersion::ToString() const {
  return std::to_string(major) + "." + std::to_string(minor);
}

Result<ApiVersion> ParseApiVersion(std::string_view text) {
  auto bad = [&] {
    return InvalidArgument("API Version String " + std::string(text) +
                           " is of invalid format. Must be of format MajorNum.MinorNum.");
  };
  size_t dot = text.find('.');
  if (dot == std::string_view::npos) return bad();
  ApiVersion v;
  if (!ParseComponent(text.substr(0, dot), /*allow_zero=*/false, &v.major) ||
      !ParseComponent(text.substr(dot + 1), /*allow_zero=*/true, &v.minor)) {
    return bad();
  }
  return v;
}

Result<ApiVersion> NegotiateVersion(const std::optional<std::string>& header) {
  if (!header.has_value()) return kMinVersion;

  // microversion_parse semantics: entries separated by ',', each "<service> <version>".
  std::optional<std::string_view> requested;
  std::string_view rest = *header;
  while (true) {
    size_t comma = rest.find(',');
    std::string_view entry = TrimSpace(rest.substr(0, comma));
    size_t space = entry.find_first_of(" \t");
    if (space != std::string_view::npos && EqualsIgnoreCase(entry.substr(0, space), "volume")) {
      requested = TrimSpace(entry.substr(space + 1));
    }
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  if (!requested.has_value()) {
    return InvalidArgument("OpenStack-API-Version header has no 'volume' entry: expected "
                           "'volume <major>.<minor>' or 'volume latest'.");
  }
  if (EqualsIgnoreCase(*requested, "latest")) return kMaxVersion;

  ASSIGN_OR_RETURN(ApiVersion v, ParseApiVersion(*requested));
  if (v < kMinVersion || v > kMaxVersion) {
    return Status(StatusCode::kUnsupportedVersion,
                  "Version " + v.ToString() + " is not supported by the API. Minimum is " +
                      kMinVersion.ToString() + " and maximum is " + kMaxVersion.ToString() + ".");
  }
  return v;
}

}  // namespace scoria::api
