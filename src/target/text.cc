#include "target/text.h"

#include <algorithm>

namespace scoria::target {

bool IsValidKeyName(std::string_view key) {
  if (key.empty()) return false;
  return std::all_of(key.begin(), key.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '-' || c == '+' || c == '@' || c == '_';
  });
}

bool IsValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<uint8_t>(s[i]);
    size_t n;
    uint32_t cp;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xe0) == 0xc0) {
      n = 1;
      cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      n = 2;
      cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (s.size() - i <= n) return false;
    for (size_t k = 1; k <= n; ++k) {
      auto cc = static_cast<uint8_t>(s[i + k]);
      if ((cc & 0xc0) != 0x80) return false;
      cp = cp << 6 | (cc & 0x3f);
    }
    // Overlong forms, surrogates, beyond U+10FFFF.
    if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
        (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) {
      return false;
    }
    i += n + 1;
  }
  return true;
}

namespace {

bool MayRepeat(std::string_view key) { return key == "TargetName" || key == "TargetAddress"; }

}  // namespace

Result<TextList> ParseText(std::span<const uint8_t> data, const TextLimits& limits) {
  if (data.size() > limits.max_total_length) {
    return InvalidArgument("text of " + std::to_string(data.size()) + " bytes exceeds the limit");
  }
  TextList out;
  std::string_view all(reinterpret_cast<const char*>(data.data()), data.size());
  size_t pos = 0;
  while (pos < all.size()) {
    size_t end = all.find('\0', pos);
    if (end == std::string_view::npos) end = all.size();
    std::string_view item = all.substr(pos, end - pos);
    pos = end + 1;
    if (item.empty()) continue;
    size_t eq = item.find('=');
    if (eq == std::string_view::npos) return InvalidArgument("text item without '='");
    std::string_view key = item.substr(0, eq);
    std::string_view value = item.substr(eq + 1);
    if (key.size() > limits.max_key_length || !IsValidKeyName(key)) {
      return InvalidArgument("invalid key name");
    }
    if (value.size() > limits.max_value_length) {
      return InvalidArgument("value of " + std::string(key) + " too long");
    }
    if (!IsValidUtf8(value))
      return InvalidArgument("value of " + std::string(key) + " is not UTF-8");
    if (out.size() >= limits.max_pairs) return InvalidArgument("too many keys");
    if (!MayRepeat(key) && FindKey(out, key) != nullptr) {
      return InvalidArgument("key " + std::string(key) + " repeated");
    }
    out.push_back({std::string(key), std::string(value)});
  }
  return out;
}

void AppendText(std::string_view key, std::string_view value, std::vector<uint8_t>* out) {
  out->insert(out->end(), key.begin(), key.end());
  out->push_back('=');
  out->insert(out->end(), value.begin(), value.end());
  out->push_back('\0');
}

std::vector<uint8_t> SerializeText(const TextList& list) {
  std::vector<uint8_t> out;
  for (const auto& kv : list) AppendText(kv.key, kv.value, &out);
  return out;
}

const std::string* FindKey(const TextList& list, std::string_view key) {
  for (const auto& kv : list) {
    if (kv.key == key) return &kv.value;
  }
  return nullptr;
}

Result<uint64_t> ParseNumber(std::string_view v, uint64_t max) {
  int base = 10;
  if (v.size() > 2 && v[0] == '0' && (v[1] == 'x' || v[1] == 'X')) {
    base = 16;
    v.remove_prefix(2);
  }
  if (v.empty() || v.size() > 20) return InvalidArgument("bad number");
  uint64_t n = 0;
  for (char c : v) {
    int d;
    if (c >= '0' && c <= '9') {
      d = c - '0';
    } else if (base == 16 && c >= 'a' && c <= 'f') {
      d = c - 'a' + 10;
    } else if (base == 16 && c >= 'A' && c <= 'F') {
      d = c - 'A' + 10;
    } else {
      return InvalidArgument("bad number");
    }
    if (static_cast<uint64_t>(d) > max ||
        n > (max - static_cast<uint64_t>(d)) / static_cast<uint64_t>(base)) {
      return InvalidArgument("number out of range");
    }
    n = n * static_cast<uint64_t>(base) + static_cast<uint64_t>(d);
  }
  return n;
}

std::vector<std::string_view> SplitList(std::string_view v) {
  std::vector<std::string_view> out;
  size_t pos = 0;
  while (true) {
    size_t c = v.find(',', pos);
    out.push_back(v.substr(pos, c == std::string_view::npos ? std::string_view::npos : c - pos));
    if (c == std::string_view::npos) break;
    pos = c + 1;
  }
  return out;
}

}  // namespace scoria::target
