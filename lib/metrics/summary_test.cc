#include "lib/metrics/summary.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/metrics/op_types.h"
#include "lib/metrics/recorder.h"

namespace cabench {
namespace {

constexpr int64_t kT0 = 1'764'081'507LL * kNanosPerSecond;

OpResult Op(OpKind kind, OpClass cls, int64_t ns, ErrorSource src = ErrorSource::kNone) {
  OpResult op;
  op.kind = kind;
  op.op_class = cls;
  op.total_ns = ns;
  op.error_source = src;
  return op;
}

TEST(SummaryTest, EmptyRecorderIsAllZero) {
  const Summary s = Summarize(LatencyRecorder());
  EXPECT_EQ(s.ops, 0);
  EXPECT_EQ(s.hit_rate_pct, 0.0);
  EXPECT_EQ(s.hit_avg_us, 0.0);
  EXPECT_EQ(s.db_avg_us, 0.0);
  EXPECT_EQ(s.speedup, 0.0);
  EXPECT_EQ(s.p99_us, 0.0);
  EXPECT_EQ(s.wall_s, 0.0);
  EXPECT_EQ(s.ops_per_s, 0.0);
  EXPECT_EQ(s.of(OpClass::kCacheHit).max_us, 0.0);
  EXPECT_EQ(s.stale_reads, 0);
  EXPECT_EQ(s.read_selects, 0);
  EXPECT_EQ(s.db_reads_in_flight_max, 0);
  EXPECT_FALSE(s.has_stale_read_pct);
  EXPECT_FALSE(s.has_db_reads_per_miss);
  EXPECT_FALSE(s.has_stale_age);
  EXPECT_EQ(s.stale_read_pct, 0.0);
  EXPECT_EQ(s.db_reads_per_miss, 0.0);
  EXPECT_EQ(s.stale_age_p50_ms, 0.0);
  EXPECT_EQ(s.stale_age_p99_ms, 0.0);
}

TEST(SummaryTest, CountsRatesAndAverages) {
  LatencyRecorder r;
  // 3 hits of 100 us, 1 miss of 3 ms, 1 write of 1 ms, 1 DB error on a read.
  for (int i = 0; i < 3; ++i) r.Record(Op(OpKind::kRead, OpClass::kCacheHit, 100'000), kT0 + i);
  OpResult miss = Op(OpKind::kRead, OpClass::kCacheMiss, 3'000'000);
  miss.SetStep(Step::kDbSelect, 2'000'000);
  r.Record(miss, kT0 + 10);
  r.Record(Op(OpKind::kWrite, OpClass::kWrite, 1'000'000), kT0 + 20);
  r.Record(Op(OpKind::kRead, OpClass::kError, 9'000'000, ErrorSource::kDb),
           kT0 + 2 * kNanosPerSecond);

  const Summary s = Summarize(r);
  EXPECT_EQ(s.ops, 6);
  EXPECT_EQ(s.reads, 4);  // that succeeded
  EXPECT_EQ(s.writes, 1);
  EXPECT_EQ(s.cache_hits, 3);
  EXPECT_EQ(s.cache_misses, 1);
  EXPECT_EQ(s.errors, 1);
  EXPECT_EQ(s.errors_by_source[static_cast<int>(ErrorSource::kDb)], 1);
  EXPECT_EQ(s.errors_by_source[static_cast<int>(ErrorSource::kCache)], 0);
  EXPECT_DOUBLE_EQ(s.hit_rate_pct, 75.0);
  EXPECT_DOUBLE_EQ(s.hit_avg_us, 100.0);
  EXPECT_DOUBLE_EQ(s.db_avg_us, 2000.0);  // (3 ms + 1 ms) / 2
  EXPECT_DOUBLE_EQ(s.speedup, 20.0);
  // Overall excludes the error: 5 ops, max 3 ms.
  EXPECT_NEAR(s.p50_us, 100.0, 1.0);
  EXPECT_DOUBLE_EQ(s.p999_us, 3000.0);
  EXPECT_EQ(s.of(OpClass::kError).count, 1);
  EXPECT_DOUBLE_EQ(s.of(OpClass::kError).max_us, 9000.0);
  EXPECT_EQ(s.of(OpClass::kCacheMiss).count, 1);
  EXPECT_DOUBLE_EQ(s.of(OpClass::kCacheMiss).p99_us,
                   3000.0);  // clamped to the exact max
  EXPECT_NEAR(s.of(OpClass::kCacheHit).p50_us, 100.0, 1.0);
  EXPECT_EQ(s.of(Step::kDbSelect).count, 1);
  EXPECT_DOUBLE_EQ(s.of(Step::kDbSelect).avg_us, 2000.0);
  EXPECT_EQ(s.of(Step::kCacheGet).count, 0);
  // From the first start to the end of the error: 2 s + 9 ms.
  EXPECT_NEAR(s.wall_s, 2.009, 1e-12);
  EXPECT_NEAR(s.ops_per_s, 6 / 2.009, 1e-9);
  EXPECT_DOUBLE_EQ(s.miss_vs_hit, 30.0);
  EXPECT_DOUBLE_EQ(s.max_us, 9000.0);
  EXPECT_DOUBLE_EQ(s.error_max_us, 9000.0);
}

TEST(SummaryTest, DatabaseReadsAndFallbackReadsAreReadsOutsideTheHitRate) {
  LatencyRecorder r;
  r.Record(Op(OpKind::kRead, OpClass::kCacheHit, 100'000), kT0);
  r.Record(Op(OpKind::kRead, OpClass::kFallback, 400'000), kT0 + 1);
  r.Record(Op(OpKind::kRead, OpClass::kDbRead, 200'000), kT0 + 2);
  const Summary s = Summarize(r);
  EXPECT_EQ(s.reads, 3);
  EXPECT_EQ(s.db_reads, 1);
  EXPECT_EQ(s.fallback_reads, 1);
  EXPECT_TRUE(s.has_hit_rate);
  EXPECT_DOUBLE_EQ(s.hit_rate_pct, 100.0);  // hits / (hits + misses) only
  EXPECT_DOUBLE_EQ(s.db_avg_us, 300.0);     // the fallback and the db read
  EXPECT_DOUBLE_EQ(s.db_p99_us, 400.0);
}

TEST(SummaryTest, NoReadsGivesZeroHitRateAndSpeedup) {
  LatencyRecorder r;
  r.Record(Op(OpKind::kWrite, OpClass::kWrite, 1'000'000), kT0);
  const Summary s = Summarize(r);
  EXPECT_EQ(s.reads, 0);
  EXPECT_FALSE(s.has_hit_rate);
  EXPECT_EQ(s.hit_rate_pct, 0.0);
  EXPECT_EQ(s.hit_avg_us, 0.0);
  EXPECT_DOUBLE_EQ(s.db_avg_us, 1000.0);
  EXPECT_EQ(s.speedup, 0.0);
}

TEST(SummaryTest, NoHitsGivesZeroHitRateAndSpeedup) {
  LatencyRecorder r;
  r.Record(Op(OpKind::kRead, OpClass::kCacheMiss, 1'000'000), kT0);
  const Summary s = Summarize(r);
  EXPECT_EQ(s.hit_rate_pct, 0.0);
  EXPECT_DOUBLE_EQ(s.db_avg_us, 1000.0);
  EXPECT_EQ(s.speedup, 0.0);
}

TEST(SummaryTest, OnlyHitsGivesFullHitRateAndNoSpeedup) {
  LatencyRecorder r;
  r.Record(Op(OpKind::kRead, OpClass::kCacheHit, 0), kT0);  // zero latency too
  const Summary s = Summarize(r);
  EXPECT_DOUBLE_EQ(s.hit_rate_pct, 100.0);
  EXPECT_EQ(s.db_avg_us, 0.0);
  EXPECT_EQ(s.speedup, 0.0);
}

TEST(SummaryTest, StampedeAndStalenessFigures) {
  LatencyRecorder r;
  // 8 hits: 2 stale (ages 2 ms and 30 ms), 1 maybe stale (an age on it is
  // not filed), 1 refreshed early (a SELECT).
  for (int i = 0; i < 8; ++i) {
    OpResult hit = Op(OpKind::kRead, OpClass::kCacheHit, 100'000);
    if (i < 2) {
      hit.events = kEventStale;
      hit.stale_age_ns = i == 0 ? 2'000'000 : 30'000'000;
    } else if (i == 3) {
      hit.events = kEventStaleUncertain;
      hit.stale_age_ns = 900'000'000;
    } else if (i == 2) {
      hit.events = kEventEarlyRefresh | kEventReadSelect;
      hit.db_reads_in_flight = 1;
    }
    r.Record(hit, kT0 + i);
  }
  // 4 misses: 2 filled (one a duplicate fill, 5 SELECTs in flight), 2 waited
  // for another fill (one wait ran out, so that reader filled it too).
  OpResult fill = Op(OpKind::kRead, OpClass::kCacheMiss, 2'000'000);
  fill.events = kEventReadSelect;
  fill.db_reads_in_flight = 3;
  r.Record(fill, kT0 + 10);
  fill.events = kEventReadSelect | kEventDupFill;
  fill.db_reads_in_flight = 5;
  r.Record(fill, kT0 + 11);
  OpResult waited = Op(OpKind::kRead, OpClass::kCacheMiss, 1'000'000);
  waited.events = kEventFillWait;
  r.Record(waited, kT0 + 12);
  waited.events = kEventFillWait | kEventWaitTimeout | kEventReadSelect;
  waited.db_reads_in_flight = 2;
  r.Record(waited, kT0 + kNanosPerSecond);

  const Summary s = Summarize(r);
  EXPECT_EQ(s.stale_reads, 2);
  EXPECT_EQ(s.stale_reads_uncertain, 1);
  EXPECT_EQ(s.dup_fills, 1);
  EXPECT_EQ(s.early_refreshes, 1);
  EXPECT_EQ(s.fill_waits, 2);
  EXPECT_EQ(s.fill_wait_timeouts, 1);
  EXPECT_EQ(s.read_selects, 4);
  EXPECT_EQ(s.db_reads_in_flight_max, 5);
  EXPECT_TRUE(s.has_stale_read_pct);
  EXPECT_DOUBLE_EQ(s.stale_read_pct, 25.0);      // 2 of 8 hits, at least
  EXPECT_DOUBLE_EQ(s.stale_read_max_pct, 37.5);  // 3 of 8 hits, at most
  EXPECT_TRUE(s.has_db_reads_per_miss);
  EXPECT_DOUBLE_EQ(s.db_reads_per_miss, 1.0);  // 4 SELECTs, 4 misses
  EXPECT_TRUE(s.has_stale_age);
  // Two ages: the median is the first (the exact minimum), p99 the maximum.
  EXPECT_DOUBLE_EQ(s.stale_age_p50_ms, 2.0);
  EXPECT_DOUBLE_EQ(s.stale_age_p99_ms, 30.0);
}

TEST(SummaryTest, StaleAgePercentilesMatchSortedSamples) {
  std::mt19937_64 rng(3);
  std::lognormal_distribution<double> dist(std::log(80'000'000.0), 1.0);
  LatencyRecorder a, b;  // two threads, merged
  std::vector<int64_t> ages;
  for (int i = 0; i < 20'000; ++i) {
    OpResult hit = Op(OpKind::kRead, OpClass::kCacheHit, 100'000);
    hit.events = kEventStale;
    hit.stale_age_ns = static_cast<int64_t>(dist(rng));
    ages.push_back(hit.stale_age_ns);
    (i % 2 ? a : b).Record(hit, kT0 + i * 1000);
  }
  a.Merge(b);
  std::sort(ages.begin(), ages.end());
  const Summary s = Summarize(a);
  const double p50 = static_cast<double>(ages[10'000 - 1]) / 1e6;
  const double p99 = static_cast<double>(ages[19'800 - 1]) / 1e6;
  EXPECT_NEAR(s.stale_age_p50_ms, p50, 0.01 * p50);
  EXPECT_NEAR(s.stale_age_p99_ms, p99, 0.01 * p99);
  EXPECT_DOUBLE_EQ(s.stale_read_pct, 100.0);
}

TEST(SummaryTest, StaleAndPerMissRatiosWithNothingToDivideAreZero) {
  LatencyRecorder no_hits;
  OpResult db_read = Op(OpKind::kRead, OpClass::kDbRead, 200'000);
  db_read.events = kEventReadSelect;
  db_read.db_reads_in_flight = 4;
  no_hits.Record(db_read, kT0);
  Summary s = Summarize(no_hits);
  EXPECT_EQ(s.read_selects, 1);
  EXPECT_EQ(s.db_reads_in_flight_max, 4);
  EXPECT_FALSE(s.has_stale_read_pct);
  EXPECT_EQ(s.stale_read_pct, 0.0);
  EXPECT_EQ(s.stale_read_max_pct, 0.0);
  EXPECT_FALSE(s.has_db_reads_per_miss);  // a run without a cache has no misses
  EXPECT_EQ(s.db_reads_per_miss, 0.0);

  LatencyRecorder fresh_hits;
  fresh_hits.Record(Op(OpKind::kRead, OpClass::kCacheHit, 100'000), kT0);
  s = Summarize(fresh_hits);
  EXPECT_TRUE(s.has_stale_read_pct);
  EXPECT_EQ(s.stale_read_pct, 0.0);
  EXPECT_FALSE(s.has_stale_age);
  EXPECT_EQ(s.stale_age_p50_ms, 0.0);
  EXPECT_EQ(s.stale_age_p99_ms, 0.0);
  EXPECT_TRUE(std::isfinite(s.db_reads_per_miss));
}

}  // namespace
}  // namespace cabench
