// JsonWriter: appends JSON text to a string as it is written, with no tree in between.
//
// Why: a listing of 200 volumes built as an nlohmann tree costs a heap node per value and a
// std::map per object, then a second pass to serialize, byte by byte, with UTF-8 checks: that
// was two thirds of GET /volumes/detail's time. The views that are listed in bulk write
// themselves here instead; everything else keeps nlohmann (control-plane sizes).
//
// Model: the caller writes a well-formed sequence (Begin/End balanced, a Key before every value
// inside an object); the writer adds the commas. It does not check the sequence: a misuse
// produces invalid JSON, caught by the views' tests that parse what they wrote.
// Strings are written as UTF-8 with nlohmann's escaping (ensure_ascii off: '"', '\\', and
// control characters; \b \f \n \r \t by name, the rest as \u00XX), and an invalid UTF-8
// sequence becomes U+FFFD, as JsonResponse's `error_handler_t::replace` does: a stored name
// must never break a listing.
//
// Threading: one writer per thread; it owns nothing but a reference to the output string.
#pragma once

#include <cstddef>
#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace scoria {

// An object key written in the source (a string literal): checked at compile time for
// characters JSON would escape, so writing it is a copy. Keys known only at run time (metadata,
// extra specs) go through JsonWriter::EscapedKey.
class JsonKey {
 public:
  template <size_t N>
  consteval JsonKey(const char (&key)[N]) : text_(key, N - 1) {  // NOLINT: implicit on purpose
    for (char c : text_) {
      const auto u = static_cast<unsigned char>(c);
      if (u < 0x20 || u >= 0x80 || c == '"' || c == '\\') throw "JsonKey: a key that needs escaping";
    }
  }
  std::string_view text() const { return text_; }

 private:
  std::string_view text_;
};

class JsonWriter {
 public:
  // Appends to `out`, which must outlive the writer.
  explicit JsonWriter(std::string& out) : out_(out) {}

  JsonWriter& BeginObject() { return Open('{'); }
  JsonWriter& EndObject() { return Close('}'); }
  JsonWriter& BeginArray() { return Open('['); }
  JsonWriter& EndArray() { return Close(']'); }
  // The key of the next value, inside an object: one written in the source, or one known only
  // at run time (escaped).
  JsonWriter& EscapedKey(std::string_view key);
  JsonWriter& Key(JsonKey key) {
    Separate();
    out_.push_back('"');
    out_.append(key.text());
    out_.append("\":", 2);
    first_ = true;  // the value follows the colon directly
    return *this;
  }

  JsonWriter& String(std::string_view s);
  JsonWriter& Int(int64_t n);
  JsonWriter& Bool(bool b) { return Literal(b ? "true" : "false"); }
  JsonWriter& Null() { return Literal("null"); }
  // A string, or null when empty.
  JsonWriter& OptString(const std::optional<std::string>& s) {
    return s ? String(std::string_view(*s)) : Null();
  }
  // A value already built as a tree (rare parts of a bulk view), serialized in place.
  JsonWriter& Value(const nlohmann::json& j);
  // Text that is already one JSON value (e.g. a nested view written by another writer).
  JsonWriter& Raw(std::string_view json) { return Literal(json); }

  // Key and value in one call, for the common object members (keys written in the source; a
  // run-time key is EscapedKey(k) then the value).
  JsonWriter& Field(JsonKey key, std::string_view s) { return Key(key).String(s); }
  JsonWriter& Field(JsonKey key, const char* s) {
    return Key(key).String(std::string_view(s));
  }
  JsonWriter& Field(JsonKey key, const std::string& s) {
    return Key(key).String(std::string_view(s));
  }
  JsonWriter& Field(JsonKey key, const std::optional<std::string>& s) {
    return Key(key).OptString(s);
  }
  JsonWriter& Field(JsonKey key, int64_t n) { return Key(key).Int(n); }
  JsonWriter& Field(JsonKey key, int n) { return Key(key).Int(n); }
  JsonWriter& Field(JsonKey key, bool b) { return Key(key).Bool(b); }
  JsonWriter& NullField(JsonKey key) { return Key(key).Null(); }

 private:
  void Separate() {
    if (!first_) out_.push_back(',');
    first_ = false;
  }
  JsonWriter& Open(char c) {
    Separate();
    out_.push_back(c);
    first_ = true;
    return *this;
  }
  JsonWriter& Close(char c) {
    out_.push_back(c);
    first_ = false;
    return *this;
  }
  JsonWriter& Literal(std::string_view text) {
    Separate();
    out_.append(text);
    return *this;
  }
  void AppendEscaped(std::string_view s);

  std::string& out_;
  // No value written yet at this level (just after '{', '[' or a key): no comma before the next.
  bool first_ = true;
};

}  // namespace scoria
