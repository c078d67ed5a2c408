#include "lib/config/run_options.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/testing/status_matchers.h"

namespace cabench {
namespace {

using ::testing::HasSubstr;

TEST(RunOptionsTest, ValuesOutOfRangeAreOneLineNamingTheFlag) {
  EXPECT_THAT(ValidateRunOptions(RunOptions()), IsOk());
  RunOptions o;
  o.queries = 0;
  EXPECT_THAT(ValidateRunOptions(o),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "--queries: expected a whole number 1..1000000000, got '0'"));
  o = RunOptions();
  o.rate_per_s = -5;
  EXPECT_THAT(ValidateRunOptions(o), StatusIs(absl::StatusCode::kInvalidArgument,
                                              HasSubstr("--rate_per_s: expected operations")));
  o = RunOptions();
  o.endpoints.timeout_ms = 0;
  EXPECT_THAT(ValidateRunOptions(o), StatusIs(absl::StatusCode::kInvalidArgument,
                                              HasSubstr("--timeout_ms: expected milliseconds")));
  o = RunOptions();
  o.run_id = "a/b";
  EXPECT_THAT(ValidateRunOptions(o),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--run_id")));
  o = RunOptions();
  o.rate_per_s = 0;  // closed loop
  o.queries = 7;
  EXPECT_THAT(ValidateRunOptions(o), IsOk());
}

TEST(RunOptionsTest, OverridesApplyToEveryScenarioAndShardsRunNoTwins) {
  std::vector<Scenario> scenarios(2);
  scenarios[0].rate_per_s = 500;
  scenarios[1].baseline_no_cache = true;
  RunOptions o;
  o.queries = 3;
  o.rate_per_s = 0;
  ApplyRunOptions(o, /*sharded=*/false, &scenarios);
  EXPECT_EQ(scenarios[0].queries_per_thread, 3);
  EXPECT_EQ(scenarios[0].rate_per_s, 0);
  EXPECT_TRUE(scenarios[1].baseline_no_cache);
  // A cap on the warm-up: until_steady's default cap (0) too.
  scenarios[0].warmup_ops = 50'000;
  scenarios[1].warmup = WarmupMode::kUntilSteady;
  RunOptions capped;
  capped.max_warmup_ops = 20'000;
  ApplyRunOptions(capped, /*sharded=*/false, &scenarios);
  EXPECT_EQ(scenarios[0].warmup_ops, 20'000);
  EXPECT_EQ(scenarios[1].warmup_ops, 20'000);
  ApplyRunOptions(RunOptions(), /*sharded=*/true, &scenarios);
  EXPECT_EQ(scenarios[0].queries_per_thread, 3);  // unset options change nothing
  EXPECT_FALSE(scenarios[1].baseline_no_cache);
}

}  // namespace
}  // namespace cabench
