#include "api/http/validation.h"

#include <algorithm>
#include <cctype>
#include <set>

#include "api/http/query.h"

namespace scoria::api {

using nlohmann::json;

namespace {
std::string Strip(const std::string& s) {
  auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  auto e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}
}  // namespace

Result<json> RequireObject(const json& body, const std::string& key) {
  auto it = body.find(key);
  if (it == body.end()) {
    return InvalidArgument("Invalid input received: '" + key + "' is a required property");
  }
  if (!it->is_object()) {
    return InvalidArgument("Invalid input for field/attribute " + key + ". Value: " + it->dump() +
                           ". " + it->dump() + " is not of type 'object'");
  }
  return *it;
}

Result<json> ParseBodyObject(const Request& req, const std::string& key) {
  ASSIGN_OR_RETURN(auto body, ParseJsonBody(req));
  return RequireObject(body, key);
}

Result<std::optional<std::string>> OptionalString(const json& obj, const std::string& key,
                                                  size_t max_len, bool strip) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return std::optional<std::string>();
  if (!it->is_string()) {
    return InvalidArgument("Invalid input for field/attribute " + key + ". Value: " + it->dump() +
                           ". " + it->dump() + " is not of type 'string', 'null'");
  }
  std::string s = it->get<std::string>();
  if (strip) s = Strip(s);
  if (s.size() > max_len) {
    return InvalidArgument("Invalid input for field/attribute " + key + ". Value: " + s +
                           ". It is longer than " + std::to_string(max_len) + " characters");
  }
  return std::optional<std::string>(s);
}

Result<std::string> RequiredString(const json& obj, const std::string& key) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) {
    return InvalidArgument("Invalid input received: '" + key + "' is a required property");
  }
  if (!it->is_string()) {
    return InvalidArgument("Invalid input for field/attribute " + key + ". Value: " + it->dump() +
                           ". Not a string");
  }
  return it->get<std::string>();
}

Result<int64_t> ParseSize(const json& v, const std::string& field, int64_t min, int64_t max) {
  auto bad = [&](const std::string& why) {
    return InvalidArgument("Invalid input for field/attribute " + field + ". Value: " + v.dump() +
                           ". " + why);
  };
  int64_t n = 0;
  if (v.is_number_integer()) {
    if (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
      return bad("must be less than or equal to " + std::to_string(max));
    }
    n = v.get<int64_t>();
  } else if (v.is_string()) {
    std::string s = Strip(v.get<std::string>());
    if (s.empty() || s.size() > 18 ||
        !std::all_of(s.begin(), s.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
      if (!s.empty() && s.size() > 18 &&
          std::all_of(s.begin(), s.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
        return bad("must be less than or equal to " + std::to_string(max));
      }
      return bad("'" + v.get<std::string>() + "' is not a valid integer");
    }
    n = std::stoll(s);
  } else {
    return bad(v.dump() + " is not of type 'integer', 'string'");
  }
  if (n < min) return bad(std::to_string(n) + " is less than the minimum of " + std::to_string(min));
  if (n > max) return bad("must be less than or equal to " + std::to_string(max));
  return n;
}

Result<bool> ParseBoolValue(const json& v, const std::string& field) {
  if (v.is_boolean()) return v.get<bool>();
  if (v.is_string()) {
    auto b = ParseStrictBool(v.get<std::string>());
    if (b.ok()) return *b;
  }
  return InvalidArgument("Invalid input for field/attribute " + field + ". Value: " + v.dump() +
                         ". " + v.dump() + " is not of type 'boolean'");
}

Result<std::map<std::string, std::string>> ParseMetadata(const json& v, const std::string& field) {
  std::map<std::string, std::string> out;
  if (v.is_null()) return out;
  if (!v.is_object()) {
    return InvalidArgument("Invalid input for field/attribute " + field + ". Value: " + v.dump() +
                           ". " + v.dump() + " is not of type 'object'");
  }
  for (auto it = v.begin(); it != v.end(); ++it) {
    const std::string& k = it.key();
    bool key_ok = !k.empty() && k.size() <= 255 && std::all_of(k.begin(), k.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == ':' ||
             c == '.' || c == ' ' || c == '/';
    });
    if (!key_ok) {
      return InvalidArgument("Invalid input for field/attribute " + field + ". Value: " +
                             v.dump() + ". '" + k + "' is not a valid metadata key");
    }
    if (!it->is_string()) {
      return InvalidArgument("Invalid input for field/attribute " + k + ". Value: " + it->dump() +
                             ". " + it->dump() + " is not of type 'string'");
    }
    std::string val = it->get<std::string>();
    if (val.size() > 255) {
      return InvalidArgument("Invalid input for field/attribute " + k +
                             ". Value is longer than 255 characters");
    }
    out[k] = val;
  }
  return out;
}

Status RejectUnknownKeys(const json& obj, std::initializer_list<const char*> allowed) {
  std::set<std::string> ok(allowed.begin(), allowed.end());
  std::string extra;
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    if (!ok.count(it.key())) extra += (extra.empty() ? "'" : ", '") + it.key() + "'";
  }
  if (extra.empty()) return Status::Ok();
  return InvalidArgument("Invalid input received: Additional properties are not allowed (" +
                         extra + " were unexpected)");
}

Result<std::pair<std::string, json>> ParseActionBody(const std::string& body_text) {
  json body = json::parse(body_text, nullptr, false);
  if (body.is_discarded() || !body.is_object()) {
    return InvalidArgument("Malformed request body: the body must be a JSON object");
  }
  if (body.size() != 1) {
    return InvalidArgument("Invalid input received: the body must name exactly one action");
  }
  return std::pair<std::string, json>(body.begin().key(), body.begin().value());
}

}  // namespace scoria::api
