#include "lib/engine/validity.h"

#include <map>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/metrics/names.h"

namespace cabench {
namespace {

using ::testing::ElementsAre;

constexpr int64_t kT0 = 1'764'081'507LL * kNanosPerSecond;

OpResult Op(OpClass cls) {
  OpResult op;
  op.kind = cls == OpClass::kWrite ? OpKind::kWrite : OpKind::kRead;
  op.op_class = cls;
  op.total_ns = 100'000;
  return op;
}

// `per_second[i]` operations in epoch second i (hits, then misses: `hit_pct`
// of them hits), spread over the second.
LatencyRecorder Seconds(const std::vector<int>& per_second, const std::vector<int>& hit_pct) {
  LatencyRecorder r;
  for (size_t s = 0; s < per_second.size(); ++s) {
    const int n = per_second[s];
    const int hits = n * hit_pct[s] / 100;
    for (int i = 0; i < n; ++i) {
      r.Record(Op(i < hits ? OpClass::kCacheHit : OpClass::kCacheMiss),
               kT0 + static_cast<int64_t>(s) * kNanosPerSecond + i * (kNanosPerSecond / n));
    }
  }
  return r;
}

std::map<std::string, double> AsMap(const std::vector<NamedValue>& v) {
  return std::map<std::string, double>(v.begin(), v.end());
}

TEST(ValidityTest, ASteadyRunWithEnoughSamplesIsValid) {
  // 8 seconds: the first and last are partial; 6 whole, 3 a half, flat.
  const LatencyRecorder r =
      Seconds({50, 100, 100, 100, 100, 100, 100, 30}, std::vector<int>(8, 80));
  const Validity v = JudgeRun({}, r, 2);
  EXPECT_TRUE(v.valid()) << v.Label();
  EXPECT_EQ(v.Label(), "");
  const auto m = AsMap(v.Counters());
  EXPECT_EQ(m.at("valid"), 1);
  EXPECT_DOUBLE_EQ(m.at("trend_pct"), 0);
  EXPECT_DOUBLE_EQ(m.at("hit_rate_trend_pts"), 0);
  EXPECT_EQ(m.count("client_cores"), 0u);  // no CPU figure: not judged
}

TEST(ValidityTest, AWindowWhoseHalvesDifferIsNotSteady) {
  // Throughput: 100/s then 200/s over the whole seconds: +100%.
  Validity v =
      JudgeRun({}, Seconds({10, 100, 100, 100, 200, 200, 200, 10}, std::vector<int>(8, 80)), 2);
  ASSERT_TRUE(v.trend.has_value());
  EXPECT_DOUBLE_EQ(v.trend->ops_pct, 100);
  EXPECT_THAT(v.reasons, ElementsAre("not_steady"));
  // 19% is within the bound, 21% not (a middle second of an odd count is left out).
  v = JudgeRun({}, Seconds({10, 100, 100, 500, 119, 119, 10}, std::vector<int>(7, 80)), 2);
  EXPECT_DOUBLE_EQ(v.trend->ops_pct, 19);
  EXPECT_TRUE(v.valid()) << v.Label();
  v = JudgeRun({}, Seconds({10, 100, 100, 500, 121, 121, 10}, std::vector<int>(7, 80)), 2);
  EXPECT_FALSE(v.valid());
  // A cache still filling: the same throughput, hit rate 50% then 70%.
  v = JudgeRun({}, Seconds({10, 100, 100, 100, 100, 100, 100, 10}, {0, 50, 50, 50, 70, 70, 70, 0}),
               2);
  EXPECT_DOUBLE_EQ(v.trend->ops_pct, 0);
  EXPECT_DOUBLE_EQ(*v.trend->hit_rate_pts, 20);
  EXPECT_THAT(v.reasons, ElementsAre("not_steady"));
  // Fewer than 4 whole seconds: no trend, not judged.
  v = JudgeRun({}, Seconds({10, 200, 400, 800, 10}, std::vector<int>(5, 80)), 2);
  EXPECT_FALSE(v.trend.has_value());
  EXPECT_TRUE(v.valid());
  EXPECT_EQ(AsMap(v.Counters()).count("trend_pct"), 0u);
}

TEST(ValidityTest, EachReasonIsNamedInOrder) {
  const LatencyRecorder r = Seconds({10, 100, 100, 100, 100, 10}, std::vector<int>(6, 80));
  // 1.9 s of client CPU in 1 s of wall time on 2 cores: 95% of them.
  const std::vector<NamedValue> counters = {{"client_cpu_ms", 1900},
                                            {"wall_s", 1},
                                            {"target_missed", 1},
                                            {"server_figures_shared", 1},
                                            {"steady_reached", 0}};
  Validity v = JudgeRun(counters, r, 2);
  EXPECT_THAT(v.reasons,
              ElementsAre("client_bound", "target_missed", "shared_servers", "warmup_unsettled"));
  EXPECT_EQ(v.Label(), "invalid: client_bound, target_missed, shared_servers, warmup_unsettled");
  EXPECT_DOUBLE_EQ(AsMap(v.Counters()).at("client_cores"), 1.9);
  EXPECT_EQ(AsMap(v.Counters()).at("valid"), 0);
  // On 4 cores the same client is not the bottleneck; flags at 0 say nothing.
  v = JudgeRun({{"client_cpu_ms", 1900},
                {"wall_s", 1},
                {"target_missed", 0},
                {"server_figures_shared", 0},
                {"steady_reached", 1}},
               r, 4);
  EXPECT_TRUE(v.valid()) << v.Label();
}

TEST(ValidityTest, TooFewOperationsToBoundAP99AreFewSamples) {
  // 367 operations that succeeded (368 bound a p99), and failures that do
  // not count.
  LatencyRecorder r;
  for (int i = 0; i < 367; ++i) r.Record(Op(OpClass::kCacheHit), kT0 + i);
  for (int i = 0; i < 50; ++i) r.Record(Op(OpClass::kError), kT0 + i);
  EXPECT_THAT(JudgeRun({}, r, 2).reasons, ElementsAre("few_samples"));
  r.Record(Op(OpClass::kWrite), kT0);
  EXPECT_TRUE(JudgeRun({}, r, 2).valid());
}

}  // namespace
}  // namespace cabench
