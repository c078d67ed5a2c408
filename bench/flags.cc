#include "bench/flags.h"

#include <cstdio>
#include <cstdlib>
#include <optional>
#include <set>

#include "absl/flags/flag.h"
#include "absl/flags/reflection.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"

ABSL_FLAG(std::string, scenarios, "scenarios", "folder of scenario YAML files");
ABSL_FLAG(int64_t, queries, 0, "queries per thread of every scenario (default: each scenario's)");
ABSL_FLAG(int64_t, rate_per_s, 0,
          "run every scenario open-loop at R operations/s in total (0: closed loop)");
ABSL_FLAG(int64_t, max_warmup_ops, 0,
          "at most this many warm-up reads per scenario (short smoke runs)");
ABSL_FLAG(bool, no_twins, false, "do not run the no-cache twins (gain_ops_x etc. are absent)");
ABSL_FLAG(std::string, out_dir, "", "where series go (default results/runs/<date>_<git rev>)");
ABSL_FLAG(std::string, cache_url, "", "the cache, instead of CABENCH_CACHE_URL");
ABSL_FLAG(std::string, db_url, "", "the database, instead of CABENCH_DB_URL");
ABSL_FLAG(bool, allow_remote, false, "allow endpoints that are not on loopback");
ABSL_FLAG(bool, allow_cache_config, false,
          "let scenarios that bound the cache's memory reconfigure a cache tools/servers did "
          "not start (its settings are restored after each run)");
ABSL_FLAG(int64_t, timeout_ms, 0, "command timeout of both clients (default 5000)");
ABSL_FLAG(int64_t, connect_timeout_ms, 0, "connect timeout of both clients (default 2000)");
ABSL_FLAG(int64_t, max_outage_ms, 10'000, "a server down longer during a run fails the run");
ABSL_FLAG(int64_t, shard_index, 0,
          "run shard I of N of ONE benchmark (default from SLURM_PROCID, JOB_COMPLETION_INDEX)");
ABSL_FLAG(int64_t, shard_count, 0, "the shards of a sharded run (default SLURM_NTASKS)");
ABSL_FLAG(int64_t, start_at, 0, "every shard measures from this Unix epoch millisecond");
ABSL_FLAG(std::string, run_id, "", "names a sharded run (default run-<start_at>)");

namespace cabench {
namespace {

constexpr const char* kFlagOrder[] = {
    "scenarios",          "queries",     "rate_per_s",
    "max_warmup_ops",     "no_twins",    "out_dir",
    "cache_url",          "db_url",      "allow_remote",
    "allow_cache_config", "timeout_ms",  "connect_timeout_ms",
    "max_outage_ms",      "shard_index", "shard_count",
    "start_at",           "run_id",
};

}  // namespace

[[noreturn]] void Fail(int code, absl::string_view message) {
  std::fprintf(stderr, "cabench: %.*s\n", static_cast<int>(message.size()), message.data());
  std::exit(code);
}

void PrintHelp() {
  std::printf("usage: cabench [--FLAG=VALUE ...] [--benchmark_...]\n\n");
  for (const char* name : kFlagOrder) {
    std::printf("  --%-20s %s\n", name, absl::FindCommandLineFlag(name)->Help().c_str());
  }
  std::printf(
      "\nEndpoints come from CABENCH_CACHE_URL, CABENCH_DB_URL, CABENCH_DB_PASSWORD(_FILE)\n"
      "and optionally CABENCH_CACHE_READ_URL, CABENCH_DB_READ_URL (read replicas):\n"
      "see `tools/servers start`.\n\nGoogle Benchmark flags:\n");
  benchmark::PrintDefaultHelp();
}

namespace {

// Sets cabench's flags from argv (one mechanism: the abseil flags above) and
// returns the rest (Google Benchmark's --benchmark_... flags). Anything else
// is an error: a mistyped flag silently ignored would run the wrong thing.
std::vector<std::string> ParseFlags(int argc, char** argv, std::set<std::string>* given) {
  std::vector<std::string> rest;
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      PrintHelp();
      std::exit(0);
    }
    if (absl::StartsWith(arg, "--benchmark_")) {
      rest.emplace_back(arg);
      continue;
    }
    const size_t eq = arg.find('=');
    const std::string name(arg.substr(2, eq == absl::string_view::npos ? arg.npos : eq - 2));
    absl::CommandLineFlag* flag =
        absl::StartsWith(arg, "--") ? absl::FindCommandLineFlag(name) : nullptr;
    if (flag == nullptr) Fail(kExitUsage, absl::StrCat("unknown flag '", arg, "' (see --help)"));
    const std::string value(eq == absl::string_view::npos ? "" : arg.substr(eq + 1));
    given->insert(name);
    const bool is_bool = flag->IsOfType<bool>();
    std::string error;
    if ((eq == absl::string_view::npos && !is_bool) ||
        (value.empty() && FlagExpects(name) == "a folder") ||
        !flag->ParseFrom(eq == absl::string_view::npos ? "true" : value, &error)) {
      Fail(kExitUsage,
           absl::StrCat("--", name, ": expected ", FlagExpects(name), ", got '", value, "'"));
    }
  }
  return rest;
}

}  // namespace

RunOptions OptionsFromFlags(const std::set<std::string>& given) {
  auto if_given = [&](const char* name, int64_t value) {
    return given.count(name) ? std::optional<int64_t>(value) : std::nullopt;
  };
  RunOptions o;
  o.scenarios_dir = absl::GetFlag(FLAGS_scenarios);
  o.queries = if_given("queries", absl::GetFlag(FLAGS_queries));
  o.rate_per_s = if_given("rate_per_s", absl::GetFlag(FLAGS_rate_per_s));
  o.max_warmup_ops = if_given("max_warmup_ops", absl::GetFlag(FLAGS_max_warmup_ops));
  o.no_twins = absl::GetFlag(FLAGS_no_twins);
  o.out_dir = absl::GetFlag(FLAGS_out_dir);
  o.allow_cache_config = absl::GetFlag(FLAGS_allow_cache_config);
  o.max_outage_ms = absl::GetFlag(FLAGS_max_outage_ms);
  o.endpoints.cache_url = absl::GetFlag(FLAGS_cache_url);
  o.endpoints.db_url = absl::GetFlag(FLAGS_db_url);
  o.endpoints.timeout_ms = if_given("timeout_ms", absl::GetFlag(FLAGS_timeout_ms));
  o.endpoints.connect_timeout_ms =
      if_given("connect_timeout_ms", absl::GetFlag(FLAGS_connect_timeout_ms));
  o.endpoints.allow_remote = absl::GetFlag(FLAGS_allow_remote);
  o.shard_index = if_given("shard_index", absl::GetFlag(FLAGS_shard_index));
  o.shard_count = if_given("shard_count", absl::GetFlag(FLAGS_shard_count));
  o.start_at_ms = if_given("start_at", absl::GetFlag(FLAGS_start_at));
  o.run_id = absl::GetFlag(FLAGS_run_id);
  return o;
}

CommandLine ParseCommandLine(int argc, char** argv) {
  std::set<std::string> given;
  CommandLine out;
  out.gbench_args = ParseFlags(argc, argv, &given);
  out.options = OptionsFromFlags(given);
  if (absl::Status s = ValidateRunOptions(out.options); !s.ok()) Fail(kExitUsage, s.message());
  return out;
}

}  // namespace cabench
