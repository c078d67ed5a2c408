#include "lib/metrics/time_series.h"

#include <algorithm>
#include <cstdint>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/metrics/histogram.h"
#include "lib/metrics/names.h"
#include "lib/metrics/op_types.h"
#include "lib/metrics/recorder.h"
#include "lib/testing/status_matchers.h"

namespace cabench {
namespace {

constexpr int64_t kSecond = 1'764'081'507;
constexpr int64_t kT0 = kSecond * kNanosPerSecond;

OpResult Op(OpKind kind, OpClass cls, int64_t ns) {
  OpResult op;
  op.kind = kind;
  op.op_class = cls;
  op.total_ns = ns;
  if (cls == OpClass::kError) op.error_source = ErrorSource::kCache;
  return op;
}

TEST(TimeSeriesJsonTest, EmptyRecorderIsEmptyObject) {
  EXPECT_EQ(TimeSeriesJson(LatencyRecorder()), "{}");
}

TEST(TimeSeriesJsonTest, HandBuiltInputGivesExactJson) {
  LatencyRecorder r;
  r.Record(Op(OpKind::kRead, OpClass::kCacheHit, 100'000), kT0);
  r.Record(Op(OpKind::kRead, OpClass::kCacheHit, 200'500), kT0 + 1000);
  OpResult miss = Op(OpKind::kRead, OpClass::kCacheMiss, 3'000'000);
  miss.events = kEventReadSelect;
  miss.db_reads_in_flight = 2;  // the miss has no cause: no cache fields
  r.Record(miss, kT0 + 2000);
  r.Record(Op(OpKind::kWrite, OpClass::kWrite, 1'000'000), kT0 + 3000);
  r.Record(Op(OpKind::kRead, OpClass::kError, 7'000), kT0 + 4000);
  // Nothing starts in kSecond + 1.
  r.Record(Op(OpKind::kWrite, OpClass::kWrite, 2'000'001), kT0 + 2 * kNanosPerSecond + 5);

  const std::string expected = R"({
  "1764081507": {
    "count": 5,
    "total_time_us": 4307.5,
    "avg_time_us": 861.5,
    "min_time_us": 7.0,
    "max_time_us": 3000.0,
    "reads": 3,
    "writes": 1,
    "cache_hits": 2,
    "cache_misses": 1,
    "errors": 1,
    "db_reads": 0,
    "fallback_reads": 0,
    "db_avg_us": 2000.0,
    "db_min_us": 1000.0,
    "db_max_us": 3000.0,
    "hit_min_us": 100.0,
    "hit_max_us": 200.5,
    "db_reads_in_flight_max": 2,
    "hit_avg_us": 150.25,
    "hit_p99_us": 200.5,
    "miss_avg_us": 3000.0,
    "miss_p99_us": 3000.0,
    "db_read_avg_us": null,
    "db_read_p99_us": null,
    "fallback_avg_us": null,
    "fallback_p99_us": null,
    "write_avg_us": 1000.0,
    "write_p99_us": 1000.0
  },
  "1764081508": {
    "count": 0,
    "total_time_us": 0.0,
    "avg_time_us": null,
    "min_time_us": null,
    "max_time_us": null,
    "reads": 0,
    "writes": 0,
    "cache_hits": 0,
    "cache_misses": 0,
    "errors": 0,
    "db_reads": 0,
    "fallback_reads": 0,
    "db_avg_us": null,
    "db_min_us": null,
    "db_max_us": null,
    "hit_min_us": null,
    "hit_max_us": null,
    "db_reads_in_flight_max": 0,
    "hit_avg_us": null,
    "hit_p99_us": null,
    "miss_avg_us": null,
    "miss_p99_us": null,
    "db_read_avg_us": null,
    "db_read_p99_us": null,
    "fallback_avg_us": null,
    "fallback_p99_us": null,
    "write_avg_us": null,
    "write_p99_us": null
  },
  "1764081509": {
    "count": 1,
    "total_time_us": 2000.001,
    "avg_time_us": 2000.001,
    "min_time_us": 2000.001,
    "max_time_us": 2000.001,
    "reads": 0,
    "writes": 1,
    "cache_hits": 0,
    "cache_misses": 0,
    "errors": 0,
    "db_reads": 0,
    "fallback_reads": 0,
    "db_avg_us": 2000.001,
    "db_min_us": 2000.001,
    "db_max_us": 2000.001,
    "hit_min_us": null,
    "hit_max_us": null,
    "db_reads_in_flight_max": 0,
    "hit_avg_us": null,
    "hit_p99_us": null,
    "miss_avg_us": null,
    "miss_p99_us": null,
    "db_read_avg_us": null,
    "db_read_p99_us": null,
    "fallback_avg_us": null,
    "fallback_p99_us": null,
    "write_avg_us": 2000.001,
    "write_p99_us": 2000.001
  }
})";
  EXPECT_EQ(TimeSeriesJson(r), expected);
}

TEST(TimeSeriesJsonTest, AveragesRoundToWholeNanoseconds) {
  LatencyRecorder r;
  r.Record(Op(OpKind::kRead, OpClass::kCacheHit, 1), kT0);
  r.Record(Op(OpKind::kRead, OpClass::kCacheHit, 2), kT0);
  r.Record(Op(OpKind::kRead, OpClass::kCacheHit, 2), kT0);
  const std::string json = TimeSeriesJson(r);
  // 5 ns / 3 = 1.67 ns -> 2 ns = 0.002 us.
  EXPECT_THAT(json, ::testing::HasSubstr("\"avg_time_us\": 0.002,"));
  EXPECT_THAT(json, ::testing::HasSubstr("\"min_time_us\": 0.001,"));
  EXPECT_THAT(json, ::testing::HasSubstr("\"total_time_us\": 0.005,"));
  EXPECT_FALSE(absl::StrContains(json, "nan"));
  EXPECT_FALSE(absl::StrContains(json, "inf"));
}

TEST(TimeSeriesJsonTest, SecondsAscendEvenWhenRecordedOutOfOrder) {
  LatencyRecorder r;
  r.Record(Op(OpKind::kRead, OpClass::kCacheHit, 10), kT0 + 3 * kNanosPerSecond);
  r.Record(Op(OpKind::kRead, OpClass::kCacheHit, 10), kT0);
  const std::string json = TimeSeriesJson(r);
  const size_t first = json.find("\"1764081507\"");
  const size_t last = json.find("\"1764081510\"");
  ASSERT_NE(first, std::string::npos);
  ASSERT_NE(last, std::string::npos);
  EXPECT_LT(first, last);
  // Four seconds, each with 27 keys, db_reads_in_flight_max, and the cache
  // fields (no miss: every miss was classified): 4 miss causes and 8
  // stampede and staleness fields.
  EXPECT_EQ(std::count(json.begin(), json.end(), '{'), 1 + 4);
  EXPECT_EQ(std::count(json.begin(), json.end(), ':'), 4 + 4 * (27 + 1 + 4 + 8));
}

TEST(TimeSeriesJsonTest, MissCausesOnlyWhenEveryMissWasClassified) {
  LatencyRecorder r;
  OpResult miss = Op(OpKind::kRead, OpClass::kCacheMiss, 10);
  r.Record(miss, kT0);  // no cause: not classified
  EXPECT_FALSE(absl::StrContains(TimeSeriesJson(r), "miss_cold"));
  LatencyRecorder classified;
  miss.miss_cause = MissCause::kEvicted;
  classified.Record(miss, kT0);
  miss.miss_cause = MissCause::kCold;
  classified.Record(miss, kT0);
  const std::string json = TimeSeriesJson(classified);
  EXPECT_TRUE(absl::StrContains(json, "\"miss_cold\": 1,"));
  EXPECT_TRUE(absl::StrContains(json, "\"miss_evicted\": 1,"));
  EXPECT_TRUE(absl::StrContains(json, "\"miss_expired\": 0,"));
}

OpResult Event(OpResult op, uint8_t events, int32_t in_flight = 0, int64_t stale_age_ns = 0) {
  op.events = events;
  op.db_reads_in_flight = in_flight;
  op.stale_age_ns = stale_age_ns;
  return op;
}

TEST(TimeSeriesJsonTest, StampedeAndStaleFieldsOfACacheRun) {
  LatencyRecorder r;
  const OpResult hit = Op(OpKind::kRead, OpClass::kCacheHit, 100'000);
  OpResult miss = Op(OpKind::kRead, OpClass::kCacheMiss, 2'000'000);
  miss.miss_cause = MissCause::kCold;  // every miss classified: a cache run
  // Second 0: 5 hits, 3 of them stale (1, 2 and 40 ms old), one maybe stale
  // (its age, were one set, is not filed), one refreshed early; a duplicate
  // fill with 3 SELECTs in flight, and a fill wait.
  r.Record(Event(hit, kEventStale, 0, 40'000'000), kT0);
  r.Record(Event(hit, kEventStale, 0, 1'000'000), kT0 + 1);
  r.Record(Event(hit, kEventStale, 0, 2'000'000), kT0 + 2);
  r.Record(Event(hit, kEventStaleUncertain, 0, 900'000'000), kT0 + 2);
  r.Record(Event(hit, kEventEarlyRefresh | kEventReadSelect, 1), kT0 + 3);
  r.Record(Event(miss, kEventReadSelect | kEventDupFill, 3), kT0 + 4);
  r.Record(Event(miss, kEventFillWait), kT0 + 5);
  // Second 1: a fresh hit. Second 2: a write only (no hits at all).
  r.Record(hit, kT0 + kNanosPerSecond);
  r.Record(Op(OpKind::kWrite, OpClass::kWrite, 1'000'000), kT0 + 2 * kNanosPerSecond);
  const std::string json = TimeSeriesJson(r);

  // The names.def order, after the miss causes and before the per-class
  // fields. p50 of {1, 2, 40} ms is the coarse bucket of 2 ms (midpoint
  // 1.9988 ms, to the microsecond); the top rank is the exact 40 ms.
  EXPECT_THAT(json, ::testing::HasSubstr(R"(    "miss_evicted": 0,
    "db_reads_in_flight_max": 3,
    "dup_fills": 1,
    "fill_waits": 1,
    "early_refreshes": 1,
    "stale_reads": 3,
    "stale_reads_uncertain": 1,
    "stale_read_pct": 60.0,
    "stale_age_p50_ms": 1.999,
    "stale_age_p99_ms": 40.0,
    "hit_avg_us": 100.0,)"));
  const std::string quiet = R"(    "db_reads_in_flight_max": 0,
    "dup_fills": 0,
    "fill_waits": 0,
    "early_refreshes": 0,
    "stale_reads": 0,
    "stale_reads_uncertain": 0,
    "stale_read_pct": 0.0,
    "stale_age_p50_ms": 0.0,
    "stale_age_p99_ms": 0.0,
)";
  const size_t second1 = json.find("\"1764081508\"");
  const size_t second2 = json.find("\"1764081509\"");
  ASSERT_NE(second1, std::string::npos);
  ASSERT_NE(second2, std::string::npos);
  EXPECT_EQ(json.find(quiet, second1), json.find("    \"db_reads_in_flight_max\"", second1));
  EXPECT_LT(json.find(quiet, second1), second2);
  EXPECT_NE(json.find(quiet, second2), std::string::npos);
}

TEST(TimeSeriesJsonTest, InFlightAlwaysStaleFieldsOnlyWithACache) {
  // No cache: db reads. db_reads_in_flight_max is there, the cache fields not.
  LatencyRecorder no_cache;
  no_cache.Record(Event(Op(OpKind::kRead, OpClass::kDbRead, 300'000), kEventReadSelect, 4), kT0);
  std::string json = TimeSeriesJson(no_cache);
  EXPECT_TRUE(absl::StrContains(json, "\"db_reads_in_flight_max\": 4,"));
  for (const char* key :
       {"dup_fills", "fill_waits", "early_refreshes", "stale_reads", "stale_reads_uncertain",
        "stale_read_pct", "stale_age_p50_ms", "stale_age_p99_ms"}) {
    EXPECT_FALSE(absl::StrContains(json, key)) << key;
  }
  // A cache whose misses were not classified: the rule of the miss causes
  // (names.def "cache" fields all go together).
  LatencyRecorder unclassified;
  unclassified.Record(
      Event(Op(OpKind::kRead, OpClass::kCacheHit, 100'000), kEventStale, 0, 5'000'000), kT0);
  unclassified.Record(Op(OpKind::kRead, OpClass::kCacheMiss, 100'000), kT0);
  json = TimeSeriesJson(unclassified);
  EXPECT_TRUE(absl::StrContains(json, "\"db_reads_in_flight_max\": 0,"));
  EXPECT_FALSE(absl::StrContains(json, "stale_reads"));
  EXPECT_FALSE(absl::StrContains(json, "miss_cold"));
}

TEST(TimeSeriesJsonTest, MergedRecordersGiveTheSameSeries) {
  LatencyRecorder single;
  LatencyRecorder parts[2];
  for (int i = 0; i < 3000; ++i) {
    OpResult op =
        Op(OpKind::kRead, i % 3 ? OpClass::kCacheHit : OpClass::kCacheMiss, 1000 + 37 * i);
    if (op.op_class == OpClass::kCacheMiss) {
      op.miss_cause = MissCause::kExpired;
      op = Event(op, kEventReadSelect | (i % 7 == 0 ? kEventDupFill : 0), 1 + i % 5);
    } else if (i % 4 == 0) {
      op = Event(op, kEventStale, 0, 1'000'000 + 4321 * i);
    } else if (i % 5 == 0) {
      op = Event(op, kEventStaleUncertain);
    }
    const int64_t t = kT0 + i * 1'000'000LL;  // three seconds
    parts[i % 2].Record(op, t);
    single.Record(op, t);
  }
  LatencyRecorder merged;
  merged.Merge(parts[1]);
  merged.Merge(parts[0]);
  EXPECT_EQ(TimeSeriesJson(merged), TimeSeriesJson(single));
  EXPECT_TRUE(absl::StrContains(TimeSeriesJson(single), "\"db_reads_in_flight_max\": 5,"));
}

TEST(HistogramsJsonTest, HasEveryStepOfTheTable) {
  const std::string json = HistogramsJson(LatencyRecorder());
  for (int st = 0; st < kNumSteps; ++st) {
    const std::string key = "\n  \"" + std::string(StepName(static_cast<Step>(st))) + "\": ";
    EXPECT_TRUE(absl::StrContains(json, key)) << key;
  }
  EXPECT_TRUE(absl::StrContains(json, "\"lock\": "));
  EXPECT_TRUE(absl::StrContains(json, "\"fill_wait\": "));
}

TEST(HistogramsJsonTest, ValuesDeserialize) {
  LatencyRecorder r;
  OpResult hit = Op(OpKind::kRead, OpClass::kCacheHit, 150'000);
  hit.SetStep(Step::kCacheGet, 140'000);
  r.Record(hit, kT0);
  r.Record(Op(OpKind::kWrite, OpClass::kWrite, 2'000'000), kT0);
  const std::string json = HistogramsJson(r);
  int values = 0;
  for (absl::string_view line : absl::StrSplit(json, '\n')) {
    const size_t colon = line.find("\": \"");
    if (colon == absl::string_view::npos) continue;
    absl::string_view value = line.substr(colon + 4);
    value = value.substr(0, value.find('"'));
    const std::string text(value);
    if (absl::StartsWith(line, "  \"totals\"")) {
      EXPECT_EQ(text, r.TotalsText());
      continue;
    }
    ASSERT_OK_AND_ASSIGN(Histogram h, Histogram::Deserialize(text));
    if (absl::StartsWith(line, "  \"overall\"")) {
      EXPECT_EQ(h, r.Overall());
    }
    if (absl::StartsWith(line, "  \"get\"")) {
      EXPECT_EQ(h, r.step_histogram(Step::kCacheGet));
    }
    ++values;
  }
  // overall, the classes, the steps and the stale reads' ages.
  EXPECT_EQ(values, 1 + kNumOpClasses + kNumSteps + 1);
}

TEST(HistogramsJsonTest, OpenLoopAddsIntendedTimesAndStartLag) {
  LatencyRecorder r;
  r.RecordOpenLoop(Op(OpKind::kRead, OpClass::kCacheHit, 150'000), kT0, 40'000);
  const std::string json = HistogramsJson(r);
  const std::string intended_hit = std::string("\"intended_hit\": \"") +
                                   r.intended_histogram(OpClass::kCacheHit).Serialize() + "\"";
  EXPECT_TRUE(absl::StrContains(json, intended_hit)) << json;
  EXPECT_TRUE(absl::StrContains(json, "\"start_lag\": \"" + r.start_lag().Serialize() + "\""));
  EXPECT_EQ(r.start_lag().Count(), 1);
  EXPECT_FALSE(absl::StrContains(HistogramsJson(LatencyRecorder()), "intended_"));
}

}  // namespace
}  // namespace cabench
