// File: lib/workload/popularity.h
//
// The popularity of a scenario's keys: how likely each operation is to be
// about each key, as groups of keys with equal probability, most popular
// first. lib/model predicts hit rates from it (Che's approximation for LRU,
// random eviction, TTL caches), so it must describe exactly the distribution
// the Workload draws from:
//   pool, random  one group: every key of the range, 1/N each
//   hotspot       two groups: the hot keys and the cold ones
//   zipf          one group per rank (p_k = k^-s / H(N, s)), except that
//                 beyond max_groups the tail is binned: consecutive ranks
//                 merged into a group whose probability is their mean, so the
//                 group's total is exact (a model over the groups then costs
//                 O(max_groups), not O(N))
//   trace         the trace's empirical frequencies, grouped by count
// The probabilities sum to 1 (up to rounding). Pure; safe to call
// concurrently.
#ifndef CABENCH_LIB_WORKLOAD_POPULARITY_H_
#define CABENCH_LIB_WORKLOAD_POPULARITY_H_

#include <cstdint>
#include <vector>

#include "lib/workload/data_set.h"
#include "lib/workload/scenario.h"

namespace cabench {

// `count` keys, each drawn with probability `p` per operation.
struct PopularityGroup {
  double p = 0;
  int64_t count = 0;
};

// The groups of `scenario` on `data_set` (see above), at most `max_groups`
// of them (>= 2).
std::vector<PopularityGroup> KeyPopularity(const Scenario& scenario, const DataSetInfo& data_set,
                                           int64_t max_groups = 4096);

}  // namespace cabench

#endif  // CABENCH_LIB_WORKLOAD_POPULARITY_H_
