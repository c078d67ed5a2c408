// File: lib/workload/scenario_params.h
//
// A benchmark's parameters as data, so that tools never parse them back out
// of its name: the scenario, the thread count and every setting that tells
// two runs apart (read_pct, ttl_ms, access, rate, the cache's bound, ...),
// as one flat JSON object. cabench records them for every benchmark it
// plans in benchmarks.json of the run's output folder (beside its series;
// the JSON context's out_dir names the folder).
//
// Thread safety: pure functions; safe to call concurrently.
#ifndef CABENCH_LIB_WORKLOAD_SCENARIO_PARAMS_H_
#define CABENCH_LIB_WORKLOAD_SCENARIO_PARAMS_H_

#include <string>

#include "lib/workload/scenario.h"

namespace cabench {

// {"scenario": "concurrency", "threads": 4, "queries_per_thread": 10000,
//  "read_pct": 80, "ttl_ms": 300000, "access": "pool", "cache": true,
//  "write_policy": "refresh", ...}: the fields above always; rate_per_s and
// arrival for an open-loop run; cache_max_memory, cache_keys_pct and
// eviction_policy when set; zipf_s for access zipf; "twin": true for a
// no-cache twin (the scenario is then its cache run's, without @no_cache).
std::string ScenarioParamsJson(const Scenario& scenario, int threads);

}  // namespace cabench

#endif  // CABENCH_LIB_WORKLOAD_SCENARIO_PARAMS_H_
