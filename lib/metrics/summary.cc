#include "lib/metrics/summary.h"

#include <algorithm>
#include <cstdint>

#include "lib/metrics/histogram.h"
#include "lib/metrics/recorder.h"

namespace cabench {
namespace {

constexpr double kNsPerUs = 1000.0;
constexpr double kNsPerMs = 1'000'000.0;

double Ratio(double num, double den) { return den > 0 ? num / den : 0.0; }

std::optional<IntervalUs> IntervalOf(const Histogram& h, double p) {
  const std::optional<std::pair<double, double>> ns = h.PercentileInterval(p);
  if (!ns.has_value()) return std::nullopt;
  return IntervalUs{ns->first / kNsPerUs, ns->second / kNsPerUs};
}

ClassSummary SummarizeClass(const Histogram& h) {
  ClassSummary s;
  s.count = h.Count();
  s.avg_us = h.Mean() / kNsPerUs;
  s.p50_us = h.Percentile(50) / kNsPerUs;
  s.p90_us = h.Percentile(90) / kNsPerUs;
  s.p95_us = h.Percentile(95) / kNsPerUs;
  s.p99_us = h.Percentile(99) / kNsPerUs;
  s.p999_us = h.Percentile(99.9) / kNsPerUs;
  s.max_us = static_cast<double>(h.Max()) / kNsPerUs;
  s.p50_ci = IntervalOf(h, 50);
  s.p99_ci = IntervalOf(h, 99);
  s.p999_ci = IntervalOf(h, 99.9);
  return s;
}

}  // namespace

Summary Summarize(const LatencyRecorder& recorder) {
  Summary s;
  s.ops = recorder.ops();
  s.reads = recorder.reads();
  s.writes = recorder.writes();
  s.cache_hits = recorder.cache_hits();
  s.cache_misses = recorder.cache_misses();
  s.db_reads = recorder.class_count(OpClass::kDbRead);
  s.fallback_reads = recorder.class_count(OpClass::kFallback);
  s.errors = recorder.errors();
  for (int e = 0; e < 3; ++e) {
    s.errors_by_source[e] = recorder.errors_by_source(static_cast<ErrorSource>(e));
  }
  for (int c = 0; c < kNumOpClasses; ++c) {
    const auto cls = static_cast<OpClass>(c);
    s.by_class[c] = SummarizeClass(recorder.class_histogram(cls));
    const Histogram& intended = recorder.intended_histogram(cls);
    s.by_class[c].intended_avg_us = intended.Mean() / kNsPerUs;
    s.by_class[c].intended_p50_us = intended.Percentile(50) / kNsPerUs;
    s.by_class[c].intended_p99_us = intended.Percentile(99) / kNsPerUs;
    s.by_class[c].intended_p999_us = intended.Percentile(99.9) / kNsPerUs;
  }
  for (int st = 0; st < kNumSteps; ++st) {
    const Histogram& h = recorder.step_histogram(static_cast<Step>(st));
    s.by_step[st].count = h.Count();
    s.by_step[st].avg_us = h.Mean() / kNsPerUs;
    s.by_step[st].p99_us = h.Percentile(99) / kNsPerUs;
  }

  s.has_hit_rate = s.cache_hits + s.cache_misses > 0;
  s.hit_rate_pct = Ratio(100.0 * static_cast<double>(s.cache_hits),
                         static_cast<double>(s.cache_hits + s.cache_misses));
  s.hit_avg_us = s.of(OpClass::kCacheHit).avg_us;
  // From the merged histogram (exact sums), not by averaging the class means,
  // so a few slow writes weigh as much as they cost.
  Histogram db;
  for (int c = 0; c < kNumOpClasses; ++c) {
    if (IsDbClass(static_cast<OpClass>(c)))
      db.Merge(recorder.class_histogram(static_cast<OpClass>(c)));
  }
  s.db_avg_us = db.Mean() / kNsPerUs;
  s.db_p99_us = db.Percentile(99) / kNsPerUs;
  s.db_count = db.Count();
  // With no hits (or nothing on the other side) there is nothing to compare;
  // 0 keeps the field finite, and the report leaves such counters out.
  s.speedup = s.db_avg_us > 0 ? Ratio(s.db_avg_us, s.hit_avg_us) : 0.0;
  const double miss_avg = s.of(OpClass::kCacheMiss).avg_us;
  s.miss_vs_hit = miss_avg > 0 ? Ratio(miss_avg, s.hit_avg_us) : 0.0;

  const Histogram overall = recorder.Overall();
  s.p50_us = overall.Percentile(50) / kNsPerUs;
  s.p95_us = overall.Percentile(95) / kNsPerUs;
  s.p99_us = overall.Percentile(99) / kNsPerUs;
  s.p999_us = overall.Percentile(99.9) / kNsPerUs;
  s.latency_count = overall.Count();
  s.p50_ci = IntervalOf(overall, 50);
  s.p99_ci = IntervalOf(overall, 99);
  s.p999_ci = IntervalOf(overall, 99.9);
  s.error_max_us = s.of(OpClass::kError).max_us;
  for (const ClassSummary& c : s.by_class) s.max_us = std::max(s.max_us, c.max_us);

  if (s.ops > 0 && recorder.last_end_ns() > recorder.first_start_ns()) {
    // Subtract in (exact) integers: epoch nanoseconds as doubles lose ~100 ns.
    s.wall_s = static_cast<double>(static_cast<uint64_t>(recorder.last_end_ns()) -
                                   static_cast<uint64_t>(recorder.first_start_ns())) /
               1e9;
    s.ops_per_s = static_cast<double>(s.ops) / s.wall_s;
  }
  s.ops_outside_time_series = recorder.ops_outside_time_series();

  int64_t classified = 0;
  for (int c = 0; c < kNumMissCauses; ++c) {
    s.miss_causes[c] = recorder.miss_cause_count(static_cast<MissCause>(c + 1));
    classified += s.miss_causes[c];
  }
  s.miss_causes_known = s.cache_misses > 0 && classified == s.cache_misses;

  s.has_intended = recorder.has_intended();
  if (s.has_intended) {
    const Histogram intended = recorder.IntendedOverall();
    s.intended_p50_us = intended.Percentile(50) / kNsPerUs;
    s.intended_p99_us = intended.Percentile(99) / kNsPerUs;
    s.intended_p999_us = intended.Percentile(99.9) / kNsPerUs;
    s.late_ops = recorder.late_ops();
    s.start_lag_avg_us = recorder.start_lag().Mean() / kNsPerUs;
    s.start_lag_p99_us = recorder.start_lag().Percentile(99) / kNsPerUs;
  }

  s.stale_reads = recorder.stale_reads();
  s.stale_reads_uncertain = recorder.stale_reads_uncertain();
  s.dup_fills = recorder.dup_fills();
  s.early_refreshes = recorder.early_refreshes();
  s.fill_waits = recorder.fill_waits();
  s.fill_wait_timeouts = recorder.fill_wait_timeouts();
  s.read_selects = recorder.read_selects();
  s.db_reads_in_flight_max = recorder.db_reads_in_flight_max();
  s.has_stale_read_pct = s.cache_hits > 0;
  s.stale_read_pct =
      Ratio(100.0 * static_cast<double>(s.stale_reads), static_cast<double>(s.cache_hits));
  s.stale_read_max_pct = Ratio(100.0 * static_cast<double>(s.stale_reads + s.stale_reads_uncertain),
                               static_cast<double>(s.cache_hits));
  s.has_db_reads_per_miss = s.cache_misses > 0;
  s.db_reads_per_miss =
      Ratio(static_cast<double>(s.read_selects), static_cast<double>(s.cache_misses));
  const Histogram& stale_age = recorder.stale_age();
  s.has_stale_age = stale_age.Count() > 0;
  s.stale_age_p50_ms = stale_age.Percentile(50) / kNsPerMs;
  s.stale_age_p99_ms = stale_age.Percentile(99) / kNsPerMs;
  return s;
}

}  // namespace cabench
