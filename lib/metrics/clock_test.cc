#include "lib/metrics/clock.h"

#include <cstdint>

#include "gtest/gtest.h"

namespace cabench {
namespace {

TEST(FastClockTest, NeverGoesBackwards) {
  FastClockInit();
  int64_t last = FastMonoNowNs();
  for (int i = 0; i < 100000; ++i) {
    const int64_t now = FastMonoNowNs();
    ASSERT_GE(now, last) << "at read " << i;
    last = now;
  }
}

TEST(FastClockTest, OnTheSteadyClockTimeLine) {
  FastClockInit();
  // Bracket one fast reading with two steady ones: it must lie between them,
  // give or take the calibration error (generous: 50 us).
  const int64_t before = SteadyNowNs();
  const int64_t fast = FastMonoNowNs();
  const int64_t after = SteadyNowNs();
  EXPECT_GE(fast, before - 50'000);
  EXPECT_LE(fast, after + 50'000);
}

TEST(FastClockTest, RateMatchesSteadyClock) {
  FastClockInit();
  const int64_t steady0 = SteadyNowNs();
  const int64_t fast0 = FastMonoNowNs();
  while (SteadyNowNs() - steady0 < 20'000'000) {
  }
  const int64_t fast1 = FastMonoNowNs();
  const int64_t steady1 = SteadyNowNs();
  const double steady = static_cast<double>(steady1 - steady0);
  const double fast = static_cast<double>(fast1 - fast0);
  // Both intervals span the same 20+ ms; they differ by the reads around
  // them (nanoseconds, or a preemption) plus the rate error (~1e-5).
  EXPECT_NEAR(fast / steady, 1.0, 0.01);
}

TEST(FastClockTest, InitIsStable) {
  EXPECT_EQ(FastClockInit(), FastClockInit());
  EXPECT_EQ(FastClockInit(), internal::FastClockScale().use_tsc);
}

}  // namespace
}  // namespace cabench
