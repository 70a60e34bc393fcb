#include "scheduler/scheduler_service.h"

#include <spdlog/spdlog.h>

#include <sstream>

#include "common/clock.h"
#include "db/messages_repo.h"
#include "db/services_repo.h"
#include "db/tasks_repo.h"
#include "db/types_repo.h"
#include "db/volumes_repo.h"
#include "lifecycle/transitions.h"
#include "lifecycle/volume_status.h"

namespace scoria::scheduler {

using lifecycle::After;
using lifecycle::Of;
using lifecycle::VolumeOp;
using nlohmann::json;

namespace {

Capacity CapacityFrom(const json& v) {
  if (v.is_number()) return Capacity::Gb(v.get<double>());
  if (v.is_string()) {
    std::string s = v.get<std::string>();
    if (s == "infinite") return Capacity::Infinite();
    if (s == "unknown") return Capacity::Unknown();
  }
  return Capacity{};
}

std::vector<std::string> SplitList(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, ',')) {
    auto b = item.find_first_not_of(" \t");
    auto e = item.find_last_not_of(" \t");
    if (b != std::string::npos) out.push_back(item.substr(b, e - b + 1));
  }
  return out;
}

}  // namespace

namespace {
SchedulerOptions OptionsFrom(const Config& config) {
  SchedulerOptions o;
  o.filters = config.scheduler_default_filters;
  o.weighers = config.scheduler_default_weighers;
  o.capacity_weight_multiplier = config.capacity_weight_multiplier;
  o.allocated_capacity_weight_multiplier = config.allocated_capacity_weight_multiplier;
  o.volume_number_multiplier = config.volume_number_multiplier;
  o.goodness_weight_multiplier = config.goodness_weight_multiplier;
  o.max_attempts = config.scheduler_max_attempts;
  return o;
}
}  // namespace

Status CheckSchedulerConfig(const Config& config) {
  Status st = ValidateOptions(OptionsFrom(config));
  if (!st.ok()) {
    return InvalidArgument(config.path + ": [DEFAULT] scheduler_default_filters/weighers: " +
                           st.message());
  }
  for (const BackendConfig& b : config.backends) {
    for (auto [key, expr] : {std::pair{"filter_function", &b.filter_function},
                             std::pair{"goodness_function", &b.goodness_function}}) {
      if (expr->empty()) continue;
      Status e = ValidateExpression(*expr);
      if (!e.ok()) {
        return InvalidArgument(config.path + ": [" + b.section + "] " + key +
                               ": expected an expression, got \"" + *expr + "\": " + e.message());
      }
    }
  }
  return Status::Ok();
}

SchedulerService::SchedulerService(db::Database& db, const Config& config)
    : db_(db), config_(config), options_(OptionsFrom(config)) {}

void SchedulerService::RegisterHandlers(tasks::TaskWorker& worker) {
  using tasks::TaskContext;
  // A request that cannot be read fails the way an unplaceable one does.
  tasks::Register<tasks::ScheduleCreateVolume>(
      worker, [this](TaskContext& c, const auto& a) { return HandleCreate(c, a); },
      [](db::Transaction& tx, const db::Task& t, const Status& why) {
        return FinishUnplaced(tx, t.resource_id, why.message());
      });
  tasks::Register<tasks::ScheduleExtendVolume>(
      worker, [this](TaskContext& c, const auto& a) { return HandleExtend(c, a); },
      [](db::Transaction& tx, const db::Task& t, const Status& why) {
        return FinishUnextended(tx, t.resource_id, why.message());
      });
  // A delete of a volume that had not been placed when it was asked for: by now scheduling
  // has finished (tasks of one volume run in order), so route it or drop the row.
  tasks::Register<tasks::DeleteVolume>(worker, [](TaskContext& ctx, const auto& args) {
    const std::string id = ctx.task().resource_id;
    return ctx.Finish([&](db::Transaction& tx) -> Status {
      auto v = db::GetVolumeState(tx, id);
      if (!v.ok()) return v.status().code() == StatusCode::kNotFound ? Status::Ok() : v.status();
      if (!v->host) return db::DeleteVolume(tx, id);
      return tasks::Enqueue(tx, v->host->substr(0, v->host->find('#')), id, args).status();
    });
  });
}

void SchedulerService::NoteDatabaseBack() { heartbeats_missed_until_.store(NowMicros()); }

Result<std::vector<PoolState>> SchedulerService::LoadPools(db::Transaction& tx,
                                                           const Config& config,
                                                           bool only_usable,
                                                           int64_t heartbeats_missed_until) {
  ASSIGN_OR_RETURN(auto services,
                   db::ListServices(tx, std::nullopt, std::string(db::kVolumeBinary)));
  ASSIGN_OR_RETURN(auto usage, db::UsageByHost(tx));
  const int64_t now = NowMicros();
  std::vector<PoolState> pools;
  for (const auto& svc : services) {
    const bool up =
        db::ServiceIsUp(svc, now, config.service_down_time, heartbeats_missed_until);
    // Cinder's host manager reads only services that are neither disabled nor frozen.
    if (only_usable && (!up || svc.disabled || svc.frozen)) continue;
    if (!svc.capabilities) continue;
    json caps = json::parse(*svc.capabilities, nullptr, false);
    if (!caps.is_object()) continue;
    int64_t backend_volumes = 0;
    for (const auto& [host, u] : usage) {
      if (host == svc.host || host.rfind(svc.host + "#", 0) == 0) backend_volumes += u.volumes;
    }
    json backend_caps = caps;
    backend_caps.erase("pools");
    for (const json& p : caps.value("pools", json::array())) {
      PoolState s;
      s.name = svc.host + "#" + p.value("pool_name", "");
      s.backend = svc.host;
      s.availability_zone = svc.availability_zone;
      s.total_capacity_gb = CapacityFrom(p.value("total_capacity_gb", json()));
      s.free_capacity_gb = CapacityFrom(p.value("free_capacity_gb", json()));
      auto it = usage.find(s.name);
      s.allocated_capacity_gb = it == usage.end() ? 0 : static_cast<double>(it->second.gigabytes);
      s.provisioned_capacity_gb = s.allocated_capacity_gb;
      s.reserved_percentage = p.value("reserved_percentage", 0);
      const json& mosr = p.value("max_over_subscription_ratio", json(20.0));
      if (mosr.is_string() && mosr.get<std::string>() == "auto") {
        s.auto_over_subscription = true;
      } else if (mosr.is_number()) {
        s.max_over_subscription_ratio = mosr.get<double>();
      }
      s.thin_provisioning_support = p.value("thin_provisioning_support", false);
      s.thick_provisioning_support = p.value("thick_provisioning_support", true);
      s.online_extend_support = p.value("online_extend_support", true);
      s.total_volumes = backend_volumes;
      if (p.contains("filter_function") && p["filter_function"].is_string()) {
        s.filter_function = p["filter_function"].get<std::string>();
      }
      if (p.contains("goodness_function") && p["goodness_function"].is_string()) {
        s.goodness_function = p["goodness_function"].get<std::string>();
      }
      json merged = backend_caps;
      merged.update(p);
      merged["allocated_capacity_gb"] = s.allocated_capacity_gb;
      merged["provisioned_capacity_gb"] = s.allocated_capacity_gb;
      merged["total_volumes"] = s.total_volumes;
      s.capabilities = std::move(merged);
      pools.push_back(std::move(s));
    }
  }
  return pools;
}

Status SchedulerService::LoadRequest(const std::string& id, db::VolumeRecord* vol,
                                     RequestSpec* req, std::vector<PoolState>* pools,
                                     bool* gone) {
  return db::InReadTransaction(db_, [&](db::Transaction& tx) {
    auto v = db::GetVolumeState(tx, id);
    if (!v.ok()) {
      *gone = v.status().code() == StatusCode::kNotFound;
      return *gone ? Status::Ok() : v.status();
    }
    *vol = std::move(*v);
    ASSIGN_OR_RETURN(auto type, db::GetType(tx, vol->volume_type_id));
    req->extra_specs = type.extra_specs;
    ASSIGN_OR_RETURN(*pools, LoadPools(tx, config_, /*only_usable=*/true,
                                       heartbeats_missed_until_.load()));
    return Status::Ok();
  });
}

Status SchedulerService::HandleCreate(tasks::TaskContext& ctx,
                                      const tasks::ScheduleCreateVolume& args) {
  const std::string& id = ctx.task().resource_id;

  db::VolumeRecord vol;
  RequestSpec req;
  std::vector<PoolState> pools;
  bool gone = false;
  RETURN_IF_ERROR(LoadRequest(id, &vol, &req, &pools, &gone));
  if (gone || vol.status != Of(VolumeOp::kCreate).during) {
    return ctx.Finish([](db::Transaction&) { return Status::Ok(); });
  }
  req.operation = RequestSpec::Operation::kCreate;
  req.size_gb = vol.size;
  if (auto it = req.extra_specs.find("RESKEY:availability_zones"); it != req.extra_specs.end()) {
    req.availability_zones = SplitList(it->second);
  }
  if (args.availability_zone) req.availability_zone = *args.availability_zone;
  if (args.resource_backend) req.resource_backend = *args.resource_backend;
  req.attempted_pools = args.attempted_pools;
  req.num_attempts = static_cast<int>(vol.scheduling_attempts) + 1;
  req.volume = {{"size", vol.size},
                {"id", vol.id},
                {"availability_zone", vol.availability_zone},
                {"volume_type_id", vol.volume_type_id},
                {"name", vol.name.value_or("")}};

  auto decision = Schedule(req, pools, options_);
  return ctx.Finish([&](db::Transaction& tx) {
    auto cur = db::GetVolumeState(tx, id);
    if (!cur.ok() || cur->status != Of(VolumeOp::kCreate).during) return Status::Ok();
    cur->scheduling_attempts = req.num_attempts;
    if (!decision.ok()) {
      spdlog::warn("scheduler: volume {}: {}", id, decision.status().message());
      RETURN_IF_ERROR(db::UpdateVolume(tx, *cur));
      std::string why = decision.status().message();
      if (args.last_error) why += " Last backend error: " + *args.last_error;
      return FinishUnplaced(tx, id, why);
    }
    cur->host = decision->pool;
    for (const PoolState& p : pools) {
      if (p.name == decision->pool) cur->availability_zone = p.availability_zone;
    }
    RETURN_IF_ERROR(db::UpdateVolume(tx, *cur));
    return tasks::Enqueue(tx, decision->backend, id,
                          tasks::CreateVolume{.attempted_pools = args.attempted_pools})
        .status();
  });
}

Status SchedulerService::FinishUnplaced(db::Transaction& tx, const std::string& id,
                                        const std::string& why) {
  auto cur = db::GetVolumeState(tx, id);
  if (!cur.ok() || cur->status != Of(VolumeOp::kCreate).during) return Status::Ok();
  cur->status = After(VolumeOp::kCreate, false, cur->status);
  RETURN_IF_ERROR(db::UpdateVolume(tx, *cur));
  return db::RecordVolumeMessage(tx, cur->project_id, id,
                                 db::message_action::kScheduleAllocateVolume,
                                 db::message_detail::kNoBackendAvailable,
                                 "schedule allocate volume: " + why);
}

Status SchedulerService::FinishUnextended(db::Transaction& tx, const std::string& id,
                                          const std::string& why) {
  auto cur = db::GetVolumeState(tx, id);
  if (!cur.ok() || cur->status != Of(VolumeOp::kExtend).during) return Status::Ok();
  // No backend ran the extend: the volume goes back to what it was, as Cinder's scheduler does,
  // not to the extend's failure status (error_extending is for a driver that failed).
  cur->status = cur->previous_status.value_or(volume_status::kAvailable);
  cur->previous_status.reset();
  RETURN_IF_ERROR(db::UpdateVolume(tx, *cur));
  return db::RecordVolumeMessage(tx, cur->project_id, id, db::message_action::kExtendVolume,
                                 db::message_detail::kNotEnoughSpace, "extend volume: " + why);
}

Status SchedulerService::HandleExtend(tasks::TaskContext& ctx,
                                      const tasks::ScheduleExtendVolume& args) {
  const std::string& id = ctx.task().resource_id;
  const int64_t new_size = args.new_size;
  db::VolumeRecord vol;
  RequestSpec req;
  std::vector<PoolState> pools;
  bool gone = false;
  RETURN_IF_ERROR(LoadRequest(id, &vol, &req, &pools, &gone));
  if (gone || vol.status != Of(VolumeOp::kExtend).during || !vol.host) {
    return ctx.Finish([](db::Transaction&) { return Status::Ok(); });
  }
  req.operation = RequestSpec::Operation::kExtend;
  req.size_gb = new_size - vol.size;
  req.volume_attached = vol.attach_status == volume_attach_status::kAttached;
  req.resource_backend = *vol.host;
  req.volume = {{"size", vol.size}, {"id", vol.id}};
  // Only capacity and capabilities matter for an extend; the AZ is already fixed.
  SchedulerOptions opts = options_;
  opts.filters = {"CapacityFilter", "CapabilitiesFilter"};
  opts.max_attempts = 1;
  auto decision = Schedule(req, pools, opts);
  std::string backend = vol.host->substr(0, vol.host->find('#'));
  return ctx.Finish([&](db::Transaction& tx) {
    auto cur = db::GetVolumeState(tx, id);
    if (!decision.ok()) return FinishUnextended(tx, id, decision.status().message());
    return tasks::Enqueue(tx, backend, id, tasks::ExtendVolume{.new_size = new_size}).status();
  });
}

}  // namespace scoria::scheduler
