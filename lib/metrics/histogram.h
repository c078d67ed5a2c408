// File: lib/metrics/histogram.h
//
// Histogram is a fixed-size, log-linear latency histogram in nanoseconds, in
// the style of HdrHistogram: every power of two is split into 128 equal
// sub-buckets, so a bucket is at most 1/128 of its lower bound wide and a
// percentile reported at the bucket's midpoint is within 0.4% of the exact
// percentile of the recorded samples (the contract is 1%).
//
// Layout (fixed; it is part of the serialized format):
//   - 0 .. 255 ns: one bucket per nanosecond (exact). Negative values are
//     clamped to 0.
//   - 256 ns .. 2^37-1 ns (~137 s, so the whole 100 ns .. 100 s range):
//     128 sub-buckets per power of two.
//   - >= 2^37 ns: one overflow bucket. Percentiles that land in it report the
//     exact maximum.
//   Count, Sum, Min and Max are exact for every value.
//
// Storage is one allocation of kNumBuckets counters made at construction;
// Record() never allocates, divides or branches on data beyond the overflow
// check, and is O(1). A Histogram is a value: copy it, merge it, serialize it
// to merge runs from several load machines later.
//
// Thread safety: thread-compatible. Const methods may run concurrently;
// anything that mutates needs external synchronization (LatencyRecorder keeps
// one per thread and merges after the run).
#ifndef CABENCH_LIB_METRICS_HISTOGRAM_H_
#define CABENCH_LIB_METRICS_HISTOGRAM_H_

#include <algorithm>
#include <bit>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace cabench {
namespace internal {

// The log-linear bucket index shared by Histogram and the coarser per-second
// histograms of LatencyRecorder: with S = 2^kSubBits, values below 2*S map to
// themselves; a value with highest set bit m > kSubBits maps to
// (m - kSubBits + 1) * S + its kSubBits bits below the top one. `v` must be
// below 2^63. Pure; safe to call concurrently.
template <int kSubBits>
constexpr int LogLinearIndex(uint64_t v) {
  const int top_bit = std::bit_width(v | 1) - 1;
  const int shift = std::max(0, top_bit - kSubBits);
  return (shift << kSubBits) + static_cast<int>(v >> shift);
}

// The smallest value that maps to bucket `index` of LogLinearIndex<kSubBits>.
template <int kSubBits>
constexpr int64_t LogLinearLower(int index) {
  const int shift = std::max(0, (index >> kSubBits) - 1);
  return static_cast<int64_t>(index - (shift << kSubBits)) << shift;
}

// The width (number of distinct values) of bucket `index`.
template <int kSubBits>
constexpr int64_t LogLinearWidth(int index) {
  return int64_t{1} << std::max(0, (index >> kSubBits) - 1);
}

}  // namespace internal

class Histogram {
 public:
  // 2^7 = 128 sub-buckets per power of two.
  static constexpr int kSubBucketBits = 7;
  // Values above this go to the overflow bucket (2^37 - 1 ns, ~137 s).
  static constexpr int64_t kMaxTrackableNs = (int64_t{1} << 37) - 1;
  // Regular buckets, then the overflow bucket at index kOverflowBucket.
  static constexpr int kOverflowBucket =
      internal::LogLinearIndex<kSubBucketBits>(kMaxTrackableNs) + 1;
  static constexpr int kNumBuckets = kOverflowBucket + 1;

  // An empty histogram. Allocates its bucket array once.
  Histogram();

  // Copyable and movable. A moved-from Histogram may only be destroyed,
  // assigned to, or Clear()ed (which makes it a valid empty histogram).
  Histogram(const Histogram&) = default;
  Histogram& operator=(const Histogram&) = default;
  Histogram(Histogram&&) noexcept = default;
  Histogram& operator=(Histogram&&) noexcept = default;

  // Adds one sample of `ns` nanoseconds (negative values count as 0). O(1),
  // no allocation. Not safe to call concurrently with anything else on the
  // same object.
  void Record(int64_t ns) {
    const int64_t v = ns < 0 ? 0 : ns;
    ++count_;
    // Unsigned add: a wrap is only possible after ~292 years of summed
    // latency, and must not be undefined behaviour.
    sum_ = static_cast<int64_t>(static_cast<uint64_t>(sum_) +
                                static_cast<uint64_t>(v));
    min_ = std::min(min_, v);
    max_ = std::max(max_, v);
    const int index =
        v <= kMaxTrackableNs
            ? internal::LogLinearIndex<kSubBucketBits>(static_cast<uint64_t>(v))
            : kOverflowBucket;
    ++counts_[static_cast<size_t>(index)];
  }

  // Adds every sample of `other` to this histogram, as if each had been
  // recorded here. Not safe concurrently with mutation of either histogram.
  void Merge(const Histogram& other);

  // Removes all samples (and repairs a moved-from histogram).
  void Clear();

  // Exact statistics. Min(), Max() and Mean() return 0 for an empty histogram.
  int64_t Count() const { return count_; }
  int64_t Sum() const { return sum_; }
  int64_t Min() const { return count_ == 0 ? 0 : min_; }
  int64_t Max() const { return count_ == 0 ? 0 : max_; }
  double Mean() const {
    return count_ == 0
               ? 0.0
               : static_cast<double>(sum_) / static_cast<double>(count_);
  }

  // The p-th percentile in nanoseconds, p in [0, 100] (clamped), by the
  // nearest-rank definition: the value of rank ceil(p/100 * Count()) among the
  // sorted samples. The first rank (so Percentile(0)) is Min() and the last
  // (Percentile(100), or p99 of fewer than 100 samples) is Max(), exactly;
  // otherwise the midpoint of the bucket holding that rank, clamped to
  // [Min(), Max()], which is within 0.4% of the exact value. Returns 0 for an
  // empty histogram.
  double Percentile(double p) const;

  // The value of 1-based `rank` (clamped to [1, Count()]) among the sorted
  // samples, as Percentile() reports it: the exact Min() and Max() at the
  // ends, else its bucket's midpoint. 0 for an empty histogram.
  double ValueAtRank(int64_t rank) const;

  // The 95% interval of the p-th percentile (p in (0, 100)) from order
  // statistics (lib/metrics/order_stats.h): {low, high} in nanoseconds, as
  // ValueAtRank() reports them; nullopt when the samples are too few to
  // bound it (QuantileEstimable(Count(), p / 100)).
  std::optional<std::pair<double, double>> PercentileInterval(double p) const;

  // Bucket access, for tests and for exporters that want the raw shape.
  int64_t BucketCount(int index) const {
    return counts_[static_cast<size_t>(index)];
  }
  // The bucket `ns` is filed under (kOverflowBucket above kMaxTrackableNs).
  static int BucketIndex(int64_t ns);
  // The smallest value and the width of bucket `index` (index <
  // kOverflowBucket).
  static int64_t BucketLower(int index) {
    return internal::LogLinearLower<kSubBucketBits>(index);
  }
  static int64_t BucketWidth(int index) {
    return internal::LogLinearWidth<kSubBucketBits>(index);
  }

  // A compact, stable text encoding (only non-empty buckets), made of ASCII
  // digits, letters, ':' and single spaces, so it can also sit in a JSON
  // string. Version 1 is:
  //
  //   cbhist 1 <sub_bucket_bits> <num_buckets> <count> <sum> <min> <max>[
  //   <i>:<n>]...
  //
  // with decimal integers, one "<index>:<count>" pair per non-empty bucket in
  // increasing index order (count >= 1). An empty histogram is
  // "cbhist 1 7 3969 0 0 0 0". Safe to call concurrently with other const
  // calls.
  std::string Serialize() const;

  // Parses the output of Serialize(). Returns the histogram on success;
  // InvalidArgument for anything else: a different magic word, version or
  // bucket layout, a malformed or out-of-range number, buckets out of order,
  // bucket counts that do not add up to count, or min/max/sum inconsistent
  // with the buckets. Never crashes on arbitrary bytes. Thread-safe.
  static absl::StatusOr<Histogram> Deserialize(std::string_view text);

  // Equal when every statistic and every bucket is equal.
  friend bool operator==(const Histogram& a, const Histogram& b);
  friend bool operator!=(const Histogram& a, const Histogram& b) {
    return !(a == b);
  }

 private:
  int64_t count_ = 0;
  int64_t sum_ = 0;
  int64_t min_ = std::numeric_limits<int64_t>::max();
  int64_t max_ = 0;
  std::vector<int64_t> counts_;  // kNumBuckets entries
};

}  // namespace cabench

#endif  // CABENCH_LIB_METRICS_HISTOGRAM_H_
