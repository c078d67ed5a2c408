// File: lib/engine/plan.h
//
// The plan of a cabench invocation: which benchmarks exist for a set of
// scenarios, what each is called, and which of them a --benchmark_filter
// selects, decided before any server is contacted.
//
//   PlanBenchmarks   every point of every sweep (SweepPoints) at every
//                    thread count, each scenario with `baseline: no_cache`
//                    preceded by its no-cache twin;
//   BenchmarkName    CacheAside/<scenario>/read_pct:R/ttl_ms:T/access:A
//                    [/maxmemory:M][/cache_keys_pct:K][/rate:R]
//                    /iterations:Q/real_time/threads:N, the name Google
//                    Benchmark reports (its registration name is the part
//                    before /iterations, BenchmarkBaseName);
//   SelectBenchmarks what Google Benchmark's --benchmark_filter selects, by
//                    the library's own documented rule (a POSIX extended
//                    regular expression searched in the name; "" and "all"
//                    select every benchmark; a leading '-' negates), plus
//                    the twin of every selected scenario: a cache run is
//                    measured against it;
//   ExactFilter      a filter that selects exactly a given subset.
//
// Thread safety: pure functions; safe to call concurrently.
#ifndef CABENCH_LIB_ENGINE_PLAN_H_
#define CABENCH_LIB_ENGINE_PLAN_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "lib/workload/scenario.h"

namespace cabench {

// One benchmark to register: a scenario (a sweep's point) at a thread count,
// and the index of its no-cache twin in the same plan (-1: none).
struct PlannedBenchmark {
  Scenario scenario;
  int threads = 1;
  int twin = -1;
  std::string name;  // BenchmarkName(scenario, threads)
};

std::string BenchmarkBaseName(const Scenario& scenario);
std::string BenchmarkName(const Scenario& scenario, int threads);

// The stem of a benchmark's series and histograms files: '/' becomes '_',
// ':' becomes '-'.
std::string BenchmarkFileStem(const std::string& name);

// The no-cache twin of `scenario` (baseline: no_cache): the same workload,
// seed and threads with the cache off, named "<scenario>@no_cache"; warm-up,
// fallback and stampede mitigations, which need a cache, are off.
Scenario NoCacheTwin(const Scenario& scenario);

// The plan of `scenarios`, in order (see above).
std::vector<PlannedBenchmark> PlanBenchmarks(const std::vector<Scenario>& scenarios);

// Which entries of `plan` `filter` selects, each selected scenario's twin
// included. InvalidArgument (naming --benchmark_filter) when the filter is
// not a valid regular expression or selects nothing.
absl::StatusOr<std::vector<bool>> SelectBenchmarks(const std::vector<PlannedBenchmark>& plan,
                                                   const std::string& filter);

// "^(<name>|<name>...)$" with the names of the selected entries escaped.
std::string ExactFilter(const std::vector<PlannedBenchmark>& plan,
                        const std::vector<bool>& selected);

// True when a selected entry bounds the cache's memory (Scenario::
// BoundsTheCache), which cabench does only on a cache it may reconfigure.
bool BoundsTheCache(const std::vector<PlannedBenchmark>& plan, const std::vector<bool>& selected);

// Deselects the entries that size the cache by its keys (cache_keys_pct),
// for a cache that is a cluster, and returns one line saying which scenarios
// and why ("" when none was selected). On a cluster each primary holds a
// share of a small cache's room, less than its own memory besides the keys
// moves by (buffers, the cluster bus), and its writes fail with OOM.
std::string LeaveOutKeySizedCaches(const std::vector<PlannedBenchmark>& plan,
                                   std::vector<bool>* selected);

// Deselects the entries that bound the cache, because `why_not` (a check
// that the cache may not be reconfigured) failed, and returns one line
// saying which scenarios and why ("zipf_lru, hotspot set the cache's
// maxmemory/maxmemory-policy, which cabench changes only on a cache
// tools/servers started, or with --allow_cache_config: <why_not>").
std::string LeaveOutCacheBounding(const std::vector<PlannedBenchmark>& plan,
                                  const absl::Status& why_not, std::vector<bool>* selected);

}  // namespace cabench

#endif  // CABENCH_LIB_ENGINE_PLAN_H_
