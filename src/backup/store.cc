// What every BackupStore shares: the object naming rule and Exists.
#include "backup/store.h"

namespace scoria::backup {

Status CheckObjectName(std::string_view name) {
  auto bad = [&](const char* why) {
    return InvalidArgument("object name '" + std::string(name.substr(0, 200)) + "': " + why);
  };
  if (name.empty()) return bad("empty");
  if (name.size() > 1024) return bad("longer than 1024 bytes");
  size_t start = 0;
  while (start <= name.size()) {
    size_t end = name.find('/', start);
    if (end == std::string_view::npos) end = name.size();
    std::string_view part = name.substr(start, end - start);
    if (part.empty()) return bad("empty path component");
    if (part[0] == '.') return bad("a component starts with '.'");
    for (char c : part) {
      bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '.' || c == '_' || c == '-';
      if (!ok) return bad("characters other than [A-Za-z0-9._-]");
    }
    start = end + 1;
  }
  return Status::Ok();
}

Result<bool> BackupStore::Exists(std::string_view name) {
  Result<ObjectInfo> r = Stat(name);
  if (r.ok()) return true;
  if (r.status().code() == StatusCode::kNotFound) return false;
  return r.status();
}

}  // namespace scoria::backup
