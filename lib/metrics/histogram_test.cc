#include "lib/metrics/histogram.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/testing/status_matchers.h"

namespace cabench {
namespace {

using ::testing::HasSubstr;

// Nearest-rank percentile of sorted samples, the definition Histogram uses.
int64_t ExactPercentile(const std::vector<int64_t>& sorted, double p) {
  if (p <= 0) return sorted.front();
  const double exact_rank = p / 100.0 * static_cast<double>(sorted.size());
  int64_t rank = static_cast<int64_t>(std::ceil(exact_rank * (1.0 - 1e-12)));
  rank = std::clamp<int64_t>(rank, 1, static_cast<int64_t>(sorted.size()));
  return sorted[static_cast<size_t>(rank - 1)];
}

std::vector<int64_t> LognormalSamples(int n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  // Median ~150 us with a long tail (sigma 1.5 reaches seconds).
  std::lognormal_distribution<double> dist(std::log(150'000.0), 1.5);
  std::vector<int64_t> v(static_cast<size_t>(n));
  for (auto& x : v) x = static_cast<int64_t>(dist(rng));
  return v;
}

std::vector<int64_t> ParetoSamples(int n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::vector<int64_t> v(static_cast<size_t>(n));
  // Pareto with x_m = 80 ns and alpha = 1.1: values from below 100 ns up to
  // beyond the 100 s trackable range.
  for (auto& x : v)
    x = static_cast<int64_t>(80.0 / std::pow(1.0 - u(rng), 1.0 / 1.1));
  return v;
}

void ExpectPercentilesClose(const std::vector<int64_t>& samples) {
  Histogram h;
  for (int64_t x : samples) h.Record(x);
  std::vector<int64_t> sorted = samples;
  std::sort(sorted.begin(), sorted.end());
  for (double p : {0.0, 1.0, 10.0, 25.0, 50.0, 75.0, 90.0, 95.0, 99.0, 99.9,
                   99.99, 100.0}) {
    const double exact = static_cast<double>(ExactPercentile(sorted, p));
    const double got = h.Percentile(p);
    // Values beyond the trackable range report the exact max; others are
    // within 1% (the design gives 0.4%).
    EXPECT_LE(std::abs(got - exact), 0.01 * exact)
        << "p" << p << " exact " << exact;
  }
  EXPECT_EQ(h.Percentile(0), static_cast<double>(sorted.front()));
  EXPECT_EQ(h.Percentile(100), static_cast<double>(sorted.back()));
}

TEST(HistogramTest, EmptyIsAllZero) {
  Histogram h;
  EXPECT_EQ(h.Count(), 0);
  EXPECT_EQ(h.Sum(), 0);
  EXPECT_EQ(h.Min(), 0);
  EXPECT_EQ(h.Max(), 0);
  EXPECT_EQ(h.Mean(), 0.0);
  EXPECT_EQ(h.Percentile(50), 0.0);
  EXPECT_EQ(h.Percentile(100), 0.0);
}

TEST(HistogramTest, LayoutCoversRangeWithSmallBuckets) {
  EXPECT_EQ(Histogram::kNumBuckets, 3969);
  EXPECT_GE(Histogram::kMaxTrackableNs, int64_t{100'000'000'000});
  // Every bucket is adjacent to the next and narrower than 1/128 of its
  // lower bound above the exact range.
  for (int i = 0; i + 1 < Histogram::kOverflowBucket; ++i) {
    const int64_t lo = Histogram::BucketLower(i);
    const int64_t w = Histogram::BucketWidth(i);
    ASSERT_EQ(lo + w, Histogram::BucketLower(i + 1)) << i;
    ASSERT_EQ(Histogram::BucketIndex(lo), i);
    ASSERT_EQ(Histogram::BucketIndex(lo + w - 1), i);
    if (lo >= 256) {
      ASSERT_LE(w * 128, lo) << i;
    }
  }
  for (int64_t v = 0; v < 256; ++v) EXPECT_EQ(Histogram::BucketIndex(v), v);
  EXPECT_EQ(Histogram::BucketIndex(-5), 0);
  EXPECT_EQ(Histogram::BucketIndex(Histogram::kMaxTrackableNs),
            Histogram::kOverflowBucket - 1);
  EXPECT_EQ(Histogram::BucketIndex(Histogram::kMaxTrackableNs + 1),
            Histogram::kOverflowBucket);
  EXPECT_EQ(Histogram::BucketIndex(INT64_MAX), Histogram::kOverflowBucket);
}

TEST(HistogramTest, PercentilesWithinOnePercentOnLognormal) {
  ExpectPercentilesClose(LognormalSamples(200'000, 42));
}

TEST(HistogramTest, PercentilesWithinOnePercentOnPareto) {
  ExpectPercentilesClose(ParetoSamples(200'000, 7));
}

TEST(HistogramTest, PercentilesWithinOnePercentOnSmallCounts) {
  for (int n : {1, 2, 3, 10, 999, 1000, 1001}) {
    ExpectPercentilesClose(LognormalSamples(n, 100 + static_cast<uint64_t>(n)));
  }
}

TEST(HistogramTest, StatisticsAreExact) {
  const std::vector<int64_t> samples = ParetoSamples(100'000, 3);
  Histogram h;
  int64_t sum = 0;
  for (int64_t x : samples) {
    h.Record(x);
    sum += x;
  }
  EXPECT_EQ(h.Count(), 100'000);
  EXPECT_EQ(h.Sum(), sum);
  EXPECT_EQ(h.Min(), *std::min_element(samples.begin(), samples.end()));
  EXPECT_EQ(h.Max(), *std::max_element(samples.begin(), samples.end()));
  EXPECT_DOUBLE_EQ(h.Mean(), static_cast<double>(sum) / 100'000.0);
}

TEST(HistogramTest, ExtremesAndOverflowKeepExactMax) {
  Histogram h;
  h.Record(-3);  // clamped to 0
  h.Record(7);
  h.Record(200'000'000'000);  // 200 s, overflow bucket
  EXPECT_EQ(h.Min(), 0);
  EXPECT_EQ(h.Max(), 200'000'000'000);
  EXPECT_EQ(h.BucketCount(0), 1);
  EXPECT_EQ(h.BucketCount(7), 1);
  EXPECT_EQ(h.BucketCount(Histogram::kOverflowBucket), 1);
  EXPECT_EQ(h.Percentile(99), 200'000'000'000.0);
  EXPECT_EQ(h.Percentile(50), 7.0);
  EXPECT_EQ(h.Percentile(-1), 0.0);
  EXPECT_EQ(h.Percentile(250), 200'000'000'000.0);
}

TEST(HistogramTest, MergeEqualsOneHistogramOfAllSamples) {
  const std::vector<int64_t> a = LognormalSamples(50'000, 11);
  const std::vector<int64_t> b = ParetoSamples(60'000, 12);
  Histogram ha, hb, all;
  for (int64_t x : a) {
    ha.Record(x);
    all.Record(x);
  }
  for (int64_t x : b) {
    hb.Record(x);
    all.Record(x);
  }
  ha.Merge(hb);
  EXPECT_EQ(ha, all);
  for (int i = 0; i < Histogram::kNumBuckets; ++i) {
    ASSERT_EQ(ha.BucketCount(i), all.BucketCount(i)) << i;
  }
  Histogram empty;
  all.Merge(empty);
  EXPECT_EQ(ha, all);
  empty.Merge(all);
  EXPECT_EQ(empty, all);
}

TEST(HistogramTest, ClearAndMovedFromRepair) {
  Histogram h;
  h.Record(1000);
  Histogram moved = std::move(h);
  h.Clear();
  EXPECT_EQ(h, Histogram());
  h.Record(5);
  EXPECT_EQ(h.Count(), 1);
  moved.Clear();
  EXPECT_EQ(moved, Histogram());
}

TEST(HistogramTest, SerializeRoundTrip) {
  Histogram h;
  for (int64_t x : ParetoSamples(20'000, 5)) h.Record(x);
  const std::string text = h.Serialize();
  EXPECT_THAT(text, ::testing::StartsWith("cbhist 1 7 3969 20000 "));
  ASSERT_OK_AND_ASSIGN(Histogram back, Histogram::Deserialize(text));
  EXPECT_EQ(back, h);
  EXPECT_EQ(back.Serialize(), text);

  ASSERT_OK_AND_ASSIGN(Histogram empty,
                       Histogram::Deserialize(Histogram().Serialize()));
  EXPECT_EQ(empty, Histogram());
  EXPECT_EQ(Histogram().Serialize(), "cbhist 1 7 3969 0 0 0 0");
}

TEST(HistogramTest, SerializeIsSparseAndStable) {
  Histogram h;
  h.Record(5);
  h.Record(5);
  h.Record(1000);
  EXPECT_EQ(h.Serialize(), absl::StrCat("cbhist 1 7 3969 3 1010 5 1000 5:2 ",
                                        Histogram::BucketIndex(1000), ":1"));
}

TEST(HistogramTest, DeserializeRejectsBadInput) {
  Histogram h;
  h.Record(100);
  h.Record(5000);
  const std::string good =
      h.Serialize();  // "cbhist 1 7 3969 2 5100 100 5000 100:1 <i>:1"
  const auto invalid = [](const std::string& s) {
    return Histogram::Deserialize(s).status().code() ==
           absl::StatusCode::kInvalidArgument;
  };
  EXPECT_TRUE(invalid(""));
  EXPECT_TRUE(invalid("garbage"));
  EXPECT_THAT(
      Histogram::Deserialize("cbhist 2 7 3969 0 0 0 0"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("version")));
  EXPECT_THAT(
      Histogram::Deserialize("cbhist 1 6 2048 0 0 0 0"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("layout")));
  EXPECT_TRUE(invalid("cbhist 1 7 3969 0 0 0"));        // truncated header
  EXPECT_TRUE(invalid("cbhist 1 7 3969 0 0 0 0 "));     // trailing space
  EXPECT_TRUE(invalid("cbhist 1 7 3969 +0 0 0 0"));     // sign
  EXPECT_TRUE(invalid("cbhist 1 7 3969 1 5 5 5"));      // no buckets
  EXPECT_TRUE(invalid("cbhist 1 7 3969 1 5 5 5 6:1"));  // min in wrong bucket
  EXPECT_TRUE(invalid("cbhist 1 7 3969 1 5 5 5 5:2"));  // counts exceed count
  EXPECT_TRUE(invalid("cbhist 1 7 3969 1 9 5 5 5:1"));  // sum out of range
  EXPECT_TRUE(invalid("cbhist 1 7 3969 2 10 5 5 5:1 5:1"));  // repeated bucket
  EXPECT_TRUE(invalid("cbhist 1 7 3969 1 5 5 5 5:0"));
  EXPECT_TRUE(invalid("cbhist 1 7 3969 1 5 5 5 5:1:1"));
  EXPECT_TRUE(invalid("cbhist 1 7 3969 1 5 5 5 99999999999999999999:1"));
  EXPECT_TRUE(invalid("cbhist 1 7 3969 0 1 0 0"));  // empty with a sum
  EXPECT_TRUE(invalid(good + " 9999:1"));
  for (size_t len = 0; len < good.size(); ++len) {
    // Every proper prefix either fails or (if it ends on a complete field
    // that still adds up, which this input does not allow) parses.
    EXPECT_TRUE(invalid(good.substr(0, len))) << good.substr(0, len);
  }
}

// Fuzz: random bytes and random mutations of valid encodings never crash;
// anything accepted is a consistent histogram.
TEST(HistogramTest, DeserializeSurvivesFuzz) {
  std::mt19937_64 rng(1234);
  Histogram base;
  for (int64_t x : LognormalSamples(300, 9)) base.Record(x);
  const std::string good = base.Serialize();
  const std::string alphabet = "cbhist 0123456789:-+ \n\t\xff";
  int accepted = 0;
  for (int iter = 0; iter < 6000; ++iter) {
    std::string s;
    if (iter % 3 == 0) {
      const size_t len = rng() % 64;
      for (size_t i = 0; i < len; ++i)
        s.push_back(static_cast<char>(rng() & 0xff));
    } else if (iter % 3 == 1) {
      s = "cbhist 1 7 3969 ";
      const size_t len = rng() % 40;
      for (size_t i = 0; i < len; ++i)
        s.push_back(alphabet[rng() % alphabet.size()]);
    } else {
      s = good;
      const int edits = 1 + static_cast<int>(rng() % 3);
      for (int e = 0; e < edits; ++e) {
        const size_t pos = rng() % s.size();
        switch (rng() % 3) {
          case 0:
            s[pos] = alphabet[rng() % alphabet.size()];
            break;
          case 1:
            s.erase(pos, 1 + rng() % 4);
            break;
          default:
            s.resize(pos);
            break;
        }
        if (s.empty()) break;
      }
    }
    absl::StatusOr<Histogram> h = Histogram::Deserialize(s);
    if (!h.ok()) {
      ASSERT_EQ(h.status().code(), absl::StatusCode::kInvalidArgument);
      continue;
    }
    ++accepted;
    // A valid histogram: it round-trips and its statistics are consistent.
    ASSERT_OK_AND_ASSIGN(Histogram again,
                         Histogram::Deserialize(h->Serialize()));
    EXPECT_EQ(again, *h);
    EXPECT_LE(h->Min(), h->Max());
    EXPECT_LE(h->Percentile(50), static_cast<double>(h->Max()));
    EXPECT_GE(h->Percentile(50), static_cast<double>(h->Min()));
  }
  // Some mutations (a digit changed inside a count that still adds up, etc.)
  // rarely survive; mostly everything is rejected.
  EXPECT_LT(accepted, 6000);
}

}  // namespace
}  // namespace cabench
