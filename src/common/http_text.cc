#include "common/http_text.h"

#include <algorithm>
#include <cctype>

namespace scoria {

void AddHttpHeaderLine(std::string_view line, std::map<std::string, std::string>& headers) {
  if (line.starts_with("HTTP/")) {
    headers.clear();
    return;
  }
  auto colon = line.find(':');
  if (colon == std::string_view::npos) return;
  std::string name(line.substr(0, colon));
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  std::string_view value = line.substr(colon + 1);
  auto first = value.find_first_not_of(" \t");
  auto last = value.find_last_not_of(" \t\r\n");
  headers[name] = first == std::string_view::npos
                      ? std::string()
                      : std::string(value.substr(first, last - first + 1));
}

size_t CurlAppendToString(char* data, size_t size, size_t n, void* string) {
  static_cast<std::string*>(string)->append(data, size * n);
  return size * n;
}

size_t CurlAddHeaderLine(char* data, size_t size, size_t n, void* map) {
  AddHttpHeaderLine({data, size * n}, *static_cast<std::map<std::string, std::string>*>(map));
  return size * n;
}

std::string PercentEncode(std::string_view s, bool keep_slash) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' ||
        (keep_slash && c == '/')) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace scoria
