#include "common/json_writer.h"

#include <array>
#include <charconv>
#include <cstring>
#include <nlohmann/json.hpp>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

namespace scoria {

namespace {

// Length of the valid UTF-8 sequence starting at s[i] (a byte >= 0x80), or 0 when it is not
// one: RFC 3629's table, so overlong forms, surrogates and code points past U+10FFFF are
// invalid, as nlohmann's own decoder says.
size_t Utf8SequenceLength(std::string_view s, size_t i) {
  auto at = [&](size_t k) -> unsigned {
    return k < s.size() ? static_cast<unsigned char>(s[k]) : 0;
  };
  auto cont = [&](size_t k) { return (at(k) & 0xC0) == 0x80; };
  unsigned b = at(i);
  if (b >= 0xC2 && b <= 0xDF) return cont(i + 1) ? 2 : 0;
  if (b >= 0xE0 && b <= 0xEF) {
    unsigned b1 = at(i + 1);
    unsigned lo = b == 0xE0 ? 0xA0 : 0x80, hi = b == 0xED ? 0x9F : 0xBF;
    return b1 >= lo && b1 <= hi && cont(i + 2) ? 3 : 0;
  }
  if (b >= 0xF0 && b <= 0xF4) {
    unsigned b1 = at(i + 1);
    unsigned lo = b == 0xF0 ? 0x90 : 0x80, hi = b == 0xF4 ? 0x8F : 0xBF;
    return b1 >= lo && b1 <= hi && cont(i + 2) && cont(i + 3) ? 4 : 0;
  }
  return 0;
}

// Bytes copied as they are: printable ASCII but '"' and '\\'. A table, because this loop runs
// over every byte of a listing.
constexpr std::array<bool, 256> kPlain = [] {
  std::array<bool, 256> t{};
  for (int c = 0x20; c < 0x80; ++c) t[c] = c != '"' && c != '\\';
  return t;
}();

// True when none of the 8 bytes in `x` needs a look: all printable ASCII, no '"', no '\\'.
// The usual zero-byte trick, per byte: (v - 1) & ~v has its top bit set where v was 0.
bool EightPlain(uint64_t x) {
  constexpr uint64_t kOnes = 0x0101010101010101ULL, kHigh = 0x8080808080808080ULL;
  auto has_zero = [&](uint64_t v) { return (v - kOnes) & ~v & kHigh; };
  uint64_t below_space = (x - 0x20 * kOnes) & ~x & kHigh;  // a byte < 0x20 (or >= 0x80)
  return ((x & kHigh) | below_space | has_zero(x ^ ('"' * kOnes)) | has_zero(x ^ ('\\' * kOnes))) ==
         0;
}

// Index of the first byte at or after `i` that needs a look (or s.size()): 16 bytes per step
// with SSE2 (x86-64's baseline), then 8, then one. Most strings of a listing (ids, statuses,
// URLs) are plain from end to end.
size_t PlainUntil(std::string_view s, size_t i) {
  const char* p = s.data();
  const size_t n = s.size();
#ifdef __SSE2__
  const __m128i space = _mm_set1_epi8(0x20), quote = _mm_set1_epi8('"'),
                backslash = _mm_set1_epi8('\\');
  for (; i + 16 <= n; i += 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
    // Signed compare: bytes >= 0x80 are negative, so "below space" catches them too.
    const __m128i odd = _mm_or_si128(_mm_cmplt_epi8(v, space),
                                     _mm_or_si128(_mm_cmpeq_epi8(v, quote),
                                                  _mm_cmpeq_epi8(v, backslash)));
    if (const int mask = _mm_movemask_epi8(odd)) return i + static_cast<size_t>(__builtin_ctz(mask));
  }
#endif
  for (; i + 8 <= n; i += 8) {
    uint64_t x;
    std::memcpy(&x, p + i, 8);
    if (!EightPlain(x)) break;
  }
  while (i < n && kPlain[static_cast<unsigned char>(p[i])]) ++i;
  return i;
}

}  // namespace

JsonWriter& JsonWriter::EscapedKey(std::string_view key) {
  Separate();
  AppendEscaped(key);
  out_.push_back(':');
  first_ = true;  // the value follows the colon directly
  return *this;
}

JsonWriter& JsonWriter::String(std::string_view s) {
  Separate();
  AppendEscaped(s);
  return *this;
}

JsonWriter& JsonWriter::Int(int64_t n) {
  Separate();
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, n);
  out_.append(buf, end);
  return *this;
}

JsonWriter& JsonWriter::Value(const nlohmann::json& j) {
  return Literal(j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

void JsonWriter::AppendEscaped(std::string_view s) {
  out_.push_back('"');
  size_t run = 0;  // start of the bytes not yet copied
  auto flush = [&](size_t upto) { out_.append(s.data() + run, upto - run); };
  size_t i = 0;
  while ((i = PlainUntil(s, i)) < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      if (size_t n = Utf8SequenceLength(s, i)) {
        i += n;
        continue;
      }
      flush(i);
      out_.append("\xEF\xBF\xBD");  // U+FFFD for the one invalid byte
      run = ++i;
      continue;
    }
    flush(i);
    switch (c) {
      case '"':
        out_.append("\\\"");
        break;
      case '\\':
        out_.append("\\\\");
        break;
      case '\b':
        out_.append("\\b");
        break;
      case '\f':
        out_.append("\\f");
        break;
      case '\n':
        out_.append("\\n");
        break;
      case '\r':
        out_.append("\\r");
        break;
      case '\t':
        out_.append("\\t");
        break;
      default: {
        static constexpr char kHex[] = "0123456789abcdef";
        char esc[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
        out_.append(esc, sizeof esc);
      }
    }
    run = ++i;
  }
  flush(s.size());
  out_.push_back('"');
}

}  // namespace scoria
