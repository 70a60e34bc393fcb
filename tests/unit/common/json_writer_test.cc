#include "common/json_writer.h"

#include <random>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace scoria {
namespace {

using nlohmann::json;

// What nlohmann writes for `s` in JsonResponse (ensure_ascii off, invalid UTF-8 replaced).
std::string Reference(const std::string& s) {
  return json(s).dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string Written(std::string_view s) {
  std::string out;
  JsonWriter(out).String(s);
  return out;
}

TEST(JsonWriterTest, StructureAndCommas) {
  std::string out;
  JsonWriter w(out);
  w.BeginObject()
      .Field("a", int64_t{-3})
      .Key("b")
      .BeginArray()
      .Int(1)
      .BeginObject()
      .EndObject()
      .BeginArray()
      .EndArray()
      .Null()
      .EndArray()
      .Field("c", true)
      .Field("d", std::optional<std::string>())
      .Field("e", std::optional<std::string>("x"))
      .Key("f")
      .Value(json{{"k", {1, 2}}})
      .Key("g")
      .Raw("[true]")
      .EndObject();
  EXPECT_EQ(out, R"({"a":-3,"b":[1,{},[],null],"c":true,"d":null,"e":"x","f":{"k":[1,2]},"g":[true]})");
  EXPECT_TRUE(json::accept(out));
}

TEST(JsonWriterTest, RunTimeKeysAreEscaped) {
  // Keys written in the source are checked when compiled (JsonKey); a stored metadata key may
  // hold anything and is escaped like a value.
  for (std::string k : {std::string("plain"), std::string("quo\"te"), std::string("nl\n"),
                        std::string("bad\xff")}) {
    std::string out;
    JsonWriter(out).BeginObject().EscapedKey(k).Int(1).Field("next", true).EndObject();
    EXPECT_EQ(out, "{" + Reference(k) + ":1,\"next\":true}") << k;
    EXPECT_TRUE(json::accept(out)) << out;
  }
}

TEST(JsonWriterTest, EscapesAsNlohmannDoes) {
  for (std::string s : {std::string(""), std::string("plain"), std::string("quote\" back\\ slash/"),
                        std::string("\b\f\n\r\t"), std::string("\x01\x1f\x7f", 3),
                        std::string("nul\0inside", 10), std::string("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x92\xbe")}) {
    EXPECT_EQ(Written(s), Reference(s)) << s;
  }
}

TEST(JsonWriterTest, InvalidUtf8BecomesReplacementCharacter) {
  // A lone continuation byte, a truncated sequence, an overlong '/', a surrogate, past U+10FFFF.
  for (std::string s : {std::string("a\x80z"), std::string("\xc3"), std::string("\xc0\xaf"),
                        std::string("\xed\xa0\x80"), std::string("\xf4\x90\x80\x80")}) {
    std::string out = Written(s);
    json parsed = json::parse(out);  // always valid JSON
    EXPECT_NE(parsed.get<std::string>().find("\xEF\xBF\xBD"), std::string::npos) << out;
  }
}

// Any byte string: the writer's output parses back, and equals nlohmann's when it is valid UTF-8.
TEST(JsonWriterTest, RandomBytesMatchNlohmann) {
  std::mt19937 rng(7);
  for (int round = 0; round < 5000; ++round) {
    std::string s(rng() % 24, '\0');
    for (char& c : s) c = static_cast<char>(rng() % 4 == 0 ? rng() % 256 : 0x20 + rng() % 0x60);
    std::string out = Written(s);
    json parsed;
    ASSERT_NO_THROW(parsed = json::parse(out)) << out;
    bool valid = true;
    try {
      (void)json(s).dump();
    } catch (const json::type_error&) {
      valid = false;
    }
    if (valid) {
      EXPECT_EQ(out, Reference(s));
      EXPECT_EQ(parsed.get<std::string>(), s);
    }
  }
}

// The writer skips 16 and 8 plain bytes at a time: one byte that needs a look, at every position of a
// long plain string, must still be seen.
TEST(JsonWriterTest, OneSpecialByteAnywhereInALongString) {
  for (char special : {'"', '\\', '\n', '\x01', '\x1f', '\x7f', '\x80', '\xff', ' ', '~'}) {
    for (size_t pos = 0; pos < 40; ++pos) {
      std::string s(40, 'a');
      s[pos] = special;
      if (static_cast<unsigned char>(special) >= 0x80) {
        EXPECT_TRUE(json::accept(Written(s))) << pos;
      } else {
        EXPECT_EQ(Written(s), Reference(s)) << int(special) << " at " << pos;
      }
    }
  }
}

}  // namespace
}  // namespace scoria
