// Random identifiers the API hands out: UUID4 strings and Cinder-style request ids.
//
// Stopgap until src/common grows an ids module; move callers there when it exists. Randomness
// comes from OpenSSL's CSPRNG, so ids are unpredictable as well as unique.
#pragma once

#include <string>

namespace scoria::api {

// A random (version 4) UUID in canonical lower-case form, "1b4e28ba-2fa1-41d2-883f-0016d3cca427".
// Thread-safe.
std::string NewUuid();

// "req-" + NewUuid(), the format of x-openstack-request-id. Thread-safe.
std::string NewRequestId();

}  // namespace scoria::api
