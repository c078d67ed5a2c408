#include "lib/metrics/steady.h"

#include <optional>
#include <vector>

#include "gtest/gtest.h"

namespace cabench {
namespace {

TEST(SteadyStartTest, TwoSettledStepsInARow) {
  // A ramp that settles: windows 5 and 6 each within a point of the one before.
  EXPECT_EQ(SteadyStart({10, 50, 80, 90, 95, 95.5, 95.8, 96}, 1.0), 6u);
  EXPECT_EQ(SteadyStart({70, 70, 70, 70, 70}, 1.0), 2u);  // flat: as early as the rule allows
  EXPECT_EQ(SteadyStart({10, 20, 30, 40, 50, 60}, 1.0), std::nullopt);  // never settles
  EXPECT_EQ(SteadyStart({90, 95, 90, 95, 90, 95}, 1.0), std::nullopt);  // noise above
  EXPECT_EQ(SteadyStart({90, 90.4, 89.8, 90.3, 90.1}, 1.0), 2u);        // noise below
  EXPECT_EQ(SteadyStart({90, 95, 90, 95, 90, 95}, 6.0), 2u);
  // Strictly less than the threshold.
  EXPECT_EQ(SteadyStart({90, 91, 92, 93}, 1.0), std::nullopt);
  EXPECT_EQ(SteadyStart({90, 91, 92, 93}, 1.01), 2u);
  // One settled step is not enough.
  EXPECT_EQ(SteadyStart({50, 80, 80.5, 95, 95.5, 99}, 1.0), std::nullopt);
  // A window without reads is 0%: far from its neighbours, it breaks the run.
  EXPECT_EQ(SteadyStart({80, 80, 0, 80, 80, 80}, 1.0), 5u);
  EXPECT_EQ(SteadyStart({}, 1.0), std::nullopt);
  EXPECT_EQ(SteadyStart({95, 95}, 1.0), std::nullopt);
}

TEST(SteadyStartTest, TheRuleAddsOneWindowAtATime) {
  SteadyRule rule(1.0);
  EXPECT_FALSE(rule.Add(50));
  EXPECT_FALSE(rule.Add(50.5));
  EXPECT_TRUE(rule.Add(50.9));
  EXPECT_FALSE(rule.Add(60));
}

}  // namespace
}  // namespace cabench
