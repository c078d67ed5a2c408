#include "lib/metrics/order_stats.h"

#include <algorithm>
#include <cmath>
#include <utility>

namespace cabench {
namespace {

bool ValidQuantile(double q, double confidence) {
  return q > 0.0 && q < 1.0 && confidence > 0.0 && confidence < 1.0;
}

// The ranks of Binomial(n, q) worth summing: beyond 12 standard deviations
// (and a margin for small n) the terms add less than 1e-30.
void Window(int64_t n, double q, int64_t* lo, int64_t* hi) {
  const double mean = static_cast<double>(n) * q;
  const double spread = 12.0 * std::sqrt(mean * (1.0 - q)) + 12.0;
  *lo = std::max<int64_t>(0, static_cast<int64_t>(std::floor(mean - spread)));
  *hi = std::min<int64_t>(n, static_cast<int64_t>(std::ceil(mean + spread)));
}

// Calls visit(k, P(B <= k)) for k = lo .. hi of Window(), in order, until it
// returns false.
template <typename Visit>
void WalkCdf(int64_t n, double q, Visit visit) {
  int64_t lo, hi;
  Window(n, q, &lo, &hi);
  const double dn = static_cast<double>(n);
  const double log_ratio = std::log(q) - std::log1p(-q);
  // log P(B = lo), then each next term by the ratio of neighbours.
  double log_pmf = std::lgamma(dn + 1) - std::lgamma(static_cast<double>(lo) + 1) -
                   std::lgamma(dn - static_cast<double>(lo) + 1) +
                   static_cast<double>(lo) * std::log(q) +
                   (dn - static_cast<double>(lo)) * std::log1p(-q);
  double cdf = 0.0;
  for (int64_t k = lo; k <= hi; ++k) {
    cdf = std::min(1.0, cdf + std::exp(log_pmf));
    if (!visit(k, cdf)) return;
    log_pmf +=
        std::log(static_cast<double>(n - k)) - std::log(static_cast<double>(k + 1)) + log_ratio;
  }
}

}  // namespace

double BinomialCdf(int64_t k, int64_t n, double q) {
  if (k < 0) return 0.0;
  if (k >= n) return 1.0;
  if (q <= 0.0) return 1.0;
  if (q >= 1.0) return 0.0;
  double result = 0.0;
  WalkCdf(n, q, [&](int64_t i, double cdf) {
    if (i > k) return false;
    result = cdf;
    return true;
  });
  return result;
}

int64_t MinSamplesForQuantile(double q, double confidence) {
  if (!ValidQuantile(q, confidence)) return 0;
  const double tail = (1.0 - confidence) / 2.0;
  const double p = std::max(q, 1.0 - q);
  // The smallest n with p^n <= tail.
  auto n = static_cast<int64_t>(std::ceil(std::log(tail) / std::log(p)));
  n = std::max<int64_t>(n, 1);
  while (std::pow(p, static_cast<double>(n)) > tail) ++n;
  while (n > 1 && std::pow(p, static_cast<double>(n - 1)) <= tail) --n;
  return n;
}

std::optional<RankInterval> QuantileRankInterval(int64_t n, double q, double confidence) {
  if (!ValidQuantile(q, confidence) || n < MinSamplesForQuantile(q, confidence)) {
    return std::nullopt;
  }
  const double tail = (1.0 - confidence) / 2.0;
  RankInterval r{1, n};
  bool hi_found = false;
  bool first = true;
  // lo - 1: the largest k with P(B <= k) <= tail; hi - 1: the smallest k with
  // P(B <= k) >= 1 - tail. Below the walk's first k, P(B <= k) is nil.
  WalkCdf(n, q, [&](int64_t k, double cdf) {
    if (first) r.lo = std::max<int64_t>(1, k);
    first = false;
    if (cdf <= tail) r.lo = k + 1;
    if (cdf >= 1.0 - tail) {
      r.hi = k + 1;
      hi_found = true;
      return false;
    }
    return true;
  });
  if (!hi_found || r.hi > n || r.lo < 1 || r.lo > r.hi) return std::nullopt;
  return r;
}

double StudentT975(int64_t df) {
  // df 1 .. 30, then the Cornish-Fisher expansion around the normal's.
  static constexpr double kTable[] = {
      12.7062, 4.3027, 3.1824, 2.7764, 2.5706, 2.4469, 2.3646, 2.3060, 2.2622, 2.2281,
      2.2010,  2.1788, 2.1604, 2.1448, 2.1314, 2.1199, 2.1098, 2.1009, 2.0930, 2.0860,
      2.0796,  2.0739, 2.0687, 2.0639, 2.0595, 2.0555, 2.0518, 2.0484, 2.0452, 2.0423};
  if (df < 1) df = 1;
  if (df <= 30) return kTable[df - 1];
  const double z = 1.959963984540054;
  const double v = static_cast<double>(df);
  const double z3 = z * z * z;
  const double z5 = z3 * z * z;
  return z + (z3 + z) / (4 * v) + (5 * z5 + 16 * z3 + 3 * z) / (96 * v * v);
}

namespace {

// The mean and the half width of its 95% interval (0 with fewer than two).
std::pair<double, double> MeanAndHalfWidth(const std::vector<double>& values) {
  const size_t n = values.size();
  if (n == 0) return {0.0, 0.0};
  double sum = 0;
  for (double v : values) sum += v;
  const double mean = sum / static_cast<double>(n);
  if (n < 2) return {mean, 0.0};
  double squares = 0;
  for (double v : values) squares += (v - mean) * (v - mean);
  const double sd = std::sqrt(squares / static_cast<double>(n - 1));
  return {mean, StudentT975(static_cast<int64_t>(n - 1)) * sd / std::sqrt(static_cast<double>(n))};
}

}  // namespace

double MeanCi95Lo(const std::vector<double>& values) {
  const auto [mean, half] = MeanAndHalfWidth(values);
  return mean - half;
}

double MeanCi95Hi(const std::vector<double>& values) {
  const auto [mean, half] = MeanAndHalfWidth(values);
  return mean + half;
}

}  // namespace cabench
