#include "cli/resolve.h"

#include <cctype>

namespace scoria::cli {

bool IsUuidLike(const std::string& s) {
  auto hex = [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; };
  if (s.size() == 32) {
    for (char c : s)
      if (!hex(c)) return false;
    return true;
  }
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? s[i] != '-' : !hex(s[i])) return false;
  }
  return true;
}

ResourceKind VolumeKind() {
  return {"volume", "/volumes/", "volume", "/volumes/detail", {{"all_tenants", "1"}},
          true,     "volumes"};
}

ResourceKind VolumeTypeKind() {
  return {"volume type",           "/types/", "volume_type", "/types",
          {{"is_public", "None"}}, false,     "volume_types"};
}

std::string IdOf(const nlohmann::json& resource) {
  if (!resource.is_object()) return "";
  auto it = resource.find("id");
  if (it == resource.end()) return "";
  return it->is_string() ? it->get<std::string>() : it->dump();
}

Result<nlohmann::json> FindResource(ApiClient& api, const ResourceKind& kind,
                                    const std::string& name_or_id) {
  if (IsUuidLike(name_or_id)) {
    auto r = api.Get(kind.item_path + ApiClient::PathSegment(name_or_id));
    if (r.ok()) {
      if (r->is_object() && r->contains(kind.item_key)) return (*r)[kind.item_key];
      return Internal("the server's answer for " + kind.noun + " " + name_or_id + " has no '" +
                      kind.item_key + "' member");
    }
    if (r.status().code() != StatusCode::kNotFound) return r.status();
  }
  Query query = kind.list_query;
  if (kind.name_query) query.emplace_back("name", name_or_id);
  ASSIGN_OR_RETURN(nlohmann::json list, api.Get(kind.list_path, query));
  std::vector<nlohmann::json> matches;
  if (list.is_object() && list.contains(kind.list_key) && list[kind.list_key].is_array()) {
    for (const auto& item : list[kind.list_key]) {
      if (!item.is_object()) continue;
      auto name = item.find("name");
      if (name != item.end() && name->is_string() && *name == name_or_id) matches.push_back(item);
    }
  }
  if (matches.empty()) {
    return NotFound("No " + kind.noun + " with a name or ID of '" + name_or_id + "' exists.");
  }
  if (matches.size() > 1) {
    return InvalidArgument("Multiple " + kind.noun + " matches found for '" + name_or_id +
                           "', use an ID to be more specific.");
  }
  return matches.front();
}

}  // namespace scoria::cli
