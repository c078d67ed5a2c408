// File: lib/clients/kv_routing.h
//
// The arithmetic of KvRouting (kv_client.h), a cluster client's routing
// statistics: one thread's figures over a run (Since), the run's over its
// threads (Add), and the run's counters (RoutingCounters). Pure; safe to call
// concurrently on distinct objects.
#ifndef CABENCH_LIB_CLIENTS_KV_ROUTING_H_
#define CABENCH_LIB_CLIENTS_KV_ROUTING_H_

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "lib/clients/kv_client.h"
#include "lib/metrics/names.h"

namespace cabench {

// What happened between `before` and `after` (two Routing() readings of one
// client): counts subtracted; primaries is after's.
KvRouting RoutingSince(const KvRouting& before, const KvRouting& after);

// Adds `part` (one thread's) to *total; primaries is the larger.
void AddRouting(const KvRouting& part, KvRouting* total);

// cluster_nodes, moved_redirects, ask_redirects, cluster_retries and, when
// commands were sent, node_ops_min_pct / node_ops_max_pct over the nodes of
// node_ops (lib/metrics/names.def), for RunFacts::measured.
std::map<CounterId, double> RoutingCounters(const KvRouting& routing);

// Which primary took how much: "commands per node: 127.0.0.1:7000 1,234
// (33.4%), ..." (the nodes in address order), for the run's log; the
// counters' min and max shares do not say which node they are.
std::string NodeOpsLine(const KvRouting& routing);

// `routing` as one line of text for a run's record (the histograms file's
// "routing" entry): "cabench-routing 1 primaries=N moved=N ask=N retries=N"
// then "node=HOST:PORT,OPS" per node. ParseRoutingText() reads it back
// (primary_nodes is not kept), or says which word is wrong; tools that join
// records (cabench_report) add them up with AddRouting().
std::string RoutingText(const KvRouting& routing);
absl::StatusOr<KvRouting> ParseRoutingText(absl::string_view text);

}  // namespace cabench

#endif  // CABENCH_LIB_CLIENTS_KV_ROUTING_H_
