#include "common/ini.h"

#include <algorithm>
#include <utility>

namespace scoria {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v'; }

std::string_view TrimRight(std::string_view s) {
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

std::string_view Trim(std::string_view s) {
  s = TrimRight(s);
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  return s;
}

// Collects entries and merges repeated sections and keys as they are flushed.
class Builder {
 public:
  // Starts (or re-enters) section `name`.
  void EnterSection(std::string_view name, int line) {
    for (size_t i = 0; i < file_.sections.size(); ++i) {
      if (file_.sections[i].name == name) {
        current_ = i;
        return;
      }
    }
    file_.sections.push_back(IniSection{std::string(name), line, {}});
    current_ = file_.sections.size() - 1;
  }
  bool InSection() const { return current_ != kNone; }

  void Add(std::string key, std::string value, int line) {
    auto& entries = file_.sections[current_].entries;
    for (auto& e : entries) {
      if (e.key == key) {
        e.value = std::move(value);
        e.line = line;
        return;
      }
    }
    entries.push_back(IniEntry{std::move(key), std::move(value), line});
  }

  IniFile Take() && { return std::move(file_); }

 private:
  static constexpr size_t kNone = static_cast<size_t>(-1);
  IniFile file_;
  size_t current_ = kNone;
};

}  // namespace

const IniEntry* IniSection::Find(std::string_view key) const {
  for (const auto& e : entries) {
    if (e.key == key) return &e;
  }
  return nullptr;
}

const IniSection* IniFile::Find(std::string_view name) const {
  for (const auto& s : sections) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

Result<IniFile> ParseIni(std::string_view text, const std::string& path) {
  Builder builder;
  auto error = [&](int line, const std::string& what) {
    return InvalidArgument(path + ":" + std::to_string(line) + ": " + what);
  };

  // The assignment being collected; flushed at the next non-continuation line.
  bool pending = false;
  std::string key, value;
  int key_line = 0;
  auto flush = [&] {
    if (pending) builder.Add(std::move(key), std::move(value), key_line);
    pending = false;
    key.clear();
    value.clear();
  };

  int lineno = 0;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    std::string_view line = TrimRight(text.substr(pos, eol - pos));
    pos = eol + 1;
    ++lineno;
    if (eol == text.size() && line.empty()) break;  // no line after the final '\n'

    if (line.empty()) {
      flush();
      continue;
    }
    if (IsSpace(line.front())) {
      std::string_view rest = Trim(line);
      // oslo.config would append an indented comment to a pending value; treating it as a
      // comment is kinder and changes nothing a single-line option could mean.
      if (rest.front() == '#' || rest.front() == ';') continue;
      if (!pending) {
        return error(lineno,
                     "unexpected continuation line (an indented line continues the "
                     "previous value; remove the indentation): \"" +
                         std::string(rest) + "\"");
      }
      value += '\n';
      value += rest;
      continue;
    }
    flush();

    if (line.front() == '#' || line.front() == ';') continue;
    if (line.front() == '[') {
      if (line.back() != ']') {
        return error(lineno, "section header must end with ']': \"" + std::string(line) + "\"");
      }
      if (line.size() <= 2) return error(lineno, "empty section name");
      builder.EnterSection(line.substr(1, line.size() - 2), lineno);
      continue;
    }

    size_t colon = line.find(':');
    size_t equal = line.find('=');
    if (colon == std::string_view::npos && equal == std::string_view::npos) {
      return error(lineno, "expected [section], key = value or a # comment, got \"" +
                               std::string(line) + "\"");
    }
    size_t split = std::min(colon, equal);
    std::string_view k = Trim(line.substr(0, split));
    std::string_view v = Trim(line.substr(split + 1));
    if (k.empty()) return error(lineno, "empty key in \"" + std::string(line) + "\"");
    if (!builder.InSection()) {
      return error(lineno, "key " + std::string(k) + " before any [section] header");
    }
    if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front()) {
      v = v.substr(1, v.size() - 2);
    }
    pending = true;
    key = std::string(k);
    value = std::string(v);
    key_line = lineno;
  }
  flush();
  return std::move(builder).Take();
}

}  // namespace scoria
