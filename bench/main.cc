// cabench: the cache-aside benchmark suite. Flags and wiring only: what each
// step decides lives in lib/ (and bench/ for Google Benchmark's side).
//
//   cabench [--scenarios=DIR] [--queries=N] [--rate_per_s=R] [--no_twins] [--out_dir=DIR]
//           [--cache_url=URL] [--db_url=URL] [--allow_remote] [--allow_cache_config]
//           [--timeout_ms=N] [--connect_timeout_ms=N] [--max_outage_ms=N]
//           [--shard_index=I --shard_count=N --start_at=EPOCH_MS [--run_id=ID]]
//           [--benchmark_...]
//
// Exit codes: 0 all benchmarks ran, 1 a runtime failure (server unreachable,
// a benchmark reported an error), 2 bad usage or configuration, 128 + N
// interrupted by signal N (the running benchmark stops at its next operation
// and removes the bookings it inserted; a second signal ends the process).
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "bench/flags.h"
#include "bench/gbench_init.h"
#include "bench/scenario_benchmark.h"
#include "bench/sharded_run.h"
#include "bench/suite_env.h"
#include "benchmark/benchmark.h"
#include "lib/config/run_options.h"
#include "lib/connect/connectors.h"
#include "lib/engine/plan.h"
#include "lib/engine/run_control.h"
#include "lib/engine/shard.h"
#include "lib/metrics/clock.h"
#include "lib/mysql/mysql_client.h"
#include "lib/workload/scenario_loader.h"
#include "lib/workload/workload.h"

namespace cabench {
namespace {

template <typename T>
T Must(absl::StatusOr<T> value, int code) {
  if (!value.ok()) Fail(code, value.status().message());
  return *std::move(value);
}

void Must(const absl::Status& status, int code) {
  if (!status.ok()) Fail(code, status.message());
}

int Main(int argc, char** argv) {
  CommandLine command_line = ParseCommandLine(argc, argv);
  const RunOptions& options = command_line.options;
  std::vector<std::string>& gbench_args = command_line.gbench_args;
  const ShardSpec shard =
      Must(ResolveShard(options.shard_index, options.shard_count, std::getenv), kExitUsage);
  Must(CheckShardOptions(shard, options, absl::ToUnixMillis(absl::Now())), kExitUsage);
  const std::string shard_json = ShardJsonPath(shard, options.out_dir, gbench_args);
  if (!shard_json.empty()) {
    gbench_args.push_back("--benchmark_out=" + shard_json);
    gbench_args.push_back("--benchmark_out_format=json");
  }
  const int64_t repetitions = RepetitionsFlag(gbench_args);
  Must(InitializeGoogleBenchmark(gbench_args, PrintHelp), kExitUsage);

  std::vector<Scenario> scenarios = Must(LoadScenarioDir(options.scenarios_dir), kExitUsage);
  ApplyRunOptions(options, shard.sharded(), &scenarios);
  const std::vector<PlannedBenchmark> plan = PlanBenchmarks(scenarios);
  const std::string filter = benchmark::GetBenchmarkFilter();
  std::vector<bool> run_it = Must(SelectBenchmarks(plan, filter), kExitUsage);
  // The library runs what the plan selected (the twins too). A shard keeps
  // the user's filter: it registers its own thread count (threads:<local>),
  // and it has no twins.
  if (!shard.sharded()) benchmark::SetBenchmarkFilter(ExactFilter(plan, run_it));
  if (shard.sharded()) {
    Must(CheckShardedSelection(plan, run_it, filter, repetitions, !options.out_dir.empty()),
         kExitUsage);
  }

  RunEnv env;
  const SuiteEndpoints endpoints = Must(ResolveEndpoints(options.endpoints), kExitUsage);
  const Connectors connect = MakeConnectors(endpoints);
  ConnectEnv(endpoints, connect, &env);
  env.log = [](const std::string& line) { std::fprintf(stderr, "cabench: %s\n", line.c_str()); };
  env.out_dir = shard.sharded()           ? absl::StrCat(options.out_dir, "/shard-", shard.index)
                : options.out_dir.empty() ? DefaultOutDir()
                                          : options.out_dir;
  env.max_outage_ms = options.max_outage_ms;
  env.shard = shard;
  env.start_at_ms = options.start_at_ms.value_or(0);
  ShardManifest manifest;
  if (shard.sharded()) {
    manifest = Must(NewShardManifest(shard, options.start_at_ms.value_or(0), options.run_id,
                                     !shard_json.empty(), options.queries.value_or(0),
                                     options.rate_per_s.value_or(-1), scenarios),
                    kExitUsage);
  }

  MysqlLibrary mysql_library;
  FastClockInit();  // calibrate the operation clock now, not inside a SetUp
  Must(CheckServers(&env), kExitRuntime);
  if (absl::Status s = CheckReplicas(endpoints, connect); !s.ok()) {
    Fail(absl::IsFailedPrecondition(s) ? kExitUsage : kExitRuntime, s.message());
  }
  // Scenarios left out of the run (`why` says which and why): the others
  // selected with them still run; alone, they are refused.
  auto leave_out = [&](const std::string& why) {
    if (std::find(run_it.begin(), run_it.end(), true) == run_it.end()) Fail(kExitUsage, why);
    std::fprintf(stderr, "cabench: not running %s\n", why.c_str());
    benchmark::SetBenchmarkFilter(ExactFilter(plan, run_it));
  };
  // Scenarios that bound the cache's memory run only on a cache cabench may
  // reconfigure.
  if (!options.allow_cache_config && BoundsTheCache(plan, run_it)) {
    const char* servers_dir = std::getenv("CABENCH_SERVERS_DIR");
    if (absl::Status s = CheckCacheIsOurs(endpoints, connect, servers_dir ? servers_dir : "");
        !s.ok()) {
      leave_out(LeaveOutCacheBounding(plan, s, &run_it));
    }
  }
  if (endpoints.cache.cluster) {
    if (const std::string why = LeaveOutKeySizedCaches(plan, &run_it); !why.empty()) leave_out(why);
  }
  for (const Scenario& scenario : scenarios) {
    if (absl::Status s = CheckWorkload(scenario, env.data); !s.ok()) {
      Fail(absl::IsInvalidArgument(s) ? kExitUsage : kExitRuntime,
           absl::StrCat(scenario.source_file, ": ", s.message()));
    }
  }
  std::error_code ec;
  std::filesystem::create_directories(env.out_dir, ec);
  if (ec)
    Fail(kExitRuntime, absl::StrCat("cannot create --out_dir '", env.out_dir, "': ", ec.message()));

  // This process's run record in the schema: it owns exactly the rows its
  // inserts mark, and removes what a killed run left.
  std::unique_ptr<RunLedger> ledger = Must(OpenRunLedger(env), kExitRuntime);
  for (const LeftoverReport& left : ledger->leftovers()) env.log(DescribeLeftover(left));
  env.ledger = ledger.get();
  AddSuiteContext(env, options.scenarios_dir, scenarios);
  Must(RecordBenchmarkParams(plan, env.out_dir), kExitRuntime);

  std::vector<std::unique_ptr<ScenarioBenchmark>> benchmarks;
  std::vector<const ScenarioRun*> selected;
  for (size_t i = 0; i < plan.size(); ++i) {
    benchmarks.push_back(
        std::make_unique<ScenarioBenchmark>(plan[i].scenario, plan[i].threads, &env));
    if (plan[i].twin >= 0) benchmarks.back()->set_twin(benchmarks[plan[i].twin].get());
    benchmarks.back()->Register();
    if (run_it[i]) selected.push_back(&benchmarks.back()->run());
  }
  const std::string manifest_path = absl::StrCat(env.out_dir, "/shard.json");
  if (shard.sharded()) {
    if (absl::StatusOr<std::unique_ptr<KvClient>> kv = env.new_kv(-1); kv.ok()) {
      if (absl::StatusOr<double> offset = ClockOffsetMs(**kv); offset.ok()) {
        manifest.clock_offset_ms = *offset;
      }
    }
    if (selected.front()->shard_threads().empty()) {
      // Nothing to run here: the manifest says so, for tools/merge.
      ledger->Close().IgnoreError();
      Must(WriteShardManifest(manifest_path, manifest, selected), kExitRuntime);
      std::fprintf(stderr, "cabench: shard %d of %d has no thread of %s: nothing to run\n",
                   shard.index, shard.count, selected.front()->full_name().c_str());
      return 0;
    }
  }

  InstallStopSignalHandlers();
  const std::unique_ptr<benchmark::BenchmarkReporter> file_reporter = NewFileReporter(gbench_args);
  benchmark::RunSpecifiedBenchmarks(nullptr, file_reporter.get());
  benchmark::Shutdown();
  int failed = 0;
  for (const absl::Status& s :
       {shard.sharded() ? WriteShardManifest(manifest_path, manifest, selected) : absl::OkStatus(),
        ledger->Close()}) {
    if (!s.ok()) {
      std::fprintf(stderr, "cabench: %s\n", std::string(s.message()).c_str());
      ++failed;
    }
  }
  if (const int signal_number = StopRequested(); signal_number != 0) {
    std::fprintf(stderr, "cabench: interrupted by signal %d\n", signal_number);
    return 128 + signal_number;
  }
  for (const auto& b : benchmarks) failed += b->failed_runs();
  std::fprintf(stderr, "cabench: time series in %s/series\n", env.out_dir.c_str());
  if (failed > 0) {
    std::fprintf(stderr, "cabench: %d benchmark run(s) reported an error\n", failed);
    return kExitRuntime;
  }
  return 0;
}

}  // namespace
}  // namespace cabench

int main(int argc, char** argv) {
  // yaml-cpp and std may throw; nothing may escape as a crash with a stack
  // trace. Benchmark threads never throw (lib/ returns Status).
  try {
    return cabench::Main(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "cabench: internal error: %s\n", e.what());
    return 1;
  }
}
