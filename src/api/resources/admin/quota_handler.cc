// Limits and quotas (cinder/api/v3/limits.py, cinder/api/contrib/quotas.py,
// quota_classes.py): GET /limits, os-quota-sets (show with usage, defaults, update, delete)
// and os-quota-class-sets (show, update; the class "default" is what every project without
// its own value gets). The limits and their layers are api/resources/quota.h; usage is counted
// in the transaction that reads it, never cached.
#include <algorithm>
#include <charconv>
#include <nlohmann/json.hpp>

#include "api/http/fault.h"
#include "api/http/query.h"
#include "api/resources/api_env.h"
#include "api/resources/quota.h"
#include "db/quotas_repo.h"

namespace scoria::api {
namespace {

using nlohmann::json;

constexpr int64_t kMaxQuota = 2147483647;  // db.MAX_INT

// A quota value: a JSON integer or a string holding one (cinder utils.validate_integer).
Result<int64_t> ParseQuotaValue(const json& v, const std::string& key) {
  int64_t n = 0;
  if (v.is_number_integer()) {
    if (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(kMaxQuota)) {
      return InvalidArgument("Invalid input received: " + key +
                             " must be <= " + std::to_string(kMaxQuota));
    }
    n = v.get<int64_t>();
  } else if (v.is_string()) {
    std::string s = v.get<std::string>();
    auto b = s.find_first_not_of(' ');
    auto e = s.find_last_not_of(' ');
    s = b == std::string::npos ? "" : s.substr(b, e - b + 1);
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    if (s.empty() || ec != std::errc() || ptr != s.data() + s.size()) {
      return InvalidArgument("Invalid input received: " + key + " must be an integer.");
    }
  } else {
    return InvalidArgument("Invalid input received: " + key + " must be an integer.");
  }
  if (n < -1) return InvalidArgument("Invalid input received: " + key + " must be >= -1");
  if (n > kMaxQuota) {
    return InvalidArgument("Invalid input received: " + key +
                           " must be <= " + std::to_string(kMaxQuota));
  }
  return n;
}

// The {"<set_key>": {resource: value, ...}} body of an update, checked against the resources
// of the moment (per-type names follow the volume types): resource -> new limit.
Result<QuotaSet> ParseQuotaUpdate(const Request& req, const std::string& set_key,
                                  const std::vector<std::string>& known) {
  ASSIGN_OR_RETURN(json body, ParseJsonBody(req));
  if (!body.contains(set_key) || !body[set_key].is_object()) {
    return InvalidArgument("Missing required element '" + set_key + "' in request body.");
  }
  const json& in = body[set_key];
  std::string bad_keys;
  for (auto it = in.begin(); it != in.end(); ++it) {
    if (it.key() == "tenant_id" || it.key() == "id") continue;
    if (std::find(known.begin(), known.end(), it.key()) == known.end()) {
      bad_keys += (bad_keys.empty() ? "" : ",") + it.key();
    }
  }
  if (!bad_keys.empty()) return InvalidArgument("Bad key(s) in quota set: " + bad_keys);
  QuotaSet wanted;
  for (auto it = in.begin(); it != in.end(); ++it) {
    if (it.key() == "tenant_id" || it.key() == "id") continue;
    ASSIGN_OR_RETURN(wanted[it.key()], ParseQuotaValue(*it, it.key()));
  }
  return wanted;
}

// A quota set as JSON, in QuotaResourceNames order; `id` first when given.
json SetJson(const std::vector<std::string>& names, QuotaSet& limits,
             const std::optional<std::string>& id) {
  json set = json::object();
  if (id) set["id"] = *id;
  for (const auto& r : names) set[r] = limits[r];
  return set;
}

class QuotasApi {
 public:
  explicit QuotasApi(const ApiEnv& env) : env_(env) {}

  Response Limits(Request& req, const PathParams&);
  Response Show(Request& req, const PathParams& p);
  Response Defaults(Request& req, const PathParams& p);
  Response Update(Request& req, const PathParams& p);
  Response Delete(Request& req, const PathParams& p);
  Response ClassShow(Request& req, const PathParams& p);
  Response ClassUpdate(Request& req, const PathParams& p);

 private:
  static Response Respond(const Status& st, const std::function<Response()>& ok) {
    return st.ok() ? ok() : FaultResponse(st);
  }
  const ApiEnv env_;  // a copy: it holds references, the caller's may be a temporary
};

Response QuotasApi::Limits(Request& req, const PathParams&) {
  std::string project = req.ctx.project_id;
  if (req.version >= ApiVersion{3, 39} && req.ctx.is_admin) {
    if (auto q = req.Get("project_id"); q && !q->empty()) project = *q;
  }
  json absolute;
  Status st = db::InReadTransaction(env_.db, [&](db::Transaction& tx) {
    ASSIGN_OR_RETURN(auto limits, QuotaLimits(tx, env_.config, project));
    ASSIGN_OR_RETURN(auto used, QuotaUsage(tx, project));
    absolute = {{"maxTotalVolumes", limits["volumes"]},
                {"maxTotalSnapshots", limits["snapshots"]},
                {"maxTotalVolumeGigabytes", limits["gigabytes"]},
                {"maxTotalBackups", limits["backups"]},
                {"maxTotalBackupGigabytes", limits["backup_gigabytes"]},
                {"totalVolumesUsed", used["volumes"]},
                {"totalGigabytesUsed", used["gigabytes"]},
                {"totalSnapshotsUsed", used["snapshots"]},
                {"totalBackupsUsed", used["backups"]},
                {"totalBackupGigabytesUsed", used["backup_gigabytes"]}};
    return Status::Ok();
  });
  return Respond(st, [&] {
    return JsonResponse(200, {{"limits", {{"rate", json::array()}, {"absolute", absolute}}}});
  });
}

Response QuotasApi::Show(Request& req, const PathParams& p) {
  const std::string& project = p.at("project_id");
  bool usage = false;
  if (auto u = req.Get("usage")) {
    auto b = ParseStrictBool(*u);
    if (!b.ok()) return FaultResponse(InvalidArgument("Invalid value for usage: " + *u));
    usage = *b;
  }
  json set = {{"id", project}};
  Status st = db::InReadTransaction(env_.db, [&](db::Transaction& tx) {
    ASSIGN_OR_RETURN(auto names, QuotaResourceNames(tx));
    ASSIGN_OR_RETURN(auto limits, QuotaLimits(tx, env_.config, project));
    ASSIGN_OR_RETURN(auto used, QuotaUsage(tx, project));
    for (const auto& r : names) {
      // reserved is the quota field (always 0: Scoria counts usage, it reserves nothing)
      json detail = {{"limit", limits[r]}, {"in_use", used[r]}, {"reserved", 0}};  // not a status
      set[r] = usage ? std::move(detail) : json(limits[r]);
    }
    return Status::Ok();
  });
  return Respond(st, [&] { return JsonResponse(200, {{"quota_set", set}}); });
}

Response QuotasApi::Defaults(Request&, const PathParams& p) {
  json set;
  Status st = db::InReadTransaction(env_.db, [&](db::Transaction& tx) {
    ASSIGN_OR_RETURN(auto names, QuotaResourceNames(tx));
    ASSIGN_OR_RETURN(auto limits, DefaultQuotaLimits(tx, env_.config));
    set = SetJson(names, limits, p.at("project_id"));
    return Status::Ok();
  });
  return Respond(st, [&] { return JsonResponse(200, {{"quota_set", set}}); });
}

Response QuotasApi::Update(Request& req, const PathParams& p) {
  const std::string& project = p.at("project_id");
  json set;
  Status st = db::InWriteTransaction(env_.db, [&](db::Transaction& tx) {
    ASSIGN_OR_RETURN(auto names, QuotaResourceNames(tx));
    ASSIGN_OR_RETURN(QuotaSet wanted, ParseQuotaUpdate(req, "quota_set", names));
    ASSIGN_OR_RETURN(auto used, QuotaUsage(tx, project));
    for (const auto& [k, v] : wanted) {
      if (k == "per_volume_gigabytes" || v == -1) continue;
      if (v < used[k]) {
        return InvalidArgument("Quota " + k +
                               " limit must be equal or greater than existing "
                               "resources. Current usage is " +
                               std::to_string(used[k]) + " and the requested limit is " +
                               std::to_string(v) + ".");
      }
    }
    for (const auto& [k, v] : wanted) RETURN_IF_ERROR(db::SetProjectQuota(tx, project, k, v));
    ASSIGN_OR_RETURN(auto limits, QuotaLimits(tx, env_.config, project));
    set = SetJson(names, limits, std::nullopt);
    return Status::Ok();
  });
  return Respond(st, [&] { return JsonResponse(200, {{"quota_set", set}}); });
}

Response QuotasApi::Delete(Request&, const PathParams& p) {
  Status st = db::InWriteTransaction(env_.db, [&](db::Transaction& tx) {
    return db::DeleteProjectQuotas(tx, p.at("project_id"));
  });
  return Respond(st, [] { return EmptyResponse(200); });
}

Response QuotasApi::ClassShow(Request&, const PathParams& p) {
  const std::string& name = p.at("class_name");
  json set;
  Status st = db::InReadTransaction(env_.db, [&](db::Transaction& tx) {
    ASSIGN_OR_RETURN(auto names, QuotaResourceNames(tx));
    ASSIGN_OR_RETURN(auto limits, QuotaClassLimits(tx, env_.config, name));
    set = SetJson(names, limits, name);
    return Status::Ok();
  });
  return Respond(st, [&] { return JsonResponse(200, {{"quota_class_set", set}}); });
}

Response QuotasApi::ClassUpdate(Request& req, const PathParams& p) {
  const std::string& name = p.at("class_name");
  if (name.empty() || name.size() > 255) {
    return FaultResponse(
        InvalidArgument("Invalid input received: quota class name must be "
                        "1 to 255 characters."));
  }
  json set;
  Status st = db::InWriteTransaction(env_.db, [&](db::Transaction& tx) {
    ASSIGN_OR_RETURN(auto names, QuotaResourceNames(tx));
    ASSIGN_OR_RETURN(QuotaSet wanted, ParseQuotaUpdate(req, "quota_class_set", names));
    for (const auto& [k, v] : wanted) RETURN_IF_ERROR(db::SetClassQuota(tx, name, k, v));
    ASSIGN_OR_RETURN(auto limits, QuotaClassLimits(tx, env_.config, name));
    set = SetJson(names, limits, std::nullopt);
    return Status::Ok();
  });
  return Respond(st, [&] { return JsonResponse(200, {{"quota_class_set", set}}); });
}

}  // namespace

void RegisterQuotaRoutes(Router& r, const ApiEnv& env) {
  auto api = std::make_shared<QuotasApi>(env);
  auto bind = [api](auto fn) { return BindMethod(api, fn); };
  r.Add("GET", "/limits", bind(&QuotasApi::Limits));
  r.Add("GET", "/os-quota-sets/{project_id}", bind(&QuotasApi::Show));
  r.Add("GET", "/os-quota-sets/{project_id}/defaults", bind(&QuotasApi::Defaults));
  r.Add("PUT", "/os-quota-sets/{project_id}", bind(&QuotasApi::Update));
  r.Add("DELETE", "/os-quota-sets/{project_id}", bind(&QuotasApi::Delete));
  r.Add("GET", "/os-quota-class-sets/{class_name}", bind(&QuotasApi::ClassShow));
  r.Add("PUT", "/os-quota-class-sets/{class_name}", bind(&QuotasApi::ClassUpdate));
}

}  // namespace scoria::api
