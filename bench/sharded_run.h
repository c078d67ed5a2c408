// File: bench/sharded_run.h
//
// What main() does for a sharded run (lib/engine/shard.h) besides running
// its share of the threads: the flags it adds before Google Benchmark reads
// them, the checks of what the run selected, and the shard's manifest.
//
// The manifest of one shard of a sharded run (lib/engine/shard.h), written
// to <out_dir>/shard.json when the shard's benchmarks have run: what tools/merge
// needs to check that the shards belong together (run id, shard index and
// count, git revision and build type, the identity of every scenario file,
// the agreed start, the options that change the work) and to merge them (per
// benchmark: the unsharded name, the global thread indexes this shard ran,
// the name the library reported, the histograms and series files, and the
// epoch span of the shard's operations). Besides: this machine's clock offset
// from the cache server's clock (INFO server_time_usec), so that clocks that
// disagree across machines are visible in the merge.
//
// Thread safety: plain functions; call from main after the benchmarks ran.
#ifndef CABENCH_BENCH_SHARDED_RUN_H_
#define CABENCH_BENCH_SHARDED_RUN_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "lib/run/scenario_run.h"
#include "lib/config/run_options.h"
#include "lib/engine/plan.h"
#include "lib/clients/kv_client.h"
#include "lib/engine/shard.h"
#include "lib/workload/scenario.h"

namespace cabench {

struct ShardManifest {
  std::string run_id;
  ShardSpec shard;
  int64_t start_at_ms = 0;
  // This machine's clock minus the cache server's, in milliseconds (the
  // midpoint of the INFO round trip); nullopt when it could not be read.
  std::optional<double> clock_offset_ms;
  std::string host;
  int64_t pid = 0;
  // The Google Benchmark JSON, relative to the manifest's folder.
  std::string benchmark_json;
  // Scenario name -> "fnv1a64:<16 hex digits>" of its file's bytes.
  std::vector<std::pair<std::string, std::string>> scenario_files;
  int64_t queries = 0;      // --queries (0: the scenarios')
  int64_t rate_per_s = -1;  // --rate_per_s (-1: the scenarios')
};

// The options a sharded run needs, before anything else: --start_at with
// two or more shards (in the future, within a day), and --start_at/--run_id
// only with shards. InvalidArgument with one line otherwise.
absl::Status CheckShardOptions(const ShardSpec& shard, const RunOptions& options,
                               int64_t now_ms);

// Where a sharded run writes its Google Benchmark JSON unless
// --benchmark_out says otherwise: OUT/shard-I/cabench.json. "" when not
// sharded, without --out_dir, or when `gbench_args` hold --benchmark_out.
std::string ShardJsonPath(const ShardSpec& shard, const std::string& out_dir,
                          const std::vector<std::string>& gbench_args);

// --benchmark_repetitions as given in `gbench_args` (1 when absent or
// garbled: the library reports a garbled value itself).
int64_t RepetitionsFlag(const std::vector<std::string>& gbench_args);

// A sharded run's checks of what it selected, before any server is
// contacted: exactly one benchmark (a shard cannot tell when another shard's
// next benchmark starts), not one that reconfigures the cache (its settings
// would be restored while other shards still run), one repetition, and an
// --out_dir. InvalidArgument with one line otherwise.
absl::Status CheckShardedSelection(const std::vector<PlannedBenchmark>& plan,
                                   const std::vector<bool>& selected, const std::string& filter,
                                   int64_t repetitions, bool has_out_dir);

// This shard's manifest before the run: run id (`run_id`, or run-<start_at>
// when empty), the identity of every scenario file (NotFound when one cannot
// be read), who runs, and the options that change the work.
absl::StatusOr<ShardManifest> NewShardManifest(const ShardSpec& shard, int64_t start_at_ms,
                                               const std::string& run_id, bool benchmark_json,
                                               int64_t queries, int64_t rate_per_s,
                                               const std::vector<Scenario>& scenarios);

// Writes ShardManifestJson() to `path`; Internal when it cannot.
absl::Status WriteShardManifest(const std::string& path, const ShardManifest& manifest,
                                const std::vector<const ScenarioRun*>& selected);

// The manifest as JSON, with one entry per benchmark in `selected` (the
// benchmarks the filter selected, whether or not this shard has a thread of
// them: "thread_indexes": [] then). A benchmark whose run failed has no
// "shard_name". Never fails.
std::string ShardManifestJson(const ShardManifest& manifest,
                              const std::vector<const ScenarioRun*>& selected);

// "fnv1a64:<hex>" of the bytes of `path`; NotFound/Internal when unreadable.
absl::StatusOr<std::string> FileIdentity(const std::string& path);

// This machine's clock minus the cache server's (INFO server: server_time_usec,
// Redis >= 5), in milliseconds. Fails when the server does not say its time.
absl::StatusOr<double> ClockOffsetMs(KvClient& kv);

}  // namespace cabench

#endif  // CABENCH_BENCH_SHARDED_RUN_H_
