// File: lib/metrics/summary.h
//
// Summary is the plain-number digest of a (merged) LatencyRecorder that the
// benchmark turns into Google Benchmark counters (DESIGN.md section 4):
// counts, hit rate, cache-hit and database averages and their ratio, overall
// and per-class percentiles, per-step averages, and the run's duration. All
// latencies are in microseconds. Every field is a finite number: a ratio or
// average with nothing to divide is 0, never NaN or infinity.
//
// Summarize() is a pure function of the recorder; the struct is a plain value.
// Thread safety: Summarize() only reads the recorder, so it may run
// concurrently with other readers, but not with Record() or Merge().
#ifndef CABENCH_LIB_METRICS_SUMMARY_H_
#define CABENCH_LIB_METRICS_SUMMARY_H_

#include <array>
#include <cstdint>
#include <string_view>

#include "lib/metrics/histogram.h"
#include "lib/metrics/op_types.h"
#include "lib/metrics/recorder.h"

namespace cabench {

// Latency digest of one OpClass (total operation latency).
struct ClassSummary {
  int64_t count = 0;
  double avg_us = 0;
  double p50_us = 0;
  double p90_us = 0;
  double p95_us = 0;
  double p99_us = 0;
  double p999_us = 0;
  double max_us = 0;
};

// Latency digest of one Step (one server round trip).
struct StepSummary {
  int64_t count = 0;
  double avg_us = 0;
  double p99_us = 0;
};

struct Summary {
  // Every operation, errors included; reads + writes == ops.
  int64_t ops = 0;
  int64_t reads = 0;   // reads attempted (OpKind::kRead), errors included
  int64_t writes = 0;  // writes attempted (OpKind::kWrite), errors included
  int64_t cache_hits = 0;
  int64_t cache_misses = 0;
  int64_t errors = 0;
  // errors_by_source[ErrorSource]; [kNone] counts errors with no source set.
  std::array<int64_t, 3> errors_by_source{};

  // cache_hits / (cache_hits + cache_misses) * 100; 0 when there were none.
  double hit_rate_pct = 0;
  // Mean latency of cache hits.
  double cache_hit_avg_us = 0;
  // Mean latency of the operations that reached the database: cache misses
  // and writes together (DESIGN.md section 4).
  double db_avg_us = 0;
  // db_avg_us / cache_hit_avg_us; 0 when either side has no operations.
  double speedup = 0;

  // Overall percentiles: hits, misses and writes (errors excluded).
  double p50_us = 0;
  double p95_us = 0;
  double p99_us = 0;
  double p999_us = 0;

  // Indexed by OpClass and by Step.
  std::array<ClassSummary, kNumOpClasses> by_class{};
  std::array<StepSummary, kNumSteps> by_step{};

  // Wall time from the first operation's start to the last operation's end,
  // in seconds (0 when empty); ops / duration_s is the throughput.
  double duration_s = 0;
  // Operations left out of the per-second series (see LatencyRecorder).
  int64_t ops_outside_time_series = 0;

  const ClassSummary& of(OpClass c) const {
    return by_class[static_cast<int>(c)];
  }
  const StepSummary& of(Step s) const { return by_step[static_cast<int>(s)]; }
};

// Computes the Summary of everything `recorder` holds. Never fails; an empty
// recorder gives an all-zero Summary. Safe to call concurrently with other
// readers of `recorder`.
Summary Summarize(const LatencyRecorder& recorder);

// Short names for counter and JSON keys: "hit", "miss", "write", "error" and
// "cache_get", "db_select", "cache_set", "db_insert", "cache_del" ("?" for an
// out-of-range value). Thread-safe.
std::string_view OpClassName(OpClass c);
std::string_view StepName(Step s);

}  // namespace cabench

#endif  // CABENCH_LIB_METRICS_SUMMARY_H_
