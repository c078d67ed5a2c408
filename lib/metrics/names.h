// File: lib/metrics/names.h
//
// The names of everything cabench measures, from the one table in
// lib/metrics/names.def: the operation classes and steps (the keys of the
// histograms file), the run counters of the Google Benchmark JSON, the fields
// of the per-second time series, and the old spellings that the Python tools
// (tools/cabench_py/names.py parses the same file) still read. Code that
// writes a counter, a series field or a histogram key takes its name from
// here, so that one number has one name everywhere.
//
// Per class and per step, counters are <name>_<stat>: ClassStatName(kCacheHit,
// "p99_us") is "hit_p99_us", StepStatName(kDbSelect, "avg_us") "select_avg_us".
//
// Thread safety: pure functions over constant tables; safe to call
// concurrently.
#ifndef CABENCH_LIB_METRICS_NAMES_H_
#define CABENCH_LIB_METRICS_NAMES_H_

#include <span>
#include <string>
#include <string_view>

#include "lib/metrics/op_types.h"

namespace cabench {

// The run counters (CABENCH_COUNTER lines), in table order.
enum class CounterId : int {
#define CABENCH_COUNTER(id, name, unit, better, merge, meaning) id,
#include "lib/metrics/names.def"
  kNumCounters
};
inline constexpr int kNumCounters = static_cast<int>(CounterId::kNumCounters);

// The fixed per-second series fields (CABENCH_SERIES lines), in table order.
enum class SeriesField : int {
#define CABENCH_SERIES(id, name, when, meaning) id,
#include "lib/metrics/names.def"
  kNumSeriesFields
};
inline constexpr int kNumSeriesFields = static_cast<int>(SeriesField::kNumSeriesFields);

// Which way is an improvement, for tools that flag regressions.
enum class Better : int { kNone, kHigher, kLower };

// "hit", "miss", "db_read", "fallback", "write", "error"; "?" out of range.
std::string_view OpClassName(OpClass c);
// "get", "select", "set", "insert", "del"; "?" out of range.
std::string_view StepName(Step s);
// What the class's or step's latency spans, e.g. "GET + SELECT + SET".
std::string_view OpClassSpans(OpClass c);
std::string_view StepSpans(Step s);

// The counter's name, e.g. "ops_per_s", and which way is better.
std::string_view CounterName(CounterId id);
Better CounterBetter(CounterId id);
// Whether the counter called `name` is a flag (unit flag in names.def: 0 or
// 1); false for any other name.
bool IsFlagCounter(std::string_view name);
// Whether the counter called `name` cannot be negative: a count, a time, a
// rate, a size, a flag, or a class's or step's latency statistic (hit_p99_us);
// false for a share or ratio (db_load_reduction_pct may be below 0) and for
// any other name.
bool IsNonNegativeCounter(std::string_view name);
// The series field's name, e.g. "cache_hits", and when a file has it.
std::string_view SeriesFieldName(SeriesField f);
enum class SeriesWhen : int { kAlways, kCache, kOpenLoop, kServer };
SeriesWhen SeriesFieldWhen(SeriesField f);

// The statistics kept per class ("avg_us", "p50_us", ...) and per step
// ("avg_us", "p99_us"), in table order.
std::span<const std::string_view> ClassStatSuffixes();
std::span<const std::string_view> StepStatSuffixes();

// "<class>_<suffix>" and "<step>_<suffix>", e.g. "hit_p99_us".
std::string ClassStatName(OpClass c, std::string_view suffix);
std::string StepStatName(Step s, std::string_view suffix);

}  // namespace cabench

#endif  // CABENCH_LIB_METRICS_NAMES_H_
