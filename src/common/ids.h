// Identifiers: random UUIDv4 strings for resources and "req-<uuid>" request ids.
// Thread-safe; randomness comes from OpenSSL's CSPRNG (also used for CHAP secrets later).
#pragma once

#include <string>
#include <string_view>

namespace scoria {

// "3f2a...-...": lower-case canonical 36-character UUIDv4.
std::string NewUuid();
// True for a canonical 8-4-4-4-12 hex UUID (any version, either case).
bool IsUuid(std::string_view s);
// "req-<uuid>", the x-openstack-request-id format.
std::string NewRequestId();
// n random characters from [A-Za-z0-9] (secrets, CHAP user names).
std::string RandomAlnum(size_t n);

}  // namespace scoria
