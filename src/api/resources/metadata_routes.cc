#include "api/resources/metadata_routes.h"

#include <memory>
#include <nlohmann/json.hpp>

#include "api/http/fault.h"
#include "api/http/validation.h"

namespace scoria::api {
namespace {

using nlohmann::json;

json ToJson(const Metadata& md) {
  json out = json::object();
  for (const auto& [k, v] : md) out[k] = v;
  return out;
}

Response Respond(const Status& st, const std::function<Response()>& ok) {
  return st.ok() ? ok() : FaultResponse(st);
}

// GET .../metadata
Response ShowAll(const MetadataStore& store, db::Database& database, Request& req,
                 const PathParams& p) {
  json md;
  Status st = db::InReadTransaction(database, [&](db::Transaction& tx) {
    ASSIGN_OR_RETURN(auto m, store.load(tx, req, p.at(store.id_param)));
    md = ToJson(m);
    return Status::Ok();
  });
  return Respond(st, [&] { return JsonResponse(200, {{"metadata", md}}); });
}

// POST .../metadata (merge) and PUT .../metadata (replace)
Response WriteAll(const MetadataStore& store, db::Database& database, Request& req,
                  const PathParams& p, bool replace) {
  auto body = ParseJsonBody(req);
  if (!body.ok()) return FaultResponse(body.status());
  if (!body->is_object() || !body->contains("metadata")) {
    return FaultResponse(
        InvalidArgument("Invalid input received: 'metadata' is a required "
                        "property"));
  }
  auto md = ParseMetadata((*body)["metadata"]);
  if (!md.ok()) return FaultResponse(md.status());
  json out;
  Status st = db::InWriteTransaction(database, [&](db::Transaction& tx) {
    const std::string& id = p.at(store.id_param);
    RETURN_IF_ERROR(store.load(tx, req, id).status());
    RETURN_IF_ERROR(store.write(tx, id, *md, replace));
    ASSIGN_OR_RETURN(auto now, store.load(tx, req, id));
    out = ToJson(now);
    return Status::Ok();
  });
  return Respond(st, [&] { return JsonResponse(200, {{"metadata", out}}); });
}

// GET .../metadata/{key}
Response ShowKey(const MetadataStore& store, db::Database& database, Request& req,
                 const PathParams& p) {
  json out;
  Status st = db::InReadTransaction(database, [&](db::Transaction& tx) {
    ASSIGN_OR_RETURN(auto md, store.load(tx, req, p.at(store.id_param)));
    auto it = md.find(p.at("key"));
    if (it == md.end()) return NotFound("Metadata item was not found");
    out = {{"meta", {{it->first, it->second}}}};
    return Status::Ok();
  });
  return Respond(st, [&] { return JsonResponse(200, out); });
}

// PUT .../metadata/{key}
Response WriteKey(const MetadataStore& store, db::Database& database, Request& req,
                  const PathParams& p) {
  auto body = ParseJsonBody(req);
  if (!body.ok()) return FaultResponse(body.status());
  if (!body->is_object() || !body->contains("meta") || !(*body)["meta"].is_object() ||
      (*body)["meta"].size() != 1) {
    return FaultResponse(
        InvalidArgument("Invalid input received: 'meta' must hold exactly "
                        "one key"));
  }
  auto md = ParseMetadata((*body)["meta"], "meta");
  if (!md.ok()) return FaultResponse(md.status());
  if (md->begin()->first != p.at("key")) {
    return FaultResponse(
        InvalidArgument("Invalid input received: Request body and URI "
                        "mismatch"));
  }
  Status st = db::InWriteTransaction(database, [&](db::Transaction& tx) {
    const std::string& id = p.at(store.id_param);
    RETURN_IF_ERROR(store.load(tx, req, id).status());
    return store.write(tx, id, *md, false);
  });
  return Respond(st, [&] { return JsonResponse(200, {{"meta", (*body)["meta"]}}); });
}

// DELETE .../metadata/{key}
Response DeleteKey(const MetadataStore& store, db::Database& database, Request& req,
                   const PathParams& p) {
  Status st = db::InWriteTransaction(database, [&](db::Transaction& tx) {
    const std::string& id = p.at(store.id_param);
    RETURN_IF_ERROR(store.load(tx, req, id).status());
    return store.erase(tx, id, p.at("key"));
  });
  return Respond(st, [] { return EmptyResponse(200); });
}

}  // namespace

void RegisterMetadataRoutes(Router& r, const ApiEnv& env_in, const std::string& path,
                            MetadataStore store_in) {
  auto store = std::make_shared<const MetadataStore>(std::move(store_in));
  db::Database* db = &env_in.db;
  auto bind = [store, db](auto fn) {
    return [store, db, fn](Request& req, const PathParams& p) { return fn(*store, *db, req, p); };
  };
  r.Add("GET", path + "/metadata", bind(&ShowAll));
  r.Add("POST", path + "/metadata", [store, db](Request& req, const PathParams& p) {
    return WriteAll(*store, *db, req, p, /*replace=*/false);
  });
  r.Add("PUT", path + "/metadata", [store, db](Request& req, const PathParams& p) {
    return WriteAll(*store, *db, req, p, /*replace=*/true);
  });
  r.Add("GET", path + "/metadata/{key}", bind(&ShowKey));
  r.Add("PUT", path + "/metadata/{key}", bind(&WriteKey));
  r.Add("DELETE", path + "/metadata/{key}", bind(&DeleteKey));
}

}  // namespace scoria::api
