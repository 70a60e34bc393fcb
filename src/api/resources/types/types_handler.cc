// Volume types: /types, /types/default, /types/{id}, extra specs, and project access
// (cinder/api/v3/types.py, contrib/types_manage.py, contrib/types_extra_specs.py,
// contrib/volume_type_access.py). Every route works on ids only, as Cinder's do; `default` is
// a literal route that answers the configured default_volume_type.
//
// Rules kept from Cinder: create and update answer 200, delete 202; a duplicate name is 409;
// extra specs are frozen (400 "Volume Type is currently in use.") while any volume uses the
// type; the default type cannot be deleted, and (a Scoria rule) cannot be renamed either,
// since default_volume_type names it. Type lists are short, so sorting and paging happen in
// memory.
#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "api/http/fault.h"
#include "api/http/memory_page.h"
#include "api/http/query.h"
#include "api/http/validation.h"
#include "api/resources/api_env.h"
#include "api/resources/views.h"
#include "common/clock.h"
#include "common/ids.h"
#include "db/types_repo.h"

namespace scoria::api {
namespace {

using nlohmann::json;

constexpr char kInUseMessage[] = "Volume Type is currently in use.";

bool ValidSpecKey(const std::string& k) {
  return !k.empty() && k.size() <= 255 && std::all_of(k.begin(), k.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == ':' ||
           c == '.';
  });
}

// Cinder's extra_specs_with_no_spaces_key schema: keys [a-zA-Z0-9-_:.]{1,255}, string values of
// at most 255 characters. (Cinder also lets a value be null; Scoria stores strings only.)
Result<std::map<std::string, std::string>> ParseExtraSpecs(const json& v,
                                                           const std::string& field) {
  if (!v.is_object()) {
    return InvalidArgument("Invalid input for field/attribute " + field + ". Value: " + v.dump() +
                           ". " + v.dump() + " is not of type 'object'");
  }
  std::map<std::string, std::string> out;
  for (auto it = v.begin(); it != v.end(); ++it) {
    if (!ValidSpecKey(it.key())) {
      return InvalidArgument("Invalid input for field/attribute " + field + ". Value: " + v.dump() +
                             ". '" + it.key() +
                             "' does not match any of the regexes: '^[a-zA-Z0-9-_:.]{1,255}$'");
    }
    if (!it->is_string()) {
      return InvalidArgument("Invalid input for field/attribute " + it.key() + ". Value: " +
                             it->dump() + ". " + it->dump() + " is not of type 'string'");
    }
    std::string val = it->get<std::string>();
    if (val.size() > 255) {
      return InvalidArgument("Invalid input for field/attribute " + it.key() + ". Value: " + val +
                             ". It is longer than 255 characters");
    }
    out[it.key()] = std::move(val);
  }
  return out;
}

bool IsTrueSpec(const std::map<std::string, std::string>& specs, const std::string& key) {
  auto it = specs.find(key);
  return it != specs.end() && (it->second == "<is> True" || it->second == "<is> true");
}

// Cinder refuses a type that is both multiattach and cacheable.
Status CheckSpecCombination(const std::map<std::string, std::string>& specs) {
  if (IsTrueSpec(specs, "multiattach") && IsTrueSpec(specs, "cacheable")) {
    return InvalidArgument("Invalid input received: cacheable cannot be set with multiattach.");
  }
  return Status::Ok();
}

// ?is_public=: absent -> public only (plus private ones the caller has access to), "None" ->
// all, else a strict boolean (cinder/api/v3/types.py _parse_is_public).
Result<std::optional<bool>> ParseIsPublic(const std::optional<std::string>& v) {
  if (!v) return std::optional<bool>(true);
  std::string lower = *v;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower == "none") return std::optional<bool>();
  auto b = ParseStrictBool(*v);
  if (!b.ok()) return InvalidArgument("Invalid is_public filter [" + *v + "]");
  return std::optional<bool>(*b);
}

// The filters of a type list (besides is_public): the columns an admin names, and from 3.52
// an extra_specs dict.
struct TypeFilter {
  std::map<std::string, std::string> columns;      // name, id, description
  std::map<std::string, std::string> extra_specs;  // key -> value
  bool match_nothing = false;                      // a key that is no column
};

Result<TypeFilter> ParseTypeFilter(const Request& req, const ListParams& params) {
  TypeFilter f;
  for (const auto& [key, value] : params.filters) {
    if (key == "is_public") continue;
    if (key == "extra_specs") {
      if (req.version < ApiVersion{3, 52}) continue;
      // extra_specs={'k': 'v'}: a Python dict literal (or JSON).
      std::string text = value;
      for (char& c : text) c = c == '\'' ? '"' : c;
      json j = json::parse(text, nullptr, false);
      if (!j.is_object()) {
        return InvalidArgument("Invalid input received: extra_specs filter must be a dict, got " +
                               value);
      }
      for (auto it = j.begin(); it != j.end(); ++it) {
        f.extra_specs[it.key()] = it->is_string() ? it->get<std::string>() : it->dump();
      }
      continue;
    }
    // Cinder's DB layer filters on any volume_types column an admin names and returns nothing
    // for a key that is not a column.
    if (key == "name" || key == "id" || key == "description") {
      f.columns[key] = value;
    } else {
      f.match_nothing = true;
    }
  }
  return f;
}

bool TypeMatches(const db::VolumeTypeRecord& t, const TypeFilter& f) {
  if (f.match_nothing) return false;
  bool ok = true;
  for (const auto& [k, v] : f.columns) {
    if (k == "name") ok &= t.name == v;
    if (k == "id") ok &= t.id == v;
    if (k == "description") ok &= t.description.value_or("") == v;
  }
  for (const auto& [k, v] : f.extra_specs) {
    auto it = t.extra_specs.find(k);
    if (it == t.extra_specs.end()) {
      ok = false;
    } else if (k == "RESKEY:availability_zones") {
      ok &= it->second.find(v) != std::string::npos;  // a comma list: Cinder uses LIKE
    } else {
      ok &= it->second == v;
    }
  }
  return ok;
}

// API name -> field, for sort keys.
json TypeField(const db::VolumeTypeRecord& t, const std::string& k) {
  if (k == "id") return t.id;
  if (k == "name") return t.name;
  if (k == "description") return t.description.value_or("");
  if (k == "is_public") return t.is_public;
  if (k == "updated_at") return t.updated_at.value_or(0);
  return t.created_at;
}

class TypesApi {
 public:
  explicit TypesApi(const ApiEnv& env) : env_(env) {}

  Response List(Request& req, const PathParams&);
  Response Show(Request& req, const PathParams& p);
  Response ShowDefault(Request& req, const PathParams&);
  Response Create(Request& req, const PathParams&);
  Response Update(Request& req, const PathParams& p);
  Response Delete(Request& req, const PathParams& p);
  Response SpecsList(Request& req, const PathParams& p);
  Response SpecsCreate(Request& req, const PathParams& p);
  Response SpecShow(Request& req, const PathParams& p);
  Response SpecUpdate(Request& req, const PathParams& p);
  Response SpecDelete(Request& req, const PathParams& p);
  Response Action(Request& req, const PathParams& p);
  Response AccessList(Request& req, const PathParams& p);

 private:
  // The type, if the caller may see it: public, or private with access (admins see all).
  Result<db::VolumeTypeRecord> Load(db::Transaction& tx, const Request& req,
                                    const std::string& id) {
    ASSIGN_OR_RETURN(auto t, db::GetType(tx, id));
    if (!t.is_public && !req.ctx.is_admin) {
      ASSIGN_OR_RETURN(auto projects, db::TypeProjects(tx, t.id));
      if (std::find(projects.begin(), projects.end(), req.ctx.project_id) == projects.end()) {
        return NotFound("Volume type " + id + " could not be found.");
      }
    }
    return t;
  }
  // Extra specs may change only while no volume uses the type.
  Status AllowSpecChange(db::Transaction& tx, const std::string& id) {
    ASSIGN_OR_RETURN(int64_t n, db::CountVolumesOfType(tx, id));
    if (n > 0) return FailedPrecondition(kInUseMessage);
    return Status::Ok();
  }
  Response Respond(const Status& st, const std::function<Response()>& ok) {
    return st.ok() ? ok() : FaultResponse(st);
  }
  Response ProjectAccess(Request& req, const std::string& id, const json& args, bool add);

  const ApiEnv env_;  // a copy: it holds references, the caller's may be a temporary
};

Response TypesApi::List(Request& req, const PathParams&) {
  ListSpec spec;
  spec.sort_keys = {"id", "name", "description", "is_public", "created_at", "updated_at"};
  spec.filter_keys = {"is_public", "extra_specs"};
  spec.max_limit = env_.config.osapi_max_limit;
  auto params = ParseListParams(req, spec);
  if (!params.ok()) return FaultResponse(params.status());

  // Only admins choose; everyone else sees public types plus the private ones shared with
  // their project.
  std::optional<bool> is_public = true;
  if (req.ctx.is_admin) {
    auto p = ParseIsPublic(req.Get("is_public"));
    if (!p.ok()) return FaultResponse(p.status());
    is_public = *p;
  }
  auto filter = ParseTypeFilter(req, *params);
  if (!filter.ok()) return FaultResponse(filter.status());

  std::vector<db::VolumeTypeRecord> types;
  Status st = db::InReadTransaction(env_.db, [&](db::Transaction& tx) {
    if (is_public == true) {
      ASSIGN_OR_RETURN(types, db::ListTypes(tx, std::nullopt, req.ctx.project_id));
    } else {
      ASSIGN_OR_RETURN(types, db::ListTypes(tx, is_public, std::nullopt));
    }
    return Status::Ok();
  });
  if (!st.ok()) return FaultResponse(st);
  std::vector<db::VolumeTypeRecord> kept;
  for (auto& t : types) {
    if (TypeMatches(t, *filter)) kept.push_back(std::move(t));
  }
  return PageInMemory(req, std::move(kept), *params,
                      {"types", "volume_types", "volume_type_links", "Volume type"}, TypeField,
                      [&](const db::VolumeTypeRecord& t) { return VolumeTypeView(req, t); });
}

Response TypesApi::Show(Request& req, const PathParams& p) {
  json out;
  Status st = db::InReadTransaction(env_.db, [&](db::Transaction& tx) {
    ASSIGN_OR_RETURN(auto t, Load(tx, req, p.at("type_id")));
    out = VolumeTypeView(req, t);
    return Status::Ok();
  });
  return Respond(st, [&] { return JsonResponse(200, {{"volume_type", out}}); });
}

Response TypesApi::ShowDefault(Request& req, const PathParams&) {
  json out;
  Status st = db::InReadTransaction(env_.db, [&](db::Transaction& tx) {
    auto t = db::GetTypeByName(tx, env_.config.default_volume_type);
    if (!t.ok()) {
      return t.status().code() == StatusCode::kNotFound
                 ? NotFound("Default volume type can not be found.")
                 : t.status();
    }
    out = VolumeTypeView(req, *t);
    return Status::Ok();
  });
  return Respond(st, [&] { return JsonResponse(200, {{"volume_type", out}}); });
}

Response TypesApi::Create(Request& req, const PathParams&) {
  auto obj = ParseBodyObject(req, "volume_type");
  if (!obj.ok()) return FaultResponse(obj.status());
  const json& in = *obj;
  Status bad = RejectUnknownKeys(
      in, {"name", "description", "extra_specs", "os-volume-type-access:is_public"});
  if (!bad.ok()) return FaultResponse(bad);
  if (!in.contains("name") || in["name"].is_null()) {
    return FaultResponse(InvalidArgument("Invalid input received: 'name' is a required property"));
  }
  auto name = OptionalString(in, "name");
  if (!name.ok()) return FaultResponse(name.status());
  if (!*name || (*name)->empty()) {
    return FaultResponse(InvalidArgument("Invalid input for field/attribute name. Value: " +
                                         in["name"].dump() + ". '' is too short"));
  }
  auto desc = OptionalString(in, "description");
  if (!desc.ok()) return FaultResponse(desc.status());
  db::VolumeTypeRecord t;
  t.id = NewUuid();
  t.name = **name;
  t.description = *desc;
  t.created_at = NowMicros();
  if (in.contains("extra_specs") && !in["extra_specs"].is_null()) {
    auto specs = ParseExtraSpecs(in["extra_specs"], "extra_specs");
    if (!specs.ok()) return FaultResponse(specs.status());
    t.extra_specs = std::move(*specs);
  }
  Status combo = CheckSpecCombination(t.extra_specs);
  if (!combo.ok()) return FaultResponse(combo);
  if (in.contains("os-volume-type-access:is_public") &&
      !in["os-volume-type-access:is_public"].is_null()) {
    auto b =
        ParseBoolValue(in["os-volume-type-access:is_public"], "os-volume-type-access:is_public");
    if (!b.ok()) return FaultResponse(b.status());
    t.is_public = *b;
  }
  Status st =
      db::InWriteTransaction(env_.db, [&](db::Transaction& tx) { return db::InsertType(tx, t); });
  // Cinder's create answer has no qos_specs_id (tempest's create_volume_type schema).
  return Respond(st, [&] {
    json j = VolumeTypeView(req, t);
    j.erase("qos_specs_id");
    return JsonResponse(200, {{"volume_type", j}});
  });
}

Response TypesApi::Update(Request& req, const PathParams& p) {
  auto obj = ParseBodyObject(req, "volume_type");
  if (!obj.ok()) return FaultResponse(obj.status());
  const json& in = *obj;
  Status bad = RejectUnknownKeys(in, {"name", "description", "is_public"});
  if (!bad.ok()) return FaultResponse(bad);
  auto name = OptionalString(in, "name");
  if (!name.ok()) return FaultResponse(name.status());
  auto desc = OptionalString(in, "description");
  if (!desc.ok()) return FaultResponse(desc.status());
  std::optional<bool> is_public;
  if (in.contains("is_public") && !in["is_public"].is_null()) {
    auto b = ParseBoolValue(in["is_public"], "is_public");
    if (!b.ok()) return FaultResponse(b.status());
    is_public = *b;
  }
  if (!*name && !*desc && !is_public) {
    return FaultResponse(InvalidArgument(
        "Specify volume type name, description, is_public or a combination thereof."));
  }
  if (*name && (*name)->empty()) {
    return FaultResponse(InvalidArgument("Volume type name can not be empty."));
  }
  json out;
  Status st = db::InWriteTransaction(env_.db, [&](db::Transaction& tx) {
    ASSIGN_OR_RETURN(auto t, Load(tx, req, p.at("type_id")));
    if (*name && **name != t.name && t.name == env_.config.default_volume_type) {
      return InvalidArgument("Invalid volume type: the default volume type " + t.name +
                             " (default_volume_type) cannot be renamed.");
    }
    if (*name) t.name = **name;
    if (*desc) t.description = *desc;
    if (is_public) t.is_public = *is_public;
    RETURN_IF_ERROR(db::UpdateType(tx, t));
    ASSIGN_OR_RETURN(t, db::GetType(tx, t.id));
    // Cinder's update answer is the plain type (tempest's update_volume_types schema): no
    // os-volume-type-access:is_public, no qos_specs_id.
    out = VolumeTypeView(req, t);
    out.erase("qos_specs_id");
    out.erase("os-volume-type-access:is_public");
    return Status::Ok();
  });
  return Respond(st, [&] { return JsonResponse(200, {{"volume_type", out}}); });
}

Response TypesApi::Delete(Request& req, const PathParams& p) {
  Status st = db::InWriteTransaction(env_.db, [&](db::Transaction& tx) {
    ASSIGN_OR_RETURN(auto t, Load(tx, req, p.at("type_id")));
    if (t.name == env_.config.default_volume_type) {
      return InvalidArgument("The volume type " + t.id +
                             " is a default volume type and cannot be deleted.");
    }
    ASSIGN_OR_RETURN(int64_t n, db::CountVolumesOfType(tx, t.id));
    if (n > 0) return InvalidArgument("Target volume type is still in use.");
    return db::DeleteType(tx, t.id);
  });
  return Respond(st, [] { return EmptyResponse(202); });
}

Response TypesApi::SpecsList(Request& req, const PathParams& p) {
  json specs = json::object();
  Status st = db::InReadTransaction(env_.db, [&](db::Transaction& tx) {
    ASSIGN_OR_RETURN(auto t, Load(tx, req, p.at("type_id")));
    for (const auto& [k, v] : t.extra_specs) specs[k] = v;
    return Status::Ok();
  });
  return Respond(st, [&] { return JsonResponse(200, {{"extra_specs", specs}}); });
}

Response TypesApi::SpecsCreate(Request& req, const PathParams& p) {
  auto obj = ParseBodyObject(req, "extra_specs");
  if (!obj.ok()) return FaultResponse(obj.status());
  auto specs = ParseExtraSpecs(*obj, "extra_specs");
  if (!specs.ok()) return FaultResponse(specs.status());
  Status st = db::InWriteTransaction(env_.db, [&](db::Transaction& tx) {
    ASSIGN_OR_RETURN(auto t, Load(tx, req, p.at("type_id")));
    RETURN_IF_ERROR(AllowSpecChange(tx, t.id));
    auto merged = t.extra_specs;
    for (const auto& [k, v] : *specs) merged[k] = v;
    RETURN_IF_ERROR(CheckSpecCombination(merged));
    return db::SetExtraSpecs(tx, t.id, *specs);
  });
  return Respond(st, [&] { return JsonResponse(200, {{"extra_specs", *obj}}); });
}

Response TypesApi::SpecShow(Request& req, const PathParams& p) {
  json out;
  Status st = db::InReadTransaction(env_.db, [&](db::Transaction& tx) {
    ASSIGN_OR_RETURN(auto t, Load(tx, req, p.at("type_id")));
    auto it = t.extra_specs.find(p.at("key"));
    if (it == t.extra_specs.end()) {
      return NotFound("Volume Type " + t.id + " has no extra specs with key " + p.at("key") + ".");
    }
    out = {{it->first, it->second}};
    return Status::Ok();
  });
  return Respond(st, [&] { return JsonResponse(200, out); });
}

Response TypesApi::SpecUpdate(Request& req, const PathParams& p) {
  auto body = ParseJsonBody(req);
  if (!body.ok()) return FaultResponse(body.status());
  const std::string& key = p.at("key");
  if (!body->contains(key)) {
    return FaultResponse(InvalidArgument("Request body and URI mismatch"));
  }
  if (body->size() > 1) {
    return FaultResponse(InvalidArgument("Request body contains too many items"));
  }
  auto specs = ParseExtraSpecs(*body, key);
  if (!specs.ok()) return FaultResponse(specs.status());
  Status st = db::InWriteTransaction(env_.db, [&](db::Transaction& tx) {
    ASSIGN_OR_RETURN(auto t, Load(tx, req, p.at("type_id")));
    RETURN_IF_ERROR(AllowSpecChange(tx, t.id));
    auto merged = t.extra_specs;
    merged[key] = specs->at(key);
    RETURN_IF_ERROR(CheckSpecCombination(merged));
    return db::SetExtraSpecs(tx, t.id, *specs);
  });
  return Respond(st, [&] { return JsonResponse(200, *body); });
}

Response TypesApi::SpecDelete(Request& req, const PathParams& p) {
  Status st = db::InWriteTransaction(env_.db, [&](db::Transaction& tx) {
    ASSIGN_OR_RETURN(auto t, Load(tx, req, p.at("type_id")));
    RETURN_IF_ERROR(AllowSpecChange(tx, t.id));
    return db::DeleteExtraSpec(tx, t.id, p.at("key"));
  });
  return Respond(st, [] { return EmptyResponse(202); });
}

Response TypesApi::Action(Request& req, const PathParams& p) {
  auto body = ParseJsonBody(req);
  if (!body.ok()) return FaultResponse(body.status());
  for (const char* action : {"addProjectAccess", "removeProjectAccess"}) {
    if (body->contains(action)) {
      return ProjectAccess(req, p.at("type_id"), (*body)[action],
                           std::string(action) == "addProjectAccess");
    }
  }
  const std::string name = body->empty() ? std::string() : body->begin().key();
  return FaultResponse(InvalidArgument("There is no such action: " + name));
}

Response TypesApi::ProjectAccess(Request& req, const std::string& id, const json& args, bool add) {
  if (!args.is_object() || !args.contains("project") || !args["project"].is_string() ||
      args["project"].get<std::string>().empty()) {
    return FaultResponse(InvalidArgument("Missing required element 'project' in request body."));
  }
  const std::string project = args["project"].get<std::string>();
  Status st = db::InWriteTransaction(env_.db, [&](db::Transaction& tx) {
    ASSIGN_OR_RETURN(auto t, Load(tx, req, id));
    if (t.is_public) {
      return InvalidArgument(
          "Invalid volume type: Type access modification is not applicable "
          "to public volume type.");
    }
    return add ? db::AddTypeProject(tx, t.id, project) : db::RemoveTypeProject(tx, t.id, project);
  });
  return Respond(st, [] { return EmptyResponse(202); });
}

Response TypesApi::AccessList(Request& req, const PathParams& p) {
  json items = json::array();
  Status st = db::InReadTransaction(env_.db, [&](db::Transaction& tx) {
    ASSIGN_OR_RETURN(auto t, Load(tx, req, p.at("type_id")));
    if (t.is_public) return NotFound("Access list not available for public volume types.");
    ASSIGN_OR_RETURN(auto projects, db::TypeProjects(tx, t.id));
    for (const auto& project : projects) {
      items.push_back({{"volume_type_id", t.id}, {"project_id", project}});
    }
    return Status::Ok();
  });
  return Respond(st, [&] { return JsonResponse(200, {{"volume_type_access", items}}); });
}

}  // namespace

void RegisterTypeRoutes(Router& r, const ApiEnv& env) {
  auto api = std::make_shared<TypesApi>(env);
  auto bind = [api](auto fn) { return BindMethod(api, fn); };
  r.Add("GET", "/types", bind(&TypesApi::List));
  r.Add("POST", "/types", bind(&TypesApi::Create));
  r.Add("GET", "/types/default", bind(&TypesApi::ShowDefault));
  r.Add("GET", "/types/{type_id}", bind(&TypesApi::Show));
  r.Add("PUT", "/types/{type_id}", bind(&TypesApi::Update));
  r.Add("DELETE", "/types/{type_id}", bind(&TypesApi::Delete));
  r.Add("GET", "/types/{type_id}/extra_specs", bind(&TypesApi::SpecsList));
  r.Add("POST", "/types/{type_id}/extra_specs", bind(&TypesApi::SpecsCreate));
  r.Add("GET", "/types/{type_id}/extra_specs/{key}", bind(&TypesApi::SpecShow));
  r.Add("PUT", "/types/{type_id}/extra_specs/{key}", bind(&TypesApi::SpecUpdate));
  r.Add("DELETE", "/types/{type_id}/extra_specs/{key}", bind(&TypesApi::SpecDelete));
  r.Add("POST", "/types/{type_id}/action", bind(&TypesApi::Action));
  r.Add("GET", "/types/{type_id}/os-volume-type-access", bind(&TypesApi::AccessList));
}

}  // namespace scoria::api
