#include "lib/workload/workload.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/testing/status_matchers.h"
#include "lib/workload/key_chooser.h"
#include "lib/workload/popularity.h"

namespace cabench {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

DataSetInfo SmallDataSet() {
  DataSetInfo ds;
  ds.preset = "test";
  ds.passengers = 36000;
  ds.flights = 500;
  return ds;
}

TEST(UniformBelowTest, StaysInRange) {
  std::mt19937_64 rng(1);
  EXPECT_EQ(UniformBelow(rng, 0), 0u);
  EXPECT_EQ(UniformBelow(rng, 1), 0u);
  for (int i = 0; i < 10000; ++i) EXPECT_LT(UniformBelow(rng, 7), 7u);
}

TEST(WorkloadTest, SameSeedAndThreadGiveSameOps) {
  Scenario s;
  s.read_pct = 50;
  Workload a(s, SmallDataSet(), 2), b(s, SmallDataSet(), 2);
  for (int i = 0; i < 2000; ++i) {
    const Op& x = a.Next();
    const Op& y = b.Next();
    ASSERT_EQ(x.kind, y.kind) << i;
    ASSERT_EQ(x.passenger_id, y.passenger_id) << i;
    if (x.kind == OpKind::kWrite) {
      ASSERT_EQ(x.booking.flight_id, y.booking.flight_id);
      ASSERT_EQ(x.booking.seat, y.booking.seat);
      ASSERT_EQ(x.booking.price_cents, y.booking.price_cents);
      ASSERT_EQ(x.booking.passenger_id, x.passenger_id);
    }
  }
}

TEST(WorkloadTest, ThreadsAndSeedsDiffer) {
  Scenario s;
  Workload t0(s, SmallDataSet(), 0), t1(s, SmallDataSet(), 1);
  Scenario s2 = s;
  s2.seed = 7;
  Workload other_seed(s2, SmallDataSet(), 0);
  int same_threads = 0, same_seed = 0;
  for (int i = 0; i < 1000; ++i) {
    const int64_t a = t0.Next().passenger_id;
    same_threads += a == t1.Next().passenger_id;
    same_seed += a == other_seed.Next().passenger_id;
  }
  // Independent uniform draws over 10,000 ids coincide ~0.1 times in 1,000.
  EXPECT_LT(same_threads, 10);
  EXPECT_LT(same_seed, 10);
}

TEST(WorkloadTest, ReadFractionWithinTolerance) {
  for (int pct : {0, 1, 60, 80, 99, 100}) {
    Scenario s;
    s.read_pct = pct;
    Workload w(s, SmallDataSet(), 0);
    int reads = 0;
    constexpr int kOps = 100000;
    for (int i = 0; i < kOps; ++i) reads += w.Next().kind == OpKind::kRead;
    // 4.5 standard deviations of a binomial at p = 0.5 is 0.0071.
    EXPECT_NEAR(reads / double{kOps}, pct / 100.0, 0.0071) << pct;
  }
}

TEST(WorkloadTest, PoolIdsInRangeAndUniform) {
  Scenario s;  // pool 4 .. 10003
  Workload w(s, SmallDataSet(), 3);
  constexpr int kBuckets = 10;
  constexpr int kDraws = 100000;
  std::vector<int> counts(kBuckets, 0);
  for (int i = 0; i < kDraws; ++i) {
    const int64_t id = w.Next().passenger_id;
    ASSERT_GE(id, 4);
    ASSERT_LE(id, 10003);
    ++counts[static_cast<size_t>((id - 4) / 1000)];
  }
  double chi2 = 0;
  const double expected = kDraws / double{kBuckets};
  for (int c : counts) chi2 += (c - expected) * (c - expected) / expected;
  EXPECT_LT(chi2, 27.88);  // 9 degrees of freedom, p = 0.001
}

TEST(WorkloadTest, RandomModeCoversAllPassengers) {
  Scenario s;
  s.access = AccessMode::kRandom;
  DataSetInfo ds = SmallDataSet();
  ds.passengers = 50;
  Workload w(s, ds, 0);
  std::set<int64_t> seen;
  for (int i = 0; i < 5000; ++i) {
    const Op& op = w.Next();
    ASSERT_GE(op.passenger_id, 1);
    ASSERT_LE(op.passenger_id, 50);
    seen.insert(op.passenger_id);
    if (op.kind == OpKind::kWrite) {
      ASSERT_GE(op.booking.flight_id, 1);
      ASSERT_LE(op.booking.flight_id, ds.flights);
    }
  }
  EXPECT_EQ(seen.size(), 50u);
}

TEST(WorkloadTest, PoolIsClampedToTheDataSet) {
  Scenario s;
  DataSetInfo ds = SmallDataSet();
  ds.passengers = 5000;  // pool 4..10003 does not fit
  EXPECT_THAT(CheckWorkload(s, ds),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       ::testing::HasSubstr("1..5000")));
  IdRange r = EffectivePassengerRange(s, ds);
  EXPECT_EQ(r.first_id, 4);
  EXPECT_EQ(r.count, 4997);

  s.pool_first_id = 6000;  // entirely outside: moved to start at 1
  r = EffectivePassengerRange(s, ds);
  EXPECT_EQ(r.first_id, 1);
  EXPECT_EQ(r.count, 5000);

  EXPECT_THAT(CheckWorkload(Scenario(), SmallDataSet()), IsOk());
  DataSetInfo empty;
  EXPECT_THAT(CheckWorkload(Scenario(), empty),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       ::testing::HasSubstr("cabench_load")));
}

constexpr char kBase36[] = "0123456789abcdefghijklmnopqrstuvwxyz";

bool IsSeatChar(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z');
}

TEST(WorkloadTest, SeatsAreUniquePerThreadAndWellFormed) {
  Scenario s;
  s.read_pct = 0;  // writes only
  for (int thread : {0, 1, 35, 36}) {
    Workload w(s, SmallDataSet(), thread, 'k');
    std::set<std::string> seats;
    std::string first;
    for (int64_t i = 0; i < kSeatsPerThread; ++i) {
      const Op& op = w.Next();
      ASSERT_EQ(op.kind, OpKind::kWrite);
      const std::string& seat = op.booking.seat;
      ASSERT_EQ(seat.size(), 4u);
      for (char c : seat) ASSERT_TRUE(IsSeatChar(c)) << seat;
      ASSERT_EQ(seat[0], 'k');  // the run's slot
      ASSERT_EQ(seat[3], kBase36[thread % 36]);
      if (i == 0) first = seat;
      seats.insert(seat);
    }
    EXPECT_EQ(seats.size(), static_cast<size_t>(kSeatsPerThread));
    // A thread's seats repeat after 36^3 / 36 writes.
    EXPECT_EQ(w.Next().booking.seat, first);
  }
}

TEST(WorkloadTest, ThirtySixThreadsNeverShareASeat) {
  Scenario s;
  s.read_pct = 0;
  std::set<std::string> seats;
  for (int thread = 0; thread < 36; ++thread) {
    Workload w(s, SmallDataSet(), thread, 'z');
    for (int64_t i = 0; i < kSeatsPerThread; ++i)
      seats.insert(w.Next().booking.seat);
  }
  // Every 4-character seat with tag 'z', each exactly once.
  EXPECT_EQ(seats.size(), static_cast<size_t>(36 * 36 * 36));
}

TEST(WorkloadTest, SeatFormat) {
  Scenario s;
  s.read_pct = 0;
  Workload w(s, SmallDataSet(), 1);  // default tag
  EXPECT_EQ(w.seat_tag(), '0');
  // v = counter * 36 + 1: "001", "011", "021", ...
  EXPECT_EQ(w.Next().booking.seat, "0001");
  EXPECT_EQ(w.Next().booking.seat, "0011");
  for (int i = 2; i < 36; ++i) w.Next();
  EXPECT_EQ(w.Next().booking.seat, "0101");  // counter 36
  Workload last(s, SmallDataSet(), 35, '7');
  for (int i = 0; i < kSeatsPerThread - 1; ++i) last.Next();
  EXPECT_EQ(last.Next().booking.seat, "7zzz");  // v = 36^3 - 1
  // Only [0-9a-z] tags: seats compare case-insensitively.
  EXPECT_EQ(Workload(s, SmallDataSet(), 0, 'A').seat_tag(), '0');
  EXPECT_EQ(Workload(s, SmallDataSet(), 0, '%').seat_tag(), '0');
}

TEST(WorkloadTest, SeatTagAndRunNumberChangeOnlyTheirFields) {
  Scenario s;
  s.read_pct = 50;
  Workload a(s, SmallDataSet(), 4), b(s, SmallDataSet(), 4, 'q');
  EXPECT_EQ(a.run_no(), 0);  // none unless set
  b.set_run_no(4000000000);  // INT UNSIGNED range, beyond int32
  int writes = 0;
  for (int i = 0; i < 2000; ++i) {
    const Op& x = a.Next();
    const Op& y = b.Next();
    ASSERT_EQ(x.kind, y.kind) << i;
    ASSERT_EQ(x.passenger_id, y.passenger_id) << i;
    if (x.kind != OpKind::kWrite) continue;
    ++writes;
    ASSERT_EQ(x.booking.flight_id, y.booking.flight_id);
    ASSERT_EQ(x.booking.price_cents, y.booking.price_cents);
    ASSERT_EQ(x.booking.seat.substr(1), y.booking.seat.substr(1));
    ASSERT_EQ(y.booking.seat[0], 'q');
    ASSERT_EQ(x.booking.run_no, 0);
    ASSERT_EQ(y.booking.run_no, 4000000000);
  }
  EXPECT_GT(writes, 900);
}

TEST(WorkloadTest, NextSeatAdvancesTheSameCounter) {
  Scenario s;
  s.read_pct = 0;
  Workload w(s, SmallDataSet(), 1, 'b');
  EXPECT_EQ(w.Next().booking.seat, "b001");
  std::string seat;
  w.NextSeat(&seat);
  EXPECT_EQ(seat, "b011");
  EXPECT_EQ(w.Next().booking.seat, "b021");
  EXPECT_EQ(w.seats_issued(), 3);
}

TEST(FormatCacheKeyTest, WritesPrefixAndId) {
  char buf[64];
  size_t n = FormatCacheKey("cabench:bookings:", 42, buf, sizeof(buf));
  EXPECT_EQ(std::string(buf, n), "cabench:bookings:42");
  n = FormatCacheKey("k:", -9223372036854775807 - 1, buf, sizeof(buf));
  EXPECT_EQ(std::string(buf, n), "k:-9223372036854775808");
  EXPECT_EQ(FormatCacheKey("cabench:bookings:", 12345, buf, 19), 0u);
  EXPECT_EQ(FormatCacheKey("cabench:bookings:", 12345, buf, 10), 0u);
}

// ---------------------------------------------------------------------------
// The access modes of issue 12: passengers come from the KeyChooser
// (key_chooser_test.cc tests the distributions themselves).

TEST(WorkloadAccessTest, ZipfWorkloadsTopKeyHasItsExactShare) {
  Scenario s;
  s.access = AccessMode::kZipf;
  s.zipf_s = 0.99;
  s.read_pct = 50;
  Workload w(s, SmallDataSet(), 0);
  ASSERT_EQ(w.passenger_range().count, 10000);
  constexpr int kOps = 200000;
  std::vector<int64_t> counts(10000, 0);
  int reads = 0;
  for (int i = 0; i < kOps; ++i) {
    const Op& op = w.Next();
    ASSERT_GE(op.passenger_id, 4);
    ASSERT_LE(op.passenger_id, 10003);
    ++counts[static_cast<size_t>(op.passenger_id - 4)];
    reads += op.kind == OpKind::kRead;
  }
  // The most popular id is rank 1's, wherever the permutation put it, with
  // probability 1 / H(10000, 0.99).
  const int64_t top = static_cast<int64_t>(KeyPermutation(10000, s.seed)(0));
  EXPECT_EQ(std::max_element(counts.begin(), counts.end()) - counts.begin(), top);
  const double p = 1 / PowerSum(1, 10000, 0.99);
  EXPECT_NEAR(static_cast<double>(counts[static_cast<size_t>(top)]) / kOps, p,
              5 * std::sqrt(p * (1 - p) / kOps));
  EXPECT_NEAR(KeyPopularity(s, SmallDataSet())[0].p / p, 1, 1e-12);
  // The kind is still drawn with read_pct.
  EXPECT_NEAR(reads / double{kOps}, 0.5, 0.005);
}

TEST(WorkloadAccessTest, HotspotWorkloadSendsHotOpsToHotKeys) {
  Scenario s;
  s.access = AccessMode::kHotspot;
  s.pool_size = 1000;
  s.hot_keys_pct = 10;
  s.hot_ops_pct = 90;
  Workload w(s, SmallDataSet(), 1);
  const KeyPermutation perm(1000, s.seed);
  std::vector<bool> hot(1000, false);
  for (uint64_t pos = 0; pos < 100; ++pos) hot[perm(pos)] = true;
  constexpr int kOps = 100000;
  int hot_ops = 0;
  for (int i = 0; i < kOps; ++i) hot_ops += hot[static_cast<size_t>(w.Next().passenger_id - 4)];
  EXPECT_NEAR(hot_ops / double{kOps}, 0.9, 5 * std::sqrt(0.9 * 0.1 / kOps));
}

TEST(WorkloadAccessTest, PoolAndRandomDrawOrderIsUnchanged) {
  // Kind, then passenger, then a write's flight, each one UniformBelow():
  // the sequence of runs recorded before key choosers existed.
  for (AccessMode mode : {AccessMode::kPool, AccessMode::kRandom}) {
    Scenario s;
    s.access = mode;
    s.read_pct = 70;
    Workload w(s, SmallDataSet(), 3);
    std::mt19937_64 rng(s.seed + 3);
    const uint64_t count = mode == AccessMode::kPool ? 10000 : 36000;
    const int64_t first = mode == AccessMode::kPool ? 4 : 1;
    for (int i = 0; i < 5000; ++i) {
      const bool read = UniformBelow(rng, 100) < 70;
      const int64_t id = first + static_cast<int64_t>(UniformBelow(rng, count));
      const Op& op = w.Next();
      ASSERT_EQ(op.kind == OpKind::kRead, read) << i;
      ASSERT_EQ(op.passenger_id, id) << i;
      if (!read) {
        ASSERT_EQ(op.booking.flight_id, 1 + static_cast<int64_t>(UniformBelow(rng, 500)));
      }
    }
  }
}

Scenario TraceScenario() {
  auto trace = std::make_shared<KeyTrace>();
  trace->source = "test";
  trace->passenger_ids = {10, 11, 12, 13, 14, 15};
  trace->is_read = {true, false, true, true, false, false};
  Scenario s;
  s.access = AccessMode::kTrace;
  s.trace_file = "test";
  s.trace = std::move(trace);
  return s;
}

TEST(WorkloadAccessTest, TraceWorkloadReplaysIdsAndKindsOfItsShare) {
  Scenario s = TraceScenario();
  s.read_pct = 0;  // ignored: the trace says which operations are reads
  Workload t0(s, SmallDataSet(), 0, kDefaultSeatTag, 2);
  Workload t1(s, SmallDataSet(), 1, kDefaultSeatTag, 2);
  EXPECT_EQ(t0.threads(), 2);
  std::vector<int64_t> ids0, ids1;
  std::vector<bool> reads0;
  for (int i = 0; i < 4; ++i) {
    const Op& op = t0.Next();
    ids0.push_back(op.passenger_id);
    reads0.push_back(op.kind == OpKind::kRead);
    if (op.kind == OpKind::kWrite) {
      EXPECT_EQ(op.booking.passenger_id, op.passenger_id);
      EXPECT_GE(op.booking.flight_id, 1);
      EXPECT_LE(op.booking.flight_id, 500);
    }
    ids1.push_back(t1.Next().passenger_id);
  }
  EXPECT_THAT(ids0, ElementsAre(10, 12, 14, 10));
  EXPECT_THAT(reads0, ElementsAre(true, true, false, true));
  EXPECT_THAT(ids1, ElementsAre(11, 13, 15, 11));

  // read_pct 100 (a warm-up's reads-only copy) makes every operation a read.
  s.read_pct = 100;
  Workload reads_only(s, SmallDataSet(), 0);
  for (int i = 0; i < 6; ++i) EXPECT_EQ(reads_only.Next().kind, OpKind::kRead) << i;
  // NextPassengerId() takes the next operation of the share too.
  Workload warmup(s, SmallDataSet(), 1, kDefaultSeatTag, 2);
  EXPECT_EQ(warmup.NextPassengerId(), 11);
  EXPECT_EQ(warmup.NextPassengerId(), 13);
  EXPECT_EQ(warmup.Next().passenger_id, 15);
}

TEST(WorkloadAccessTest, CheckWorkloadKnowsTheNewModes) {
  Scenario trace;
  trace.name = "t";
  trace.access = AccessMode::kTrace;
  trace.trace_file = "x.trace";
  EXPECT_THAT(CheckWorkload(trace, SmallDataSet()),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("without a loaded trace")));
  EXPECT_THAT(CheckWorkload(TraceScenario(), SmallDataSet()), IsOk());

  for (AccessMode mode : {AccessMode::kZipf, AccessMode::kHotspot}) {
    Scenario s;
    s.access = mode;
    EXPECT_THAT(CheckWorkload(s, SmallDataSet()), IsOk());
    DataSetInfo small = SmallDataSet();
    small.passengers = 5000;  // the pool 4..10003 does not fit
    EXPECT_THAT(CheckWorkload(s, small),
                StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("1..5000")));
  }
}

TEST(CheckWorkloadTest, ACacheShareTooSmallToHoldKeysIsRefusedNamingTheField) {
  DataSetInfo ds;
  ds.passengers = 36'000;
  ds.flights = 10;
  Scenario s;
  s.name = "tiny";
  s.pool_first_id = 1;
  s.pool_size = 500;
  s.cache_keys_pct = 2;  // 10 keys: the smallest cache cabench sizes
  EXPECT_TRUE(CheckWorkload(s, ds).ok());
  s.cache_keys_pct_sweep = {5, 1};  // 1% of 500 keys is 5 keys
  const absl::Status st = CheckWorkload(s, ds);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(st.message()),
              ::testing::HasSubstr("cache_keys_pct: 1% of its 500 keys is 5 keys"));
}

}  // namespace
}  // namespace cabench
