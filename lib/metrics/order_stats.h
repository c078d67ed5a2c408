// File: lib/metrics/order_stats.h
//
// How sure a percentile of a sample is: distribution-free confidence
// intervals from order statistics.
//
// Among n samples sorted as x(1) <= ... <= x(n), the number B of samples at or
// below the true q-quantile is Binomial(n, q), whatever the distribution. So
// [x(lo), x(hi)] holds the true quantile whenever lo <= B < hi, and choosing
//   lo  the largest rank with  P(B <= lo - 1) <= a/2
//   hi  the smallest rank with P(B >= hi)     <= a/2
// gives coverage at least 1 - a (a = 1 - confidence), exactly, with no
// approximation. The interval exists only when n is large enough for both
// tails: (1 - q)^n <= a/2 (a lowest rank) and q^n <= a/2 (a highest rank).
// Below that, the sample cannot bound the percentile and cabench reports no
// number for it (MinSamplesForQuantile(): 6 samples for a median, 368 for a
// 99th percentile, 3,688 for a 99.9th, at 95%).
//
// Across repetitions, the same file gives each counter the t interval of its
// mean (MeanCi95Lo/Hi: Google Benchmark's aggregates ci95_lo and ci95_hi).
//
// Pure functions; safe to call concurrently.
#ifndef CABENCH_LIB_METRICS_ORDER_STATS_H_
#define CABENCH_LIB_METRICS_ORDER_STATS_H_

#include <cstdint>
#include <optional>
#include <vector>

namespace cabench {

// The confidence of every interval cabench reports.
inline constexpr double kIntervalConfidence = 0.95;

// 1-based ranks of the order statistics that bound a quantile.
struct RankInterval {
  int64_t lo = 0;
  int64_t hi = 0;
};

// The ranks [lo, hi] of the `confidence` interval of the q-quantile (q in
// (0, 1)) of n samples, as the file comment defines them; nullopt when n
// samples cannot bound it (see MinSamplesForQuantile()) or an argument is out
// of range.
std::optional<RankInterval> QuantileRankInterval(int64_t n, double q,
                                                 double confidence = kIntervalConfidence);

// The fewest samples for which QuantileRankInterval(n, q, confidence)
// exists; 0 for arguments out of range.
int64_t MinSamplesForQuantile(double q, double confidence = kIntervalConfidence);

// Whether n samples can bound the q-quantile: n >= MinSamplesForQuantile().
// cabench reports no number for a percentile its samples cannot bound.
inline bool QuantileEstimable(int64_t n, double q, double confidence = kIntervalConfidence) {
  const int64_t need = MinSamplesForQuantile(q, confidence);
  return need > 0 && n >= need;
}

// The 95% interval of the mean of repeated measurements (Student's t: the
// repetitions are independent runs, their mean about normal), as Google
// Benchmark statistics: the low and the high end. Fewer than two values have
// no spread: both return the mean (0 for none).
double MeanCi95Lo(const std::vector<double>& values);
double MeanCi95Hi(const std::vector<double>& values);

// The 97.5% quantile of Student's t with `df` >= 1 degrees of freedom (exact
// to 4 decimals).
double StudentT975(int64_t df);

// P(B <= k) for B ~ Binomial(n, q): 0 below 0, 1 from n on. Exact to about
// 1e-12 for a thousand samples, 1e-8 for a million (summed in log space over
// the terms that are not negligible).
double BinomialCdf(int64_t k, int64_t n, double q);

}  // namespace cabench

#endif  // CABENCH_LIB_METRICS_ORDER_STATS_H_
