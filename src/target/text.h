// iSCSI text: the key=value lists carried by Login and Text PDUs (RFC 7143 §6.1, §6.2).
//
// Model: a data segment is a sequence of `key=value` strings, each terminated by NUL. A
// TextList keeps them in order (answers follow the order of the offers). Keys are 1..63
// characters of [A-Za-z0-9.+@_-]; values are UTF-8 without NUL, bounded by TextLimits. The
// same key twice in one list is an error unless the key is one that may repeat (TargetName
// and TargetAddress in SendTargets replies); repeating a key across the PDUs of one
// negotiation is detected by the negotiator (params.h), not here.
//
// Threading: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace scoria::target {

struct KeyValue {
  std::string key;
  std::string value;
  bool operator==(const KeyValue&) const = default;
};
using TextList = std::vector<KeyValue>;

struct TextLimits {
  size_t max_key_length = 63;      // RFC 7143 §6.1
  size_t max_value_length = 8192;  // large binary values (CHAP_C/CHAP_R) may exceed 255
  size_t max_pairs = 256;
  size_t max_total_length = 65536;  // the whole (reassembled) text
};

// Parses a (reassembled) data segment. Tolerates a missing final NUL and empty strings
// (extra NULs, some initiators pad with them). InvalidArgument on: no '=', a bad key, a
// value that is not UTF-8 or too long, a duplicated non-repeatable key, limits exceeded.
Result<TextList> ParseText(std::span<const uint8_t> data, const TextLimits& limits = {});

// Appends `key=value\0`.
void AppendText(std::string_view key, std::string_view value, std::vector<uint8_t>* out);
std::vector<uint8_t> SerializeText(const TextList& list);

// First value of `key`, if present.
const std::string* FindKey(const TextList& list, std::string_view key);

bool IsValidKeyName(std::string_view key);
bool IsValidUtf8(std::string_view s);

// RFC 7143 §6.1 numerical values: decimal, or 0x-prefixed hex. Bounded by max.
Result<uint64_t> ParseNumber(std::string_view v, uint64_t max);

// Splits a list value ("CHAP,None") at commas.
std::vector<std::string_view> SplitList(std::string_view v);

}  // namespace scoria::target
