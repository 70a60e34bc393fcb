#include "common/ids.h"

#include <openssl/rand.h>

#include <array>
#include <cctype>
#include <cstdio>
#include <stdexcept>

namespace scoria {
namespace {

void Random(unsigned char* buf, int n) {
  // RAND_bytes only fails when the OS entropy source is broken; nothing sensible can go on.
  if (RAND_bytes(buf, n) != 1) std::abort();
}

}  // namespace

std::string NewUuid() {
  std::array<unsigned char, 16> b{};
  Random(b.data(), static_cast<int>(b.size()));
  b[6] = (b[6] & 0x0f) | 0x40;  // version 4
  b[8] = (b[8] & 0x3f) | 0x80;  // RFC 4122 variant
  char out[37];
  std::snprintf(out, sizeof(out),
                "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
                b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
                b[15]);
  return out;
}

bool IsUuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (s[i] != '-') return false;
    } else if (!std::isxdigit(static_cast<unsigned char>(s[i]))) {
      return false;
    }
  }
  return true;
}

std::string NewRequestId() { return "req-" + NewUuid(); }

std::string RandomAlnum(size_t n) {
  static constexpr std::string_view kChars =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  std::string out;
  out.reserve(n);
  unsigned char b[64];
  while (out.size() < n) {
    Random(b, sizeof(b));
    for (unsigned char c : b) {
      // Rejection sampling keeps the distribution uniform (248 = 4 * 62).
      if (c < 248 && out.size() < n) out.push_back(kChars[c % kChars.size()]);
    }
  }
  return out;
}

}  // namespace scoria
