// Tests of the key chooser (key_chooser.h) and of KeyPopularity()
// (popularity.h), which describes what the chooser draws.
#include "lib/workload/key_chooser.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/workload/popularity.h"

namespace cabench {
namespace {

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;

// ---------------------------------------------------------------------------
// Chi-square goodness of fit, at fixed seeds: a failure is a wrong
// distribution (or a changed generator), never bad luck on a rerun.

struct ChiSquare {
  double statistic = 0;
  int df = 0;
  double critical = 0;  // at p = 1e-4
};

// Pearson's statistic of `observed` against `p` (same length, summing to 1)
// for `draws` draws. Neighbouring categories are merged until each cell
// expects at least 10 draws. A category with p == 0 must never be observed
// (checked here) and joins no cell.
ChiSquare ChiSquareOf(const std::vector<int64_t>& observed, const std::vector<double>& p,
                      int64_t draws) {
  EXPECT_EQ(observed.size(), p.size());
  std::vector<std::pair<double, double>> cells;  // (expected, observed)
  double expected = 0, seen = 0;
  for (size_t i = 0; i < p.size(); ++i) {
    if (p[i] == 0) {
      EXPECT_EQ(observed[i], 0) << "category " << i << " has probability 0";
      continue;
    }
    expected += p[i] * static_cast<double>(draws);
    seen += static_cast<double>(observed[i]);
    if (expected >= 10) {
      cells.emplace_back(expected, seen);
      expected = seen = 0;
    }
  }
  if (expected > 0 || seen > 0) {
    if (cells.empty()) {
      cells.emplace_back(expected, seen);
    } else {
      cells.back().first += expected;
      cells.back().second += seen;
    }
  }
  ChiSquare result;
  for (const auto& [e, o] : cells) result.statistic += (o - e) * (o - e) / e;
  result.df = static_cast<int>(cells.size()) - 1;
  // Wilson-Hilferty: chi2_q(df) ~ df (1 - 2/(9 df) + z sqrt(2/(9 df)))^3,
  // z = 3.719 for p = 1e-4 (within a few percent from df = 1 on; 15.1 at df
  // 1, where the exact value is 15.14).
  const double d = std::max(1, result.df);
  const double a = 2 / (9 * d);
  result.critical = d * std::pow(1 - a + 3.719 * std::sqrt(a), 3);
  return result;
}

#define EXPECT_FITS(chi)                                                            \
  do {                                                                              \
    const ChiSquare c_ = (chi);                                                     \
    if (c_.df > 0) {                                                                \
      EXPECT_LT(c_.statistic, c_.critical) << "chi-square with " << c_.df << " df"; \
    }                                                                               \
  } while (0)

// k^-s for k = 1..n (index k - 1), each within an ulp or two.
std::vector<double> Powers(uint64_t n, double s) {
  std::vector<double> w(n);
  for (uint64_t k = 1; k <= n; ++k) w[k - 1] = std::pow(static_cast<double>(k), -s);
  return w;
}

// p_k = k^-s / H(n, s) for k = 1..n, H summed term by term in long double.
std::vector<double> ZipfProbabilities(uint64_t n, double s) {
  std::vector<double> p = Powers(n, s);
  long double total = 0;
  for (double w : p) total += w;
  for (double& w : p) w = static_cast<double>(w / total);
  return p;
}

// ---------------------------------------------------------------------------
// PowerSum: the tail masses the popularity bins and the tests rely on.

TEST(PowerSumTest, MatchesTermByTermSums) {
  for (double s : {0.05, 0.6, 0.99, 1.0, 1.01, 1.5, 2.7, 10.0}) {
    const std::vector<double> w = Powers(100000, s);
    for (uint64_t first : {1u, 2u, 200u, 300u, 5000u}) {
      for (uint64_t last : {1u, 255u, 256u, 257u, 1000u, 100000u}) {
        long double direct = 0;  // smallest terms first
        for (uint64_t k = last; k >= first && k >= 1; --k) direct += w[k - 1];
        const double got = PowerSum(first, last, s);
        if (first > last) {
          EXPECT_EQ(got, 0);
          continue;
        }
        EXPECT_NEAR(got / static_cast<double>(direct), 1, 1e-12)
            << "s " << s << " ranks " << first << ".." << last;
      }
    }
  }
}

TEST(PowerSumTest, HarmonicNumbersOfHugeRanges) {
  // H(n, 1) = ln n + gamma + 1/(2n) - 1/(12 n^2) + ...
  constexpr double kGamma = 0.57721566490153286;
  for (double n : {1e6, 1e9, 1e12}) {
    const double expected = std::log(n) + kGamma + 1 / (2 * n);
    EXPECT_NEAR(PowerSum(1, static_cast<uint64_t>(n), 1.0) / expected, 1, 1e-13) << n;
  }
  // Split anywhere, the pieces add up to the whole.
  EXPECT_NEAR(PowerSum(1, 999, 0.8) + PowerSum(1000, 1000000000, 0.8), PowerSum(1, 1000000000, 0.8),
              1e-9);
}

// ---------------------------------------------------------------------------
// KeyPermutation.

TEST(KeyPermutationTest, IsABijectionForManySizesAndSeeds) {
  for (uint64_t n :
       {1u, 2u, 3u, 5u, 7u, 8u, 9u, 100u, 1000u, 1023u, 1024u, 1025u, 4097u, 65536u, 100003u}) {
    for (uint64_t seed : {0u, 1u, 42u, 0xdeadbeefu}) {
      const KeyPermutation perm(n, seed);
      ASSERT_EQ(perm.size(), n);
      std::vector<bool> seen(n, false);
      for (uint64_t x = 0; x < n; ++x) {
        const uint64_t y = perm(x);
        ASSERT_LT(y, n) << "n " << n << " seed " << seed << " x " << x;
        ASSERT_FALSE(seen[y]) << "n " << n << " seed " << seed << ": " << y << " twice";
        seen[y] = true;
      }
    }
  }
}

TEST(KeyPermutationTest, HugeDomainsStayInRangeAndInjective) {
  for (uint64_t n : {(uint64_t{1} << 40) + 17, uint64_t{1} << 63, ~uint64_t{0}}) {
    const KeyPermutation perm(n, 7);
    std::set<uint64_t> images;
    for (uint64_t x = 0; x < 20000; ++x) {
      const uint64_t y = perm(x);
      ASSERT_LT(y, n);
      images.insert(y);
    }
    EXPECT_EQ(images.size(), 20000u) << n;
  }
}

TEST(KeyPermutationTest, ScattersAndDependsOnTheSeed) {
  constexpr uint64_t kN = 10000;
  const KeyPermutation a(kN, 42), b(kN, 43), a_again(kN, 42);
  int fixed_points = 0, same_as_b = 0, top_in_first_pct = 0;
  for (uint64_t x = 0; x < kN; ++x) {
    fixed_points += a(x) == x;
    same_as_b += a(x) == b(x);
    ASSERT_EQ(a(x), a_again(x));
  }
  // The 100 most popular ranks land all over the ids, not at their start.
  for (uint64_t x = 0; x < 100; ++x) top_in_first_pct += a(x) < kN / 100;
  // A random permutation has ~1 fixed point and agrees with another on ~1.
  EXPECT_LT(fixed_points, 10);
  EXPECT_LT(same_as_b, 10);
  EXPECT_LT(top_in_first_pct, 10);
  // n == 0 is treated as 1: the identity of {0}.
  EXPECT_EQ(KeyPermutation(0, 5)(0), 0u);
  EXPECT_EQ(KeyPermutation()(0), 0u);
}

// ---------------------------------------------------------------------------
// ZipfRanks: exact for every exponent, small and large n.

struct ZipfCase {
  uint64_t n;
  double s;
};

TEST(ZipfRanksTest, RankFrequenciesMatchExactProbabilities) {
  constexpr int64_t kDraws = 200000;
  for (double s : {0.05, 0.6, 0.99, 1.0, 1.5, 2.7, 10.0}) {
    for (uint64_t n : {1u, 2u, 3u, 10u, 1000u, 100000u}) {
      SCOPED_TRACE(absl::StrCat("s ", s, " n ", n));
      const ZipfRanks zipf(n, s);
      std::mt19937_64 rng(1234 + n);
      std::vector<int64_t> counts(n, 0);
      for (int64_t i = 0; i < kDraws; ++i) {
        const uint64_t k = zipf.Next(rng);
        ASSERT_GE(k, 1u);
        ASSERT_LE(k, n);
        ++counts[k - 1];
      }
      if (n == 1) {
        EXPECT_EQ(counts[0], kDraws);
        continue;
      }
      EXPECT_FITS(ChiSquareOf(counts, ZipfProbabilities(n, s), kDraws));
    }
  }
}

TEST(ZipfRanksTest, TwoKeysHaveTheExactRatio) {
  // N = 2: rank 1 has probability 1 / (1 + 2^-s). Tighter than a
  // chi-square: 1e6 draws, 5 standard deviations.
  constexpr int64_t kDraws = 1000000;
  for (double s : {0.6, 1.0, 2.7}) {
    const ZipfRanks zipf(2, s);
    std::mt19937_64 rng(99);
    int64_t ones = 0;
    for (int64_t i = 0; i < kDraws; ++i) ones += zipf.Next(rng) == 1;
    const double p = 1 / (1 + std::pow(2.0, -s));
    const double sd = std::sqrt(p * (1 - p) / kDraws);
    EXPECT_NEAR(static_cast<double>(ones) / kDraws, p, 5 * sd) << s;
  }
}

TEST(ZipfRanksTest, HugeRangesMatchExactRangeMasses) {
  // n = 10^9: the first 100 ranks one by one, the rest in ranges growing
  // geometrically; each cell's mass from PowerSum (tested above).
  constexpr int64_t kDraws = 200000;
  constexpr uint64_t kN = 1000000000;
  std::vector<uint64_t> ends;  // last rank of each cell
  for (uint64_t k = 1; k <= 100; ++k) ends.push_back(k);
  for (uint64_t e = 150; e < kN; e = e * 3 / 2) ends.push_back(e);
  ends.push_back(kN);
  for (double s : {0.6, 0.99, 1.0, 1.5, 2.7}) {
    SCOPED_TRACE(absl::StrCat("s ", s));
    const ZipfRanks zipf(kN, s);
    const double total = PowerSum(1, kN, s);
    std::vector<double> p;
    uint64_t first = 1;
    for (uint64_t e : ends) {
      p.push_back(PowerSum(first, e, s) / total);
      first = e + 1;
    }
    std::mt19937_64 rng(7);
    std::vector<int64_t> counts(ends.size(), 0);
    for (int64_t i = 0; i < kDraws; ++i) {
      const uint64_t k = zipf.Next(rng);
      ASSERT_GE(k, 1u);
      ASSERT_LE(k, kN);
      ++counts[static_cast<size_t>(std::lower_bound(ends.begin(), ends.end(), k) - ends.begin())];
    }
    EXPECT_FITS(ChiSquareOf(counts, p, kDraws));
  }
}

TEST(ZipfRanksTest, BadExponentsAndSizesAreClamped) {
  EXPECT_EQ(ZipfRanks(0, 1.0).n(), 1u);
  EXPECT_EQ(ZipfRanks(5, 0).s(), 1e-9);
  EXPECT_EQ(ZipfRanks(5, -2).s(), 1e-9);
  EXPECT_EQ(ZipfRanks(5, std::nan("")).s(), 1e-9);
  std::mt19937_64 rng(3);
  const ZipfRanks flat(5, std::nan(""));
  for (int i = 0; i < 1000; ++i) {
    const uint64_t k = flat.Next(rng);
    ASSERT_GE(k, 1u);
    ASSERT_LE(k, 5u);
  }
}

// ---------------------------------------------------------------------------
// KeyChooser: ids, not ranks.

DataSetInfo Passengers(int64_t n) {
  DataSetInfo ds;
  ds.preset = "test";
  ds.passengers = n;
  ds.flights = 10;
  return ds;
}

Scenario ZipfScenario(int64_t pool, double s) {
  Scenario sc;
  sc.access = AccessMode::kZipf;
  sc.pool_size = pool;
  sc.pool_first_id = 4;
  sc.zipf_s = s;
  return sc;
}

// Rank r (0-based) is the id first_id + perm(r): the inverse, id -> rank.
std::vector<uint64_t> RankOfOffset(uint64_t n, uint64_t seed) {
  const KeyPermutation perm(n, seed);
  std::vector<uint64_t> rank(n);
  for (uint64_t r = 0; r < n; ++r) rank[perm(r)] = r;
  return rank;
}

TEST(KeyChooserTest, ZipfIdsHaveTheProbabilityOfTheirRank) {
  constexpr int64_t kDraws = 200000;
  for (double s : {0.6, 0.99, 1.0, 1.5, 2.7}) {
    for (int64_t pool : {1, 2, 3, 1000}) {
      SCOPED_TRACE(absl::StrCat("s ", s, " pool ", pool));
      const Scenario sc = ZipfScenario(pool, s);
      KeyChooser chooser(sc, Passengers(36000), 0, 1);
      ASSERT_FALSE(chooser.replays_trace());
      const std::vector<uint64_t> rank = RankOfOffset(static_cast<uint64_t>(pool), sc.seed);
      std::vector<int64_t> by_rank(static_cast<size_t>(pool), 0);
      std::mt19937_64 rng(5);
      for (int64_t i = 0; i < kDraws; ++i) {
        const int64_t id = chooser.Next(rng);
        ASSERT_GE(id, 4);
        ASSERT_LT(id, 4 + pool);
        ++by_rank[rank[static_cast<size_t>(id - 4)]];
      }
      if (pool == 1) {
        EXPECT_EQ(by_rank[0], kDraws);
        continue;
      }
      EXPECT_FITS(ChiSquareOf(by_rank, ZipfProbabilities(static_cast<uint64_t>(pool), s), kDraws));
    }
  }
}

TEST(KeyChooserTest, EveryThreadAgreesOnThePopularIds) {
  const Scenario sc = ZipfScenario(10000, 1.2);
  const int64_t top = 4 + static_cast<int64_t>(KeyPermutation(10000, sc.seed)(0));
  for (int thread = 0; thread < 4; ++thread) {
    KeyChooser chooser(sc, Passengers(36000), thread, 4);
    std::mt19937_64 rng(sc.seed + static_cast<uint64_t>(thread));
    std::vector<int64_t> counts(10000, 0);
    for (int i = 0; i < 20000; ++i) ++counts[static_cast<size_t>(chooser.Next(rng) - 4)];
    const auto most = std::max_element(counts.begin(), counts.end()) - counts.begin();
    EXPECT_EQ(4 + most, top) << "thread " << thread;
  }
}

struct HotspotCase {
  int64_t n;
  double hot_keys_pct;
  double hot_ops_pct;
};

TEST(KeyChooserTest, HotspotSendsTheHotShareOfOpsUniformlyToTheHotKeys) {
  constexpr int64_t kDraws = 200000;
  const HotspotCase cases[] = {{1, 20, 80},    {2, 20, 80},  {7, 20, 80},     {100, 20, 80},
                               {100, 10, 90},  {100, 1, 99}, {1000, 0.5, 80}, {100, 30, 0},
                               {100, 30, 100}, {100, 0, 80}, {100, 100, 50},  {100, 50, 20},
                               {3, 33.4, 50}};
  for (const HotspotCase& c : cases) {
    SCOPED_TRACE(absl::StrCat("n ", c.n, " keys ", c.hot_keys_pct, "% ops ", c.hot_ops_pct, "%"));
    Scenario sc;
    sc.access = AccessMode::kHotspot;
    sc.pool_size = c.n;
    sc.hot_keys_pct = c.hot_keys_pct;
    sc.hot_ops_pct = c.hot_ops_pct;
    const int64_t hot = HotKeyCount(c.n, c.hot_keys_pct);
    EXPECT_EQ(hot, static_cast<int64_t>(std::ceil(c.n * c.hot_keys_pct / 100 - 1e-9)));
    // Expected probability of each id: the hot positions of the permutation
    // share hot_ops_pct, the others the rest; no hot or no cold key is
    // uniform.
    const uint64_t n = static_cast<uint64_t>(c.n);
    const KeyPermutation perm(n, sc.seed);
    std::vector<double> p(n);
    std::vector<bool> is_hot(n, false);
    for (uint64_t pos = 0; pos < n; ++pos) {
      const bool h = static_cast<int64_t>(pos) < hot;
      is_hot[perm(pos)] = h;
      if (hot == 0 || hot == c.n) {
        p[perm(pos)] = 1.0 / c.n;
      } else {
        p[perm(pos)] = h ? c.hot_ops_pct / 100 / hot : (1 - c.hot_ops_pct / 100) / (c.n - hot);
      }
    }
    KeyChooser chooser(sc, Passengers(36000), 0, 1);
    std::mt19937_64 rng(11);
    std::vector<int64_t> counts(n, 0);
    int64_t hot_ops = 0;
    for (int64_t i = 0; i < kDraws; ++i) {
      const int64_t id = chooser.Next(rng);
      ASSERT_GE(id, 4);
      ASSERT_LT(id, 4 + c.n);
      ++counts[static_cast<size_t>(id - 4)];
      hot_ops += is_hot[static_cast<size_t>(id - 4)];
    }
    EXPECT_FITS(ChiSquareOf(counts, p, kDraws));
    if (hot > 0 && hot < c.n) {
      // YCSB's meaning, stated directly: hot_ops_pct of the operations.
      const double q = c.hot_ops_pct / 100;
      EXPECT_NEAR(static_cast<double>(hot_ops) / kDraws, q,
                  5 * std::sqrt(q * (1 - q) / kDraws) + 1e-12);
    }
  }
}

TEST(KeyChooserTest, UniformModesDrawFromTheirRange) {
  Scenario pool;
  pool.pool_size = 10;
  pool.pool_first_id = 20;
  KeyChooser a(pool, Passengers(100), 0, 1);
  Scenario random;
  random.access = AccessMode::kRandom;
  KeyChooser b(random, Passengers(7), 0, 1);
  std::mt19937_64 rng(1);
  std::set<int64_t> seen_a, seen_b;
  for (int i = 0; i < 2000; ++i) {
    seen_a.insert(a.Next(rng));
    seen_b.insert(b.Next(rng));
  }
  EXPECT_EQ(seen_a.size(), 10u);
  EXPECT_EQ(*seen_a.begin(), 20);
  EXPECT_EQ(*seen_a.rbegin(), 29);
  EXPECT_THAT(seen_b, ElementsAre(1, 2, 3, 4, 5, 6, 7));
}

// The sequences are part of what a recorded run means: these values may
// only change together with a note that old results are not comparable.
constexpr uint64_t kGoldenRanks[] = {4, 9, 4, 372, 1, 506, 14, 65, 135, 57, 915, 21};
constexpr uint64_t kGoldenImages[] = {401, 847, 500, 537, 50, 184, 320, 245, 388, 687, 407, 502};
constexpr int64_t kGoldenZipfIds[] = {8747, 4490, 8638, 1290, 8587, 5153,
                                      3124, 2193, 4330, 3124, 1161, 3412};
constexpr int64_t kGoldenHotspotIds[] = {6752, 1315, 2115, 4840, 4626, 2063,
                                         3036, 8500, 245,  401,  5318, 4328};

TEST(KeyChooserTest, SequencesAreFixedAcrossRunsAndMachines) {
  std::mt19937_64 rng(42);
  const ZipfRanks zipf(1000, 0.99);
  std::vector<uint64_t> ranks;
  for (int i = 0; i < 12; ++i) ranks.push_back(zipf.Next(rng));
  EXPECT_THAT(ranks, ElementsAreArray(kGoldenRanks));

  const KeyPermutation perm(1000, 42);
  std::vector<uint64_t> images;
  for (uint64_t x = 0; x < 12; ++x) images.push_back(perm(x));
  EXPECT_THAT(images, ElementsAreArray(kGoldenImages));

  for (AccessMode mode : {AccessMode::kZipf, AccessMode::kHotspot}) {
    Scenario sc = ZipfScenario(10000, 0.99);
    sc.access = mode;
    KeyChooser first(sc, Passengers(36000), 2, 4), second(sc, Passengers(36000), 2, 4);
    std::mt19937_64 r1(sc.seed + 2), r2(sc.seed + 2);
    std::vector<int64_t> ids;
    for (int i = 0; i < 12; ++i) {
      ids.push_back(first.Next(r1));
      ASSERT_EQ(ids.back(), second.Next(r2));
    }
    EXPECT_THAT(ids,
                ElementsAreArray(mode == AccessMode::kZipf ? kGoldenZipfIds : kGoldenHotspotIds));
  }
}

// ---------------------------------------------------------------------------
// Trace replay.

std::shared_ptr<const KeyTrace> MakeTrace(std::vector<int64_t> ids, std::vector<bool> reads) {
  auto trace = std::make_shared<KeyTrace>();
  trace->source = "test";
  trace->passenger_ids = std::move(ids);
  trace->is_read = std::move(reads);
  return trace;
}

Scenario TraceScenario(std::shared_ptr<const KeyTrace> trace) {
  Scenario sc;
  sc.access = AccessMode::kTrace;
  sc.trace_file = "test";
  sc.trace = std::move(trace);
  return sc;
}

// The next `count` operations of `chooser`, as indexes into the trace whose
// ids are 100 + index.
std::vector<int64_t> Replay(KeyChooser* chooser, int count, std::vector<bool>* reads = nullptr) {
  std::vector<int64_t> ops;
  for (int i = 0; i < count; ++i) {
    bool is_read = false;
    ops.push_back(chooser->NextTrace(&is_read) - 100);
    if (reads != nullptr) reads->push_back(is_read);
  }
  return ops;
}

TEST(KeyChooserTest, TraceThreadsTakeInterleavedSharesInOrder) {
  std::vector<int64_t> ids;
  std::vector<bool> reads;
  for (int i = 0; i < 10; ++i) {
    ids.push_back(100 + i);
    reads.push_back(i % 3 != 0);
  }
  const Scenario sc = TraceScenario(MakeTrace(ids, reads));
  const DataSetInfo ds = Passengers(1000);
  KeyChooser t0(sc, ds, 0, 3), t1(sc, ds, 1, 3), t2(sc, ds, 2, 3);
  ASSERT_TRUE(t0.replays_trace());
  std::vector<bool> kinds;
  EXPECT_THAT(Replay(&t0, 9, &kinds), ElementsAre(0, 3, 6, 9, 0, 3, 6, 9, 0));
  EXPECT_THAT(kinds, ElementsAre(false, false, false, false, false, false, false, false, false));
  kinds.clear();
  EXPECT_THAT(Replay(&t1, 7, &kinds), ElementsAre(1, 4, 7, 1, 4, 7, 1));
  EXPECT_THAT(kinds, ElementsAre(true, true, true, true, true, true, true));
  EXPECT_THAT(Replay(&t2, 4), ElementsAre(2, 5, 8, 2));

  // One thread replays the whole trace; the warm-up's thread index takes
  // the share of index mod threads; more threads than operations wrap.
  KeyChooser only(sc, ds, 0, 1);
  EXPECT_THAT(Replay(&only, 12), ElementsAre(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1));
  KeyChooser warmup(sc, ds, (1 << 20) + 1, 3);
  EXPECT_THAT(Replay(&warmup, 3), ElementsAre((((1 << 20) + 1) % 3), (((1 << 20) + 1) % 3) + 3,
                                              (((1 << 20) + 1) % 3) + 6));
  KeyChooser beyond(sc, ds, 11, 12);
  EXPECT_THAT(Replay(&beyond, 3), ElementsAre(1, 1, 1));
}

TEST(KeyChooserTest, TraceSharesTogetherCoverTheTraceOnce) {
  std::vector<int64_t> ids;
  for (int i = 0; i < 1001; ++i) ids.push_back(100 + i);
  const Scenario sc = TraceScenario(MakeTrace(ids, std::vector<bool>(ids.size(), true)));
  for (int threads : {1, 2, 3, 4, 7, 16}) {
    std::vector<int> seen(ids.size(), 0);
    for (int t = 0; t < threads; ++t) {
      KeyChooser chooser(sc, Passengers(100000), t, threads);
      const int share = (1001 - t + threads - 1) / threads;  // ops t, t+T, ... < 1001
      for (int64_t op : Replay(&chooser, share)) ++seen[static_cast<size_t>(op)];
    }
    EXPECT_EQ(std::count(seen.begin(), seen.end(), 1), 1001) << threads << " threads";
  }
}

TEST(KeyChooserTest, TraceIdsFoldIntoThePassengers) {
  EXPECT_EQ(FoldTraceId(5, 10), 5);
  EXPECT_EQ(FoldTraceId(10, 10), 10);
  EXPECT_EQ(FoldTraceId(11, 10), 1);
  EXPECT_EQ(FoldTraceId(25, 10), 5);
  EXPECT_EQ(FoldTraceId(7, 0), 1);
  const Scenario sc = TraceScenario(MakeTrace({3, 12, 25}, {true, false, true}));
  KeyChooser chooser(sc, Passengers(10), 0, 1);
  bool is_read;
  EXPECT_EQ(chooser.NextTrace(&is_read), 3);
  EXPECT_EQ(chooser.NextTrace(&is_read), 2);
  EXPECT_FALSE(is_read);
  EXPECT_EQ(chooser.NextTrace(&is_read), 5);
  // Next() on a trace chooser still answers from the trace.
  std::mt19937_64 rng(1);
  EXPECT_EQ(chooser.Next(rng), 3);
}

TEST(KeyChooserTest, TraceModeWithoutATraceDrawsLikeRandom) {
  Scenario sc;
  sc.access = AccessMode::kTrace;
  sc.trace_file = "never_loaded.trace";
  EXPECT_EQ(UsableTrace(sc), nullptr);
  sc.trace = MakeTrace({}, {});
  EXPECT_EQ(UsableTrace(sc), nullptr);
  sc.trace = MakeTrace({1, 2}, {true});  // kinds missing
  EXPECT_EQ(UsableTrace(sc), nullptr);
  KeyChooser chooser(sc, Passengers(5), 0, 1);
  EXPECT_FALSE(chooser.replays_trace());
  EXPECT_EQ(chooser.range().first_id, 1);
  EXPECT_EQ(chooser.range().count, 5);
}

// ---------------------------------------------------------------------------
// KeyPopularity describes what the chooser draws (the model's input).

TEST(KeyPopularityTest, ZipfGroupsMatchTheChoosersFrequencies) {
  // 50,000 keys in at most 512 groups: 256 single ranks, then bins of
  // ranks. Each group's total probability against the draws that landed on
  // its ranks.
  constexpr int64_t kPool = 50000;
  constexpr int64_t kDraws = 400000;
  for (double s : {0.6, 0.99, 1.5}) {
    SCOPED_TRACE(absl::StrCat("s ", s));
    const Scenario sc = ZipfScenario(kPool, s);
    const std::vector<PopularityGroup> groups = KeyPopularity(sc, Passengers(100000), 512);
    ASSERT_LE(groups.size(), 512u);
    std::vector<int64_t> group_end;  // one past the group's last rank (0-based)
    std::vector<double> p;
    int64_t ranks = 0;
    for (const PopularityGroup& g : groups) {
      ranks += g.count;
      group_end.push_back(ranks);
      p.push_back(g.p * static_cast<double>(g.count));
    }
    ASSERT_EQ(ranks, kPool);
    const std::vector<uint64_t> rank = RankOfOffset(kPool, sc.seed);
    KeyChooser chooser(sc, Passengers(100000), 0, 1);
    std::mt19937_64 rng(8);
    std::vector<int64_t> counts(groups.size(), 0);
    for (int64_t i = 0; i < kDraws; ++i) {
      const int64_t r = static_cast<int64_t>(rank[static_cast<size_t>(chooser.Next(rng) - 4)]);
      ++counts[static_cast<size_t>(std::upper_bound(group_end.begin(), group_end.end(), r) -
                                   group_end.begin())];
    }
    EXPECT_FITS(ChiSquareOf(counts, p, kDraws));
  }
}

TEST(KeyPopularityTest, HotspotGroupsMatchTheChoosersFrequencies) {
  constexpr int64_t kDraws = 200000;
  Scenario sc;
  sc.access = AccessMode::kHotspot;
  sc.pool_size = 1000;
  sc.hot_keys_pct = 20;
  sc.hot_ops_pct = 80;
  const std::vector<PopularityGroup> groups = KeyPopularity(sc, Passengers(36000));
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(groups[0].count, 200);
  EXPECT_EQ(groups[1].count, 800);
  // Ids drawn at least as often as a hot key's share are the hot ones.
  KeyChooser chooser(sc, Passengers(36000), 0, 1);
  std::mt19937_64 rng(2);
  std::vector<int64_t> counts(1000, 0);
  for (int64_t i = 0; i < kDraws; ++i) ++counts[static_cast<size_t>(chooser.Next(rng) - 4)];
  const KeyPermutation perm(1000, sc.seed);
  int64_t hot_ops = 0;
  for (uint64_t pos = 0; pos < 200; ++pos) hot_ops += counts[perm(pos)];
  const double q = groups[0].p * 200;
  EXPECT_NEAR(static_cast<double>(hot_ops) / kDraws, q, 5 * std::sqrt(q * (1 - q) / kDraws));
}

TEST(KeyPopularityTest, TraceGroupsAreTheReplayedFrequencies) {
  // One thread replaying the whole trace once sees exactly its frequencies.
  const std::vector<int64_t> ids = {7, 7, 9, 7, 12, 9, 3, 7, 22, 12};
  const Scenario sc = TraceScenario(MakeTrace(ids, std::vector<bool>(ids.size(), true)));
  const DataSetInfo ds = Passengers(10);  // 12 -> 2, 22 -> 2
  KeyChooser chooser(sc, ds, 0, 1);
  std::vector<int64_t> counts(11, 0);
  for (size_t i = 0; i < ids.size(); ++i) {
    bool is_read;
    ++counts[static_cast<size_t>(chooser.NextTrace(&is_read))];
  }
  std::vector<std::pair<double, int64_t>> replayed;  // (p, keys), most popular first
  std::vector<int64_t> nonzero;
  for (int64_t c : counts) {
    if (c > 0) nonzero.push_back(c);
  }
  std::sort(nonzero.rbegin(), nonzero.rend());
  for (int64_t c : nonzero) {
    const double p = static_cast<double>(c) / static_cast<double>(ids.size());
    if (!replayed.empty() && replayed.back().first == p) {
      ++replayed.back().second;
    } else {
      replayed.emplace_back(p, 1);
    }
  }
  const std::vector<PopularityGroup> groups = KeyPopularity(sc, ds);
  ASSERT_EQ(groups.size(), replayed.size());
  for (size_t i = 0; i < groups.size(); ++i) {
    EXPECT_DOUBLE_EQ(groups[i].p, replayed[i].first) << i;
    EXPECT_EQ(groups[i].count, replayed[i].second) << i;
  }
}

// ---------------------------------------------------------------------------
// KeyPopularity on its own: the groups, their order, binning.

// Sum of p * count, and the keys, over all groups; p strictly decreasing.
void ExpectWellFormed(const std::vector<PopularityGroup>& groups, int64_t keys) {
  long double total = 0;
  int64_t count = 0;
  for (size_t i = 0; i < groups.size(); ++i) {
    EXPECT_GT(groups[i].p, 0) << i;
    EXPECT_GT(groups[i].count, 0) << i;
    if (i > 0) {
      EXPECT_LT(groups[i].p, groups[i - 1].p) << "most popular first, " << i;
    }
    total += static_cast<long double>(groups[i].p) * groups[i].count;
    count += groups[i].count;
  }
  EXPECT_NEAR(static_cast<double>(total), 1, 1e-12);
  EXPECT_EQ(count, keys);
}

TEST(KeyPopularityTest, UniformModesAreOneGroup) {
  Scenario pool;
  pool.pool_size = 500;
  std::vector<PopularityGroup> g = KeyPopularity(pool, Passengers(36000));
  ASSERT_EQ(g.size(), 1u);
  EXPECT_EQ(g[0].count, 500);
  EXPECT_DOUBLE_EQ(g[0].p, 1.0 / 500);

  Scenario random;
  random.access = AccessMode::kRandom;
  g = KeyPopularity(random, Passengers(36000));
  ASSERT_EQ(g.size(), 1u);
  EXPECT_EQ(g[0].count, 36000);

  // A trace scenario without a loaded trace draws as random does.
  Scenario trace;
  trace.access = AccessMode::kTrace;
  g = KeyPopularity(trace, Passengers(77));
  ASSERT_EQ(g.size(), 1u);
  EXPECT_EQ(g[0].count, 77);
}

TEST(KeyPopularityTest, ZipfGroupsAreTheExactRankProbabilities) {
  for (double s : {0.6, 0.99, 1.0, 1.5, 2.7}) {
    for (int64_t n : {1, 2, 3, 100, 4096}) {
      SCOPED_TRACE(absl::StrCat("s ", s, " n ", n));
      const std::vector<PopularityGroup> g = KeyPopularity(ZipfScenario(n, s), Passengers(36000));
      ASSERT_EQ(g.size(), static_cast<size_t>(n));  // no binning up to max_groups
      ExpectWellFormed(g, n);
      long double h = 0;
      for (int64_t k = 1; k <= n; ++k) h += std::pow(static_cast<long double>(k), -s);
      for (int64_t k = 1; k <= n; ++k) {
        const double exact = static_cast<double>(std::pow(static_cast<long double>(k), -s) / h);
        EXPECT_NEAR(g[static_cast<size_t>(k - 1)].p / exact, 1, 1e-12) << "rank " << k;
        EXPECT_EQ(g[static_cast<size_t>(k - 1)].count, 1);
      }
    }
  }
  // N = 2 in closed form.
  const std::vector<PopularityGroup> two = KeyPopularity(ZipfScenario(2, 1.0), Passengers(10));
  EXPECT_DOUBLE_EQ(two[0].p, 2.0 / 3);
  EXPECT_DOUBLE_EQ(two[1].p, 1.0 / 3);
}

TEST(KeyPopularityTest, TailBinningKeepsGroupTotalsExactAndCapsTheGroups) {
  constexpr int64_t kN = 1000000;
  for (double s : {0.6, 0.99, 1.0, 1.5, 2.7}) {
    // Every rank's exact weight once per exponent, summed backwards.
    std::vector<double> w(kN);
    for (int64_t k = 1; k <= kN; ++k)
      w[static_cast<size_t>(k - 1)] = std::pow(static_cast<double>(k), -s);
    long double h = 0;
    for (int64_t k = kN; k >= 1; --k) h += w[static_cast<size_t>(k - 1)];
    for (int64_t max_groups : {2, 3, 64, 4096}) {
      SCOPED_TRACE(absl::StrCat("s ", s, " max_groups ", max_groups));
      const std::vector<PopularityGroup> g =
          KeyPopularity(ZipfScenario(kN, s), Passengers(kN + 3), max_groups);
      ASSERT_LE(static_cast<int64_t>(g.size()), max_groups);
      ASSERT_GE(g.size(), 2u);
      ExpectWellFormed(g, kN);
      // The head (max_groups / 2 ranks) one by one, then bins; each
      // group's total is the sum of its ranks' exact probabilities.
      int64_t rank = 1;
      for (size_t i = 0; i < g.size(); ++i) {
        if (static_cast<int64_t>(i) < max_groups / 2) {
          EXPECT_EQ(g[i].count, 1) << i;
        }
        long double exact = 0;
        for (int64_t k = rank + g[i].count - 1; k >= rank; --k) {
          exact += w[static_cast<size_t>(k - 1)];
        }
        exact /= h;
        EXPECT_NEAR(g[i].p * static_cast<double>(g[i].count) / static_cast<double>(exact), 1, 1e-10)
            << "group " << i << " ranks " << rank << ".." << rank + g[i].count - 1;
        rank += g[i].count;
      }
    }
  }
}

TEST(KeyPopularityTest, GroupCountIsCappedForHugePools) {
  // 10^12 keys cost no more than max_groups groups (the model's O(groups)).
  Scenario sc = ZipfScenario(1000000000000, 0.99);
  const std::vector<PopularityGroup> g = KeyPopularity(sc, Passengers(1000000000003), 256);
  EXPECT_LE(g.size(), 256u);
  ExpectWellFormed(g, 1000000000000);
  // max_groups below 2 is treated as 2.
  EXPECT_LE(KeyPopularity(sc, Passengers(1000000000003), 0).size(), 2u);
}

TEST(KeyPopularityTest, HotspotIsTwoGroupsMostPopularFirst) {
  Scenario sc;
  sc.access = AccessMode::kHotspot;
  sc.pool_size = 1000;
  sc.hot_keys_pct = 20;
  sc.hot_ops_pct = 80;
  std::vector<PopularityGroup> g = KeyPopularity(sc, Passengers(36000));
  ASSERT_EQ(g.size(), 2u);
  EXPECT_EQ(g[0].count, 200);
  EXPECT_DOUBLE_EQ(g[0].p, 0.8 / 200);
  EXPECT_EQ(g[1].count, 800);
  EXPECT_DOUBLE_EQ(g[1].p, 0.2 / 800);
  ExpectWellFormed(g, 1000);

  // Fewer operations than keys on the "hot" set: the cold keys come first.
  sc.hot_keys_pct = 50;
  sc.hot_ops_pct = 20;
  g = KeyPopularity(sc, Passengers(36000));
  ASSERT_EQ(g.size(), 2u);
  EXPECT_DOUBLE_EQ(g[0].p, 0.8 / 500);
  ExpectWellFormed(g, 1000);

  // Equal shares, or no hot (cold) keys: uniform.
  sc.hot_ops_pct = 50;
  EXPECT_EQ(KeyPopularity(sc, Passengers(36000)).size(), 1u);
  sc.hot_keys_pct = 0;
  EXPECT_EQ(KeyPopularity(sc, Passengers(36000)).size(), 1u);
  sc.hot_keys_pct = 100;
  EXPECT_EQ(KeyPopularity(sc, Passengers(36000)).size(), 1u);

  // No operations on the hot keys: they are never drawn and left out.
  sc.hot_keys_pct = 30;
  sc.hot_ops_pct = 0;
  g = KeyPopularity(sc, Passengers(36000));
  ASSERT_EQ(g.size(), 1u);
  EXPECT_EQ(g[0].count, 700);
  EXPECT_DOUBLE_EQ(g[0].p, 1.0 / 700);

  // N = 1 and N = 2.
  sc.pool_size = 1;
  sc.hot_ops_pct = 80;
  g = KeyPopularity(sc, Passengers(36000));
  ASSERT_EQ(g.size(), 1u);
  EXPECT_EQ(g[0].p, 1);
  sc.pool_size = 2;
  g = KeyPopularity(sc, Passengers(36000));
  ASSERT_EQ(g.size(), 2u);
  EXPECT_DOUBLE_EQ(g[0].p, 0.8);
  EXPECT_DOUBLE_EQ(g[1].p, 0.2);
}

TEST(KeyPopularityTest, TraceGroupsByCountAfterFolding) {
  Scenario sc;
  sc.access = AccessMode::kTrace;
  sc.trace = MakeTrace({5, 5, 5, 7, 7, 9, 1, 13}, std::vector<bool>(8, true));
  // 20 passengers: counts 5:3, 7:2, 9:1, 1:1, 13:1.
  std::vector<PopularityGroup> g = KeyPopularity(sc, Passengers(20));
  ASSERT_EQ(g.size(), 3u);
  EXPECT_DOUBLE_EQ(g[0].p, 3.0 / 8);
  EXPECT_EQ(g[0].count, 1);
  EXPECT_DOUBLE_EQ(g[1].p, 2.0 / 8);
  EXPECT_DOUBLE_EQ(g[2].p, 1.0 / 8);
  EXPECT_EQ(g[2].count, 3);
  ExpectWellFormed(g, 5);
  // 4 passengers fold 5 -> 1, 7 -> 3, 9 -> 1, 13 -> 1: 1:6, 3:2.
  g = KeyPopularity(sc, Passengers(4));
  ASSERT_EQ(g.size(), 2u);
  EXPECT_DOUBLE_EQ(g[0].p, 6.0 / 8);
  EXPECT_DOUBLE_EQ(g[1].p, 2.0 / 8);
  ExpectWellFormed(g, 2);
}

TEST(KeyPopularityTest, TraceBinningKeepsTotalsAndCapsTheGroups) {
  // Key i appears i times, i = 1..100: 100 distinct counts.
  std::vector<int64_t> ids;
  for (int64_t key = 1; key <= 100; ++key) {
    for (int64_t i = 0; i < key; ++i) ids.push_back(key);
  }
  Scenario sc;
  sc.access = AccessMode::kTrace;
  sc.trace = MakeTrace(ids, std::vector<bool>(ids.size(), true));
  for (int64_t max_groups : {2, 3, 10, 64, 100, 1000}) {
    SCOPED_TRACE(max_groups);
    const std::vector<PopularityGroup> g = KeyPopularity(sc, Passengers(1000), max_groups);
    EXPECT_LE(static_cast<int64_t>(g.size()), std::min<int64_t>(max_groups, 100));
    ExpectWellFormed(g, 100);
    // The head keeps the most frequent keys exactly.
    EXPECT_DOUBLE_EQ(g[0].p, 100.0 / 5050);
  }
}

}  // namespace
}  // namespace cabench
