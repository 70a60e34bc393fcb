// Body validation helpers shared by the handlers: each returns InvalidArgument with Cinder's
// wording ("Invalid input for field/attribute size. ...") so a bad field is a 400 that names it.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "api/http/http.h"
#include "common/status.h"

namespace scoria::api {

// The object under `key` of a body ({"volume": {...}}); 400 when missing or not an object.
Result<nlohmann::json> RequireObject(const nlohmann::json& body, const std::string& key);
// The object under `key` of the request's JSON body: ParseJsonBody then RequireObject, with
// their errors unchanged (400 "Malformed request body: ..." before any field check).
[[nodiscard]] Result<nlohmann::json> ParseBodyObject(const Request& req, const std::string& key);
// Optional string field, null allowed; max_len characters after trimming (Cinder strips).
Result<std::optional<std::string>> OptionalString(const nlohmann::json& obj,
                                                  const std::string& key, size_t max_len = 255,
                                                  bool strip = true);
// A required string field: 400 "'<key>' is a required property" when missing or null, 400
// "... Not a string" when of another type. Not trimmed.
Result<std::string> RequiredString(const nlohmann::json& obj, const std::string& key);
// An integer given as a JSON integer or a string of digits (Cinder accepts both), within
// [min, max]. Booleans, floats and other strings are rejected.
Result<int64_t> ParseSize(const nlohmann::json& v, const std::string& field, int64_t min,
                          int64_t max);
// A JSON boolean or a strict boolean string ("true", "False", "1"...).
Result<bool> ParseBoolValue(const nlohmann::json& v, const std::string& field);
// A metadata map: object of string -> string, keys 1..255 of [a-zA-Z0-9-_:. /], values <= 255.
Result<std::map<std::string, std::string>> ParseMetadata(const nlohmann::json& v,
                                                         const std::string& field = "metadata");
// The body of POST /<resource>/{id}/action: exactly one member, {"<action>": <args>}.
// Returns the action's name and its arguments; 400 for a bad body or several actions.
Result<std::pair<std::string, nlohmann::json>> ParseActionBody(const std::string& body_text);

// 400 "Additional properties are not allowed (x were unexpected)" when obj has other keys.
Status RejectUnknownKeys(const nlohmann::json& obj, std::initializer_list<const char*> allowed);

inline constexpr int64_t kMaxVolumeSizeGb = 2147483647;  // Cinder's size column is int32

}  // namespace scoria::api
