#include "lib/workload/key_chooser.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace cabench {
namespace internal {

uint64_t UniformBelowSlow(std::mt19937_64& rng, uint64_t bound, Uint128 m) {
  const uint64_t threshold = (0 - bound) % bound;  // 2^64 mod bound
  while (static_cast<uint64_t>(m) < threshold) m = static_cast<Uint128>(rng()) * bound;
  return static_cast<uint64_t>(m >> 64);
}

}  // namespace internal

namespace {

// SplitMix64 (Steele, Lea & Flood 2014): spreads a seed into independent
// looking keys; fixed forever, like the permutation it keys.
uint64_t SplitMix64(uint64_t* state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// log1p(x) / x and expm1(x) / x, with their limits at 0 (Taylor series near
// 0, where the quotient would lose every digit): they keep H and its inverse
// accurate for s near 1, s = 1 included.
double Log1pOverX(double x) {
  if (std::fabs(x) > 1e-8) return std::log1p(x) / x;
  return 1 - x * (0.5 - x * (1.0 / 3 - 0.25 * x));
}

double Expm1OverX(double x) {
  if (std::fabs(x) > 1e-8) return std::expm1(x) / x;
  return 1 + x * 0.5 * (1 + x * (1.0 / 3) * (1 + 0.25 * x));
}

}  // namespace

IdRange EffectivePassengerRange(const Scenario& scenario, const DataSetInfo& data_set) {
  const int64_t passengers = std::max<int64_t>(1, data_set.passengers);
  if (scenario.access == AccessMode::kRandom || scenario.access == AccessMode::kTrace) {
    return IdRange{1, passengers};
  }
  const int64_t size = std::max<int64_t>(1, scenario.pool_size);
  const int64_t lo = std::max<int64_t>(1, scenario.pool_first_id);
  // pool_first_id + pool_size - 1 fits in int64 (the loader checks it).
  const int64_t hi = std::min(passengers, scenario.pool_first_id + size - 1);
  if (lo <= hi) return IdRange{lo, hi - lo + 1};
  return IdRange{1, std::min(size, passengers)};
}

const KeyTrace* UsableTrace(const Scenario& scenario) {
  const KeyTrace* trace = scenario.trace.get();
  if (trace == nullptr || trace->passenger_ids.empty() ||
      trace->is_read.size() != trace->passenger_ids.size()) {
    return nullptr;
  }
  return trace;
}

int64_t HotKeyCount(int64_t n, double hot_keys_pct) {
  if (n <= 0 || !(hot_keys_pct > 0)) return 0;
  if (hot_keys_pct >= 100) return n;
  // Exact for the usual whole percentages: n * pct is exact below 2^53 and
  // a quotient that is a whole number is then exact too.
  const double hot = std::ceil(static_cast<double>(n) * hot_keys_pct / 100);
  return std::clamp<int64_t>(static_cast<int64_t>(hot), 0, n);
}

double PowerSum(uint64_t first, uint64_t last, double s) {
  if (first < 1) first = 1;
  if (first > last) return 0;
  // Term by term up to k = 255, and at least the first 64 terms: beyond
  // that, Euler-Maclaurin's remainder (B8/8! f^(7)) is below 1e-15 of the
  // first term it replaces, for every s up to 10.
  const uint64_t direct_last = std::min(last, std::max<uint64_t>(first + 63, 255));
  double sum = 0;
  for (uint64_t k = first; k <= direct_last; ++k) {
    sum += std::exp(-s * std::log(static_cast<double>(k)));
  }
  if (direct_last == last) return sum;
  const double a = static_cast<double>(direct_last + 1);
  const double b = static_cast<double>(last);
  const double log_a = std::log(a);
  const double span = std::log(b) - log_a;
  const double fa = std::exp(-s * log_a);
  const double fb = std::exp(-s * std::log(b));
  // The integral of x^-s over [a, b], written to stay exact near s = 1.
  const double integral = std::exp((1 - s) * log_a) * span * Expm1OverX((1 - s) * span);
  // f^(2j-1)(x) = -s (s+1) ... (s+2j-2) x^(-s-2j+1), as multiples of f(x).
  const double c1 = -s;
  const double c3 = c1 * (s + 1) * (s + 2);
  const double c5 = c3 * (s + 3) * (s + 4);
  const auto derivative = [](double c, double f, double x, int order) {
    return c * f / std::pow(x, order);
  };
  sum += integral + (fa + fb) / 2 +
         (derivative(c1, fb, b, 1) - derivative(c1, fa, a, 1)) / 12 -
         (derivative(c3, fb, b, 3) - derivative(c3, fa, a, 3)) / 720 +
         (derivative(c5, fb, b, 5) - derivative(c5, fa, a, 5)) / 30240;
  return sum;
}

KeyPermutation::KeyPermutation(uint64_t n, uint64_t seed) : n_(std::max<uint64_t>(1, n)) {
  if (n_ == 1) return;
  while (bits_ < 64 && (uint64_t{1} << bits_) < n_) ++bits_;
  mask_ = bits_ == 64 ? ~uint64_t{0} : (uint64_t{1} << bits_) - 1;
  shift_ = std::max(1, (bits_ + 1) / 2);
  // A stream of its own: the permutation does not move when a Workload's
  // generator (seed + thread index) is used differently.
  uint64_t state = seed ^ 0x6b6579706572ULL;  // "keyper"
  for (int r = 0; r < kRounds; ++r) {
    add_[r] = SplitMix64(&state) & mask_;
    mul_[r] = (SplitMix64(&state) | 1) & mask_;
  }
}

ZipfRanks::ZipfRanks(uint64_t n, double s)
    : n_(std::max<uint64_t>(1, n)), s_(s > 0 ? s : 1e-9) {
  h_integral_x1_ = H(1.5) - 1;
  h_integral_n_ = H(static_cast<double>(n_) + 0.5);
  squeeze_ = 2 - HInverse(H(2.5) - h(2));
}

double ZipfRanks::h(double x) const { return std::exp(-s_ * std::log(x)); }

double ZipfRanks::H(double x) const {
  const double log_x = std::log(x);
  return Expm1OverX((1 - s_) * log_x) * log_x;
}

double ZipfRanks::HInverse(double y) const {
  // (1 + (1 - s) y)^(1 / (1 - s)), written to stay exact near s = 1. A
  // base below 0 is outside H's range (only reachable through rounding):
  // it maps to x = 0, which the caller clamps to rank 1.
  double t = y * (1 - s_);
  if (t < -1) t = -1;
  return std::exp(Log1pOverX(t) * y);
}

uint64_t ZipfRanks::Next(std::mt19937_64& rng) const {
  if (n_ == 1) return 1;
  const double n = static_cast<double>(n_);
  while (true) {
    // u uniform in (H(1.5) - 1, H(n + 0.5)]: the hat's area, rank 1's part
    // cut to exactly h(1) = 1.
    const double u = h_integral_n_ + UnitInterval(rng) * (h_integral_x1_ - h_integral_n_);
    const double x = HInverse(u);
    uint64_t k;
    if (!(x >= 1)) {  // NaN too
      k = 1;
    } else if (x + 0.5 >= n) {
      k = n_;
    } else {
      k = static_cast<uint64_t>(x + 0.5);
    }
    const double kd = static_cast<double>(k);
    // Accept: inside the squeeze, or under rank k's exact area h(k) at the
    // right end of its interval [k - 1/2, k + 1/2].
    if (kd - x <= squeeze_ || u >= H(kd + 0.5) - h(kd)) return k;
  }
}

KeyChooser::KeyChooser(const Scenario& scenario, const DataSetInfo& data_set, int thread_index,
                       int threads)
    : range_(EffectivePassengerRange(scenario, data_set)),
      count_(static_cast<uint64_t>(range_.count)),
      passengers_(std::max<int64_t>(1, data_set.passengers)) {
  switch (scenario.access) {
    case AccessMode::kPool:
    case AccessMode::kRandom:
      break;
    case AccessMode::kZipf:
      kind_ = Kind::kZipf;
      permutation_ = KeyPermutation(count_, scenario.seed);
      zipf_ = ZipfRanks(count_, scenario.zipf_s);
      break;
    case AccessMode::kHotspot: {
      kind_ = Kind::kHotspot;
      permutation_ = KeyPermutation(count_, scenario.seed);
      hot_count_ = static_cast<uint64_t>(HotKeyCount(range_.count, scenario.hot_keys_pct));
      const double q = std::clamp(scenario.hot_ops_pct, 0.0, 100.0) / 100;  // NaN: 0
      always_hot_ = q >= 1;
      hot_threshold_ = always_hot_ ? 0 : static_cast<uint64_t>(std::ldexp(q > 0 ? q : 0, 64));
      break;
    }
    case AccessMode::kTrace: {
      if (UsableTrace(scenario) == nullptr) break;  // uniform over every passenger
      kind_ = Kind::kTrace;
      trace_ = scenario.trace;
      trace_ids_ = trace_->passenger_ids.data();
      trace_size_ = trace_->passenger_ids.size();
      trace_step_ = static_cast<size_t>(std::max(1, threads));
      // A thread index beyond the run's threads (the warm-up's) takes the
      // share of thread_index mod threads; a share that starts beyond the
      // trace (more threads than operations) starts again inside it.
      const size_t t = static_cast<size_t>(std::max(0, thread_index)) % trace_step_;
      trace_start_ = t % trace_size_;
      trace_pos_ = trace_start_;
      break;
    }
  }
}

int64_t KeyChooser::NextSkewed(std::mt19937_64& rng) {
  uint64_t position;
  if (kind_ == Kind::kZipf) {
    position = zipf_.Next(rng) - 1;
  } else if (kind_ == Kind::kHotspot) {
    if (hot_count_ == 0 || hot_count_ == count_) {
      position = UniformBelow(rng, count_);
    } else if (always_hot_ || rng() < hot_threshold_) {
      position = UniformBelow(rng, hot_count_);
    } else {
      position = hot_count_ + UniformBelow(rng, count_ - hot_count_);
    }
  } else {  // trace: a caller that ignored replays_trace() still gets an id
    bool is_read;
    return NextTrace(&is_read);
  }
  return range_.first_id + static_cast<int64_t>(permutation_(position));
}

}  // namespace cabench
