// The metadata sub-resource that volumes and snapshots share (Cinder's volume_metadata.py and
// snapshot_metadata.py): GET/POST/PUT <resource>/metadata and GET/PUT/DELETE
// <resource>/metadata/{key}, with Cinder's bodies ({"metadata": {...}}, {"meta": {k: v}}),
// validation and answers (200 everywhere).
#pragma once

#include <functional>
#include <map>
#include <string>

#include "api/resources/api_env.h"

namespace scoria::api {

using Metadata = std::map<std::string, std::string>;

// How one resource kind stores its metadata. Every function runs in the caller's
// transaction and answers NotFound (Cinder's message) when the resource is missing or the
// caller may not see it.
struct MetadataStore {
  std::string id_param;  // the path parameter of the resource's id: "volume_id"
  std::function<Result<Metadata>(db::Transaction&, const Request&, const std::string& id)> load;
  // Merges (or replaces) the metadata and bumps the resource's updated_at.
  std::function<Status(db::Transaction&, const std::string& id, const Metadata& md, bool replace)>
      write;
  // Removes one key (NotFound "Metadata item was not found" when absent); bumps updated_at.
  std::function<Status(db::Transaction&, const std::string& id, const std::string& key)> erase;
};

// A store from a resource's repository functions: load(tx, req, id) -> Result<record with
// .metadata> (visibility-checked), replace/merge(tx, id, md), erase(tx, id, key), and
// get(tx, id) + update(tx, record) to bump updated_at after a change.
template <typename Load, typename Replace, typename Merge, typename Erase, typename Get,
          typename Update>
MetadataStore MakeMetadataStore(std::string id_param, Load load, Replace replace, Merge merge,
                                Erase erase, Get get, Update update) {
  MetadataStore store;
  store.id_param = std::move(id_param);
  store.load = [load](db::Transaction& tx, const Request& req,
                      const std::string& id) -> Result<Metadata> {
    ASSIGN_OR_RETURN(auto r, load(tx, req, id));
    return r.metadata;
  };
  auto touch = [get, update](db::Transaction& tx, const std::string& id) -> Status {
    ASSIGN_OR_RETURN(auto r, get(tx, id));
    return update(tx, r);
  };
  store.write = [replace, merge, touch](db::Transaction& tx, const std::string& id,
                                        const Metadata& md, bool whole) -> Status {
    RETURN_IF_ERROR(whole ? replace(tx, id, md) : merge(tx, id, md));
    return touch(tx, id);
  };
  store.erase = [erase, touch](db::Transaction& tx, const std::string& id,
                               const std::string& key) -> Status {
    RETURN_IF_ERROR(erase(tx, id, key));
    return touch(tx, id);
  };
  return store;
}

// Registers the six routes under `resource_path` ("/volumes/{volume_id}").
void RegisterMetadataRoutes(Router& router, const ApiEnv& env, const std::string& resource_path,
                            MetadataStore store);

}  // namespace scoria::api
