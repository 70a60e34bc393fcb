// Digests as text, for keys and secrets that are stored or compared but never kept in clear:
// token cache keys (api/keystone), transfer auth keys (api/resources/transfers). OpenSSL
// underneath; pure, any thread.
#pragma once

#include <string>
#include <string_view>

namespace scoria {

// Lower-case hex SHA-256 of `data` (64 characters).
std::string Sha256Hex(std::string_view data);
// Whether two strings are equal, in time that depends only on their lengths (for comparing a
// presented secret's digest with the stored one).
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace scoria
