#include "lib/engine/run.h"

#include <map>
#include <set>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/metrics/json.h"
#include "lib/metrics/names.h"
#include "lib/metrics/time_series.h"

namespace cabench {
namespace {

constexpr int64_t kT0 = 1'764'081'507LL * kNanosPerSecond;

OpResult Op(OpClass cls, int64_t ns) {
  OpResult op;
  op.kind = cls == OpClass::kWrite ? OpKind::kWrite : OpKind::kRead;
  op.op_class = cls;
  op.total_ns = ns;
  return op;
}

std::map<std::string, double> AsMap(const std::vector<NamedValue>& v) {
  std::map<std::string, double> m;
  for (const auto& [name, value] : v) {
    EXPECT_TRUE(m.emplace(name, value).second) << "twice: " << name;
  }
  return m;
}

TEST(RunAggregateTest, TheLastThreadToMergeFinishesTheRun) {
  RunAggregate run(3);
  ThreadResult t;
  t.recorder.Record(Op(OpClass::kCacheHit, 1000), kT0);
  t.insert_retries = 1;
  EXPECT_FALSE(run.Merge(t));
  EXPECT_FALSE(run.Merge(t));
  EXPECT_TRUE(run.Merge(t));
  EXPECT_EQ(run.totals().recorder.ops(), 3);
  EXPECT_EQ(run.totals().insert_retries, 3);
  run.control().Abort(absl::InternalError("x"));
  run.Reset();
  EXPECT_FALSE(run.control().stopping());
  EXPECT_EQ(run.totals().recorder.ops(), 0);
  EXPECT_FALSE(run.Merge(t));  // a new run: three merges again
}

TEST(RunCountersTest, ThroughputIsOperationsOverTheWallSpanOfAllThreads) {
  ThreadResult t;
  // Thread A: two ops in the first 10 ms; thread B: one op ending at 1 s.
  t.recorder.Record(Op(OpClass::kCacheHit, 1'000'000), kT0);
  t.recorder.Record(Op(OpClass::kCacheMiss, 9'000'000), kT0 + 1'000'000);
  t.recorder.Record(Op(OpClass::kWrite, 10'000'000), kT0 + 990'000'000);
  const Summary s = Summarize(t.recorder);
  const auto m = AsMap(RunCounters(t, s, RunFacts{}));
  EXPECT_DOUBLE_EQ(m.at("wall_s"), 1.0);
  EXPECT_DOUBLE_EQ(m.at("ops_per_s"), 3.0);
  EXPECT_DOUBLE_EQ(m.at("ops"), 3.0);
  EXPECT_DOUBLE_EQ(m.at("hit_rate_pct"), 50.0);
  EXPECT_DOUBLE_EQ(m.at("hit_avg_us"), 1000.0);
  EXPECT_DOUBLE_EQ(m.at("miss_vs_hit"), 9.0);
  EXPECT_DOUBLE_EQ(m.at("db_avg_us"), 9500.0);  // the miss and the write
  EXPECT_DOUBLE_EQ(m.at("speedup"), 9.5);
  // Classes without operations, and steps that never ran, are absent.
  EXPECT_EQ(m.count("db_read_avg_us"), 0u);
  EXPECT_EQ(m.count("fallback_p99_us"), 0u);
  EXPECT_EQ(m.count("get_avg_us"), 0u);
  EXPECT_EQ(m.count("error_max_us"), 0u);
  EXPECT_EQ(m.count("cache_hit_avg_us"), 0u);  // one name per number
}

TEST(RunCountersTest, ARunWithoutACacheReportsNoHitRate) {
  ThreadResult t;
  t.recorder.Record(Op(OpClass::kDbRead, 100'000), kT0);
  t.recorder.Record(Op(OpClass::kWrite, 300'000), kT0 + 1000);
  const Summary s = Summarize(t.recorder);
  RunFacts facts;
  facts.cache = false;
  facts.predicted_hit_rate_pct = 0;
  const auto m = AsMap(RunCounters(t, s, facts));
  for (const char* absent : {"hit_rate_pct", "predicted_hit_rate_pct", "speedup", "miss_vs_hit",
                             "cache_hits", "cache_misses", "fallback_reads", "hit_avg_us"}) {
    EXPECT_EQ(m.count(absent), 0u) << absent;
  }
  EXPECT_DOUBLE_EQ(m.at("db_reads"), 1.0);
  EXPECT_DOUBLE_EQ(m.at("reads"), 1.0);
  EXPECT_DOUBLE_EQ(m.at("db_read_avg_us"), 100.0);
  EXPECT_DOUBLE_EQ(m.at("db_avg_us"), 200.0);
}

TEST(RunCountersTest, StaleReadsAreAnIntervalOnlyWithKeyVersionsAndACache) {
  ThreadResult t;
  // 10 hits: 1 certainly stale, 3 maybe stale, 6 fresh.
  for (int i = 0; i < 10; ++i) {
    OpResult hit = Op(OpClass::kCacheHit, 1000);
    if (i == 0) {
      hit.events = kEventStale;
      hit.stale_age_ns = 4'000'000;
    } else if (i <= 3) {
      hit.events = kEventStaleUncertain;
    }
    t.recorder.Record(hit, kT0 + i);
  }
  const Summary s = Summarize(t.recorder);
  RunFacts facts;
  facts.key_versions = true;
  auto m = AsMap(RunCounters(t, s, facts));
  EXPECT_DOUBLE_EQ(m.at("stale_reads"), 1.0);
  EXPECT_DOUBLE_EQ(m.at("stale_reads_uncertain"), 3.0);
  EXPECT_DOUBLE_EQ(m.at("stale_read_pct"), 10.0);      // at least 1 of 10 hits
  EXPECT_DOUBLE_EQ(m.at("stale_read_max_pct"), 40.0);  // at most 4 of 10
  // One stale read cannot bound a median (6 can): no age is reported.
  EXPECT_EQ(m.count("stale_age_p50_ms"), 0u);
  // Without key versions, or without a cache, nothing was counted: absent.
  for (bool cache : {true, false}) {
    facts.cache = cache;
    facts.key_versions = !cache;
    m = AsMap(RunCounters(t, s, facts));
    for (const char* absent :
         {"stale_reads", "stale_reads_uncertain", "stale_read_pct", "stale_read_max_pct"}) {
      EXPECT_EQ(m.count(absent), 0u) << absent << " cache " << cache;
    }
  }
}

TEST(RunCountersTest, EveryNameComesFromTheTable) {
  ThreadResult t;
  // Enough operations of each class to bound its 99.9th percentile.
  for (int i = 0; i < 3688; ++i) {
    for (int c = 0; c < kNumOpClasses; ++c) {
      OpResult op = Op(static_cast<OpClass>(c), 1000 + c);
      for (int st = 0; st < kNumSteps; ++st) op.SetStep(static_cast<Step>(st), 10);
      t.recorder.Record(op, kT0 + c);
    }
  }
  const Summary s = Summarize(t.recorder);
  RunFacts facts;
  facts.predicted_hit_rate_pct = 50;
  std::set<std::string> known;
  for (int i = 0; i < kNumCounters; ++i) known.emplace(CounterName(static_cast<CounterId>(i)));
  for (const auto& [name, value] : RunCounters(t, s, facts)) {
    bool ok = known.count(name) > 0;
    for (int c = 0; c < kNumOpClasses && !ok; ++c) {
      ok = name.rfind(std::string(OpClassName(static_cast<OpClass>(c))) + "_", 0) == 0;
    }
    for (int st = 0; st < kNumSteps && !ok; ++st) {
      ok = name.rfind(std::string(StepName(static_cast<Step>(st))) + "_", 0) == 0;
    }
    EXPECT_TRUE(ok) << name;
  }
  const auto m = AsMap(RunCounters(t, s, facts));
  EXPECT_EQ(m.count("fallback_p999_us"), 1u);
  EXPECT_EQ(m.count("fallback_p999_us_ci_hi"), 1u);
  EXPECT_EQ(m.count("p999_us_ci_lo"), 1u);
  EXPECT_EQ(m.count("select_p99_us"), 1u);
  EXPECT_EQ(m.count("error_avg_us"), 0u);  // errors have max only
  EXPECT_DOUBLE_EQ(m.at("error_max_us"), 1.005);
}

// A percentile is reported with its 95% interval only when the samples can
// bound it: known answers at the edges (368 operations bound a p99, 367 do
// not) and for the ranks (values 1..N us, so a value is its rank in us).
TEST(RunCountersTest, PercentilesComeWithTheirIntervalOrNotAtAll) {
  for (int n : {367, 368}) {
    ThreadResult t;
    for (int i = 1; i <= n; ++i) t.recorder.Record(Op(OpClass::kCacheHit, 1000 * i), kT0 + i);
    const Summary s = Summarize(t.recorder);
    const auto m = AsMap(RunCounters(t, s, RunFacts{}));
    // The median: ranks 165..203 of 367 and 165..204 of 368 (scipy.stats.binom).
    EXPECT_NEAR(m.at("p50_us_ci_lo"), 165, 1) << n;
    EXPECT_NEAR(m.at("hit_p50_us_ci_hi"), n == 367 ? 203 : 204, 1) << n;
    EXPECT_LE(m.at("p50_us_ci_lo"), m.at("p50_us"));
    EXPECT_GE(m.at("p50_us_ci_hi"), m.at("p50_us"));
    for (const char* name : {"p99_us", "p99_us_ci_lo", "p99_us_ci_hi", "hit_p99_us",
                             "hit_p99_us_ci_lo", "hit_p99_us_ci_hi"}) {
      EXPECT_EQ(m.count(name), n == 368 ? 1u : 0u) << name << " of " << n;
    }
    if (n == 368) {
      // Ranks 360..368: the 360th value and the maximum.
      EXPECT_NEAR(m.at("p99_us_ci_lo"), 360, 2);
      EXPECT_DOUBLE_EQ(m.at("p99_us_ci_hi"), 368);
    }
    for (const char* name : {"p999_us", "p999_us_ci_lo", "hit_p999_us", "hit_p999_us_ci_hi"}) {
      EXPECT_EQ(m.count(name), 0u) << name << " of " << n;
    }
    const std::string why = PercentilesLeftOut(s);
    EXPECT_NE(why.find("hit_p999_us: too few operations"), std::string::npos) << why;
    EXPECT_EQ(why.find("hit_p99_us") != std::string::npos, n == 367) << why;
    EXPECT_NE(why.find("p99 368, p999 3688)"), std::string::npos) << why;
  }
}

}  // namespace
}  // namespace cabench

namespace cabench {
namespace {

// Two threads' worth of operations of every kind, with events, causes,
// open-loop lags and stale ages, into `r`.
void PlantThread(int t, LatencyRecorder* r) {
  for (int i = 0; i < 300; ++i) {
    const auto cls = static_cast<OpClass>((i + t) % kNumOpClasses);
    OpResult op = Op(cls, 1'000 * (1 + (i * 37 + t * 11) % 997));
    if (cls == OpClass::kCacheMiss) {
      op.miss_cause = static_cast<MissCause>(1 + i % kNumMissCauses);
      op.events |= kEventReadSelect;
      op.db_reads_in_flight = 1 + (i + t) % 5;
      op.SetStep(Step::kDbSelect, 700);
    }
    if (cls == OpClass::kCacheHit && i % 7 == 0) {
      op.events |= (i % 2 ? kEventStale : kEventStaleUncertain);
      op.stale_age_ns = 1'000'000 * (i % 13);
    }
    if (cls == OpClass::kError) op.error_source = ErrorSource::kDb;
    op.SetStep(Step::kCacheGet, 300 + i);
    r->RecordOpenLoop(op, kT0 + 1'000'000LL * (3 * i + t), 2'000LL * (i % 9));
  }
}

std::map<std::string, std::string> RecordOf(const LatencyRecorder& r) {
  absl::StatusOr<std::map<std::string, std::string>> fields =
      ParseFlatJsonStrings(HistogramsJson(r));
  EXPECT_TRUE(fields.ok()) << fields.status();
  return fields.value_or(std::map<std::string, std::string>());
}

// A sharded run's exactness rests on this: the records two processes write,
// added into one recorder, give every counter one process running both
// threads would have reported.
TEST(RunRecordTest, RecordsAddedUpGiveTheCountersOfOneRun) {
  ThreadResult one;
  LatencyRecorder a, b;
  PlantThread(0, &a);
  PlantThread(1, &b);
  one.recorder.Merge(a);
  one.recorder.Merge(b);
  ThreadResult merged;
  ASSERT_TRUE(merged.recorder.AddRecord(RecordOf(a)).ok());
  ASSERT_TRUE(merged.recorder.AddRecord(RecordOf(b)).ok());
  RunFacts facts;
  facts.key_versions = true;
  facts.target_rate_per_s = 1000;
  const auto want = AsMap(RunCounters(one, Summarize(one.recorder), facts));
  const auto got = AsMap(RunCounters(merged, Summarize(merged.recorder), facts));
  EXPECT_EQ(got, want);
  EXPECT_GT(want.at("stale_reads"), 0);
  EXPECT_GT(want.at("miss_expired"), 0);
  // Each class has 100 operations: enough to bound its median (with its
  // interval), too few for its p99.
  EXPECT_EQ(want.count("hit_intended_p50_us"), 1u);
  EXPECT_EQ(want.count("hit_p50_us_ci_hi"), 1u);
  EXPECT_EQ(want.count("hit_intended_p99_us"), 0u);
  EXPECT_EQ(merged.recorder.TotalsText(), one.recorder.TotalsText());
}

TEST(RunRecordTest, AMalformedOrOldRecordIsRefusedNamingTheKey) {
  LatencyRecorder a;
  PlantThread(0, &a);
  std::map<std::string, std::string> record = RecordOf(a);
  record.erase("totals");
  LatencyRecorder r;
  EXPECT_THAT(r.AddRecord(record).message(), ::testing::HasSubstr("'totals': missing"));
  record = RecordOf(a);
  record["hit"] = "cbhist 1 7 3969 5 0 0 0";  // counts that do not add up
  EXPECT_THAT(r.AddRecord(record).message(), ::testing::HasSubstr("'hit'"));
  record = RecordOf(a);
  record["totals"] = "cbtotals 1 late=x";
  EXPECT_THAT(r.AddRecord(record).message(), ::testing::HasSubstr("'totals': malformed"));
  EXPECT_EQ(r.ops(), 0);  // nothing added
  EXPECT_THAT(ParseFlatJsonStrings("{\"a\": 1}").status().message(),
              ::testing::HasSubstr("expected a string value"));
}

}  // namespace
}  // namespace cabench
