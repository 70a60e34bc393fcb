// Parsing and validation of the INI file against the option table (common/config_options.h):
// $reference interpolation, unknown-key and unknown-section checks with "did you mean"
// hints, and the cross-option rules a single row cannot express.
#include "common/config.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "common/config_options.h"
#include "common/ini.h"

namespace scoria {
namespace {

using config_internal::Convert;
using config_internal::FindOption;
using config_internal::IsFixedSection;
using config_internal::Join;
using config_internal::kBackend;
using config_internal::kDatabase;
using config_internal::kDefault;
using config_internal::OptionSpec;
using config_internal::Problem;
using config_internal::Spellings;
using config_internal::Table;
using config_internal::TypeName;
using config_internal::Value;

constexpr char kSqlitePrefix[] = "sqlite:///";
constexpr char kDatabaseExpected[] =
    "sqlite:///ABSOLUTE/PATH or postgresql://USER:PASSWORD@HOST:PORT/DATABASE";

size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

// The closest of `names` to `word` if it is close enough to be a likely typo.
std::optional<std::string> Closest(std::string_view word, const std::vector<std::string>& names) {
  std::optional<std::string> best;
  size_t best_d = std::max<size_t>(2, word.size() / 4) + 1;
  for (const auto& n : names) {
    size_t d = EditDistance(word, n);
    if (d < best_d) {
      best_d = d;
      best = n;
    }
  }
  return best;
}

// Expands $name, ${name} and $$ against [DEFAULT] options: the file's value if it has one,
// else the option's default. Each option is expanded once and remembered; `stack_` holds the
// chain being expanded so a cycle is reported instead of recursing forever.
class Interpolator {
 public:
  Interpolator(const std::string& path, const IniSection* defaults)
      : path_(path), defaults_(defaults) {}

  // The raw (unexpanded) text of [DEFAULT] option `name`; the option must exist.
  std::string Raw(const OptionSpec& o) const {
    if (defaults_) {
      if (const IniEntry* e = defaults_->Find(o.name)) return e->value;
    }
    if (o.dynamic_default) {
      std::string v = o.dynamic_default();
      std::string escaped;
      for (char c : v) escaped += (c == '$') ? "$$" : std::string(1, c);
      return escaped;
    }
    return o.default_value;
  }

  // Expands `text`, the value of `key` in `section`. Errors name section and key.
  Result<std::string> Expand(const std::string& text, const std::string& section,
                             const std::string& key) {
    std::string out;
    for (size_t i = 0; i < text.size(); ++i) {
      if (text[i] != '$') {
        out += text[i];
        continue;
      }
      auto bad = [&](const std::string& expected, const std::string& note) {
        return InvalidArgument(path_ + ": [" + section + "] " + key + ": expected " + expected +
                               ", got \"" + text + "\"" + note);
      };
      auto is_name_char = [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
      };
      if (i + 1 < text.size() && text[i + 1] == '$') {
        out += '$';
        ++i;
        continue;
      }
      std::string name;
      if (i + 1 < text.size() && text[i + 1] == '{') {
        size_t close = text.find('}', i + 2);
        if (close == std::string::npos) {
          return bad("a $name or ${name} reference (write $$ for a literal $)", "");
        }
        name = text.substr(i + 2, close - i - 2);
        i = close;
      } else {
        size_t j = i + 1;
        while (j < text.size() && is_name_char(text[j])) ++j;
        name = text.substr(i + 1, j - i - 1);
        i = j - 1;
      }
      if (name.empty() || !std::all_of(name.begin(), name.end(), is_name_char) ||
          std::isdigit(static_cast<unsigned char>(name[0]))) {
        return bad("a $name or ${name} reference (write $$ for a literal $)", "");
      }
      const OptionSpec* ref = FindOption(kDefault, name);
      if (ref == nullptr) {
        std::vector<std::string> names;
        for (const auto& o : Table()) {
          if (o.section == kDefault) names.push_back(o.name);
        }
        std::string note = " ($" + name + " is not a [DEFAULT] option";
        if (auto c = Closest(name, names)) note += "; did you mean $" + *c + "?";
        return bad("references to [DEFAULT] options", note + ")");
      }
      if (std::find(stack_.begin(), stack_.end(), name) != stack_.end()) {
        std::vector<std::string> chain(std::find(stack_.begin(), stack_.end(), name), stack_.end());
        chain.push_back(name);
        return bad("a value without circular references", " (" + Join(chain, " -> ") + ")");
      }
      ASSIGN_OR_RETURN(std::string value, Resolve(*ref));
      out += value;
    }
    return out;
  }

  // The expanded text of [DEFAULT] option `o`.
  Result<std::string> Resolve(const OptionSpec& o) {
    if (auto it = done_.find(o.name); it != done_.end()) return it->second;
    stack_.push_back(o.name);
    auto r = Expand(Raw(o), kDefault, o.name);
    stack_.pop_back();
    if (!r.ok()) return r.status();
    done_[o.name] = *r;
    return r;
  }

 private:
  const std::string& path_;
  const IniSection* defaults_;
  std::map<std::string, std::string> done_;
  std::vector<std::string> stack_;
};

// Parses one option of one section into `config` or `backend`.
class SectionReader {
 public:
  SectionReader(const std::string& path, Interpolator& interp) : path_(path), interp_(interp) {}

  // Returns the typed value of option `o` in section `section` (whose entries may be null).
  Result<Value> Read(const OptionSpec& o, const std::string& section, const IniSection* entries,
                     const std::string& default_override = "") {
    const IniEntry* e = entries ? entries->Find(o.name) : nullptr;
    std::string raw;
    Result<std::string> expanded = std::string();
    if (o.section == kDefault) {
      raw = interp_.Raw(o);
      expanded = interp_.Resolve(o);
    } else {
      if (e == nullptr && o.required) {
        return InvalidArgument(path_ + ": [" + section + "] missing required key " + o.name);
      }
      raw = e ? e->value : (default_override.empty() ? o.default_value : default_override);
      expanded = interp_.Expand(raw, section, o.name);
    }
    if (!expanded.ok()) return expanded.status();
    auto converted = Convert(o, *expanded);
    if (auto* v = std::get_if<Value>(&converted)) return std::move(*v);
    return Fail(o, section, raw, *expanded, std::get<Problem>(converted));
  }

  Status Fail(const OptionSpec& o, const std::string& section, const std::string& raw,
              const std::string& value, const Problem& p) {
    auto show = [&](const std::string& s) { return o.redact ? RedactUrl(s) : s; };
    std::string m = path_ + ": [" + section + "] " + o.name + ": ";
    if (!p.not_yet.empty()) m += p.not_yet + " is not supported yet; ";
    m += "expected " + p.expected + ", got \"" + show(value) + "\"";
    if (raw != value) m += " (from \"" + show(raw) + "\")";
    if (raw.find(" #") != std::string::npos || raw.find(" ;") != std::string::npos) {
      m += " (comments must be on their own line)";
    }
    return p.not_yet.empty() ? InvalidArgument(m) : NotImplemented(m);
  }

 private:
  const std::string& path_;
  Interpolator& interp_;
};

// Rejects keys of `section` that are not options of `kind`, naming the closest one.
bool IsLoopback(const std::string& address) {
  unsigned char a[16];
  if (inet_pton(AF_INET, address.c_str(), a) == 1) return a[0] == 127;
  return address == "::1";
}

// What the API's auth mode needs from the rest of the file.
Status CheckAuth(const std::string& path, const Config& c) {
  if (c.auth_strategy == "noauth") {
    if (IsLoopback(c.osapi_volume_listen) || c.noauth_allow_remote) return Status::Ok();
    return InvalidArgument(path +
                           ": [DEFAULT] osapi_volume_listen: auth_strategy = noauth "
                           "believes every caller and makes it an admin, so it listens only on "
                           "a loopback address; got \"" +
                           c.osapi_volume_listen +
                           "\" (use 127.0.0.1, auth_strategy = keystone, or "
                           "noauth_allow_remote = true on a trusted network)");
  }
  const std::pair<const char*, const std::string*> required[] = {
      {"auth_url", &c.keystone.auth_url},
      {"username", &c.keystone.username},
      {"password", &c.keystone.password}};
  for (const auto& [key, value] : required) {
    if (value->empty()) {
      return InvalidArgument(path + ": [keystone_authtoken] missing required key " + key +
                             " (auth_strategy is keystone)");
    }
  }
  return Status::Ok();
}

Status CheckKeys(const std::string& path, const IniSection& section, const std::string& kind) {
  std::vector<std::string> names;
  for (const auto& o : Table()) {
    if (o.section == kind) names.push_back(o.name);
  }
  for (const auto& e : section.entries) {
    if (std::find(names.begin(), names.end(), e.key) != names.end()) continue;
    std::string m = path + ": [" + section.name + "] unknown key " + e.key;
    const OptionSpec* elsewhere = nullptr;
    for (const auto& o : Table()) {
      if (o.name == e.key) elsewhere = &o;
    }
    if (elsewhere != nullptr) {
      m += elsewhere->section == kBackend ? " (it belongs in a backend section)"
                                          : " (it belongs in [" + elsewhere->section + "])";
    } else if (auto c = Closest(e.key, names)) {
      m += " (did you mean " + *c + "?)";
    }
    return InvalidArgument(m);
  }
  return Status::Ok();
}

Result<BackendConfig> ReadBackend(const std::string& path, const IniSection& section,
                                  SectionReader& reader) {
  BackendConfig b;
  b.section = section.name;
  for (const auto& o : Table()) {
    if (o.section != kBackend) continue;
    std::string default_override;
    if (o.name == "volume_backend_name") default_override = section.name;
    ASSIGN_OR_RETURN(Value v, reader.Read(o, section.name, &section, default_override));
    o.apply_backend(v, b);
  }
  if (b.volume_driver == "file" && section.Find("file_volume_dir") == nullptr) {
    return InvalidArgument(path + ": [" + section.name + "] missing required key file_volume_dir");
  }
  if (b.volume_driver == "nfs" && b.nfs.shares_config.empty()) {
    return InvalidArgument(path + ": [" + section.name +
                           "] missing required key nfs_shares_config");
  }
  return b;
}

}  // namespace

std::string RedactUrl(const std::string& url) {
  size_t scheme = url.find("://");
  if (scheme == std::string::npos) return url;
  size_t start = scheme + 3;
  size_t end = url.find('/', start);
  if (end == std::string::npos) end = url.size();
  size_t at = url.rfind('@', end);
  if (at == std::string::npos || at < start) return url;
  size_t colon = url.find(':', start);
  if (colon == std::string::npos || colon > at) return url;
  return url.substr(0, colon + 1) + "***" + url.substr(at);
}

bool Config::ServiceEnabled(const std::string& name) const {
  return std::find(enabled_services.begin(), enabled_services.end(), name) !=
         enabled_services.end();
}

Result<Config> ParseConfig(const std::string& text, const std::string& path) {
  ASSIGN_OR_RETURN(IniFile ini, ParseIni(text, path));
  Config c;
  c.path = path;
  const IniSection* defaults = ini.Find(kDefault);
  if (defaults) RETURN_IF_ERROR(CheckKeys(path, *defaults, kDefault));

  Interpolator interp(path, defaults);
  SectionReader reader(path, interp);
  for (const auto& o : Table()) {
    if (o.section != kDefault) continue;
    ASSIGN_OR_RETURN(Value v, reader.Read(o, kDefault, defaults));
    if (o.apply) o.apply(v, c);
  }
  // The fixed sections besides [database] (read below, with its URL checks).
  for (const auto& o : Table()) {
    if (!IsFixedSection(o.section) || o.section == kDatabase) continue;
    ASSIGN_OR_RETURN(Value v, reader.Read(o, o.section, ini.Find(o.section)));
    if (o.apply) o.apply(v, c);
  }
  // noauth believes every caller: unless the file says where to listen, only on loopback.
  if (c.auth_strategy == "noauth" && !(defaults && defaults->Find("osapi_volume_listen"))) {
    c.osapi_volume_listen = "127.0.0.1";
  }
  if (c.ServiceEnabled("api")) RETURN_IF_ERROR(CheckAuth(path, c));
  if (c.service_down_time <= c.report_interval) {
    return InvalidArgument(path + ": [DEFAULT] service_down_time: expected more than " +
                           "report_interval (" + std::to_string(c.report_interval) + "), got \"" +
                           std::to_string(c.service_down_time) + "\"");
  }
  if (c.backup_driver == "nfs" && c.ServiceEnabled("backup") && c.backup_share.empty()) {
    return InvalidArgument(path +
                           ": [DEFAULT] missing required key backup_share (backup_driver "
                           "is nfs)");
  }
  // The object stores: what Cinder leaves to a service catalog, Scoria needs spelled out.
  if ((c.backup_driver == "s3" || c.backup_driver == "swift") && c.ServiceEnabled("backup")) {
    const bool s3 = c.backup_driver == "s3";
    const std::pair<const char*, const std::string*> required[] = {
        {s3 ? "backup_s3_endpoint_url" : "backup_swift_auth_url",
         s3 ? &c.backup_s3_endpoint_url : &c.backup_swift_auth_url},
        {s3 ? "backup_s3_store_access_key" : "backup_swift_user",
         s3 ? &c.backup_s3_store_access_key : &c.backup_swift_user},
        {s3 ? "backup_s3_store_secret_key" : "backup_swift_key",
         s3 ? &c.backup_s3_store_secret_key : &c.backup_swift_key}};
    for (const auto& [key, value] : required) {
      if (value->empty()) {
        return InvalidArgument(path + ": [DEFAULT] missing required key " + key +
                               " (backup_driver is " + c.backup_driver + ")");
      }
    }
  }
  // Server-side encryption with customer keys: backups must not go out unencrypted when the
  // operator asked for encryption. The value (a key) is never repeated.
  for (const auto& [key, value] :
       {std::pair{"backup_s3_sse_customer_key", &c.backup_s3_sse_customer_key},
        std::pair{"backup_s3_sse_customer_algorithm", &c.backup_s3_sse_customer_algorithm}}) {
    if (!value->empty()) {
      return NotImplemented(path + ": [DEFAULT] " + key +
                            ": S3 server-side encryption with customer keys is not supported "
                            "yet; remove the option (chunks are stored compressed and "
                            "checksummed, not encrypted)");
    }
  }
  if (c.ServiceEnabled("volume") && c.enabled_backends.empty()) {
    return InvalidArgument(path +
                           ": [DEFAULT] enabled_backends: expected at least one backend "
                           "section name when enabled_services includes volume, got \"" +
                           (defaults && defaults->Find("enabled_backends")
                                ? defaults->Find("enabled_backends")->value
                                : std::string()) +
                           "\"");
  }

  // Every section must be one we read; backend sections not enabled are checked for typos only.
  for (const auto& s : ini.sections) {
    if (s.name == kDefault) continue;
    if (IsFixedSection(s.name)) {
      RETURN_IF_ERROR(CheckKeys(path, s, s.name));
      continue;
    }
    bool enabled = std::find(c.enabled_backends.begin(), c.enabled_backends.end(), s.name) !=
                   c.enabled_backends.end();
    if (enabled || s.Find("volume_driver") != nullptr) {
      RETURN_IF_ERROR(CheckKeys(path, s, kBackend));
      continue;
    }
    std::string m = path + ": [" + s.name + "] unknown section";
    if (auto close = Closest(s.name, c.enabled_backends)) {
      m += " (did you mean [" + *close + "]?)";
    } else {
      m += " (Scoria reads [DEFAULT], [database], [keystone_authtoken], [oslo_policy] and the "
           "backend sections named in enabled_backends; remove it)";
    }
    return InvalidArgument(m);
  }

  // [database]
  const OptionSpec& conn = *FindOption(kDatabase, "connection");
  const IniSection* db = ini.Find(kDatabase);
  ASSIGN_OR_RETURN(Value url_value, reader.Read(conn, kDatabase, db));
  std::string url = std::get<std::string>(url_value);
  std::string raw_url =
      db && db->Find("connection") ? db->Find("connection")->value : conn.default_value;
  if (url.rfind("postgresql://", 0) == 0 || url.rfind("postgresql+", 0) == 0) {
    // The server checks the rest (credentials, database) at start; here only the shape.
    size_t rest = url.find("://");
    size_t slash = rest == std::string::npos ? rest : url.find('/', rest + 3);
    if (slash == std::string::npos || slash == rest + 3 || slash + 1 >= url.size()) {
      return reader.Fail(conn, kDatabase, raw_url, url, Problem{kDatabaseExpected, ""});
    }
    conn.apply(url_value, c);
  } else {
    std::string file = url.rfind(kSqlitePrefix, 0) == 0 ? url.substr(strlen(kSqlitePrefix)) : "";
    if (file.size() < 2 || file.front() != '/' || file.find('?') != std::string::npos) {
      return reader.Fail(conn, kDatabase, raw_url, url, Problem{kDatabaseExpected, ""});
    }
    conn.apply(url_value, c);
    c.database_sqlite_path = file;
  }

  // Backends, in enabled_backends order.
  for (const auto& name : c.enabled_backends) {
    const IniSection* s = ini.Find(name);
    if (s == nullptr) {
      return InvalidArgument(path + ": [" + name +
                             "] missing section (named in [DEFAULT] enabled_backends)");
    }
    ASSIGN_OR_RETURN(BackendConfig b, ReadBackend(path, *s, reader));
    for (const auto& other : c.backends) {
      if (!b.file_volume_dir.empty() && other.file_volume_dir == b.file_volume_dir) {
        return InvalidArgument(path + ": [" + name + "] file_volume_dir: expected a directory " +
                               "no other backend uses ([" + other.section + "] has it), got \"" +
                               b.file_volume_dir + "\"");
      }
    }
    c.backends.push_back(std::move(b));
  }
  return c;
}

Result<Config> LoadConfig(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    int err = errno;
    std::string m = path + ": cannot read: " + std::strerror(err);
    return err == ENOENT ? NotFound(m) : InvalidArgument(m);
  }
  std::string text;
  char buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) text.append(buf, n);
  int err = std::ferror(f) ? errno : 0;
  std::fclose(f);
  if (err != 0) return InvalidArgument(path + ": cannot read: " + std::strerror(err));
  return ParseConfig(text, path);
}

const std::vector<OptionDoc>& DocumentedOptions() {
  static const std::vector<OptionDoc> kDocs = [] {
    std::vector<OptionDoc> docs;
    for (const auto& o : Table()) {
      OptionDoc d;
      d.section = o.section;
      d.name = o.name;
      d.type = TypeName(o.type);
      d.default_value = o.default_doc.empty() ? o.default_value : o.default_doc;
      if (o.required) d.default_value = "(required)";
      d.help = o.help;
      d.choices = Spellings(o);
      d.used = o.used;
      docs.push_back(std::move(d));
    }
    return docs;
  }();
  return kDocs;
}

namespace {

// One docs row: "| `name` | type | default | meaning |"; a default that is a phrase ("the
// machine's hostname") is not put in backquotes.
std::string MarkdownRow(const OptionDoc& d) {
  const bool phrase = d.default_value.find(' ') != std::string::npos &&
                      d.default_value.find(", ") == std::string::npos;  // not a list
  std::string def = d.default_value.empty()                     ? "(empty)"
                    : phrase || d.default_value == "(required)" ? d.default_value
                                                                : "`" + d.default_value + "`";
  std::string meaning = (d.used ? "" : "*Not used yet.* ") + d.help;
  if (!d.choices.empty() && d.type == "enum") {
    meaning += " Accepted: ";
    for (size_t i = 0; i < d.choices.size(); ++i) meaning += (i ? ", `" : "`") + d.choices[i] + "`";
    meaning += ".";
  }
  return "| `" + d.name + "` | " + d.type + " | " + def + " | " + meaning + " |\n";
}

}  // namespace

std::string OptionTableMarkdown() {
  std::string out;
  for (const char* section :
       {config_internal::kDefault, config_internal::kDatabase, config_internal::kKeystoneAuthtoken,
        config_internal::kOsloPolicy, config_internal::kBackend}) {
    out += std::string("\n## ") + (section == std::string_view(kBackend)
                                       ? std::string("Backend sections")
                                       : "[" + std::string(section) + "]");
    out += "\n\n| Option | Type | Default | Meaning |\n|---|---|---|---|\n";
    for (const auto& d : DocumentedOptions()) {
      if (d.section == section) out += MarkdownRow(d);
    }
  }
  return out;
}

}  // namespace scoria
