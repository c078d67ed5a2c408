#include "lib/workload/scenario_params.h"

#include "gtest/gtest.h"

namespace cabench {
namespace {

TEST(ScenarioParamsTest, EverySettingThatTellsRunsApartIsData) {
  Scenario s;
  s.name = "ttl_sweep";
  s.ttl_ms = 250;
  s.access = AccessMode::kZipf;
  s.rate_per_s = 2000;
  s.cache_keys_pct = 5;
  s.eviction_policy = "allkeys-lru";
  EXPECT_EQ(ScenarioParamsJson(s, 4),
            "{\"scenario\": \"ttl_sweep\", \"threads\": 4, \"queries_per_thread\": 10000, "
            "\"read_pct\": 80, \"ttl_ms\": 250, \"access\": \"zipf\", \"cache\": true, "
            "\"write_policy\": \"refresh\", \"rate_per_s\": 2000, \"arrival\": \"poisson\", "
            "\"cache_keys_pct\": 5, \"eviction_policy\": \"allkeys-lru\", \"zipf_s\": 0.99}");
  // A no-cache twin names its cache run's scenario.
  Scenario twin;
  twin.name = "steady_load@no_cache";
  twin.cache = false;
  twin.write_policy = WritePolicy::kInvalidate;
  EXPECT_EQ(ScenarioParamsJson(twin, 8),
            "{\"scenario\": \"steady_load\", \"threads\": 8, \"queries_per_thread\": 10000, "
            "\"read_pct\": 80, \"ttl_ms\": 300000, \"access\": \"pool\", \"cache\": false, "
            "\"write_policy\": \"invalidate\", \"twin\": true}");
}

}  // namespace
}  // namespace cabench
