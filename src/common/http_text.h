// Text helpers of HTTP clients, shared by the CLI's client and the backup object stores' one:
// response header lines (as libcurl's CURLOPT_HEADERFUNCTION hands them over) folded into a map,
// libcurl's body and header callbacks, and RFC 3986 percent-encoding.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>

namespace scoria {

// "Name: value\r\n" sets headers[lower-case name] = trimmed value; a status line ("HTTP/...")
// clears the map, since a new block starts after "100 Continue" or a redirect; anything else
// (the blank line ending the block) is ignored. Pure: any thread.
void AddHttpHeaderLine(std::string_view line, std::map<std::string, std::string>& headers);

// libcurl callbacks with C signatures (common/ does not include curl.h):
// CURLOPT_WRITEFUNCTION with CURLOPT_WRITEDATA a std::string* (the body is appended), and
// CURLOPT_HEADERFUNCTION with CURLOPT_HEADERDATA a std::map<std::string, std::string>*.
size_t CurlAppendToString(char* data, size_t size, size_t n, void* string);
size_t CurlAddHeaderLine(char* data, size_t size, size_t n, void* map);

// Percent-encodes every byte outside RFC 3986 "unreserved" (A-Z a-z 0-9 - . _ ~), upper-case
// hex; '/' is kept as is when keep_slash (a path), encoded otherwise (a query value).
std::string PercentEncode(std::string_view s, bool keep_slash = false);

}  // namespace scoria
