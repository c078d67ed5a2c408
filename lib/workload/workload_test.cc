#include "lib/workload/workload.h"

#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/testing/status_matchers.h"

namespace cabench {
namespace {

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

TEST(WorkloadTest, SeatTagChangesOnlyTheSeats) {
  Scenario s;
  s.read_pct = 50;
  Workload a(s, SmallDataSet(), 4), b(s, SmallDataSet(), 4, 'q');
  for (int i = 0; i < 2000; ++i) {
    const Op& x = a.Next();
    const Op& y = b.Next();
    ASSERT_EQ(x.kind, y.kind) << i;
    ASSERT_EQ(x.passenger_id, y.passenger_id) << i;
    if (x.kind != OpKind::kWrite) continue;
    ASSERT_EQ(x.booking.flight_id, y.booking.flight_id);
    ASSERT_EQ(x.booking.price_cents, y.booking.price_cents);
    ASSERT_EQ(x.booking.seat.substr(1), y.booking.seat.substr(1));
    ASSERT_EQ(y.booking.seat[0], 'q');
  }
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

}  // namespace
}  // namespace cabench
