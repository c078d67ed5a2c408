#include "lib/metrics/time_series.h"

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "lib/metrics/histogram.h"
#include "lib/metrics/names.h"
#include "lib/metrics/op_types.h"
#include "lib/metrics/recorder.h"

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
  const uint64_t mag = negative ? 0 - static_cast<uint64_t>(ns) : static_cast<uint64_t>(ns);
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

// Debian's abseil has its own absl::string_view, distinct from std's.
absl::string_view View(std::string_view s) { return absl::string_view(s.data(), s.size()); }

void AppendField(std::string* out, std::string_view key, const std::string& value, bool last) {
  absl::StrAppend(out, "    \"", View(key), "\": ", value, last ? "\n" : ",\n");
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

std::string Count(int64_t n) { return absl::StrCat(n); }

// A computed value (a ratio) with absl's six significant digits; always reads
// as a float ("0.0"); "null" if not finite.
std::string Number(double v) {
  if (!std::isfinite(v)) return "null";
  std::string out = absl::StrCat(v);
  if (out.find_first_of(".e") == std::string::npos) out += ".0";
  return out;
}

// A computed age in nanoseconds (a percentile) as milliseconds with up to
// three decimals: rounded to a whole microsecond first, which is finer than
// the coarse histogram's ~3% anyway. "0.0" for 0 (a second without stale
// reads).
std::string NsToMs(double ns) { return DoubleNsToUs(ns / 1000.0); }

// The value of a fixed series field for second `s`.
std::string FieldValue(const SecondStats& s, SeriesField f) {
  const std::initializer_list<OpClass> kDb = {OpClass::kCacheMiss, OpClass::kDbRead,
                                              OpClass::kFallback, OpClass::kWrite};
  const int64_t count = s.count();
  switch (f) {
    case SeriesField::kCount:
      return Count(count);
    case SeriesField::kTotalTimeUs:
      return NsToUs(s.total_ns());
    case SeriesField::kAvgTimeUs:
      return count == 0
                 ? "null"
                 : DoubleNsToUs(static_cast<double>(s.total_ns()) / static_cast<double>(count));
    case SeriesField::kMinTimeUs:
      return count == 0 ? "null" : NsToUs(s.min());
    case SeriesField::kMaxTimeUs:
      return count == 0 ? "null" : NsToUs(s.max());
    case SeriesField::kSeriesReads:
      return Count(s.reads());
    case SeriesField::kSeriesWrites:
      return Count(s.writes());
    case SeriesField::kSeriesCacheHits:
      return Count(s.cache_hits());
    case SeriesField::kSeriesCacheMisses:
      return Count(s.cache_misses());
    case SeriesField::kSeriesErrors:
      return Count(s.errors());
    case SeriesField::kSeriesDbReads:
      return Count(s.ClassCount(OpClass::kDbRead));
    case SeriesField::kSeriesFallbackReads:
      return Count(s.ClassCount(OpClass::kFallback));
    case SeriesField::kSeriesDbAvgUs: {
      int64_t n = 0, total = 0;
      for (OpClass c : kDb) {
        n += s.ClassCount(c);
        total += s.class_total_ns[static_cast<int>(c)];
      }
      return n == 0 ? "null" : DoubleNsToUs(static_cast<double>(total) / static_cast<double>(n));
    }
    case SeriesField::kSeriesDbMinUs:
      return ClassesMinMax(s, kDb, false);
    case SeriesField::kSeriesDbMaxUs:
      return ClassesMinMax(s, kDb, true);
    case SeriesField::kSeriesHitMinUs:
      return ClassesMinMax(s, {OpClass::kCacheHit}, false);
    case SeriesField::kSeriesHitMaxUs:
      return ClassesMinMax(s, {OpClass::kCacheHit}, true);
    case SeriesField::kSeriesIntendedAvgUs: {
      int64_t n = 0, total = 0;
      for (int c = 0; c < kNumOpClasses; ++c) {
        if (c == static_cast<int>(OpClass::kError)) continue;
        n += s.class_count[c];
        total += s.intended_total_ns[c];
      }
      return n == 0 ? "null" : DoubleNsToUs(static_cast<double>(total) / static_cast<double>(n));
    }
    case SeriesField::kSeriesLateOps:
      return Count(s.late_ops);
    case SeriesField::kSeriesMissCold:
      return Count(s.miss_causes[0]);
    case SeriesField::kSeriesMissExpired:
      return Count(s.miss_causes[1]);
    case SeriesField::kSeriesMissInvalidated:
      return Count(s.miss_causes[2]);
    case SeriesField::kSeriesMissEvicted:
      return Count(s.miss_causes[3]);
    case SeriesField::kSeriesDbReadsInFlightMax:
      return Count(s.db_reads_in_flight_max);
    case SeriesField::kSeriesDupFills:
      return Count(s.dup_fills());
    case SeriesField::kSeriesFillWaits:
      return Count(s.fill_waits());
    case SeriesField::kSeriesEarlyRefreshes:
      return Count(s.early_refreshes());
    case SeriesField::kSeriesStaleReads:
      return Count(s.stale_reads());
    case SeriesField::kSeriesStaleReadsUncertain:
      return Count(s.stale_reads_uncertain());
    case SeriesField::kSeriesStaleReadPct:
      return Number(s.cache_hits() == 0 ? 0.0
                                        : 100.0 * static_cast<double>(s.stale_reads()) /
                                              static_cast<double>(s.cache_hits()));
    case SeriesField::kSeriesStaleAgeP50Ms:
      return NsToMs(s.StaleAgePercentile(50.0));
    case SeriesField::kSeriesStaleAgeP99Ms:
      return NsToMs(s.StaleAgePercentile(99.0));
    default:
      break;  // server-side fields: from the extras
  }
  return "null";
}

bool IsOpenLoopField(SeriesField f) { return SeriesFieldWhen(f) == SeriesWhen::kOpenLoop; }

bool IsCacheField(SeriesField f) { return SeriesFieldWhen(f) == SeriesWhen::kCache; }

bool IsServerField(SeriesField f) { return SeriesFieldWhen(f) == SeriesWhen::kServer; }

std::string IntendedAvg(const SecondStats& s, OpClass c) {
  const int i = static_cast<int>(c);
  if (s.class_count[i] == 0) return "null";
  return DoubleNsToUs(static_cast<double>(s.intended_total_ns[i]) /
                      static_cast<double>(s.class_count[i]));
}

std::string IntendedP99(const SecondStats& s, OpClass c) {
  if (s.ClassCount(c) == 0) return "null";
  return DoubleNsToUs(s.IntendedPercentile(c, 99.0));
}

// Which optional groups of fields the file has.
struct Layout {
  bool open_loop = false;
  bool cache = false;
  std::vector<SeriesField> server_fields;
};

void AppendSecond(std::string* out, int64_t second, const SecondStats& s, const Layout& layout,
                  const std::map<SeriesField, double>* extra) {
  absl::StrAppend(out, "  \"", second, "\": {\n");
  std::vector<std::pair<std::string, std::string>> fields;
  for (int f = 0; f < kNumSeriesFields; ++f) {
    const auto field = static_cast<SeriesField>(f);
    if (IsServerField(field)) continue;
    if (IsOpenLoopField(field) && !layout.open_loop) continue;
    if (IsCacheField(field) && !layout.cache) continue;
    fields.emplace_back(SeriesFieldName(field), FieldValue(s, field));
  }
  for (SeriesField field : layout.server_fields) {
    std::string value = "null";
    if (extra != nullptr) {
      if (auto it = extra->find(field); it != extra->end()) value = Number(it->second);
    }
    fields.emplace_back(SeriesFieldName(field), std::move(value));
  }
  for (int c = 0; c < SecondStats::kNumTimedClasses; ++c) {
    const auto cls = static_cast<OpClass>(c);
    fields.emplace_back(ClassStatName(cls, "avg_us"), ClassAvg(s, cls));
    fields.emplace_back(ClassStatName(cls, "p99_us"), ClassP99(s, cls));
    if (layout.open_loop) {
      fields.emplace_back(ClassStatName(cls, "intended_avg_us"), IntendedAvg(s, cls));
      fields.emplace_back(ClassStatName(cls, "intended_p99_us"), IntendedP99(s, cls));
    }
  }
  for (size_t i = 0; i < fields.size(); ++i) {
    AppendField(out, fields[i].first, fields[i].second, i + 1 == fields.size());
  }
  absl::StrAppend(out, "  }");
}

}  // namespace

std::string TimeSeriesJson(const LatencyRecorder& recorder, const SeriesExtras* extras) {
  const auto& seconds = recorder.seconds();
  if (seconds.empty()) return "{}";
  Layout layout;
  layout.open_loop = recorder.has_intended();
  // The "cache" fields (the causes of misses, stampedes, stale reads), when
  // the run had a cache and classified every miss (as the counters miss_*).
  int64_t classified = 0;
  for (MissCause c :
       {MissCause::kCold, MissCause::kExpired, MissCause::kInvalidated, MissCause::kEvicted}) {
    classified += recorder.miss_cause_count(c);
  }
  layout.cache =
      recorder.cache_hits() + recorder.cache_misses() > 0 && classified == recorder.cache_misses();
  if (extras != nullptr) {
    for (int f = 0; f < kNumSeriesFields; ++f) {
      const auto field = static_cast<SeriesField>(f);
      if (!IsServerField(field)) continue;
      for (const auto& [second, values] : *extras) {
        if (values.count(field)) {
          layout.server_fields.push_back(field);
          break;
        }
      }
    }
  }
  std::string out = "{\n";
  for (size_t i = 0; i < seconds.size(); ++i) {
    const int64_t second = recorder.first_second() + static_cast<int64_t>(i);
    const std::map<SeriesField, double>* extra = nullptr;
    if (extras != nullptr) {
      if (auto it = extras->find(second); it != extras->end()) extra = &it->second;
    }
    AppendSecond(&out, second, seconds[i], layout, extra);
    out += i + 1 < seconds.size() ? ",\n" : "\n";
  }
  out += "}";
  return out;
}

std::string HistogramsJson(const LatencyRecorder& recorder,
                           const std::map<std::string, std::string>& more) {
  std::string out = absl::StrCat("{\n  \"overall\": \"", recorder.Overall().Serialize(), "\"");
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
  if (recorder.has_intended()) {
    for (int c = 0; c < kNumOpClasses; ++c) {
      const auto cls = static_cast<OpClass>(c);
      absl::StrAppend(&out, ",\n  \"intended_", View(OpClassName(cls)), "\": \"",
                      recorder.intended_histogram(cls).Serialize(), "\"");
    }
    absl::StrAppend(&out, ",\n  \"start_lag\": \"", recorder.start_lag().Serialize(), "\"");
  }
  absl::StrAppend(&out, ",\n  \"stale_age\": \"", recorder.stale_age().Serialize(), "\"");
  absl::StrAppend(&out, ",\n  \"totals\": \"", recorder.TotalsText(), "\"");
  for (const auto& [key, text] : more) absl::StrAppend(&out, ",\n  \"", key, "\": \"", text, "\"");
  out += "\n}";
  return out;
}

}  // namespace cabench
