#include "bench/counters.h"

#include <algorithm>
#include <cstdint>
#include <string>

namespace cabench {
namespace {

using benchmark::Counter;

void Set(benchmark::State& state, const std::string& name, double value,
         Counter::Flags flags = Counter::kDefaults) {
  state.counters[name] = Counter(value, flags);
}

}  // namespace

void SetThreadCounters(const LatencyRecorder& r, benchmark::State& state) {
  // reads and writes count operations that succeeded, so that
  // reads + writes + errors is every operation attempted.
  Set(state, "reads", static_cast<double>(r.cache_hits() + r.cache_misses()));
  Set(state, "writes", static_cast<double>(r.class_count(OpClass::kWrite)));
  Set(state, "cache_hits", static_cast<double>(r.cache_hits()));
  Set(state, "cache_misses", static_cast<double>(r.cache_misses()));
  Set(state, "errors", static_cast<double>(r.errors()));
  Set(state, "errors_cache", static_cast<double>(r.errors_by_source(ErrorSource::kCache)));
  Set(state, "errors_db", static_cast<double>(r.errors_by_source(ErrorSource::kDb)));
  Set(state, "ops_per_s", static_cast<double>(r.ops()), Counter::kIsRate);
}

void SetRunCounters(const LatencyRecorder& run, const Summary& s, double predicted_hit_rate_pct,
                    benchmark::State& state) {
  Set(state, "hit_rate_pct", s.hit_rate_pct);
  Set(state, "predicted_hit_rate_pct", predicted_hit_rate_pct);
  Set(state, "cache_hit_avg_us", s.cache_hit_avg_us);
  Set(state, "db_avg_us", s.db_avg_us);
  Set(state, "speedup", s.speedup);
  Set(state, "p50_us", s.p50_us);
  Set(state, "p95_us", s.p95_us);
  Set(state, "p99_us", s.p99_us);
  Set(state, "p999_us", s.p999_us);
  struct ClassName {
    OpClass op_class;
    const char* prefix;
  };
  for (const ClassName& c : {ClassName{OpClass::kCacheHit, "hit"},
                             ClassName{OpClass::kCacheMiss, "miss"},
                             ClassName{OpClass::kWrite, "write"}}) {
    const ClassSummary& cs = s.of(c.op_class);
    const std::string p = c.prefix;
    Set(state, p + "_avg_us", cs.avg_us);
    Set(state, p + "_p50_us", cs.p50_us);
    Set(state, p + "_p95_us", cs.p95_us);
    Set(state, p + "_p99_us", cs.p99_us);
    Set(state, p + "_p999_us", cs.p999_us);
    Set(state, p + "_max_us", cs.max_us);
  }
  // The slowest operation of the run, failed ones included, and the slowest
  // failure: with faults, these show that no operation waited past the
  // configured timeout.
  int64_t max_ns = run.class_histogram(OpClass::kError).Max();
  Set(state, "error_max_us", static_cast<double>(max_ns) / 1000.0);
  for (OpClass c : {OpClass::kCacheHit, OpClass::kCacheMiss, OpClass::kWrite}) {
    max_ns = std::max(max_ns, run.class_histogram(c).Max());
  }
  Set(state, "max_us", static_cast<double>(max_ns) / 1000.0);
  // The database path (misses and writes together), as db_avg_us.
  Histogram db = run.class_histogram(OpClass::kCacheMiss);
  db.Merge(run.class_histogram(OpClass::kWrite));
  Set(state, "db_p99_us", db.Percentile(99) / 1000.0);
  struct StepName {
    Step step;
    const char* prefix;
  };
  for (const StepName& st : {StepName{Step::kCacheGet, "get"}, StepName{Step::kDbSelect, "select"},
                             StepName{Step::kCacheSet, "set"}, StepName{Step::kDbInsert, "insert"},
                             StepName{Step::kCacheDel, "del"}}) {
    const StepSummary& ss = s.of(st.step);
    if (ss.count == 0) continue;
    Set(state, std::string(st.prefix) + "_avg_us", ss.avg_us);
    Set(state, std::string(st.prefix) + "_p99_us", ss.p99_us);
  }
}

}  // namespace cabench
