// The admin side of the v3 API: availability zones, services (list, enable, disable, freeze,
// thaw), hosts, scheduler pools and user messages (cinder/api/contrib/availability_zones.py,
// hosts.py, scheduler_stats.py, cinder/api/v3/services.py, messages.py). Limits and quotas are
// quota_handler.cc.
//
// Services, pools and AZs are read from the services table, where every scoriad process
// writes its heartbeat and its backends' stats (db/services_repo.h); a service is "up" while
// its last heartbeat is younger than service_down_time. Freeze and thaw write the service row
// only: nothing runs on the backend, the API and the scheduler read the flag (api/resources/
// frozen.h, scheduler::SchedulerService::LoadPools).
#include <algorithm>
#include <charconv>
#include <nlohmann/json.hpp>
#include <set>

#include "api/http/fault.h"
#include "api/http/memory_page.h"
#include "api/http/query.h"
#include "api/http/validation.h"
#include "api/resources/admin/admin_views.h"
#include "api/resources/api_env.h"
#include "api/resources/quota.h"
#include "api/resources/views.h"
#include "common/clock.h"
#include "db/backups_repo.h"
#include "db/messages_repo.h"
#include "db/quotas_repo.h"
#include "db/services_repo.h"
#include "db/snapshots_repo.h"
#include "db/types_repo.h"
#include "db/volumes_repo.h"
#include "scheduler/pools.h"

namespace scoria::api {
namespace {

using nlohmann::json;

// Host filter of os-services: "node" matches node, node@backend and node@backend#pool, as
// Cinder's _filter_host does.
bool HostMatches(const std::string& host, const std::string& filter) {
  if (host == filter) return true;
  return host.size() > filter.size() && host.compare(0, filter.size(), filter) == 0 &&
         (host[filter.size()] == '@' || host[filter.size()] == '#');
}

// Cinder's host_manager._equal_after_convert: same type -> equality; a boolean capability
// compares with the value read as a boolean; otherwise both as strings.
bool CapabilityEquals(const json& cap, const std::string& value) {
  if (cap.is_null()) return false;
  if (cap.is_string()) return cap.get<std::string>() == value;
  if (cap.is_boolean()) {
    auto b = ParseStrictBool(value);
    return b.ok() && *b == cap.get<bool>();
  }
  if (cap.is_number_integer()) return cap.dump() == value;
  if (cap.is_number()) {
    char* end = nullptr;
    double d = std::strtod(value.c_str(), &end);
    return end != value.c_str() && *end == '\0' && d == cap.get<double>();
  }
  return cap.dump() == value;
}

// The query of get-pools: detail, capability filters from 3.28, volume_type from 3.35 (older
// versions ignore them).
struct PoolsQuery {
  bool detail = false;
  std::map<std::string, std::string> capabilities;  // key=value; "name": the pool or backend
  std::optional<std::string> type_ref;              // a volume type's name or id
};

Result<PoolsQuery> ParsePoolsQuery(const Request& req) {
  PoolsQuery q;
  if (auto d = req.Get("detail")) {
    auto b = ParseStrictBool(*d);
    if (!b.ok()) return InvalidArgument("Invalid value for detail: " + *d);
    q.detail = *b;
  }
  if (req.version < ApiVersion{3, 28}) return q;
  for (const auto& [k, v] : req.query) {
    if (k == "detail") continue;
    if (k == "volume_type") {
      if (req.version >= ApiVersion{3, 35}) q.type_ref = v;
      continue;
    }
    q.capabilities[k] = v;
  }
  return q;
}

bool PoolMatches(const scheduler::PoolState& pool,
                 const std::map<std::string, std::string>& capabilities) {
  for (const auto& [k, v] : capabilities) {
    if (k == "name") {
      if (pool.name != v && scheduler::BackendOf(pool) != v) return false;
    } else if (!pool.capabilities.is_object() || !pool.capabilities.contains(k) ||
               !CapabilityEquals(pool.capabilities[k], v)) {
      return false;
    }
  }
  return true;
}

// One pool of get-pools; with detail its capabilities, stamped with its service's last
// heartbeat when the report has no timestamp of its own.
json PoolView(const scheduler::PoolState& pool, bool detail,
              const std::map<std::string, std::optional<int64_t>>& heartbeats) {
  json entry = {{"name", pool.name}};
  if (!detail) return entry;
  json caps = pool.capabilities.is_object() ? pool.capabilities : json::object();
  auto hb = heartbeats.find(scheduler::BackendOf(pool));
  if (!caps.contains("timestamp")) {
    caps["timestamp"] = hb == heartbeats.end() ? json(nullptr) : TimeOrNull(hb->second);
  }
  entry["capabilities"] = std::move(caps);
  return entry;
}

class AdminApi {
 public:
  explicit AdminApi(const ApiEnv& env) : env_(env) {}

  Response AvailabilityZones(Request& req, const PathParams&);
  Response ServicesList(Request& req, const PathParams&);
  Response ServiceUpdate(Request& req, const PathParams& p);
  Response FreezeOrThaw(Request& req, bool freeze);
  Response HostsList(Request& req, const PathParams&);
  Response HostShow(Request& req, const PathParams& p);
  Response Pools(Request& req, const PathParams&);
  Response MessagesList(Request& req, const PathParams&);
  Response MessageShow(Request& req, const PathParams& p);
  Response MessageDelete(Request& req, const PathParams& p);

 private:
  Result<db::MessageRecord> LoadMessage(db::Transaction& tx, const Request& req,
                                        const std::string& id) {
    ASSIGN_OR_RETURN(auto m, db::GetMessage(tx, id));
    if (!req.ctx.is_admin && m.project_id != req.ctx.project_id) {
      return NotFound("Message " + id + " could not be found.");
    }
    return m;
  }
  Response Respond(const Status& st, const std::function<Response()>& ok) {
    return st.ok() ? ok() : FaultResponse(st);
  }

  const ApiEnv env_;  // a copy: it holds references, the caller's may be a temporary
};

Response AdminApi::AvailabilityZones(Request&, const PathParams&) {
  std::map<std::string, bool> zones;  // name -> available
  const int64_t now = NowMicros();
  Status st = db::InReadTransaction(env_.db, [&](db::Transaction& tx) {
    ASSIGN_OR_RETURN(auto services,
                     db::ListServices(tx, std::nullopt, std::string(db::kVolumeBinary)));
    for (const auto& s : services) {
      bool usable = !s.disabled && db::ServiceIsUp(s, now, env_.config.service_down_time);
      zones[s.availability_zone] = zones[s.availability_zone] || usable;
    }
    return Status::Ok();
  });
  if (!st.ok()) return FaultResponse(st);
  json list = json::array();
  for (const auto& [name, available] : zones) {
    json state = {{"available", available}};  // not a status: the zone's state
    list.push_back({{"zoneName", name}, {"zoneState", std::move(state)}});
  }
  return JsonResponse(200, {{"availabilityZoneInfo", list}});
}

Response AdminApi::ServicesList(Request& req, const PathParams&) {
  std::optional<std::string> host = req.Get("host"), binary = req.Get("binary");
  if (host && host->empty()) host.reset();
  if (binary && binary->empty()) binary.reset();
  json list = json::array();
  const int64_t now = NowMicros();
  Status st = db::InReadTransaction(env_.db, [&](db::Transaction& tx) {
    ASSIGN_OR_RETURN(auto services, db::ListServices(tx, std::nullopt, binary));
    for (const auto& s : services) {
      if (host && !HostMatches(s.host, *host)) continue;
      list.push_back(ServiceView(req, s, now, env_.config.service_down_time));
    }
    return Status::Ok();
  });
  return Respond(st, [&] { return JsonResponse(200, {{"services", list}}); });
}

Response AdminApi::ServiceUpdate(Request& req, const PathParams& p) {
  const std::string& action = p.at("action");
  if (action == "freeze" || action == "thaw") return FreezeOrThaw(req, action == "freeze");
  if (action == "failover_host" || action == "failover" || action == "set-log" ||
      action == "get-log") {
    return FaultResponse(NotImplemented("os-services/" + action + " is not supported."));
  }
  if (action != "enable" && action != "disable" && action != "disable-log-reason") {
    return FaultResponse(NotFound("Unknown action"));
  }
  auto body = ParseJsonBody(req);
  if (!body.ok()) return FaultResponse(body.status());
  auto str = [&](const char* k) -> std::string {
    return body->contains(k) && (*body)[k].is_string() ? (*body)[k].get<std::string>() : "";
  };
  const std::string host = str("host");
  if (host.empty()) {
    return FaultResponse(InvalidArgument("Missing required element 'host' in request body."));
  }
  // Old clients name the binary "service".
  const std::string service = str("service");
  const std::string binary = str("binary").empty() ? service : str("binary");
  if (binary.empty()) {
    return FaultResponse(InvalidArgument("Missing required element 'binary' in request body."));
  }
  const bool disable = action != "enable";
  std::optional<std::string> reason;
  if (action == "disable-log-reason") {
    std::string r = str("disabled_reason");
    bool blank = r.find_first_not_of(" \t\r\n") == std::string::npos;
    if (blank || r.size() > 255) {
      return FaultResponse(
          InvalidArgument("Disabled reason contains invalid characters or is "
                          "too long"));
    }
    reason = r;
  }
  Status st = db::InWriteTransaction(env_.db, [&](db::Transaction& tx) {
    ASSIGN_OR_RETURN(auto services, db::ListServices(tx, host, binary));
    if (services.empty()) return NotFound("Unknown service");
    // A plain disable keeps an earlier reason; enable clears it.
    std::optional<std::string> new_reason = reason;
    if (action == "disable") new_reason = services[0].disabled_reason;
    return db::SetServiceDisabled(tx, host, binary, disable, new_reason);
  });
  if (!st.ok()) return FaultResponse(st);
  json out = {{"host", host},
              {"service", service},
              {"binary", binary},
              {"status", disable ? "disabled" : "enabled"},
              {"disabled", disable}};
  if (action == "enable") out["disabled_reason"] = nullptr;
  if (reason) out["disabled_reason"] = *reason;
  return JsonResponse(200, out);
}

// Cinder's freeze_host/thaw_host (cinder/volume/api.py): the host names one volume backend
// (node@backend; a bare node matches when it has exactly one); the flag must be the opposite of
// the wanted one. The same update disables the service with reason "frozen" (thaw: enables it,
// reason ""), which Cinder's volume manager does right after. 200 with an empty body.
Response AdminApi::FreezeOrThaw(Request& req, bool freeze) {
  auto body = ParseJsonBody(req);
  if (!body.ok()) return FaultResponse(body.status());
  if (!body->is_object()) {
    return FaultResponse(InvalidArgument("Invalid input received: the body must be an object."));
  }
  for (const auto& [k, v] : body->items()) {
    if (k != "host" && k != "cluster") {
      return FaultResponse(InvalidArgument("Invalid input for field/attribute " + k +
                                           ". Additional properties are not allowed."));
    }
  }
  auto str = [&](const char* k) -> Result<std::string> {
    if (!body->contains(k) || (*body)[k].is_null()) return std::string();
    if (!(*body)[k].is_string()) {
      return InvalidArgument(std::string("Invalid input for field/attribute ") + k +
                             ". Value should be a string.");
    }
    return (*body)[k].get<std::string>();
  };
  auto host = str("host");
  if (!host.ok()) return FaultResponse(host.status());
  auto cluster = str("cluster");
  if (!cluster.ok()) return FaultResponse(cluster.status());
  // Clusters came with 3.26; Scoria has none, so a cluster names no service.
  const bool clusters = req.version >= ApiVersion{3, 26};
  if (!clusters) cluster->clear();
  if (host->empty() == cluster->empty()) {
    return FaultResponse(InvalidArgument(clusters ? "Invalid input received: One and only one "
                                                    "of cluster and host must be set."
                                                  : "Invalid input received: Host field is "
                                                    "missing."));
  }
  if (host->empty()) {
    return FaultResponse(
        InvalidArgument("Invalid input received: No service found with cluster=" + *cluster));
  }
  Status st = db::InWriteTransaction(env_.db, [&](db::Transaction& tx) -> Status {
    ASSIGN_OR_RETURN(auto all, db::ListServices(tx, std::nullopt, std::string(db::kVolumeBinary)));
    std::vector<db::ServiceRecord> services;
    for (auto& s : all) {
      if (HostMatches(s.host, *host)) services.push_back(std::move(s));
    }
    if (services.empty()) {
      return InvalidArgument("Invalid input received: No service found with host=" + *host);
    }
    if (services.size() > 1) return InvalidArgument("Services from different clusters found.");
    const db::ServiceRecord& s = services[0];
    if (s.frozen == freeze) {
      return InvalidArgument("Invalid input received: No service could be changed: frozen in ['" +
                             s.host + "'] must be " + (freeze ? "False" : "True") +
                             " to failover.");
    }
    return db::SetServiceFrozen(tx, s.host, s.binary, freeze, /*disabled=*/freeze,
                                freeze ? "frozen" : "");
  });
  return Respond(st, [] { return EmptyResponse(200); });
}

// Cinder lists only enabled services here (its _list_hosts filters disabled=False), so
// service-state is always "enabled"; ?zone= keeps one availability zone.
Response AdminApi::HostsList(Request& req, const PathParams&) {
  std::optional<std::string> zone = req.Get("zone");
  json list = json::array();
  const int64_t now = NowMicros();
  Status st = db::InReadTransaction(env_.db, [&](db::Transaction& tx) {
    ASSIGN_OR_RETURN(auto services, db::ListServices(tx, std::nullopt, std::nullopt));
    for (const auto& s : services) {
      if (s.disabled) continue;
      if (zone && !zone->empty() && s.availability_zone != *zone) continue;
      list.push_back(HostView(s, now, env_.config.service_down_time));
    }
    return Status::Ok();
  });
  return Respond(st, [&] { return JsonResponse(200, {{"hosts", list}}); });
}

// Cinder's HostController.show: the enabled volume service named (or, for a bare node, the
// first one on it), then a "(total)" row and one row per project with volumes there.
Response AdminApi::HostShow(Request& req, const PathParams& p) {
  const std::string& host = p.at("host");
  json resources = json::array();
  Status st = db::InReadTransaction(env_.db, [&](db::Transaction& tx) -> Status {
    ASSIGN_OR_RETURN(auto services,
                     db::ListServices(tx, std::nullopt, std::string(db::kVolumeBinary)));
    const db::ServiceRecord* found = nullptr;
    for (const auto& s : services) {
      if (!s.disabled && HostMatches(s.host, host)) {
        found = &s;
        break;
      }
    }
    if (!found) {
      return NotFound("Service " + std::string(db::kVolumeBinary) + " could not be found on host " +
                      host + ".");
    }
    ASSIGN_OR_RETURN(auto volumes, db::ProjectUsageOnBackend(tx, found->host));
    ASSIGN_OR_RETURN(auto snapshots, db::ProjectSnapshotUsageOnBackend(tx, found->host));
    HostResource total{.project = "(total)"};
    std::vector<HostResource> rows;
    for (const auto& [project, v] : volumes) {
      HostResource r{.project = project, .volume_count = v.volumes, .volume_gb = v.gigabytes};
      if (auto it = snapshots.find(project); it != snapshots.end()) {
        r.snapshot_count = it->second.snapshots;
        r.snapshot_gb = it->second.gigabytes;
      }
      total.volume_count += r.volume_count;
      total.volume_gb += r.volume_gb;
      total.snapshot_count += r.snapshot_count;
      total.snapshot_gb += r.snapshot_gb;
      rows.push_back(r);
    }
    resources.push_back(HostResourceView(host, total));
    for (const auto& r : rows) resources.push_back(HostResourceView(host, r));
    return Status::Ok();
  });
  return Respond(st, [&] { return JsonResponse(200, {{"host", resources}}); });
}

Response AdminApi::Pools(Request& req, const PathParams&) {
  auto query = ParsePoolsQuery(req);
  if (!query.ok()) return FaultResponse(query.status());
  json list = json::array();
  Status st = db::InReadTransaction(env_.db, [&](db::Transaction& tx) {
    scheduler::PoolListFilter filter;
    if (query->type_ref) {
      ASSIGN_OR_RETURN(auto type, db::FindType(tx, *query->type_ref));
      filter.extra_specs = std::move(type.extra_specs);
    }
    ASSIGN_OR_RETURN(auto pools, scheduler::ListPools(tx, env_.config, filter));
    ASSIGN_OR_RETURN(auto services,
                     db::ListServices(tx, std::nullopt, std::string(db::kVolumeBinary)));
    std::map<std::string, std::optional<int64_t>> heartbeats;
    for (const auto& s : services) heartbeats[s.host] = s.updated_at;
    for (const auto& pool : pools) {
      if (PoolMatches(pool, query->capabilities)) {
        list.push_back(PoolView(pool, query->detail, heartbeats));
      }
    }
    return Status::Ok();
  });
  return Respond(st, [&] { return JsonResponse(200, {{"pools", list}}); });
}

Response AdminApi::MessagesList(Request& req, const PathParams&) {
  ListSpec spec;
  spec.sort_keys = {
      "id",         "created_at", "event_id", "resource_type", "resource_uuid", "message_level",
      "request_id", "expires_at"};
  spec.filter_keys = {"resource_uuid", "resource_type", "event_id", "request_id", "message_level"};
  spec.max_limit = env_.config.osapi_max_limit;
  auto params = ParseListParams(req, spec);
  if (!params.ok()) return FaultResponse(params.status());
  std::optional<std::string> project;
  if (!params->all_tenants) project = req.ctx.project_id;
  std::optional<std::string> resource_uuid;
  if (auto it = params->filters.find("resource_uuid"); it != params->filters.end()) {
    resource_uuid = it->second;
  }
  std::vector<db::MessageRecord> msgs;
  Status st = db::InReadTransaction(env_.db, [&](db::Transaction& tx) {
    ASSIGN_OR_RETURN(msgs, db::ListMessages(tx, project, resource_uuid));
    return Status::Ok();
  });
  if (!st.ok()) return FaultResponse(st);
  auto field = [](const db::MessageRecord& m, const std::string& k) -> json {
    if (k == "id") return m.id;
    if (k == "event_id") return m.event_id;
    if (k == "resource_type") return m.resource_type;
    if (k == "resource_uuid") return m.resource_uuid.value_or("");
    if (k == "message_level") return m.message_level;
    if (k == "request_id") return m.request_id.value_or("");
    if (k == "expires_at") return m.expires_at;
    return m.created_at;
  };
  std::vector<db::MessageRecord> kept;
  for (auto& m : msgs) {
    bool ok = true;
    for (const auto& [k, v] : params->filters) {
      if (spec.filter_keys.count(k)) ok &= field(m, k) == json(v);
    }
    if (ok) kept.push_back(std::move(m));
  }
  return PageInMemory(req, std::move(kept), *params,
                      {"messages", "messages", "messages_links", "Message"}, field,
                      [&](const db::MessageRecord& m) { return MessageView(req, m); });
}

Response AdminApi::MessageShow(Request& req, const PathParams& p) {
  json out;
  Status st = db::InReadTransaction(env_.db, [&](db::Transaction& tx) {
    ASSIGN_OR_RETURN(auto m, LoadMessage(tx, req, p.at("message_id")));
    out = MessageView(req, m);
    return Status::Ok();
  });
  return Respond(st, [&] { return JsonResponse(200, {{"message", out}}); });
}

Response AdminApi::MessageDelete(Request& req, const PathParams& p) {
  Status st = db::InWriteTransaction(env_.db, [&](db::Transaction& tx) {
    ASSIGN_OR_RETURN(auto m, LoadMessage(tx, req, p.at("message_id")));
    return db::DeleteMessage(tx, m.id);
  });
  return Respond(st, [] { return EmptyResponse(204); });
}

// GET /extensions: the Cinder API extensions Scoria serves, by Cinder's aliases and names
// (cinder/api/contrib/*.py), for clients and tempest that look them up. Static.
Response ListExtensions(Request&, const PathParams&) {
  struct Ext {
    const char* alias;
    const char* name;
    const char* description;
  };
  static constexpr Ext kExtensions[] = {
      {"os-admin-actions", "AdminActions", "Enable admin actions."},
      {"os-availability-zone", "AvailabilityZones", "Describe Availability Zones."},
      {"backups", "Backups", "Backups support."},
      {"os-extended-snapshot-attributes", "ExtendedSnapshotAttributes",
       "Extended SnapshotAttributes support."},
      {"os-hosts", "Hosts", "Admin-only host administration."},
      {"os-quota-class-sets", "QuotaClasses", "Quota classes management support."},
      {"os-quota-sets", "Quotas", "Quota management support."},
      {"scheduler-stats", "Scheduler_stats", "Scheduler stats support."},
      {"os-services", "Services", "Services support."},
      {"os-snapshot-actions", "SnapshotActions", "Enable snapshot manager actions."},
      {"os-types-extra-specs", "TypesExtraSpecs", "Type extra specs support."},
      {"os-types-manage", "TypesManage", "Types manage support."},
      {"os-volume-actions", "VolumeActions", "Enable volume actions."},
      {"os-vol-host-attr", "VolumeHostAttribute", "Expose host as an attribute of a volume."},
      {"os-vol-mig-status-attr", "VolumeMigStatusAttribute",
       "Expose migration_status as an attribute of a volume."},
      {"os-vol-tenant-attr", "VolumeTenantAttribute",
       "Expose the internal project_id as an attribute of a volume."},
      {"os-volume-transfer", "VolumeTransfer", "Volume transfer management support."},
      {"os-volume-type-access", "VolumeTypeAccess", "Volume type access support."},
  };
  json list = json::array();
  for (const Ext& e : kExtensions) {
    list.push_back({{"alias", e.alias},
                    {"name", e.name},
                    {"description", e.description},
                    {"updated", "2012-01-01T00:00:00+00:00"},
                    {"links", json::array()}});
  }
  return JsonResponse(200, {{"extensions", list}});
}

}  // namespace

void RegisterAdminRoutes(Router& r, const ApiEnv& env) {
  auto api = std::make_shared<AdminApi>(env);
  auto bind = [api](auto fn) { return BindMethod(api, fn); };
  r.Add("GET", "/os-availability-zone", bind(&AdminApi::AvailabilityZones));
  r.Add("GET", "/extensions", ListExtensions);
  r.Add("GET", "/os-services", bind(&AdminApi::ServicesList));
  r.Add("PUT", "/os-services/{action}", bind(&AdminApi::ServiceUpdate));
  r.Add("GET", "/os-hosts", bind(&AdminApi::HostsList));
  r.Add("GET", "/os-hosts/{host}", bind(&AdminApi::HostShow));
  r.Add("GET", "/scheduler-stats/get_pools", bind(&AdminApi::Pools));
  constexpr ApiVersion kMessages{3, 3};
  r.Add("GET", "/messages", bind(&AdminApi::MessagesList), kMessages);
  r.Add("GET", "/messages/{message_id}", bind(&AdminApi::MessageShow), kMessages);
  r.Add("DELETE", "/messages/{message_id}", bind(&AdminApi::MessageDelete), kMessages);
}

}  // namespace scoria::api
