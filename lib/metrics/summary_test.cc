#include "lib/metrics/summary.h"

#include <cstdint>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/metrics/op_types.h"
#include "lib/metrics/recorder.h"

namespace cabench {
namespace {

constexpr int64_t kT0 = 1'764'081'507LL * kNanosPerSecond;

OpResult Op(OpKind kind, OpClass cls, int64_t ns,
            ErrorSource src = ErrorSource::kNone) {
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
}

TEST(SummaryTest, CountsRatesAndAverages) {
  LatencyRecorder r;
  // 3 hits of 100 us, 1 miss of 3 ms, 1 write of 1 ms, 1 DB error on a read.
  for (int i = 0; i < 3; ++i)
    r.Record(Op(OpKind::kRead, OpClass::kCacheHit, 100'000), kT0 + i);
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

}  // namespace
}  // namespace cabench
