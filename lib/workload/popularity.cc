#include "lib/workload/popularity.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <utility>

#include "lib/workload/key_chooser.h"

namespace cabench {
namespace {

// Keys never drawn (p = 0) are left out; neighbours of equal probability
// become one group.
void Append(std::vector<PopularityGroup>* groups, double p, int64_t count) {
  if (!(p > 0) || count <= 0) return;
  if (!groups->empty() && groups->back().p == p) {
    groups->back().count += count;
    return;
  }
  groups->push_back(PopularityGroup{p, count});
}

std::vector<PopularityGroup> Uniform(int64_t n) {
  return {PopularityGroup{1.0 / static_cast<double>(n), n}};
}

// As KeyChooser: an op is hot with probability hot_ops_pct / 100, and then
// about one of the HotKeyCount() hot keys; no hot (or no cold) key: uniform.
std::vector<PopularityGroup> Hotspot(const Scenario& scenario, int64_t n) {
  const int64_t hot = HotKeyCount(n, scenario.hot_keys_pct);
  if (hot == 0 || hot == n) return Uniform(n);
  const double q =
      scenario.hot_ops_pct > 0 ? std::min(scenario.hot_ops_pct, 100.0) / 100 : 0;  // NaN: 0
  std::pair<double, int64_t> parts[] = {{q / static_cast<double>(hot), hot},
                                        {(1 - q) / static_cast<double>(n - hot), n - hot}};
  if (parts[1].first > parts[0].first) std::swap(parts[0], parts[1]);
  std::vector<PopularityGroup> groups;
  for (const auto& [p, count] : parts) Append(&groups, p, count);
  return groups;
}

// Ranks 1..head one by one, the rest in bins whose bounds grow
// geometrically from head to n (the tail's probabilities change slowly in
// log(rank), so equal ratios keep every bin's ranks alike). Each bin's
// total is exact (PowerSum); its keys get the mean.
std::vector<PopularityGroup> Zipf(const Scenario& scenario, int64_t n, int64_t max_groups) {
  const double s = ZipfRanks(1, scenario.zipf_s).s();  // the chooser's exponent
  const uint64_t un = static_cast<uint64_t>(n);
  const uint64_t head = n <= max_groups ? un : static_cast<uint64_t>(max_groups / 2);
  std::vector<std::pair<double, int64_t>> mass;  // (total weight, ranks)
  mass.reserve(static_cast<size_t>(std::min<int64_t>(n, max_groups)));
  for (uint64_t k = 1; k <= head; ++k) {
    mass.emplace_back(std::exp(-s * std::log(static_cast<double>(k))), 1);
  }
  const int64_t bins = max_groups - static_cast<int64_t>(head);
  const double ratio = std::log(static_cast<double>(n) / static_cast<double>(head));
  uint64_t last = head;
  for (int64_t j = 1; last < un && j <= bins; ++j) {
    uint64_t bound = j == bins ? un
                               : static_cast<uint64_t>(static_cast<double>(head) *
                                                       std::exp(ratio * static_cast<double>(j) /
                                                                static_cast<double>(bins)));
    bound = std::min(bound, un);
    if (bound <= last) continue;
    mass.emplace_back(PowerSum(last + 1, bound, s), static_cast<int64_t>(bound - last));
    last = bound;
  }
  double total = 0;
  for (const auto& [weight, ranks] : mass) total += weight;
  std::vector<PopularityGroup> groups;
  groups.reserve(mass.size());
  for (const auto& [weight, ranks] : mass) {
    Append(&groups, weight / total / static_cast<double>(ranks), ranks);
  }
  return groups;
}

// The trace's ids as the chooser folds them, counted; groups of equal
// count, the most frequent first; beyond max_groups the least frequent
// groups are merged into bins of consecutive groups.
std::vector<PopularityGroup> Trace(const KeyTrace& trace, int64_t passengers,
                                   int64_t max_groups) {
  std::vector<int64_t> ids(trace.passenger_ids.size());
  for (size_t i = 0; i < ids.size(); ++i) ids[i] = FoldTraceId(trace.passenger_ids[i], passengers);
  std::sort(ids.begin(), ids.end());
  std::vector<int64_t> counts;  // per distinct id
  for (size_t i = 0; i < ids.size();) {
    size_t j = i;
    while (j < ids.size() && ids[j] == ids[i]) ++j;
    counts.push_back(static_cast<int64_t>(j - i));
    i = j;
  }
  std::sort(counts.begin(), counts.end(), std::greater<>());
  std::vector<std::pair<int64_t, int64_t>> by_count;  // (count, keys)
  for (int64_t c : counts) {
    if (!by_count.empty() && by_count.back().first == c) {
      ++by_count.back().second;
    } else {
      by_count.emplace_back(c, 1);
    }
  }
  const double ops = static_cast<double>(ids.size());
  const size_t limit = static_cast<size_t>(max_groups);
  const size_t head = by_count.size() <= limit ? by_count.size() : limit / 2;
  const size_t per_bin = head == by_count.size()
                             ? 1
                             : (by_count.size() - head + (limit - head) - 1) / (limit - head);
  std::vector<PopularityGroup> groups;
  for (size_t i = 0; i < by_count.size();) {
    const size_t end = i < head ? i + 1 : std::min(by_count.size(), i + per_bin);
    int64_t hits = 0, keys = 0;
    for (; i < end; ++i) {
      hits += by_count[i].first * by_count[i].second;
      keys += by_count[i].second;
    }
    Append(&groups, static_cast<double>(hits) / ops / static_cast<double>(keys), keys);
  }
  return groups;
}

}  // namespace

std::vector<PopularityGroup> KeyPopularity(const Scenario& scenario, const DataSetInfo& data_set,
                                           int64_t max_groups) {
  max_groups = std::max<int64_t>(2, max_groups);
  const int64_t n = EffectivePassengerRange(scenario, data_set).count;
  switch (scenario.access) {
    case AccessMode::kPool:
    case AccessMode::kRandom:
      break;
    case AccessMode::kZipf:
      return Zipf(scenario, n, max_groups);
    case AccessMode::kHotspot:
      return Hotspot(scenario, n);
    case AccessMode::kTrace: {
      const KeyTrace* trace = UsableTrace(scenario);
      if (trace == nullptr) break;  // as the chooser: uniform over the range
      return Trace(*trace, std::max<int64_t>(1, data_set.passengers), max_groups);
    }
  }
  return Uniform(n);
}

}  // namespace cabench
