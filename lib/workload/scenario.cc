#include "lib/workload/scenario.h"

#include <utility>

namespace cabench {

std::vector<Scenario> SweepPoints(const Scenario& scenario) {
  const std::vector<int64_t> ttls =
      scenario.ttl_sweep_ms.empty() ? std::vector<int64_t>{scenario.ttl_ms} : scenario.ttl_sweep_ms;
  // At most one of the two sizes is a sweep (the loader refuses both).
  const bool by_keys = !scenario.cache_keys_pct_sweep.empty();
  const std::vector<int64_t> sizes = by_keys ? scenario.cache_keys_pct_sweep
                                     : scenario.cache_max_memory_sweep.empty()
                                         ? std::vector<int64_t>{scenario.cache_max_memory}
                                         : scenario.cache_max_memory_sweep;
  std::vector<Scenario> points;
  for (int64_t ttl : ttls) {
    for (int64_t size : sizes) {
      Scenario point = scenario;
      point.ttl_ms = ttl;
      (by_keys ? point.cache_keys_pct : point.cache_max_memory) = size;
      point.ttl_sweep_ms.clear();
      point.cache_max_memory_sweep.clear();
      point.cache_keys_pct_sweep.clear();
      points.push_back(std::move(point));
    }
  }
  return points;
}

}  // namespace cabench
