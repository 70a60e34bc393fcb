// common/http_text.h: the header-block folding and percent-encoding both HTTP clients use.
#include "common/http_text.h"

#include <gtest/gtest.h>

namespace scoria {
namespace {

TEST(HttpTextTest, HeaderLinesFoldIntoALowerCaseMap) {
  std::map<std::string, std::string> h;
  AddHttpHeaderLine("HTTP/1.1 100 Continue\r\n", h);
  AddHttpHeaderLine("X-Early: 1\r\n", h);
  AddHttpHeaderLine("HTTP/1.1 200 OK\r\n", h);  // a new block: the 100's headers go
  AddHttpHeaderLine("Content-Length:  42 \r\n", h);
  AddHttpHeaderLine("ETag: \"abc\"\r\n", h);
  AddHttpHeaderLine("X-Empty:\r\n", h);
  AddHttpHeaderLine("\r\n", h);
  EXPECT_EQ(h.size(), 3u);
  EXPECT_EQ(h["content-length"], "42");
  EXPECT_EQ(h["etag"], "\"abc\"");
  EXPECT_EQ(h["x-empty"], "");
  EXPECT_EQ(h.count("x-early"), 0u);
}

TEST(HttpTextTest, PercentEncodeKeepsUnreservedAndOptionallySlashes) {
  EXPECT_EQ(PercentEncode("aZ09-._~"), "aZ09-._~");
  EXPECT_EQ(PercentEncode("a b/c+d=e&"), "a%20b%2Fc%2Bd%3De%26");
  EXPECT_EQ(PercentEncode("chunks/ab/ab 1", true), "chunks/ab/ab%201");
  EXPECT_EQ(PercentEncode("\xff"), "%FF");
}

}  // namespace
}  // namespace scoria
