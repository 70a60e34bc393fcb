// One Schedule() decision over N pools: the default filters (AvailabilityZoneFilter,
// CapacityFilter, CapabilitiesFilter) plus all four weighers, a volume type with a few extra
// specs, and every pool reporting a goodness_function (parsed once per decision, evaluated per
// pool). Pools vary in capacity, thin/thick support, AZ and protocol so that filters eliminate
// some of them.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "scheduler/scheduler.h"

namespace {

using namespace scoria::scheduler;

std::vector<PoolState> MakePools(int n) {
  std::vector<PoolState> pools;
  pools.reserve(n);
  for (int i = 0; i < n; ++i) {
    PoolState p;
    const std::string backend = "host" + std::to_string(i / 4) + "@backend" + std::to_string(i % 3);
    p.backend = backend;
    p.name = backend + "#pool" + std::to_string(i);
    p.availability_zone = (i % 10 == 0) ? "az2" : "nova";
    const double total = 1000 + (i * 37) % 9000;
    p.total_capacity_gb = Capacity::Gb(total);
    p.free_capacity_gb = Capacity::Gb(total * ((i * 13) % 100) / 100.0);
    p.allocated_capacity_gb = total - p.free_capacity_gb.gb;
    p.thin_provisioning_support = (i % 2 == 0);
    p.auto_over_subscription = (i % 6 == 0);
    p.reserved_percentage = (i % 5) * 2;
    p.total_volumes = (i * 7) % 500;
    p.goodness_function = "stats.free_capacity_gb / stats.total_capacity_gb * 100";
    p.capabilities = {{"volume_backend_name", (i % 7 == 0) ? "Ceph" : "LVM"},
                      {"storage_protocol", (i % 3 == 0) ? "FC" : "iSCSI"},
                      {"vendor_name", "Open Source"},
                      {"multiattach", true},
                      {"QoS_support", false},
                      {"pool_name", "pool" + std::to_string(i)}};
    pools.push_back(std::move(p));
  }
  return pools;
}

void BM_ScheduleOne(benchmark::State& state) {
  const std::vector<PoolState> pools = MakePools(static_cast<int>(state.range(0)));
  RequestSpec req;
  req.size_gb = 50;
  req.volume = {{"id", "vol-1"}, {"size", 50}};
  req.extra_specs = {{"volume_backend_name", "LVM"},
                     {"storage_protocol", "iscsi"},
                     {"multiattach", "<is> True"},
                     {"provisioning:type", "thin"}};
  SchedulerOptions opts;
  opts.weighers = {"CapacityWeigher", "AllocatedCapacityWeigher", "VolumeNumberWeigher",
                   "GoodnessWeigher"};
  size_t candidates = 0;
  for (auto _ : state) {
    auto d = Schedule(req, pools, opts);
    if (!d.ok()) state.SkipWithError(d.status().ToString().c_str());
    candidates = d.ok() ? d->ranking.size() : 0;
    benchmark::DoNotOptimize(d);
  }
  state.counters["candidates"] = static_cast<double>(candidates);
  state.counters["pools/s"] =
      benchmark::Counter(static_cast<double>(state.range(0)), benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_ScheduleOne)->Arg(1000)->Arg(10000)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
