#include "lib/clients/kv_routing.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <string>

namespace cabench {

KvRouting RoutingSince(const KvRouting& before, const KvRouting& after) {
  KvRouting since = after;
  since.moved_redirects -= before.moved_redirects;
  since.ask_redirects -= before.ask_redirects;
  since.retries -= before.retries;
  for (const auto& [node, ops] : before.node_ops) since.node_ops[node] -= ops;
  return since;
}

void AddRouting(const KvRouting& part, KvRouting* total) {
  total->moved_redirects += part.moved_redirects;
  total->ask_redirects += part.ask_redirects;
  total->retries += part.retries;
  total->primaries = std::max(total->primaries, part.primaries);
  for (const auto& [node, ops] : part.node_ops) total->node_ops[node] += ops;
}

std::map<CounterId, double> RoutingCounters(const KvRouting& routing) {
  std::map<CounterId, double> counters;
  counters[CounterId::kClusterNodes] = static_cast<double>(routing.primaries);
  counters[CounterId::kMovedRedirects] = static_cast<double>(routing.moved_redirects);
  counters[CounterId::kAskRedirects] = static_cast<double>(routing.ask_redirects);
  counters[CounterId::kClusterRetries] = static_cast<double>(routing.retries);
  int64_t sum = 0;
  int64_t least = INT64_MAX;
  int64_t most = 0;
  for (const auto& [node, ops] : routing.node_ops) {
    sum += ops;
    least = std::min(least, ops);
    most = std::max(most, ops);
  }
  if (sum > 0) {
    counters[CounterId::kNodeOpsMinPct] = 100.0 * static_cast<double>(least) / sum;
    counters[CounterId::kNodeOpsMaxPct] = 100.0 * static_cast<double>(most) / sum;
  }
  return counters;
}

}  // namespace cabench
