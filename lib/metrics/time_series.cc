#include "lib/metrics/time_series.h"

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <initializer_list>
#include <string>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "lib/metrics/histogram.h"
#include "lib/metrics/op_types.h"
#include "lib/metrics/recorder.h"
#include "lib/metrics/summary.h"

namespace cabench {
namespace {

// Removes trailing zeros after the decimal point, keeping one digit so the
// value still reads as a float, as the reference's Python output does
// ("89.0").
void TrimZeros(std::string* s) {
  const size_t dot = s->find('.');
  if (dot == std::string::npos) return;
  size_t end = s->size();
  while (end > dot + 2 && (*s)[end - 1] == '0') --end;
  s->resize(end);
}

// Nanoseconds as exact microseconds.
std::string NsToUs(int64_t ns) {
  const bool negative = ns < 0;
  const uint64_t mag =
      negative ? 0 - static_cast<uint64_t>(ns) : static_cast<uint64_t>(ns);
  char frac[4];
  std::snprintf(frac, sizeof frac, "%03u", static_cast<unsigned>(mag % 1000));
  std::string out = absl::StrCat(negative ? "-" : "", mag / 1000, ".", frac);
  TrimZeros(&out);
  return out;
}

// A computed latency in nanoseconds (a mean or percentile), rounded to a
// whole nanosecond first so the decimal output does not depend on how
// printf rounds a binary fraction; "null" if it is not finite or absurd.
std::string DoubleNsToUs(double ns) {
  if (!std::isfinite(ns) || std::abs(ns) > 9e18) return "null";
  return NsToUs(std::llround(ns));
}

void AppendField(std::string* out, const char* key, const std::string& value,
                 bool last) {
  absl::StrAppend(out, "    \"", key, "\": ", value, last ? "\n" : ",\n");
}

// Debian's abseil has its own absl::string_view, distinct from std's.
absl::string_view View(std::string_view s) {
  return absl::string_view(s.data(), s.size());
}

std::string ClassAvg(const SecondStats& s, OpClass c) {
  const int i = static_cast<int>(c);
  if (s.class_count[i] == 0) return "null";
  return DoubleNsToUs(static_cast<double>(s.class_total_ns[i]) /
                      static_cast<double>(s.class_count[i]));
}

std::string ClassP99(const SecondStats& s, OpClass c) {
  if (s.ClassCount(c) == 0) return "null";
  return DoubleNsToUs(s.ClassPercentile(c, 99.0));
}

// Min or max over `classes` that had operations this second; "null" if none.
std::string ClassesMinMax(const SecondStats& s, std::initializer_list<OpClass> classes,
                          bool want_max) {
  bool any = false;
  int64_t v = 0;
  for (OpClass c : classes) {
    const int i = static_cast<int>(c);
    if (s.class_count[i] == 0) continue;
    const int64_t x = want_max ? s.class_max_ns[i] : s.class_min_ns[i];
    v = !any ? x : (want_max ? std::max(v, x) : std::min(v, x));
    any = true;
  }
  return any ? NsToUs(v) : std::string("null");
}

void AppendSecond(std::string* out, int64_t second, const SecondStats& s) {
  const int64_t count = s.count();
  absl::StrAppend(out, "  \"", second, "\": {\n");
  AppendField(out, "count", absl::StrCat(count), false);
  AppendField(out, "total_time_us", NsToUs(s.total_ns()), false);
  if (count == 0) {
    AppendField(out, "avg_time_us", "null", false);
    AppendField(out, "min_time_us", "null", false);
    AppendField(out, "max_time_us", "null", false);
  } else {
    AppendField(out, "avg_time_us",
                DoubleNsToUs(static_cast<double>(s.total_ns()) /
                             static_cast<double>(count)),
                false);
    AppendField(out, "min_time_us", NsToUs(s.min()), false);
    AppendField(out, "max_time_us", NsToUs(s.max()), false);
  }
  AppendField(out, "reads", absl::StrCat(s.reads()), false);
  AppendField(out, "writes", absl::StrCat(s.writes()), false);
  AppendField(out, "cache_hits", absl::StrCat(s.cache_hits()), false);
  AppendField(out, "cache_misses", absl::StrCat(s.cache_misses()), false);
  AppendField(out, "errors", absl::StrCat(s.errors()), false);
  AppendField(out, "cache_hit_avg_us", ClassAvg(s, OpClass::kCacheHit), false);
  AppendField(out, "cache_miss_avg_us", ClassAvg(s, OpClass::kCacheMiss),
              false);
  AppendField(out, "write_avg_us", ClassAvg(s, OpClass::kWrite), false);
  const int64_t db_count = s.cache_misses() + s.ClassCount(OpClass::kWrite);
  const int64_t db_total =
      s.class_total_ns[static_cast<int>(OpClass::kCacheMiss)] +
      s.class_total_ns[static_cast<int>(OpClass::kWrite)];
  AppendField(out, "db_avg_us",
              db_count == 0 ? std::string("null")
                            : DoubleNsToUs(static_cast<double>(db_total) /
                                           static_cast<double>(db_count)),
              false);
  AppendField(out, "db_min_us",
              ClassesMinMax(s, {OpClass::kCacheMiss, OpClass::kWrite}, false), false);
  AppendField(out, "db_max_us",
              ClassesMinMax(s, {OpClass::kCacheMiss, OpClass::kWrite}, true), false);
  AppendField(out, "cache_hit_min_us", ClassesMinMax(s, {OpClass::kCacheHit}, false),
              false);
  AppendField(out, "cache_hit_max_us", ClassesMinMax(s, {OpClass::kCacheHit}, true),
              false);
  AppendField(out, "cache_hit_p99_us", ClassP99(s, OpClass::kCacheHit), false);
  AppendField(out, "cache_miss_p99_us", ClassP99(s, OpClass::kCacheMiss),
              false);
  AppendField(out, "write_p99_us", ClassP99(s, OpClass::kWrite), true);
  absl::StrAppend(out, "  }");
}

}  // namespace

std::string TimeSeriesJson(const LatencyRecorder& recorder) {
  const auto& seconds = recorder.seconds();
  if (seconds.empty()) return "{}";
  std::string out = "{\n";
  for (size_t i = 0; i < seconds.size(); ++i) {
    AppendSecond(&out, recorder.first_second() + static_cast<int64_t>(i),
                 seconds[i]);
    out += i + 1 < seconds.size() ? ",\n" : "\n";
  }
  out += "}";
  return out;
}

std::string HistogramsJson(const LatencyRecorder& recorder) {
  std::string out = absl::StrCat("{\n  \"overall\": \"",
                                 recorder.Overall().Serialize(), "\"");
  for (int c = 0; c < kNumOpClasses; ++c) {
    const auto cls = static_cast<OpClass>(c);
    absl::StrAppend(&out, ",\n  \"", View(OpClassName(cls)), "\": \"",
                    recorder.class_histogram(cls).Serialize(), "\"");
  }
  for (int st = 0; st < kNumSteps; ++st) {
    const auto step = static_cast<Step>(st);
    absl::StrAppend(&out, ",\n  \"", View(StepName(step)), "\": \"",
                    recorder.step_histogram(step).Serialize(), "\"");
  }
  out += "\n}";
  return out;
}

}  // namespace cabench
