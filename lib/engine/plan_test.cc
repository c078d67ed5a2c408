#include "lib/engine/plan.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/testing/status_matchers.h"

namespace cabench {
namespace {

using ::testing::HasSubstr;

using ::testing::ElementsAre;

std::vector<Scenario> TwoScenarios() {
  Scenario steady;
  steady.name = "steady";
  steady.rate_per_s = 2000;
  steady.threads = {8};
  steady.baseline_no_cache = true;
  Scenario sweep;
  sweep.name = "sweep";
  sweep.threads = {1, 4};
  sweep.ttl_sweep_ms = {100, 1000};
  sweep.ttl_ms = 100;
  sweep.cache_keys_pct = 5;
  return {steady, sweep};
}

TEST(PlanTest, EveryPointAtEveryThreadCountWithTwinsFirst) {
  const std::vector<PlannedBenchmark> plan = PlanBenchmarks(TwoScenarios());
  ASSERT_EQ(plan.size(), 6u);
  EXPECT_EQ(plan[0].name,
            "CacheAside/steady@no_cache/read_pct:80/ttl_ms:300000/access:pool/rate:2000/"
            "iterations:10000/real_time/threads:8");
  EXPECT_FALSE(plan[0].scenario.cache);
  EXPECT_EQ(plan[1].twin, 0);
  EXPECT_EQ(plan[2].name,
            "CacheAside/sweep/read_pct:80/ttl_ms:100/access:pool/cache_keys_pct:5/"
            "iterations:10000/real_time/threads:1");
  EXPECT_EQ(plan[5].scenario.ttl_ms, 1000);
  EXPECT_EQ(plan[5].threads, 4);
  EXPECT_EQ(BenchmarkFileStem(plan[2].name),
            "CacheAside_sweep_read_pct-80_ttl_ms-100_access-pool_cache_keys_pct-5_"
            "iterations-10000_real_time_threads-1");
}

TEST(PlanTest, TheFilterSelectsAsGoogleBenchmarkDoesAndBringsTheTwins) {
  const std::vector<PlannedBenchmark> plan = PlanBenchmarks(TwoScenarios());
  // The cache run alone brings its twin.
  ASSERT_OK_AND_ASSIGN(std::vector<bool> s, SelectBenchmarks(plan, "^CacheAside/steady/"));
  EXPECT_THAT(s, ElementsAre(true, true, false, false, false, false));
  ASSERT_OK_AND_ASSIGN(s, SelectBenchmarks(plan, "threads:4$"));
  EXPECT_THAT(s, ElementsAre(false, false, false, true, false, true));
  ASSERT_OK_AND_ASSIGN(s, SelectBenchmarks(plan, "-sweep"));  // negated
  EXPECT_THAT(s, ElementsAre(true, true, false, false, false, false));
  ASSERT_OK_AND_ASSIGN(s, SelectBenchmarks(plan, "all"));
  EXPECT_THAT(s, ElementsAre(true, true, true, true, true, true));
  EXPECT_THAT(SelectBenchmarks(plan, "nothing").status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("no benchmark matches")));
  EXPECT_THAT(SelectBenchmarks(plan, "a(b").status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not a valid regular expression")));
  // The exact filter selects the same entries and no other.
  ASSERT_OK_AND_ASSIGN(s, SelectBenchmarks(plan, "threads:4$"));
  std::vector<PlannedBenchmark> named = plan;
  ASSERT_OK_AND_ASSIGN(std::vector<bool> again, SelectBenchmarks(named, ExactFilter(plan, s)));
  EXPECT_EQ(again, s);
}

TEST(PlanTest, BoundingScenariosAreLeftOutWithOneLine) {
  const std::vector<PlannedBenchmark> plan = PlanBenchmarks(TwoScenarios());
  std::vector<bool> s(plan.size(), true);
  EXPECT_TRUE(BoundsTheCache(plan, s));
  const std::string why =
      LeaveOutCacheBounding(plan, absl::FailedPreconditionError("not ours"), &s);
  EXPECT_EQ(why,
            "sweep sets the cache's maxmemory/maxmemory-policy, which cabench changes only on "
            "a cache tools/servers started, or with --allow_cache_config: not ours");
  EXPECT_THAT(s, ElementsAre(true, true, false, false, false, false));
  EXPECT_FALSE(BoundsTheCache(plan, s));
}

TEST(PlanTest, KeySizedCachesAreLeftOutOfAClusterWithOneLine) {
  const std::vector<PlannedBenchmark> plan = PlanBenchmarks(TwoScenarios());
  std::vector<bool> s(plan.size(), true);
  EXPECT_EQ(LeaveOutKeySizedCaches(plan, &s),
            "sweep sizes the cache by its keys (cache_keys_pct), which needs one cache server: "
            "on a cluster each primary would hold a share of the room smaller than its own "
            "memory's swings (use cache_max_memory)");
  EXPECT_THAT(s, ElementsAre(true, true, false, false, false, false));
  EXPECT_EQ(LeaveOutKeySizedCaches(plan, &s), "");  // none left to leave out
  EXPECT_THAT(s, ElementsAre(true, true, false, false, false, false));
}

}  // namespace
}  // namespace cabench
