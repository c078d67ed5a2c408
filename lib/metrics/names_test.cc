#include "lib/metrics/names.h"

#include <set>
#include <string>

#include "gtest/gtest.h"

namespace cabench {
namespace {

TEST(NamesTest, ClassesAndSteps) {
  EXPECT_EQ(OpClassName(OpClass::kCacheMiss), "miss");
  EXPECT_EQ(OpClassName(OpClass::kDbRead), "db_read");
  EXPECT_EQ(OpClassName(OpClass::kFallback), "fallback");
  EXPECT_EQ(OpClassName(static_cast<OpClass>(99)), "?");
  EXPECT_EQ(StepName(Step::kDbInsert), "insert");
  EXPECT_EQ(StepName(Step::kCacheGet), "get");
  EXPECT_EQ(OpClassSpans(OpClass::kCacheMiss), "a read the cache missed: GET + SELECT + SET");
  EXPECT_EQ(ClassStatName(OpClass::kCacheHit, "p99_us"), "hit_p99_us");
  EXPECT_EQ(StepStatName(Step::kDbSelect, "avg_us"), "select_avg_us");
  EXPECT_EQ(static_cast<int>(OpClass::kError), kNumOpClasses - 1);
}

TEST(NamesTest, CountersAndSeriesFields) {
  EXPECT_EQ(CounterName(CounterId::kOpsPerS), "ops_per_s");
  EXPECT_EQ(CounterBetter(CounterId::kOpsPerS), Better::kHigher);
  EXPECT_EQ(CounterBetter(CounterId::kP99Us), Better::kLower);
  EXPECT_EQ(CounterBetter(CounterId::kReads), Better::kNone);
  EXPECT_EQ(SeriesFieldName(SeriesField::kCount), "count");
  EXPECT_EQ(SeriesFieldName(SeriesField::kSeriesCacheMisses), "cache_misses");
}

TEST(NamesTest, EveryNameIsUniqueWithinItsKind) {
  std::set<std::string> counters;
  for (int i = 0; i < kNumCounters; ++i) {
    EXPECT_TRUE(counters.emplace(CounterName(static_cast<CounterId>(i))).second);
  }
  std::set<std::string> series;
  for (int i = 0; i < kNumSeriesFields; ++i) {
    EXPECT_TRUE(series.emplace(SeriesFieldName(static_cast<SeriesField>(i))).second);
  }
  std::set<std::string> keys;
  for (int c = 0; c < kNumOpClasses; ++c) {
    EXPECT_TRUE(keys.emplace(OpClassName(static_cast<OpClass>(c))).second);
  }
  for (int s = 0; s < kNumSteps; ++s) {
    EXPECT_TRUE(keys.emplace(StepName(static_cast<Step>(s))).second);
  }
}

TEST(NamesTest, UnitsSayWhatCanBeNegative) {
  EXPECT_TRUE(IsFlagCounter("valid"));
  EXPECT_TRUE(IsFlagCounter("target_missed"));
  EXPECT_FALSE(IsFlagCounter("ops_per_s"));
  EXPECT_FALSE(IsFlagCounter("no_such_counter"));
  for (const char* name : {"ops_per_s", "p99_us", "db_queries", "wall_s", "hit_p99_us",
                           "miss_p50_us_ci_lo", "select_avg_us", "valid"}) {
    EXPECT_TRUE(IsNonNegativeCounter(name)) << name;
  }
  for (const char* name : {"db_load_reduction_pct", "trend_pct", "gain_ops_x", "hit_p98_us",
                           "nohit_p99_us", "hit_", "no_such_counter"}) {
    EXPECT_FALSE(IsNonNegativeCounter(name)) << name;
  }
}

}  // namespace
}  // namespace cabench
