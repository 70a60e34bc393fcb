// An INI reader with oslo.config's (cinder.conf) syntax, and nothing about what the keys mean:
// that is config.cc's job. A file is a sequence of lines, each one of
//   [name]            a section header; the name is everything between the brackets, as is
//   key = value       or `key: value` (the first of '=' and ':' splits); key and value trimmed,
//                     one pair of matching surrounding quotes ("..." or '...') removed
//   # text, ; text    a full-line comment (there are no inline comments: `a = 1 # x` is "1 # x")
//   blank             ends a continued value
//   <indent>text      continues the previous value (joined with '\n'), as in oslo.config
// Keys and section names are case-sensitive. A section may appear more than once: its entries
// merge; a repeated key keeps the last value (oslo.config's rule), with that value's line.
// Anything else (text without '=' or ':', a key before any section, an empty key, a
// continuation with no value to continue, a header without ']') is an error
// "<path>:<line>: <what is wrong>".
// Pure functions over strings; safe to call from any thread.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace scoria {

struct IniEntry {
  std::string key;
  std::string value;  // trimmed, quotes removed; continuation lines joined with '\n'
  int line = 0;       // 1-based line of the key (of its last occurrence)
};

struct IniSection {
  std::string name;
  int line = 0;                   // 1-based line of the first header with this name
  std::vector<IniEntry> entries;  // one per distinct key, in order of first appearance

  // The entry for `key`, or nullptr. The pointer lives as long as this section is unchanged.
  const IniEntry* Find(std::string_view key) const;
};

struct IniFile {
  std::vector<IniSection> sections;  // one per distinct name, in order of first appearance

  // The section called `name`, or nullptr. The pointer lives as long as this file is unchanged.
  const IniSection* Find(std::string_view name) const;
};

// Parses `text`. `path` is used in messages only. Accepts "\n" and "\r\n" line ends.
// Errors are InvalidArgument with a one-line message "<path>:<line>: <what>".
[[nodiscard]] Result<IniFile> ParseIni(std::string_view text, const std::string& path);

}  // namespace scoria
