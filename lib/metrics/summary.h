// File: lib/metrics/summary.h
//
// Summary is the plain-number digest of a (merged) LatencyRecorder: counts,
// hit rate, throughput over the run's wall time, cache-hit and database
// averages and their ratios, overall and per-class percentiles, per-step
// averages, and the stampede and staleness figures (operation events, SELECTs
// in flight, stale-read ages). RunCounters() (lib/engine/run.h) turns it
// into the named counters of lib/metrics/names.def. All latencies are in microseconds.
// Every field is a finite number: a ratio or average with nothing to divide is 0, never NaN or
// infinity; the has_* flags say whether it means anything.
//
// Summarize() is a pure function of the recorder; the struct is a plain value.
// Thread safety: Summarize() only reads the recorder, so it may run
// concurrently with other readers, but not with Record() or Merge().
#ifndef CABENCH_LIB_METRICS_SUMMARY_H_
#define CABENCH_LIB_METRICS_SUMMARY_H_

#include <array>
#include <cstdint>
#include <optional>

#include "lib/metrics/histogram.h"
#include "lib/metrics/op_types.h"
#include "lib/metrics/recorder.h"

namespace cabench {

// Latency digest of one OpClass (total operation latency).
// The 95% interval of a percentile, in microseconds (order statistics of the
// samples: lib/metrics/order_stats.h).
struct IntervalUs {
  double lo = 0;
  double hi = 0;
};

struct ClassSummary {
  int64_t count = 0;
  double avg_us = 0;
  double p50_us = 0;
  double p90_us = 0;
  double p95_us = 0;
  double p99_us = 0;
  double p999_us = 0;
  double max_us = 0;
  // The 95% intervals of p50, p99 and p999; absent when count is too small to
  // bound the percentile (and then no number is reported for it either).
  std::optional<IntervalUs> p50_ci;
  std::optional<IntervalUs> p99_ci;
  std::optional<IntervalUs> p999_ci;
  // Open loop: the response time from the intended start (0 without).
  double intended_avg_us = 0;
  double intended_p50_us = 0;
  double intended_p99_us = 0;
  double intended_p999_us = 0;
};

// Latency digest of one Step (one server round trip).
struct StepSummary {
  int64_t count = 0;
  double avg_us = 0;
  double p99_us = 0;
};

struct Summary {
  // Every operation, errors included: ops == reads + writes + errors.
  int64_t ops = 0;
  int64_t reads = 0;   // reads that succeeded (hits, misses, db reads, fallback)
  int64_t writes = 0;  // writes that succeeded
  int64_t cache_hits = 0;
  int64_t cache_misses = 0;
  int64_t db_reads = 0;        // reads of a run without a cache
  int64_t fallback_reads = 0;  // reads the database served after a failed GET
  int64_t errors = 0;
  // errors_by_source[ErrorSource]; [kNone] counts errors with no source set.
  std::array<int64_t, 3> errors_by_source{};

  // cache_hits + cache_misses > 0: there is a hit rate to report.
  bool has_hit_rate = false;
  // cache_hits / (cache_hits + cache_misses) * 100.
  double hit_rate_pct = 0;
  // Mean latency of cache hits (ClassSummary of kCacheHit, repeated).
  double hit_avg_us = 0;
  // Mean latency of the operations that reached the database: misses, db
  // reads, fallback reads and writes together; and their p99.
  double db_avg_us = 0;
  double db_p99_us = 0;
  int64_t db_count = 0;  // their number (the samples of db_p99_us)
  // db_avg_us / hit_avg_us and miss avg / hit avg; 0 without hits or without
  // the other side.
  double speedup = 0;
  double miss_vs_hit = 0;

  // Overall percentiles: every operation that succeeded (latency_count of
  // them), with the 95% intervals of p50, p99 and p999 (absent as in
  // ClassSummary).
  int64_t latency_count = 0;
  double p50_us = 0;
  double p95_us = 0;
  double p99_us = 0;
  double p999_us = 0;
  std::optional<IntervalUs> p50_ci;
  std::optional<IntervalUs> p99_ci;
  std::optional<IntervalUs> p999_ci;
  // The slowest operation, failed ones included, and the slowest failure.
  double max_us = 0;
  double error_max_us = 0;

  // Indexed by OpClass and by Step.
  std::array<ClassSummary, kNumOpClasses> by_class{};
  std::array<StepSummary, kNumSteps> by_step{};

  // Wall time from the first operation's start to the last operation's end
  // over every thread, in seconds (0 when empty), and ops / wall_s.
  double wall_s = 0;
  double ops_per_s = 0;
  // Operations left out of the per-second series (see LatencyRecorder).
  int64_t ops_outside_time_series = 0;

  // Misses by cause (MissCause - 1); every miss classified when
  // miss_causes_known.
  std::array<int64_t, kNumMissCauses> miss_causes{};
  bool miss_causes_known = false;

  // Open loop (has_intended): the response time from each operation's
  // intended start, every operation that succeeded; operations sent more
  // than LatencyRecorder::kLateNs late; the lag from intended start to send.
  bool has_intended = false;
  double intended_p50_us = 0;
  double intended_p99_us = 0;
  double intended_p999_us = 0;
  int64_t late_ops = 0;
  double start_lag_avg_us = 0;
  double start_lag_p99_us = 0;

  // Operation events (OpEvent), counted whatever the operation's class: see
  // the LatencyRecorder accessors of the same names. All 0 when the pattern
  // reported none.
  int64_t stale_reads = 0;            // certainly stale hits
  int64_t stale_reads_uncertain = 0;  // hits that may be stale
  int64_t dup_fills = 0;
  int64_t early_refreshes = 0;
  int64_t fill_waits = 0;
  int64_t fill_wait_timeouts = 0;
  int64_t read_selects = 0;  // reads that sent a SELECT (kEventReadSelect)
  // The most SELECTs in flight at once over all threads (0: none reported).
  int64_t db_reads_in_flight_max = 0;
  // cache_hits > 0: stale_read_pct = stale_reads / cache_hits x 100 (a
  // lower bound of the stale share of hits) and stale_read_max_pct =
  // (stale_reads + stale_reads_uncertain) / cache_hits x 100 (an upper
  // bound).
  bool has_stale_read_pct = false;
  double stale_read_pct = 0;
  double stale_read_max_pct = 0;
  // cache_misses > 0: db_reads_per_miss = read_selects / cache_misses (1 when
  // every miss filled its key once and nothing else read the database; above
  // 1 with early refreshes, below with single-flight waits).
  bool has_db_reads_per_miss = false;
  double db_reads_per_miss = 0;
  // stale_reads > 0: the median and 99th percentile age of the stale reads
  // (from the first newer commit to the read), in milliseconds.
  bool has_stale_age = false;
  double stale_age_p50_ms = 0;
  double stale_age_p99_ms = 0;

  const ClassSummary& of(OpClass c) const { return by_class[static_cast<int>(c)]; }
  const StepSummary& of(Step s) const { return by_step[static_cast<int>(s)]; }
};

// Computes the Summary of everything `recorder` holds. Never fails; an empty
// recorder gives an all-zero Summary. Safe to call concurrently with other
// readers of `recorder`.
Summary Summarize(const LatencyRecorder& recorder);

}  // namespace cabench

#endif  // CABENCH_LIB_METRICS_SUMMARY_H_
