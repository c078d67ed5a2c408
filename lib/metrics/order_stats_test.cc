#include "lib/metrics/order_stats.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "gtest/gtest.h"
#include "lib/metrics/histogram.h"

namespace cabench {
namespace {

// The known answers below are scipy.stats.binom's: lo - 1 the largest k with
// cdf(k) <= 0.025, hi - 1 the smallest k with cdf(k) >= 0.975.
TEST(QuantileRankIntervalTest, RanksAreTheExactBinomialOnes) {
  struct Case {
    int64_t n;
    double q;
    int64_t lo, hi;
  };
  for (const Case& c :
       {Case{100, 0.5, 40, 61}, Case{200, 0.5, 86, 115}, Case{200, 0.95, 184, 197},
        Case{72, 0.95, 64, 72}, Case{1000, 0.99, 983, 997}, Case{368, 0.99, 360, 368},
        Case{10000, 0.999, 9983, 9997}, Case{3688, 0.999, 3680, 3688}, Case{6, 0.5, 1, 6},
        Case{1'000'000, 0.99, 989'805, 990'196}}) {
    const std::optional<RankInterval> r = QuantileRankInterval(c.n, c.q);
    ASSERT_TRUE(r.has_value()) << c.n << " " << c.q;
    EXPECT_EQ(r->lo, c.lo) << c.n << " " << c.q;
    EXPECT_EQ(r->hi, c.hi) << c.n << " " << c.q;
  }
}

TEST(QuantileRankIntervalTest, TooFewSamplesCannotBoundAPercentile) {
  // q^n <= 0.025 first holds at these n (0.5: 1/64 at 6; 0.999^3688).
  EXPECT_EQ(MinSamplesForQuantile(0.5), 6);
  EXPECT_EQ(MinSamplesForQuantile(0.95), 72);
  EXPECT_EQ(MinSamplesForQuantile(0.99), 368);
  EXPECT_EQ(MinSamplesForQuantile(0.999), 3688);
  EXPECT_EQ(MinSamplesForQuantile(0.001), 3688);  // the low tail alike
  for (double q : {0.5, 0.95, 0.99, 0.999}) {
    const int64_t need = MinSamplesForQuantile(q);
    EXPECT_FALSE(QuantileRankInterval(need - 1, q).has_value()) << q;
    EXPECT_TRUE(QuantileRankInterval(need, q).has_value()) << q;
    EXPECT_FALSE(QuantileEstimable(need - 1, q)) << q;
    EXPECT_TRUE(QuantileEstimable(need, q)) << q;
  }
  EXPECT_FALSE(QuantileRankInterval(100, 0.0).has_value());
  EXPECT_FALSE(QuantileRankInterval(100, 1.0).has_value());
  EXPECT_FALSE(QuantileRankInterval(100, 0.5, 1.0).has_value());
  EXPECT_EQ(MinSamplesForQuantile(1.5), 0);
}

TEST(BinomialCdfTest, MatchesKnownValues) {
  EXPECT_NEAR(BinomialCdf(50, 100, 0.5), 0.5397946186935892, 1e-12);
  EXPECT_NEAR(BinomialCdf(989'804, 1'000'000, 0.99), 0.0249862785169194, 1e-8);
  EXPECT_NEAR(BinomialCdf(990'195, 1'000'000, 0.99), 0.9755574028723698, 1e-8);
  EXPECT_EQ(BinomialCdf(-1, 10, 0.5), 0.0);
  EXPECT_EQ(BinomialCdf(10, 10, 0.5), 1.0);
}

// What an interval promises: over many samples of a known distribution, it
// holds the true percentile at least 95% of the time.
TEST(QuantileRankIntervalTest, CoversTheTruePercentileAtLeastNinetyFivePercentOfTheTime) {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  for (double q : {0.5, 0.99}) {
    const int n = 400;
    const std::optional<RankInterval> r = QuantileRankInterval(n, q);
    ASSERT_TRUE(r.has_value());
    int covered = 0;
    const int trials = 4000;
    std::vector<double> x(n);
    for (int t = 0; t < trials; ++t) {
      for (double& v : x) v = uniform(rng);
      std::sort(x.begin(), x.end());
      covered += x[static_cast<size_t>(r->lo - 1)] <= q && q <= x[static_cast<size_t>(r->hi - 1)];
    }
    // Exact coverage is >= 95% (a little more: ranks are whole); 4 standard
    // errors below it fails only by a wrong rank.
    EXPECT_GE(covered, static_cast<int>(trials * (0.95 - 4 * 0.0035))) << q;
  }
}

TEST(HistogramIntervalTest, IsTheValuesAtTheIntervalsRanks) {
  Histogram h;
  for (int v = 1; v <= 200; ++v) h.Record(v);  // exact buckets: value == rank
  const auto median = h.PercentileInterval(50);
  ASSERT_TRUE(median.has_value());
  EXPECT_EQ(median->first, 86);
  EXPECT_EQ(median->second, 115);
  EXPECT_LE(median->first, h.Percentile(50));
  EXPECT_GE(median->second, h.Percentile(50));
  const auto p95 = h.PercentileInterval(95);
  ASSERT_TRUE(p95.has_value());
  EXPECT_EQ(p95->first, 184);
  EXPECT_EQ(p95->second, 197);
  // 200 samples cannot bound a 99th percentile.
  EXPECT_FALSE(h.PercentileInterval(99).has_value());
  EXPECT_FALSE(QuantileEstimable(h.Count(), 0.99));
  EXPECT_TRUE(QuantileEstimable(h.Count(), 0.95));
  EXPECT_FALSE(Histogram().PercentileInterval(50).has_value());
}

}  // namespace
}  // namespace cabench

namespace cabench {
namespace {

TEST(MeanIntervalTest, IsStudentsTInterval) {
  // 10, 12, 14: mean 12, sd 2, t(2) 4.3027: 12 -+ 4.3027 * 2 / sqrt(3).
  const std::vector<double> v = {10, 12, 14};
  EXPECT_NEAR(MeanCi95Lo(v), 12 - 4.3027 * 2 / std::sqrt(3.0), 1e-9);
  EXPECT_NEAR(MeanCi95Hi(v), 12 + 4.3027 * 2 / std::sqrt(3.0), 1e-9);
  // One value has no spread; none has nothing.
  EXPECT_EQ(MeanCi95Lo({5}), 5);
  EXPECT_EQ(MeanCi95Hi({5}), 5);
  EXPECT_EQ(MeanCi95Lo({}), 0);
  // The t quantiles: the table, and the expansion beyond it (scipy's values).
  EXPECT_NEAR(StudentT975(5), 2.5706, 1e-4);
  EXPECT_NEAR(StudentT975(31), 2.0395, 1e-4);
  EXPECT_NEAR(StudentT975(60), 2.0003, 1e-4);
  EXPECT_NEAR(StudentT975(1000), 1.9623, 1e-4);
}

}  // namespace
}  // namespace cabench
