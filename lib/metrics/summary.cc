#include "lib/metrics/summary.h"

#include <cstdint>
#include <string_view>

#include "lib/metrics/histogram.h"
#include "lib/metrics/recorder.h"

namespace cabench {
namespace {

constexpr double kNsPerUs = 1000.0;

double Ratio(double num, double den) { return den > 0 ? num / den : 0.0; }

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
  s.errors = recorder.errors();
  for (int e = 0; e < 3; ++e) {
    s.errors_by_source[e] =
        recorder.errors_by_source(static_cast<ErrorSource>(e));
  }

  const Histogram& hits = recorder.class_histogram(OpClass::kCacheHit);
  const Histogram& misses = recorder.class_histogram(OpClass::kCacheMiss);
  const Histogram& writes = recorder.class_histogram(OpClass::kWrite);
  s.hit_rate_pct = Ratio(100.0 * static_cast<double>(s.cache_hits),
                         static_cast<double>(s.cache_hits + s.cache_misses));
  s.cache_hit_avg_us = hits.Mean() / kNsPerUs;
  // From the exact sums, not by averaging the two class means, so a few slow
  // writes weigh as much as they cost.
  s.db_avg_us = Ratio(static_cast<double>(misses.Sum()) +
                          static_cast<double>(writes.Sum()),
                      static_cast<double>(misses.Count() + writes.Count())) /
                kNsPerUs;
  // With no hits (or no database operations) there is nothing to compare;
  // 0 keeps the counter finite rather than inventing a ratio.
  s.speedup = s.db_avg_us > 0 ? Ratio(s.db_avg_us, s.cache_hit_avg_us) : 0.0;

  const Histogram overall = recorder.Overall();
  s.p50_us = overall.Percentile(50) / kNsPerUs;
  s.p95_us = overall.Percentile(95) / kNsPerUs;
  s.p99_us = overall.Percentile(99) / kNsPerUs;
  s.p999_us = overall.Percentile(99.9) / kNsPerUs;

  for (int c = 0; c < kNumOpClasses; ++c) {
    s.by_class[c] =
        SummarizeClass(recorder.class_histogram(static_cast<OpClass>(c)));
  }
  for (int st = 0; st < kNumSteps; ++st) {
    const Histogram& h = recorder.step_histogram(static_cast<Step>(st));
    s.by_step[st].count = h.Count();
    s.by_step[st].avg_us = h.Mean() / kNsPerUs;
    s.by_step[st].p99_us = h.Percentile(99) / kNsPerUs;
  }

  if (s.ops > 0 && recorder.last_end_ns() > recorder.first_start_ns()) {
    // Subtract in (exact) integers: epoch nanoseconds as doubles lose ~100 ns.
    s.duration_s =
        static_cast<double>(static_cast<uint64_t>(recorder.last_end_ns()) -
                            static_cast<uint64_t>(recorder.first_start_ns())) /
        1e9;
  }
  s.ops_outside_time_series = recorder.ops_outside_time_series();
  return s;
}

std::string_view OpClassName(OpClass c) {
  switch (c) {
    case OpClass::kCacheHit:
      return "hit";
    case OpClass::kCacheMiss:
      return "miss";
    case OpClass::kWrite:
      return "write";
    case OpClass::kError:
      return "error";
  }
  return "?";
}

std::string_view StepName(Step s) {
  switch (s) {
    case Step::kCacheGet:
      return "cache_get";
    case Step::kDbSelect:
      return "db_select";
    case Step::kCacheSet:
      return "cache_set";
    case Step::kDbInsert:
      return "db_insert";
    case Step::kCacheDel:
      return "cache_del";
  }
  return "?";
}

}  // namespace cabench
