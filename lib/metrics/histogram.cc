#include "lib/metrics/histogram.h"

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "lib/metrics/order_stats.h"

namespace cabench {
namespace {

// Debian's abseil is built with its own absl::string_view (not an alias of
// std::string_view), so absl string functions get absl views.
constexpr absl::string_view kMagic = "cbhist";
constexpr int64_t kFormatVersion = 1;
// magic, version, sub-bucket bits, buckets, count, sum, min, max.
constexpr size_t kHeaderFields = 8;

// Strict decimal parse: absl::SimpleAtoi also accepts '+' and surrounding
// whitespace, which would make two spellings of one histogram valid.
bool ParseNonNegative(absl::string_view s, int64_t* out) {
  if (s.empty() || s.size() > 19) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  if (s.size() > 1 && s[0] == '0') return false;
  return absl::SimpleAtoi(s, out) && *out >= 0;
}

absl::Status Invalid(absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("histogram: ", what));
}

}  // namespace

Histogram::Histogram() : counts_(kNumBuckets, 0) {}

int Histogram::BucketIndex(int64_t ns) {
  const int64_t v = ns < 0 ? 0 : ns;
  return v <= kMaxTrackableNs ? internal::LogLinearIndex<kSubBucketBits>(
                                    static_cast<uint64_t>(v))
                              : kOverflowBucket;
}

void Histogram::Merge(const Histogram& other) {
  if (other.count_ == 0) return;
  count_ += other.count_;
  sum_ = static_cast<int64_t>(static_cast<uint64_t>(sum_) +
                              static_cast<uint64_t>(other.sum_));
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
  for (size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
}

void Histogram::Clear() {
  count_ = 0;
  sum_ = 0;
  min_ = std::numeric_limits<int64_t>::max();
  max_ = 0;
  counts_.assign(kNumBuckets, 0);
}

double Histogram::Percentile(double p) const {
  if (count_ == 0) return 0.0;
  if (!(p > 0.0)) return static_cast<double>(min_);  // also catches NaN
  if (p >= 100.0) return static_cast<double>(max_);
  // Nearest rank, 1-based. The relative epsilon keeps a p * n that is an
  // integer in exact arithmetic (99.9% of 1000) from rounding up a rank.
  const double exact_rank = p / 100.0 * static_cast<double>(count_);
  return ValueAtRank(static_cast<int64_t>(std::ceil(exact_rank * (1.0 - 1e-12))));
}

double Histogram::ValueAtRank(int64_t rank) const {
  if (count_ == 0) return 0.0;
  rank = std::clamp<int64_t>(rank, 1, count_);
  // The first and last ranks are the exact min and max.
  if (rank == 1) return static_cast<double>(min_);
  if (rank == count_) return static_cast<double>(max_);
  int64_t seen = 0;
  for (int i = 0; i < kNumBuckets; ++i) {
    seen += counts_[static_cast<size_t>(i)];
    if (seen < rank) continue;
    if (i == kOverflowBucket) return static_cast<double>(max_);
    const double lower = static_cast<double>(BucketLower(i));
    const double mid = lower + static_cast<double>(BucketWidth(i) - 1) / 2.0;
    return std::clamp(mid, static_cast<double>(min_),
                      static_cast<double>(max_));
  }
  return static_cast<double>(max_);  // unreachable when counts add up
}

std::optional<std::pair<double, double>> Histogram::PercentileInterval(double p) const {
  const std::optional<RankInterval> r = QuantileRankInterval(count_, p / 100.0);
  if (!r.has_value()) return std::nullopt;
  return std::make_pair(ValueAtRank(r->lo), ValueAtRank(r->hi));
}

std::string Histogram::Serialize() const {
  std::string out =
      absl::StrCat(kMagic, " ", kFormatVersion, " ", kSubBucketBits, " ",
                   kNumBuckets, " ", count_, " ", sum_, " ", Min(), " ", Max());
  for (int i = 0; i < kNumBuckets; ++i) {
    const int64_t n = counts_[static_cast<size_t>(i)];
    if (n != 0) absl::StrAppend(&out, " ", i, ":", n);
  }
  return out;
}

absl::StatusOr<Histogram> Histogram::Deserialize(std::string_view text) {
  const std::vector<absl::string_view> fields =
      absl::StrSplit(absl::string_view(text.data(), text.size()), ' ');
  if (fields.size() < kHeaderFields) return Invalid("truncated header");
  if (fields[0] != kMagic) return Invalid("not a cabench histogram");
  int64_t header[kHeaderFields] = {};
  for (size_t i = 1; i < kHeaderFields; ++i) {
    if (!ParseNonNegative(fields[i], &header[i])) {
      return Invalid(absl::StrCat("bad header field ", i));
    }
  }
  if (header[1] != kFormatVersion) {
    return Invalid(absl::StrCat("unsupported version ", header[1],
                                ", this build reads ", kFormatVersion));
  }
  if (header[2] != kSubBucketBits || header[3] != kNumBuckets) {
    return Invalid("bucket layout differs from this build's");
  }
  const int64_t count = header[4];
  Histogram h;
  h.count_ = count;
  h.sum_ = header[5];
  h.min_ = header[6];
  h.max_ = header[7];

  int64_t total = 0;
  int first = -1;
  int last = -1;
  for (size_t f = kHeaderFields; f < fields.size(); ++f) {
    const size_t colon = fields[f].find(':');
    if (colon == absl::string_view::npos) return Invalid("bucket without ':'");
    int64_t index = 0;
    int64_t n = 0;
    if (!ParseNonNegative(fields[f].substr(0, colon), &index) ||
        !ParseNonNegative(fields[f].substr(colon + 1), &n)) {
      return Invalid("bad bucket");
    }
    if (index >= kNumBuckets || index <= last)
      return Invalid("bucket index out of order");
    if (n == 0 || n > count - total)
      return Invalid("bucket counts exceed count");
    total += n;
    if (first < 0) first = static_cast<int>(index);
    last = static_cast<int>(index);
    h.counts_[static_cast<size_t>(index)] = n;
  }
  if (total != count) return Invalid("bucket counts do not add up to count");
  if (count == 0) {
    if (h.sum_ != 0 || h.min_ != 0 || h.max_ != 0)
      return Invalid("empty but with statistics");
    h.min_ = std::numeric_limits<int64_t>::max();
    return h;
  }
  if (h.min_ > h.max_ || BucketIndex(h.min_) != first ||
      BucketIndex(h.max_) != last) {
    return Invalid("min/max do not match the buckets");
  }
  // min <= mean <= max, checked without overflow: floor(sum / count).
  const int64_t mean_floor = h.sum_ / count;
  if (mean_floor < h.min_ || mean_floor > h.max_)
    return Invalid("sum out of range");
  return h;
}

bool operator==(const Histogram& a, const Histogram& b) {
  return a.count_ == b.count_ && a.sum_ == b.sum_ && a.Min() == b.Min() &&
         a.Max() == b.Max() && a.counts_ == b.counts_;
}

}  // namespace cabench
