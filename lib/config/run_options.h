// File: lib/config/run_options.h
//
// RunOptions is what cabench's own command-line flags say (the
// --benchmark_... flags are Google Benchmark's): where the scenarios are,
// what to override in them, where output goes, how long to wait for
// servers, and the sharded run this process belongs to. bench/main.cc
// declares the flags (abseil flags) and fills a RunOptions from them; the
// rules live here:
//
//   ValidateRunOptions   every value in its range (one line naming the flag
//                        and what it expects, as FlagExpects() says);
//   ApplyRunOptions      the overrides applied to the loaded scenarios.
//
// Thread safety: plain values and pure functions.
#ifndef CABENCH_LIB_CONFIG_RUN_OPTIONS_H_
#define CABENCH_LIB_CONFIG_RUN_OPTIONS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "lib/config/endpoints.h"
#include "lib/workload/scenario.h"

namespace cabench {

struct RunOptions {
  std::string scenarios_dir = "scenarios";
  std::optional<int64_t> queries;     // unset: each scenario's queries_per_thread
  std::optional<int64_t> rate_per_s;  // unset: each scenario's rate_per_s; 0: closed loop
  bool no_twins = false;              // do not run the scenarios' no-cache twins
  // At most this many warm-up reads per scenario (short smoke runs; unset:
  // each scenario's own warm-up).
  std::optional<int64_t> max_warmup_ops;
  std::string out_dir;  // "": results/runs/<date>_<git rev>
  bool allow_cache_config = false;
  int64_t max_outage_ms = 10'000;
  EndpointOptions endpoints;  // --cache_url, --db_url, timeouts, --allow_remote
  // A sharded run (lib/engine/shard.h); the environment may also say.
  std::optional<int64_t> shard_index;
  std::optional<int64_t> shard_count;
  std::optional<int64_t> start_at_ms;
  std::string run_id;  // "": run-<start_at_ms>
};

// What flag `name` (without "--") expects, for messages: "a whole number
// 1..1000000000", "milliseconds 1..3600000", ... ("a value" for a flag it
// does not know).
std::string FlagExpects(absl::string_view name);

// OK when every option is in range. InvalidArgument otherwise, one line:
// "--queries: expected a whole number 1..1000000000, got '0'".
absl::Status ValidateRunOptions(const RunOptions& options);

// Applies --queries, --rate_per_s, --max_warmup_ops and --no_twins to every
// scenario. A
// sharded run never runs twins (a twin would be a second benchmark; a merged
// run is compared with an unsharded one instead): `sharded` turns them off.
void ApplyRunOptions(const RunOptions& options, bool sharded, std::vector<Scenario>* scenarios);

}  // namespace cabench

#endif  // CABENCH_LIB_CONFIG_RUN_OPTIONS_H_
