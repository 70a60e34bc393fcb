// ASCII text helpers of the HTTP framework: header names, tokens and list parameters are ASCII,
// so these never look at locales or UTF-8. Pure functions, callable from any thread.
#pragma once

#include <string_view>

namespace scoria::api {

// Case-insensitive ASCII comparison, for header names and tokens.
bool EqualsIgnoreCase(std::string_view a, std::string_view b);

// `s` without leading and trailing whitespace (isspace); a view into `s`.
std::string_view TrimSpace(std::string_view s);

}  // namespace scoria::api
