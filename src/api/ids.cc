#include "api/ids.h"

#include <openssl/rand.h>

#include <array>
#include <cstdint>
#include <random>

namespace scoria::api {

std::string NewUuid() {
  std::array<uint8_t, 16> b{};
  if (RAND_bytes(b.data(), static_cast<int>(b.size())) != 1) {
    // The CSPRNG failing is near impossible; fall back rather than hand out a fixed id.
    thread_local std::mt19937_64 gen{std::random_device{}()};
    for (auto& x : b) x = static_cast<uint8_t>(gen());
  }
  b[6] = static_cast<uint8_t>((b[6] & 0x0f) | 0x40);  // version 4
  b[8] = static_cast<uint8_t>((b[8] & 0x3f) | 0x80);  // RFC 4122 variant
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (size_t i = 0; i < b.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(kHex[b[i] >> 4]);
    out.push_back(kHex[b[i] & 0x0f]);
  }
  return out;
}

std::string NewRequestId() { return "req-" + NewUuid(); }

}  // namespace scoria::api
