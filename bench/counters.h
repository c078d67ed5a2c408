// File: bench/counters.h
//
// Turns a metrics Summary into Google Benchmark counters (DESIGN.md §4). The
// library SUMS each counter over a run's threads, so the split is:
//   SetThreadCounters   additive counts of one thread's own operations, set by
//                       every thread: reads writes cache_hits cache_misses
//                       errors errors_cache errors_db, and ops_per_s (a rate:
//                       the library divides the sum by the run's real time).
//   SetRunCounters      ratios, averages and percentiles of the merged run,
//                       set by thread 0 only (the other threads leave them
//                       unset, so the sum is thread 0's value). Besides
//                       the percentiles: max_us (the slowest operation,
//                       failed ones included) and error_max_us (the slowest
//                       failed one).
// Latencies are in microseconds. Not thread-safe: each thread passes its own
// State.
#ifndef CABENCH_BENCH_COUNTERS_H_
#define CABENCH_BENCH_COUNTERS_H_

#include "benchmark/benchmark.h"
#include "lib/metrics/recorder.h"
#include "lib/metrics/summary.h"

namespace cabench {

void SetThreadCounters(const LatencyRecorder& thread_recorder, benchmark::State& state);

// `run` is the merged recorder `summary` was computed from.
void SetRunCounters(const LatencyRecorder& run, const Summary& summary,
                    double predicted_hit_rate_pct, benchmark::State& state);

}  // namespace cabench

#endif  // CABENCH_BENCH_COUNTERS_H_
