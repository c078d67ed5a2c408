#include "lib/metrics/recorder.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/metrics/histogram.h"
#include "lib/metrics/op_types.h"

namespace cabench {
namespace {

constexpr int64_t kT0 = 1'764'081'507LL * kNanosPerSecond;  // an epoch second

OpResult Hit(int64_t ns) {
  OpResult op;
  op.kind = OpKind::kRead;
  op.op_class = OpClass::kCacheHit;
  op.total_ns = ns;
  op.SetStep(Step::kCacheGet, ns - 1);
  return op;
}

OpResult Miss(int64_t ns) {
  OpResult op;
  op.kind = OpKind::kRead;
  op.op_class = OpClass::kCacheMiss;
  op.total_ns = ns;
  op.SetStep(Step::kCacheGet, ns / 10);
  op.SetStep(Step::kDbSelect, ns / 2);
  op.SetStep(Step::kCacheSet, ns / 5);
  return op;
}

OpResult Write(int64_t ns) {
  OpResult op;
  op.kind = OpKind::kWrite;
  op.op_class = OpClass::kWrite;
  op.total_ns = ns;
  op.SetStep(Step::kDbInsert, ns / 2);
  op.SetStep(Step::kCacheDel, ns / 4);
  return op;
}

OpResult Error(OpKind kind, ErrorSource source, int64_t ns) {
  OpResult op;
  op.kind = kind;
  op.op_class = OpClass::kError;
  op.error_source = source;
  op.total_ns = ns;
  op.SetStep(Step::kCacheGet, ns);
  return op;
}

// A realistic random operation: 80% reads, 75% of them hits; 1% errors.
OpResult RandomOp(std::mt19937_64& rng) {
  std::lognormal_distribution<double> hit_ns(std::log(150'000.0), 0.5);
  std::lognormal_distribution<double> db_ns(std::log(3'000'000.0), 0.8);
  const uint64_t r = rng() % 1000;
  if (r < 10) return Error(r % 2 ? OpKind::kRead : OpKind::kWrite, ErrorSource::kDb, 1000);
  if (r < 600) return Hit(static_cast<int64_t>(hit_ns(rng)));
  if (r < 800) return Miss(static_cast<int64_t>(db_ns(rng)));
  return Write(static_cast<int64_t>(db_ns(rng)));
}

// RandomOp with the events a stampede-prone, stale-prone run would report:
// hits stale 10% of the time (ages lognormal around 50 ms) or refreshed early
// 1%; misses send a SELECT with 1..8 in flight, 20% of them duplicate fills,
// 5% waited (and a fifth of those timed out); some errors carry events too.
OpResult RandomEventOp(std::mt19937_64& rng) {
  std::lognormal_distribution<double> age_ns(std::log(50'000'000.0), 1.0);
  OpResult op = RandomOp(rng);
  const uint64_t r = rng() % 100;
  if (op.op_class == OpClass::kCacheHit) {
    if (r < 10) {
      op.events |= kEventStale;
      op.stale_age_ns = static_cast<int64_t>(age_ns(rng));
    } else if (r == 10) {
      op.events |= kEventEarlyRefresh | kEventReadSelect;
      op.db_reads_in_flight = static_cast<int32_t>(1 + rng() % 8);
    }
  } else if (op.op_class == OpClass::kCacheMiss || op.op_class == OpClass::kError) {
    if (r < 5) {
      op.events |= kEventFillWait;
      if (r == 0) op.events |= kEventWaitTimeout;
    }
    if (r >= 5 || r == 0) {
      op.events |= kEventReadSelect;
      op.db_reads_in_flight = static_cast<int32_t>(1 + rng() % 8);
      if (r >= 80) op.events |= kEventDupFill;
    }
  }
  return op;
}

void ExpectSameSecond(const SecondStats& a, const SecondStats& b, size_t i) {
  SCOPED_TRACE(::testing::Message() << "second index " << i);
  EXPECT_EQ(a.count(), b.count());
  EXPECT_EQ(a.min(), b.min());
  EXPECT_EQ(a.max(), b.max());
  EXPECT_EQ(a.class_count, b.class_count);
  EXPECT_EQ(a.class_total_ns, b.class_total_ns);
  EXPECT_EQ(a.class_max_ns, b.class_max_ns);
  EXPECT_EQ(a.class_buckets, b.class_buckets);
  EXPECT_EQ(a.event_counts, b.event_counts);
  EXPECT_EQ(a.db_reads_in_flight_max, b.db_reads_in_flight_max);
  EXPECT_EQ(a.stale_age_buckets, b.stale_age_buckets);
  EXPECT_EQ(a.stale_age_max_ns, b.stale_age_max_ns);
}

void ExpectSameRecorder(const LatencyRecorder& a, const LatencyRecorder& b) {
  EXPECT_EQ(a.ops(), b.ops());
  EXPECT_EQ(a.reads(), b.reads());
  EXPECT_EQ(a.writes(), b.writes());
  EXPECT_EQ(a.total_ns(), b.total_ns());
  for (int e = 0; e < 3; ++e) {
    EXPECT_EQ(a.errors_by_source(static_cast<ErrorSource>(e)),
              b.errors_by_source(static_cast<ErrorSource>(e)));
  }
  for (int c = 0; c < kNumOpClasses; ++c) {
    EXPECT_EQ(a.class_histogram(static_cast<OpClass>(c)),
              b.class_histogram(static_cast<OpClass>(c)))
        << "class " << c;
  }
  for (int s = 0; s < kNumSteps; ++s) {
    EXPECT_EQ(a.step_histogram(static_cast<Step>(s)), b.step_histogram(static_cast<Step>(s)))
        << "step " << s;
  }
  EXPECT_EQ(a.Overall(), b.Overall());
  for (OpEvent e : {kEventStale, kEventDupFill, kEventEarlyRefresh, kEventFillWait,
                    kEventWaitTimeout, kEventReadSelect}) {
    EXPECT_EQ(a.event_count(e), b.event_count(e)) << "event " << static_cast<int>(e);
  }
  EXPECT_EQ(a.db_reads_in_flight_max(), b.db_reads_in_flight_max());
  EXPECT_EQ(a.stale_age(), b.stale_age());
  EXPECT_EQ(a.first_start_ns(), b.first_start_ns());
  EXPECT_EQ(a.last_end_ns(), b.last_end_ns());
  EXPECT_EQ(a.first_second(), b.first_second());
  ASSERT_EQ(a.seconds().size(), b.seconds().size());
  for (size_t i = 0; i < a.seconds().size(); ++i) {
    ExpectSameSecond(a.seconds()[i], b.seconds()[i], i);
  }
}

TEST(LatencyRecorderTest, EmptyRecorder) {
  LatencyRecorder r;
  EXPECT_EQ(r.ops(), 0);
  EXPECT_EQ(r.total_ns(), 0);
  EXPECT_EQ(r.first_start_ns(), 0);
  EXPECT_EQ(r.last_end_ns(), 0);
  EXPECT_TRUE(r.seconds().empty());
  EXPECT_EQ(r.Overall().Count(), 0);
}

TEST(LatencyRecorderTest, FilesClassesKindsStepsAndErrors) {
  LatencyRecorder r;
  r.Record(Hit(100'000), kT0);
  r.Record(Hit(200'000), kT0 + 1000);
  r.Record(Miss(3'000'000), kT0 + 2000);
  r.Record(Write(2'000'000), kT0 + 3000);
  r.Record(Error(OpKind::kRead, ErrorSource::kCache, 50'000'000), kT0 + 4000);
  r.Record(Error(OpKind::kWrite, ErrorSource::kDb, 7), kT0 + 5000);

  EXPECT_EQ(r.ops(), 6);
  EXPECT_EQ(r.reads(), 3);  // that succeeded: ops == reads + writes + errors
  EXPECT_EQ(r.writes(), 1);
  EXPECT_EQ(r.cache_hits(), 2);
  EXPECT_EQ(r.cache_misses(), 1);
  EXPECT_EQ(r.class_count(OpClass::kWrite), 1);
  EXPECT_EQ(r.errors(), 2);
  EXPECT_EQ(r.errors_by_source(ErrorSource::kCache), 1);
  EXPECT_EQ(r.errors_by_source(ErrorSource::kDb), 1);
  EXPECT_EQ(r.errors_by_source(ErrorSource::kNone), 0);
  EXPECT_EQ(r.total_ns(), 100'000 + 200'000 + 3'000'000 + 2'000'000 + 50'000'000 + 7);

  // Overall excludes errors.
  const Histogram overall = r.Overall();
  EXPECT_EQ(overall.Count(), 4);
  EXPECT_EQ(overall.Max(), 3'000'000);
  EXPECT_EQ(r.class_histogram(OpClass::kError).Max(), 50'000'000);
  EXPECT_EQ(r.class_histogram(OpClass::kCacheHit).Sum(), 300'000);

  // Steps: only non-error operations' steps.
  EXPECT_EQ(r.step_histogram(Step::kCacheGet).Count(), 3);  // 2 hits + 1 miss
  EXPECT_EQ(r.step_histogram(Step::kDbSelect).Count(), 1);
  EXPECT_EQ(r.step_histogram(Step::kDbSelect).Sum(), 1'500'000);
  EXPECT_EQ(r.step_histogram(Step::kCacheSet).Count(), 1);
  EXPECT_EQ(r.step_histogram(Step::kDbInsert).Sum(), 1'000'000);
  EXPECT_EQ(r.step_histogram(Step::kCacheDel).Sum(), 500'000);

  EXPECT_EQ(r.first_start_ns(), kT0);
  EXPECT_EQ(r.last_end_ns(), kT0 + 4000 + 50'000'000);
  ASSERT_EQ(r.seconds().size(), 1u);
  EXPECT_EQ(r.first_second(), kT0 / kNanosPerSecond);
  const SecondStats& s = r.seconds()[0];
  EXPECT_EQ(s.count(), 6);
  EXPECT_EQ(s.reads(), 3);
  EXPECT_EQ(s.writes(), 1);
  EXPECT_EQ(s.errors(), 2);
  EXPECT_EQ(s.min(), 7);
  EXPECT_EQ(s.max(), 50'000'000);
}

TEST(LatencyRecorderTest, MasksOutOfRangeEnumsAndNegativeLatency) {
  LatencyRecorder r;
  OpResult op = Error(OpKind::kRead, static_cast<ErrorSource>(9), -5);
  r.Record(op, kT0);
  EXPECT_EQ(r.errors(), 1);
  EXPECT_EQ(r.errors_by_source(ErrorSource::kNone), 1);
  EXPECT_EQ(r.class_histogram(OpClass::kError).Max(), 0);
  OpResult weird = Hit(10);
  weird.steps_run = 0xff;  // bits beyond kNumSteps are ignored
  r.Record(weird, kT0);
  EXPECT_EQ(r.step_histogram(Step::kCacheDel).Count(), 1);
  EXPECT_EQ(r.ops(), 2);
  OpResult bogus = Hit(10);
  bogus.op_class = static_cast<OpClass>(200);  // counts as an error
  r.Record(bogus, kT0);
  EXPECT_EQ(r.errors(), 2);
  EXPECT_EQ(r.ops(), 3);
}

TEST(LatencyRecorderTest, OpIsFiledUnderTheSecondItStarted) {
  LatencyRecorder r;
  // Starts in the last nanosecond of second T0 and runs 2 s: still T0.
  r.Record(Miss(2 * kNanosPerSecond), kT0 + kNanosPerSecond - 1);
  r.Record(Hit(1000), kT0 + kNanosPerSecond);  // first nanosecond of T0+1
  r.Record(Hit(1000), kT0 + 3 * kNanosPerSecond + 5);
  ASSERT_EQ(r.seconds().size(), 4u);
  EXPECT_EQ(r.first_second(), kT0 / kNanosPerSecond);
  EXPECT_EQ(r.seconds()[0].cache_misses(), 1);
  EXPECT_EQ(r.seconds()[0].count(), 1);
  EXPECT_EQ(r.seconds()[1].cache_hits(), 1);
  EXPECT_EQ(r.seconds()[1].count(), 1);
  EXPECT_EQ(r.seconds()[2].count(), 0);  // a gap is kept, empty
  EXPECT_EQ(r.seconds()[2].min(), 0);
  EXPECT_EQ(r.seconds()[3].count(), 1);
}

TEST(LatencyRecorderTest, EarlierSecondAfterLaterOnesIsPrepended) {
  LatencyRecorder r;
  r.Record(Hit(1000), kT0 + 2 * kNanosPerSecond);
  r.Record(Hit(2000), kT0);
  r.Record(Hit(3000), kT0 + 2 * kNanosPerSecond + 1);  // back to the later one
  ASSERT_EQ(r.seconds().size(), 3u);
  EXPECT_EQ(r.first_second(), kT0 / kNanosPerSecond);
  EXPECT_EQ(r.seconds()[0].count(), 1);
  EXPECT_EQ(r.seconds()[0].min(), 2000);
  EXPECT_EQ(r.seconds()[1].count(), 0);
  EXPECT_EQ(r.seconds()[2].count(), 2);
  EXPECT_EQ(r.seconds()[2].total_ns(), 4000);
}

TEST(LatencyRecorderTest, NegativeStartTimesUseFloorSeconds) {
  LatencyRecorder r;
  r.Record(Hit(10), -1);
  r.Record(Hit(10), 0);
  ASSERT_EQ(r.seconds().size(), 2u);
  EXPECT_EQ(r.first_second(), -1);
  EXPECT_EQ(r.seconds()[0].count(), 1);
  EXPECT_EQ(r.seconds()[1].count(), 1);
}

TEST(LatencyRecorderTest, TimeSeriesSpanIsBounded) {
  LatencyRecorder r;
  r.Record(Hit(1000), kT0);
  r.Record(Hit(1000), kT0 + 2 * LatencyRecorder::kMaxSeconds * kNanosPerSecond);
  r.Record(Hit(1000), kT0 - 2 * LatencyRecorder::kMaxSeconds * kNanosPerSecond);
  r.Record(Hit(1000), INT64_MIN);
  r.Record(Hit(1000), INT64_MAX);
  EXPECT_EQ(r.ops(), 5);  // still counted everywhere else
  EXPECT_EQ(r.ops_outside_time_series(), 4);
  ASSERT_EQ(r.seconds().size(), 1u);
  EXPECT_EQ(r.seconds()[0].count(), 1);
}

TEST(LatencyRecorderTest, PerSecondBucketsAddUpToTotals) {
  std::mt19937_64 rng(99);
  LatencyRecorder r;
  int64_t t = kT0 + 123;
  for (int i = 0; i < 200'000; ++i) {
    const OpResult op = RandomOp(rng);
    r.Record(op, t);
    t += 50'000;  // 20,000 starts per second: ~10 seconds
  }
  ASSERT_GE(r.seconds().size(), 10u);
  int64_t count = 0, reads = 0, writes = 0, hits = 0, misses = 0, errors = 0, total = 0;
  for (const SecondStats& s : r.seconds()) {
    count += s.count();
    reads += s.reads();
    writes += s.writes();
    hits += s.cache_hits();
    misses += s.cache_misses();
    errors += s.errors();
    total += s.total_ns();
    EXPECT_EQ(s.count(), s.reads() + s.writes() + s.errors());
  }
  EXPECT_EQ(count, r.ops());
  EXPECT_EQ(reads, r.reads());
  EXPECT_EQ(writes, r.writes());
  EXPECT_EQ(hits, r.cache_hits());
  EXPECT_EQ(misses, r.cache_misses());
  EXPECT_EQ(errors, r.errors());
  EXPECT_EQ(total, r.total_ns());
  EXPECT_GT(errors, 0);
}

TEST(LatencyRecorderTest, PerSecondP99IsCloseToExact) {
  std::mt19937_64 rng(5);
  std::lognormal_distribution<double> dist(std::log(150'000.0), 1.0);
  LatencyRecorder r;
  std::vector<int64_t> samples;
  for (int i = 0; i < 50'000; ++i) {
    const int64_t ns = static_cast<int64_t>(dist(rng));
    samples.push_back(ns);
    r.Record(Hit(ns), kT0 + i);
  }
  std::sort(samples.begin(), samples.end());
  ASSERT_EQ(r.seconds().size(), 1u);
  const double exact = static_cast<double>(samples[static_cast<size_t>(0.99 * 50'000) - 1]);
  const double got = r.seconds()[0].ClassPercentile(OpClass::kCacheHit, 99);
  EXPECT_NEAR(got, exact, 0.035 * exact);
  EXPECT_EQ(r.seconds()[0].ClassPercentile(OpClass::kCacheMiss, 99), 0.0);
  EXPECT_EQ(r.seconds()[0].ClassPercentile(OpClass::kError, 99), 0.0);
  EXPECT_EQ(r.seconds()[0].ClassPercentile(OpClass::kCacheHit, 100),
            static_cast<double>(samples.back()));
}

TEST(LatencyRecorderTest, MergingRecordersEqualsRecordingInOne) {
  constexpr int kThreads = 4;
  std::mt19937_64 rng(2024);
  LatencyRecorder single;
  std::vector<LatencyRecorder> parts(kThreads);
  for (int th = 0; th < kThreads; ++th) {
    // Threads start at different times, so their series are offset and
    // thread 3 starts before everyone else.
    int64_t t = kT0 + (th == 3 ? -3 : th) * kNanosPerSecond + th * 777;
    for (int i = 0; i < 30'000; ++i) {
      const OpResult op = RandomOp(rng);
      parts[static_cast<size_t>(th)].Record(op, t);
      single.Record(op, t);
      t += 100'000 + static_cast<int64_t>(rng() % 200'000);
    }
  }
  LatencyRecorder merged;
  for (const LatencyRecorder& p : parts) merged.Merge(p);
  ExpectSameRecorder(merged, single);

  // Merging into a non-empty recorder (parts[1] into parts[0] and so on) is
  // the same; so is merging an empty recorder.
  LatencyRecorder chained = parts[2];
  chained.Merge(parts[0]);
  chained.Merge(LatencyRecorder());
  chained.Merge(parts[3]);
  chained.Merge(parts[1]);
  ExpectSameRecorder(chained, single);

  // Recording continues correctly after a merge (the cached second is reset).
  const OpResult op = Hit(1234);
  merged.Record(op, kT0 + 5);
  single.Record(op, kT0 + 5);
  ExpectSameRecorder(merged, single);
}

TEST(LatencyRecorderTest, MergingEventsEqualsRecordingInOne) {
  constexpr int kThreads = 3;
  std::mt19937_64 rng(77);
  LatencyRecorder single;
  std::vector<LatencyRecorder> parts(kThreads);
  for (int th = 0; th < kThreads; ++th) {
    int64_t t = kT0 + (th == 2 ? -2 : th) * kNanosPerSecond + th * 313;
    for (int i = 0; i < 20'000; ++i) {
      const OpResult op = RandomEventOp(rng);
      parts[static_cast<size_t>(th)].Record(op, t);
      single.Record(op, t);
      t += 100'000 + static_cast<int64_t>(rng() % 200'000);
    }
  }
  // Only one part has stale reads at all: the merged histogram must be
  // allocated on the way.
  OpResult stale = Hit(1000);
  stale.events = kEventStale;
  stale.stale_age_ns = 123'456'789;
  LatencyRecorder only_stale;
  only_stale.Record(stale, kT0 + 42);
  single.Record(stale, kT0 + 42);

  LatencyRecorder merged;
  for (const LatencyRecorder& p : parts) merged.Merge(p);
  merged.Merge(only_stale);
  ExpectSameRecorder(merged, single);
  EXPECT_GT(merged.stale_reads(), 1000);
  EXPECT_GT(merged.dup_fills(), 0);
  EXPECT_GT(merged.fill_wait_timeouts(), 0);
  EXPECT_EQ(merged.db_reads_in_flight_max(), 8);
  EXPECT_EQ(merged.stale_age().Count(), merged.stale_reads());

  LatencyRecorder chained = only_stale;
  for (int th = kThreads - 1; th >= 0; --th) chained.Merge(parts[static_cast<size_t>(th)]);
  ExpectSameRecorder(chained, single);

  // The per-second event counts add up to the run's.
  for (OpEvent e : {kEventStale, kEventDupFill, kEventEarlyRefresh, kEventFillWait,
                    kEventWaitTimeout, kEventReadSelect}) {
    int64_t sum = 0;
    for (const SecondStats& sec : merged.seconds()) sum += sec.EventCount(e);
    EXPECT_EQ(sum, merged.event_count(e)) << "event " << static_cast<int>(e);
  }
}

TEST(LatencyRecorderTest, FilesEventsPerRunAndPerSecond) {
  LatencyRecorder r;
  OpResult stale = Hit(1000);
  stale.events = kEventStale;
  stale.stale_age_ns = 5'000'000;
  r.Record(stale, kT0);
  stale.stale_age_ns = -7;  // counts as 0
  r.Record(stale, kT0 + kNanosPerSecond);
  OpResult fill = Miss(3'000'000);
  fill.events = kEventReadSelect | kEventDupFill;
  fill.db_reads_in_flight = 6;
  r.Record(fill, kT0 + 1);
  OpResult waited = Miss(4'000'000);
  waited.events = kEventFillWait | kEventWaitTimeout | kEventReadSelect;
  waited.db_reads_in_flight = 2;
  r.Record(waited, kT0 + kNanosPerSecond + 1);
  // An error still reports its events; a refresh with a bogus negative count.
  OpResult failed = Error(OpKind::kRead, ErrorSource::kCache, 10);
  failed.events = kEventEarlyRefresh | kEventReadSelect;
  failed.db_reads_in_flight = -3;
  r.Record(failed, kT0 + 2);
  // In flight alone (no event bit) still counts toward the maximum.
  OpResult in_flight_only = Write(1000);
  in_flight_only.db_reads_in_flight = 9;
  r.Record(in_flight_only, kT0 + kNanosPerSecond + 2);
  // Bits beyond the six events are ignored.
  OpResult weird = Hit(10);
  weird.events = 0xc0;
  r.Record(weird, kT0 + 3);
  // Outside the series: counted in the run, not per second.
  OpResult far = Hit(10);
  far.events = kEventStale;
  far.stale_age_ns = 1'000'000;
  far.db_reads_in_flight = 20;
  r.Record(far, kT0 + 2 * LatencyRecorder::kMaxSeconds * kNanosPerSecond);

  EXPECT_EQ(r.stale_reads(), 3);
  EXPECT_EQ(r.dup_fills(), 1);
  EXPECT_EQ(r.early_refreshes(), 1);
  EXPECT_EQ(r.fill_waits(), 1);
  EXPECT_EQ(r.fill_wait_timeouts(), 1);
  EXPECT_EQ(r.read_selects(), 3);
  EXPECT_EQ(r.db_reads_in_flight_max(), 20);
  EXPECT_EQ(r.event_count(static_cast<OpEvent>(3)), 0);  // not a single bit
  EXPECT_EQ(r.stale_age().Count(), 3);
  EXPECT_EQ(r.stale_age().Min(), 0);
  EXPECT_EQ(r.stale_age().Max(), 5'000'000);
  EXPECT_EQ(r.ops_outside_time_series(), 1);

  ASSERT_EQ(r.seconds().size(), 2u);
  const SecondStats& s0 = r.seconds()[0];
  const SecondStats& s1 = r.seconds()[1];
  EXPECT_EQ(s0.stale_reads(), 1);
  EXPECT_EQ(s0.dup_fills(), 1);
  EXPECT_EQ(s0.early_refreshes(), 1);
  EXPECT_EQ(s0.fill_waits(), 0);
  EXPECT_EQ(s0.read_selects(), 2);
  EXPECT_EQ(s0.db_reads_in_flight_max, 6);
  EXPECT_EQ(s0.stale_age_max_ns, 5'000'000);
  EXPECT_EQ(s0.StaleAgePercentile(99), 5'000'000.0);  // the top rank is exact
  EXPECT_EQ(s1.stale_reads(), 1);
  EXPECT_EQ(s1.fill_waits(), 1);
  EXPECT_EQ(s1.fill_wait_timeouts(), 1);
  EXPECT_EQ(s1.read_selects(), 1);
  EXPECT_EQ(s1.db_reads_in_flight_max, 9);
  EXPECT_EQ(s1.StaleAgePercentile(50), 0.0);
  EXPECT_EQ(SecondStats().StaleAgePercentile(50), 0.0);
}

TEST(LatencyRecorderTest, OpenLoopFilesEventsOnce) {
  LatencyRecorder r;
  OpResult op = Hit(1000);
  op.events = kEventStale | kEventEarlyRefresh | kEventReadSelect;
  op.stale_age_ns = 3'000'000;
  op.db_reads_in_flight = 4;
  r.RecordOpenLoop(op, kT0, 500);
  EXPECT_EQ(r.stale_reads(), 1);
  EXPECT_EQ(r.early_refreshes(), 1);
  EXPECT_EQ(r.read_selects(), 1);
  EXPECT_EQ(r.db_reads_in_flight_max(), 4);
  EXPECT_EQ(r.stale_age().Count(), 1);
  ASSERT_EQ(r.seconds().size(), 1u);
  EXPECT_EQ(r.seconds()[0].stale_reads(), 1);
  EXPECT_EQ(r.seconds()[0].db_reads_in_flight_max, 4);
}

TEST(LatencyRecorderTest, StaleAgePercentilesAreCloseToExact) {
  std::mt19937_64 rng(8);
  std::lognormal_distribution<double> dist(std::log(200'000'000.0), 1.2);
  LatencyRecorder r;
  std::vector<int64_t> ages;
  OpResult op = Hit(1000);
  op.events = kEventStale;
  for (int i = 0; i < 40'000; ++i) {
    op.stale_age_ns = static_cast<int64_t>(dist(rng));
    ages.push_back(op.stale_age_ns);
    r.Record(op, kT0 + i);
    r.Record(Hit(1000), kT0 + i);  // fresh hits carry no age
  }
  std::sort(ages.begin(), ages.end());
  ASSERT_EQ(r.seconds().size(), 1u);
  const SecondStats& sec = r.seconds()[0];
  for (double p : {50.0, 90.0, 99.0}) {
    SCOPED_TRACE(::testing::Message() << "p" << p);
    const double exact = static_cast<double>(
        ages[static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(ages.size()))) - 1]);
    EXPECT_NEAR(sec.StaleAgePercentile(p), exact, 0.035 * exact);
    EXPECT_NEAR(r.stale_age().Percentile(p), exact, 0.01 * exact);
  }
  EXPECT_EQ(sec.StaleAgePercentile(100), static_cast<double>(ages.back()));
  EXPECT_EQ(r.stale_age().Max(), ages.back());
}

TEST(LatencyRecorderTest, StaleAgeMemoryIsSpentOnlyByStaleReads) {
  LatencyRecorder r;
  OpResult busy = Miss(1000);
  busy.events = kEventReadSelect | kEventDupFill;
  busy.db_reads_in_flight = 3;
  r.Record(busy, kT0);
  r.Record(Hit(1000), kT0);  // the second's hit histogram exists already
  const size_t before = r.MemoryBytes();
  EXPECT_EQ(r.stale_age().Count(), 0);
  OpResult stale = Hit(1000);
  stale.events = kEventStale;
  stale.stale_age_ns = 1000;
  r.Record(stale, kT0 + 1);
  EXPECT_EQ(r.MemoryBytes(), before + sizeof(int64_t) * Histogram::kNumBuckets +
                                 sizeof(uint32_t) * CoarseBuckets::kNumBuckets);
}

TEST(LatencyRecorderTest, ClearForgetsEverything) {
  LatencyRecorder r;
  r.Record(Hit(1000), kT0);
  OpResult stale = Hit(1000);
  stale.events = kEventStale | kEventReadSelect;
  stale.stale_age_ns = 1000;
  stale.db_reads_in_flight = 5;
  r.Record(stale, kT0);
  r.Clear();
  ExpectSameRecorder(r, LatencyRecorder());
  r.Record(Hit(1000), kT0 + 7 * kNanosPerSecond);
  EXPECT_EQ(r.first_second(), kT0 / kNanosPerSecond + 7);
  EXPECT_EQ(r.seconds().size(), 1u);
}

TEST(LatencyRecorderTest, MemoryGrowsWithSecondsNotOps) {
  LatencyRecorder few, many;
  std::mt19937_64 rng(1);
  for (int64_t i = 0; i < 1000; ++i) few.Record(RandomOp(rng), kT0 + i * 5'000'000);
  for (int64_t i = 0; i < 200'000; ++i) many.Record(RandomOp(rng), kT0 + i * 25'000);
  // Both span 5 seconds; 200x more operations cost no more storage.
  EXPECT_EQ(few.seconds().size(), 5u);
  EXPECT_EQ(many.seconds().size(), 5u);
  EXPECT_EQ(few.seconds().capacity(), many.seconds().capacity());
  EXPECT_EQ(few.MemoryBytes(), many.MemoryBytes());
  // 13 histograms (~410 KB) plus 16 reserved seconds (~11 KB each).
  EXPECT_LT(many.MemoryBytes(), size_t{600'000});
}

}  // namespace
}  // namespace cabench
