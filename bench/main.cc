// cabench: the cache-aside benchmark suite.
//
//   cabench [--scenarios=DIR] [--queries=N] [--rate_per_s=R] [--no_twins] [--out_dir=DIR]
//           [--allow_remote] [--allow_cache_config]
//           [--shard_index=I --shard_count=N --start_at=EPOCH_MS [--run_id=ID]]
//           [--timeout_ms=N] [--connect_timeout_ms=N] [--max_outage_ms=N]
//           [--benchmark_...]
//
// Loads every scenario file, checks both servers and the data set before any
// benchmark starts (so a bad endpoint is one clear line, not a page of failed
// runs), registers one benchmark per scenario and thread count, and runs them
// with Google Benchmark. Exit codes: 0 all benchmarks ran, 1 a runtime failure
// (server unreachable, a benchmark reported an error), 2 bad usage or
// configuration, 128 + N interrupted by signal N (SIGINT, SIGTERM: the running
// benchmark stops at its next operation and removes the bookings it
// inserted; a second signal ends the process at once).
#include <regex.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "bench/scenario_benchmark.h"
#include "bench/sharded_run.h"
#include "bench/suite_env.h"
#include "benchmark/benchmark.h"
#include "lib/clients/read_split.h"
#include "lib/config/endpoints.h"
#include "lib/dataset/run_ledger.h"
#include "lib/engine/run_control.h"
#include "lib/engine/shard.h"
#include "lib/metrics/clock.h"
#include "lib/metrics/json.h"
#include "lib/mysql/mysql_client.h"
#include "lib/redis/redis_client.h"
#include "lib/servers/replication.h"
#include "lib/servers/server_stats.h"
#include "lib/workload/data_set.h"
#include "lib/workload/scenario_loader.h"
#include "lib/workload/scenario_params.h"
#include "lib/workload/workload.h"

namespace cabench {
namespace {

constexpr int kExitRuntime = 1;
constexpr int kExitUsage = 2;

struct Flags {
  std::string scenarios_dir = "scenarios";
  int64_t queries = 0;      // 0: as each scenario says
  int64_t rate_per_s = -1;  // -1: as each scenario says; 0: closed loop
  bool no_twins = false;    // do not run the scenarios' no-cache twins
  std::string out_dir;
  bool allow_remote = false;
  bool allow_cache_config = false;  // may CONFIG SET maxmemory on any cache
  std::string cache_url;            // overrides CABENCH_CACHE_URL
  std::string db_url;               // overrides CABENCH_DB_URL
  int64_t timeout_ms = 0;           // 0: the endpoints' default command timeout
  int64_t connect_timeout_ms = 0;   // 0: the endpoints' default connect timeout
  int64_t max_outage_ms = 10'000;
  // A sharded run (lib/engine/shard.h); the environment may also say.
  std::optional<int64_t> shard_index;
  std::optional<int64_t> shard_count;
  int64_t start_at_ms = 0;  // 0: not given
  std::string run_id;       // "": run-<start_at_ms>
};

constexpr int64_t kMaxTimeoutMs = 3'600'000;

// OK when the cache is the one tools/servers started: its INFO process_id
// is the pid in $CABENCH_SERVERS_DIR/cache.pid.
absl::Status CheckCacheIsOurs(SuiteEnv& env) {
  if (env.cache.cluster) {
    // Its INFO has no single process_id to compare with cache.pid.
    return absl::FailedPreconditionError(
        "the cache is a cluster (cabench cannot tell whether tools/servers started it)");
  }
  const char* dir = std::getenv("CABENCH_SERVERS_DIR");
  if (dir == nullptr || *dir == '\0') {
    return absl::FailedPreconditionError("CABENCH_SERVERS_DIR is not set");
  }
  const std::string pid_file = absl::StrCat(dir, "/cache.pid");
  std::ifstream in(pid_file);
  std::string recorded;
  if (!std::getline(in, recorded)) {
    return absl::FailedPreconditionError(absl::StrCat("cannot read ", pid_file));
  }
  absl::StatusOr<std::unique_ptr<KvClient>> kv = env.new_kv(-1);
  if (!kv.ok()) return kv.status();
  absl::StatusOr<std::string> info = (*kv)->Info("server");
  if (!info.ok()) return info.status();
  int64_t pid = 0;
  if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(recorded), &pid)) {
    return absl::FailedPreconditionError(absl::StrCat(pid_file, " holds no pid"));
  }
  if (const std::optional<int64_t> process_id = InfoInt(*info, "process_id")) {
    if (*process_id == pid) return absl::OkStatus();
    return absl::FailedPreconditionError(absl::StrCat("the cache's process_id is ", *process_id,
                                                      ", not the pid ", pid, " in ", pid_file));
  }
  return absl::FailedPreconditionError("the cache's INFO has no process_id");
}

void PrintHelp() {
  std::fprintf(stdout,
               "usage: cabench [--scenarios=DIR] [--queries=N] [--rate_per_s=R] [--out_dir=DIR] "
               "[--allow_remote]\n"
               "               [--timeout_ms=N] [--connect_timeout_ms=N] "
               "[--max_outage_ms=N]\n"
               "               [--cache_url=URL] [--db_url=URL] [--benchmark_...]\n"
               "\n"
               "  --scenarios=DIR   folder of scenario YAML files (default: scenarios)\n"
               "  --queries=N       override queries per thread of every scenario\n"
               "  --rate_per_s=R    run every scenario open-loop at R operations/s in total\n"
               "                    (0: closed loop), instead of its own rate_per_s\n"
               "  --no_twins        do not run the no-cache twins of scenarios that ask for\n"
               "                    one (baseline: no_cache); gain_ops_x etc. are then absent\n"
               "  --out_dir=DIR     where per-run time series go (default:\n"
               "                    results/runs/<date>_<git rev>)\n"
               "  --allow_remote    allow endpoints that are not on loopback\n"
               "  --allow_cache_config  let scenarios that bound the cache's memory\n"
               "                    (cache_max_memory, cache_keys_pct, eviction_policy)\n"
               "                    reconfigure a cache that tools/servers did not start\n"
               "                    (its old settings are restored after each run)\n"
               "  --cache_url=URL   the cache, instead of CABENCH_CACHE_URL\n"
               "  --db_url=URL      the database, instead of CABENCH_DB_URL (the "
               "password\n"
               "                    still comes from the environment)\n"
               "  --timeout_ms=N    command timeout of both clients (default 5000); no\n"
               "                    operation waits longer for a server (the database\n"
               "                    rounds it up to whole seconds)\n"
               "  --connect_timeout_ms=N  connect timeout of both clients (default "
               "2000)\n"
               "  --max_outage_ms=N a server down for longer during a run fails the "
               "run\n"
               "                    (default 10000); shorter outages count as errors\n"
               "  --shard_index=I --shard_count=N  run shard I of N of ONE benchmark: the\n"
               "                    global threads I, I+N, ... (default from SLURM_PROCID/\n"
               "                    SLURM_NTASKS, or JOB_COMPLETION_INDEX with --shard_count);\n"
               "                    output goes to OUT/shard-I/ (needs --out_dir=OUT); join\n"
               "                    the shards with tools/merge OUT\n"
               "  --start_at=EPOCH_MS  every shard's measurement starts at this instant\n"
               "                    (Unix epoch milliseconds; required with 2+ shards)\n"
               "  --run_id=ID       names the sharded run (default: run-<start_at>)\n"
               "\n"
               "Endpoints come from the environment (see `tools/servers start`):\n"
               "  CABENCH_CACHE_URL=redis://HOST:PORT/DB\n"
               "  CABENCH_DB_URL=mysql://USER@HOST:PORT/SCHEMA\n"
               "  CABENCH_DB_PASSWORD or CABENCH_DB_PASSWORD_FILE\n"
               "  CABENCH_CACHE_READ_URL, CABENCH_DB_READ_URL (optional): read replicas;\n"
               "  GETs and the misses' SELECTs go to them, writes to the primaries\n"
               "\n"
               "Google Benchmark flags:\n");
  benchmark::PrintDefaultHelp();
}

[[noreturn]] void Fail(int code, absl::string_view message) {
  std::fprintf(stderr, "cabench: %.*s\n", static_cast<int>(message.size()), message.data());
  std::exit(code);
}

// Parses the flags Google Benchmark left in argv. Anything unknown is an error:
// a mistyped flag silently ignored would run the wrong benchmark.
Flags ParseFlags(int argc, char** argv) {
  Flags flags;
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    absl::string_view value;
    auto take = [&](absl::string_view name) {
      if (!absl::StartsWith(arg, name)) return false;
      value = arg.substr(name.size());
      return true;
    };
    if (take("--scenarios=")) {
      if (value.empty()) Fail(kExitUsage, "--scenarios: expected a folder");
      flags.scenarios_dir = std::string(value);
    } else if (take("--queries=")) {
      if (!absl::SimpleAtoi(value, &flags.queries) || flags.queries <= 0 ||
          flags.queries > 1000000000) {
        Fail(kExitUsage,
             absl::StrCat("--queries: expected a whole number 1..1000000000, got '", value, "'"));
      }
    } else if (take("--rate_per_s=")) {
      if (!absl::SimpleAtoi(value, &flags.rate_per_s) || flags.rate_per_s < 0 ||
          flags.rate_per_s > 100'000'000) {
        Fail(kExitUsage, absl::StrCat("--rate_per_s: expected operations per second 0..100000000 "
                                      "(0: closed loop), got '",
                                      value, "'"));
      }
    } else if (take("--out_dir=")) {
      if (value.empty()) Fail(kExitUsage, "--out_dir: expected a folder");
      flags.out_dir = std::string(value);
    } else if (take("--cache_url=")) {
      flags.cache_url = std::string(value);
    } else if (take("--db_url=")) {
      flags.db_url = std::string(value);
    } else if (take("--timeout_ms=") || take("--connect_timeout_ms=") || take("--max_outage_ms=")) {
      int64_t* out = absl::StartsWith(arg, "--timeout_ms=")           ? &flags.timeout_ms
                     : absl::StartsWith(arg, "--connect_timeout_ms=") ? &flags.connect_timeout_ms
                                                                      : &flags.max_outage_ms;
      if (!absl::SimpleAtoi(value, out) || *out <= 0 || *out > kMaxTimeoutMs) {
        Fail(kExitUsage, absl::StrCat(arg.substr(0, arg.find('=')), ": expected milliseconds 1..",
                                      kMaxTimeoutMs, ", got '", value, "'"));
      }
    } else if (take("--shard_index=") || take("--shard_count=")) {
      const bool index = absl::StartsWith(arg, "--shard_index=");
      int64_t v = 0;
      if (!absl::SimpleAtoi(value, &v)) {
        Fail(kExitUsage, absl::StrCat(arg.substr(0, arg.find('=')),
                                      ": expected a whole number, got '", value, "'"));
      }
      (index ? flags.shard_index : flags.shard_count) = v;
    } else if (take("--start_at=")) {
      if (!absl::SimpleAtoi(value, &flags.start_at_ms) || flags.start_at_ms <= 0) {
        Fail(kExitUsage,
             absl::StrCat("--start_at: expected Unix epoch milliseconds, got '", value, "'"));
      }
    } else if (take("--run_id=")) {
      if (value.empty() || value.size() > 100 ||
          value.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                  "0123456789._-") != absl::string_view::npos) {
        Fail(kExitUsage,
             absl::StrCat("--run_id: expected 1..100 of [A-Za-z0-9._-], got '", value, "'"));
      }
      flags.run_id = std::string(value);
    } else if (arg == "--no_twins") {
      flags.no_twins = true;
    } else if (arg == "--allow_remote") {
      flags.allow_remote = true;
    } else if (arg == "--allow_cache_config") {
      flags.allow_cache_config = true;
    } else {
      Fail(kExitUsage, absl::StrCat("unknown flag '", arg, "' (see cabench --help)"));
    }
  }
  return flags;
}

// Reads CABENCH_CACHE_READ_URL and CABENCH_DB_READ_URL into *env (with
// the primaries' timeouts); a malformed one is a usage error naming it.
void ReadReplicaEndpoints(SuiteEnv* env) {
  absl::StatusOr<std::optional<CacheEndpoint>> cache_read = CacheReadEndpointFromEnv();
  if (!cache_read.ok()) Fail(kExitUsage, cache_read.status().message());
  absl::StatusOr<std::optional<DbEndpoint>> db_read = DbReadEndpointFromEnv(env->db);
  if (!db_read.ok()) Fail(kExitUsage, db_read.status().message());
  env->cache_read = *std::move(cache_read);
  if (env->cache_read.has_value() && env->cache.cluster) {
    // A cluster's replicas are its own nodes (READONLY), not a second URL.
    Fail(kExitUsage,
         "CABENCH_CACHE_READ_URL: read replicas are not supported with a cluster cache "
         "(redis-cluster://); unset one of them");
  }
  if (env->cache_read.has_value()) env->cache_read->timeouts = env->cache.timeouts;
  env->db_read = *std::move(db_read);
}

// Every endpoint's host, the replicas' included.
std::vector<const std::string*> ReplicaAwareHosts(const SuiteEnv& env) {
  std::vector<const std::string*> hosts = {&env.cache.host, &env.db.host};
  if (env.cache_read.has_value()) hosts.push_back(&env.cache_read->host);
  if (env.db_read.has_value()) hosts.push_back(&env.db_read->host);
  for (const CacheNode& seed : env.cache.seeds) hosts.push_back(&seed.host);
  return hosts;
}

// Before any benchmark: each read replica answers and replicates (exit 2
// when it does not: the URL names a server that is no replica), and the
// database replica has applied what the primary had (the loaded data set),
// waiting up to 30 s for it (exit 1 after).
void CheckReplicas(const SuiteEnv& env) {
  constexpr int64_t kCatchUpS = 30;
  if (env.cache_read.has_value()) {
    const std::string where = absl::StrCat("CABENCH_CACHE_READ_URL ", env.cache_read->ToString());
    absl::StatusOr<std::unique_ptr<KvClient>> replica = NewRedisClient(*env.cache_read);
    if (!replica.ok()) Fail(kExitRuntime, absl::StrCat(where, ": ", replica.status().message()));
    if (absl::Status s = CheckCacheReplicating(**replica); !s.ok()) {
      Fail(absl::IsFailedPrecondition(s) ? kExitUsage : kExitRuntime,
           absl::StrCat(where, ": ", s.message()));
    }
  }
  if (!env.db_read.has_value()) return;
  const std::string where = absl::StrCat("CABENCH_DB_READ_URL ", env.db_read->ToString());
  absl::StatusOr<std::unique_ptr<SqlClient>> replica = env.new_db_replica();
  if (!replica.ok()) Fail(kExitRuntime, absl::StrCat(where, ": ", replica.status().message()));
  if (absl::Status s = CheckDbReplicating(**replica); !s.ok()) {
    Fail(absl::IsFailedPrecondition(s) ? kExitUsage : kExitRuntime,
         absl::StrCat(where, ": ", s.message()));
  }
  absl::StatusOr<std::unique_ptr<SqlClient>> primary = env.new_sql(-1);
  if (!primary.ok()) Fail(kExitRuntime, primary.status().message());
  // The replica connection's 1 s command timeout is too short to wait on.
  DbEndpoint waiting = *env.db_read;
  waiting.schema.clear();
  waiting.timeouts.io_ms = (kCatchUpS + 5) * 1000;
  absl::StatusOr<std::unique_ptr<SqlClient>> waiter = NewMysqlClient(waiting);
  if (!waiter.ok()) Fail(kExitRuntime, absl::StrCat(where, ": ", waiter.status().message()));
  if (absl::Status s = WaitForDbReplica(**primary, **waiter, kCatchUpS); !s.ok()) {
    Fail(kExitRuntime, absl::StrCat(where, ": ", s.message()));
  }
}

// SIGINT/SIGTERM: stop the benchmarks cleanly (see RequestStop); the handler
// then gives the signal its default action back, so a second one ends the
// process at once.
void OnStopSignal(int signal_number) {
  RequestStop(signal_number);
  struct sigaction dfl = {};
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  sigaction(signal_number, &dfl, nullptr);
}

void InstallStopHandlers() {
  struct sigaction stop = {};
  stop.sa_handler = OnStopSignal;
  sigemptyset(&stop.sa_mask);
  sigaction(SIGINT, &stop, nullptr);
  sigaction(SIGTERM, &stop, nullptr);
}

// Which of `names` Google Benchmark's --benchmark_filter selects, with its
// rules: a POSIX extended regex searched in the full name, "" and "all"
// select everything, a leading '-' negates. Checked before any server is
// contacted, so that a filter matching nothing is one usage error. Fails
// (InvalidArgument) when the filter is not a valid regex.
absl::StatusOr<std::vector<bool>> FilterSelects(std::string filter,
                                                const std::vector<std::string>& names) {
  if (filter.empty() || filter == "all") return std::vector<bool>(names.size(), true);
  bool negate = false;
  if (filter[0] == '-') {
    negate = true;
    filter.erase(0, 1);
  }
  regex_t re;
  if (regcomp(&re, filter.c_str(), REG_EXTENDED | REG_NOSUB) != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("--benchmark_filter: '", filter, "' is not a valid regular expression"));
  }
  std::vector<bool> selected;
  for (const std::string& name : names) {
    selected.push_back((regexec(&re, name.c_str(), 0, nullptr, 0) == 0) != negate);
  }
  regfree(&re);
  return selected;
}

// A regular expression matching exactly `name` (POSIX extended).
std::string ExactPattern(const std::string& name) {
  std::string out;
  for (char c : name) {
    if (std::strchr(".[]()*+?{}|^$\\", c) != nullptr) out += '\\';
    out += c;
  }
  return out;
}

// One benchmark to register: a scenario at a thread count, and the index of
// its no-cache twin in the same list (-1: none).
struct Planned {
  Scenario scenario;
  int threads = 1;
  int twin = -1;
  std::string name;
};

// Every benchmark of `scenarios` (each point of a sweep, each thread count),
// each no-cache twin just before the scenario it belongs to.
std::vector<Planned> PlanBenchmarks(const std::vector<Scenario>& scenarios) {
  std::vector<Planned> plan;
  for (const Scenario& sweep : scenarios) {
    for (const Scenario& scenario : SweepPoints(sweep)) {
      for (int threads : scenario.threads) {
        int twin = -1;
        if (scenario.baseline_no_cache) {
          twin = static_cast<int>(plan.size());
          const Scenario t = ScenarioBenchmark::NoCacheTwin(scenario);
          plan.push_back({t, threads, -1, ScenarioBenchmark::FullName(t, threads)});
        }
        plan.push_back({scenario, threads, twin, ScenarioBenchmark::FullName(scenario, threads)});
      }
    }
  }
  return plan;
}

// Makes the library's filter select exactly the benchmarks of `plan` whose
// flag in `selected` is set.
void SelectExactly(const std::vector<Planned>& plan, const std::vector<bool>& selected) {
  std::string exact;
  for (size_t i = 0; i < plan.size(); ++i) {
    if (!selected[i]) continue;
    absl::StrAppend(&exact, exact.empty() ? "^(" : "|", ExactPattern(plan[i].name));
  }
  benchmark::SetBenchmarkFilter(exact + ")$");
}

std::string DefaultOutDir() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  localtime_r(&now, &tm);
  char date[32];
  std::strftime(date, sizeof(date), "%Y%m%d-%H%M%S", &tm);
  return absl::StrCat("results/runs/", date, "_", GitRevision());
}

// benchmark::Initialize() reports a bad --benchmark_ value with a line of its
// own on stderr and leaves the flag in argv. Its stderr goes to a temporary
// file meanwhile, so that the user sees one "cabench: ..." line naming the
// flag, not two.
void InitializeBenchmark(int* argc, char** argv) {
  std::fflush(stderr);
  const int saved = dup(STDERR_FILENO);
  std::FILE* capture = std::tmpfile();
  if (saved < 0 || capture == nullptr) {
    if (saved >= 0) close(saved);
    benchmark::Initialize(argc, argv, PrintHelp);
    return;
  }
  dup2(fileno(capture), STDERR_FILENO);
  benchmark::Initialize(argc, argv, PrintHelp);
  std::fflush(stderr);
  dup2(saved, STDERR_FILENO);
  close(saved);
  std::rewind(capture);
  char line[512] = {};
  const bool said = std::fgets(line, sizeof(line), capture) != nullptr;
  std::fclose(capture);
  if (said) {
    std::string message(line);
    while (!message.empty() && (message.back() == '\n' || message.back() == '\r')) {
      message.pop_back();
    }
    Fail(kExitUsage, absl::StrCat(message, " (see cabench --help)"));
  }
}

int Main(int argc, char** argv) {
  std::vector<char*> args(argv, argv + argc);
  std::vector<std::string> added_args;
  const std::string shard_json = AddShardOutput(args, added_args);
  argc = static_cast<int>(args.size());
  args.push_back(nullptr);
  argv = args.data();
  const int64_t repetitions = RepetitionsFlag(argc, argv);
  InitializeBenchmark(&argc, argv);
  Flags flags = ParseFlags(argc, argv);
  absl::StatusOr<ShardSpec> shard = ResolveShard(flags.shard_index, flags.shard_count, std::getenv);
  if (!shard.ok()) Fail(kExitUsage, shard.status().message());
  if (shard->sharded()) {
    // The twin would be a second benchmark; the merged run reports against
    // an unsharded run instead.
    flags.no_twins = true;
    if (flags.start_at_ms == 0 && shard->count > 1) {
      Fail(kExitUsage,
           "a sharded run needs --start_at=EPOCH_MS, the same for every shard (so that shard "
           "0's flush and warm-up end before any shard measures)");
    }
  } else if (flags.start_at_ms > 0 || !flags.run_id.empty()) {
    Fail(kExitUsage,
         "--start_at and --run_id belong to a sharded run: give --shard_index and "
         "--shard_count (or run under srun)");
  }
  if (flags.start_at_ms > 0) {
    if (absl::Status s = CheckStartAt(flags.start_at_ms, absl::ToUnixMillis(absl::Now()));
        !s.ok()) {
      Fail(kExitUsage, s.message());
    }
  }

  absl::StatusOr<std::vector<Scenario>> scenarios = LoadScenarioDir(flags.scenarios_dir);
  if (!scenarios.ok()) Fail(kExitUsage, scenarios.status().message());
  if (flags.queries > 0) {
    for (Scenario& s : *scenarios) s.queries_per_thread = flags.queries;
  }

  if (flags.rate_per_s >= 0) {
    for (Scenario& s : *scenarios) s.rate_per_s = flags.rate_per_s;
  }
  if (flags.no_twins) {
    for (Scenario& s : *scenarios) s.baseline_no_cache = false;
  }

  // A filter that selects a scenario also selects its no-cache twin: the
  // scenario's report is measured against it.
  const std::vector<Planned> plan = PlanBenchmarks(*scenarios);
  std::vector<bool> run_it;  // plan[i] is selected (with the twins of the selected)
  {
    std::vector<std::string> names;
    for (const Planned& p : plan) names.push_back(p.name);
    absl::StatusOr<std::vector<bool>> selected =
        FilterSelects(benchmark::GetBenchmarkFilter(), names);
    if (!selected.ok()) Fail(kExitUsage, selected.status().message());
    std::vector<bool> with_twins = *selected;
    bool added = false;
    for (size_t i = 0; i < plan.size(); ++i) {
      if (with_twins[i] && plan[i].twin >= 0 && !with_twins[plan[i].twin]) {
        with_twins[plan[i].twin] = true;
        added = true;
      }
    }
    if (std::find(with_twins.begin(), with_twins.end(), true) == with_twins.end()) {
      Fail(kExitUsage, absl::StrCat("no benchmark matches --benchmark_filter='",
                                    benchmark::GetBenchmarkFilter(), "'"));
    }
    if (added) SelectExactly(plan, with_twins);
    run_it = std::move(with_twins);
  }
  if (shard->sharded()) {
    std::vector<SelectedBenchmark> chosen;
    for (size_t i = 0; i < plan.size(); ++i) {
      if (run_it[i]) {
        chosen.push_back({plan[i].name, plan[i].scenario.name, plan[i].scenario.BoundsTheCache()});
      }
    }
    if (absl::Status s = CheckShardedSelection(chosen, benchmark::GetBenchmarkFilter(), repetitions,
                                               !flags.out_dir.empty());
        !s.ok()) {
      Fail(kExitUsage, s.message());
    }
  }

  // An endpoint flag replaces its variable; errors then name the flag.
  if (!flags.cache_url.empty()) {
    if (absl::Status s = ParseCacheUrl(flags.cache_url).status(); !s.ok()) {
      Fail(kExitUsage, absl::StrCat("--cache_url: ", s.message()));
    }
    setenv("CABENCH_CACHE_URL", flags.cache_url.c_str(), 1);
  }
  if (!flags.db_url.empty()) {
    if (absl::Status s = ParseDbUrl(flags.db_url).status(); !s.ok()) {
      Fail(kExitUsage, absl::StrCat("--db_url: ", s.message()));
    }
    setenv("CABENCH_DB_URL", flags.db_url.c_str(), 1);
  }

  SuiteEnv env;
  absl::StatusOr<CacheEndpoint> cache = CacheEndpointFromEnv();
  if (!cache.ok()) Fail(kExitUsage, cache.status().message());
  absl::StatusOr<DbEndpoint> db = DbEndpointFromEnv();
  if (!db.ok()) Fail(kExitUsage, db.status().message());
  env.cache = *std::move(cache);
  env.db = *std::move(db);
  for (Timeouts* t : {&env.cache.timeouts, &env.db.timeouts}) {
    if (flags.timeout_ms > 0) t->io_ms = flags.timeout_ms;
    if (flags.connect_timeout_ms > 0) t->connect_ms = flags.connect_timeout_ms;
  }
  ReadReplicaEndpoints(&env);
  for (const std::string* host : ReplicaAwareHosts(env)) {
    if (!flags.allow_remote && !IsLoopbackHost(*host)) {
      Fail(kExitUsage, absl::StrCat("endpoint host '", *host,
                                    "' is not on loopback; pass --allow_remote to benchmark "
                                    "servers on another machine"));
    }
  }
  env.out_dir = flags.out_dir.empty() ? DefaultOutDir() : flags.out_dir;
  env.max_outage_ms = flags.max_outage_ms;
  env.shard = *shard;
  env.start_at_ms = flags.start_at_ms;
  ShardManifest manifest;
  if (shard->sharded()) {
    env.out_dir = absl::StrCat(flags.out_dir, "/shard-", shard->index);
    absl::StatusOr<ShardManifest> m =
        NewShardManifest(*shard, flags.start_at_ms, flags.run_id, !shard_json.empty(),
                         flags.queries, flags.rate_per_s, *scenarios);
    if (!m.ok()) Fail(kExitUsage, m.status().message());
    manifest = *std::move(m);
  }

  // Thread index -1 is the reader of the servers' statistics: short
  // timeouts, and no schema (so no statements prepared on its connection).
  // With read replicas the benchmark threads' clients send reads to them
  // (lib/clients/read_split.h); the statistics reader stays on the primaries.
  env.new_kv = [&env](int thread_index) -> absl::StatusOr<std::unique_ptr<KvClient>> {
    CacheEndpoint endpoint = env.cache;
    if (thread_index < 0) {
      endpoint.timeouts.io_ms = std::min<int64_t>(endpoint.timeouts.io_ms, 1000);
    }
    absl::StatusOr<std::unique_ptr<KvClient>> primary = NewKvClient(endpoint);
    if (!primary.ok() || thread_index < 0 || !env.cache_read.has_value()) return primary;
    absl::StatusOr<std::unique_ptr<KvClient>> replica = NewKvClient(*env.cache_read);
    if (!replica.ok()) return replica.status();
    return std::make_unique<ReadSplitKvClient>(*std::move(primary), *std::move(replica));
  };
  env.new_sql = [&env](int thread_index) -> absl::StatusOr<std::unique_ptr<SqlClient>> {
    DbEndpoint endpoint = env.db;
    if (thread_index < 0) {
      endpoint.timeouts.io_ms = std::min<int64_t>(endpoint.timeouts.io_ms, 1000);
      endpoint.schema.clear();
    }
    absl::StatusOr<std::unique_ptr<SqlClient>> primary = NewMysqlClient(endpoint);
    if (!primary.ok() || thread_index < 0 || !env.db_read.has_value()) return primary;
    absl::StatusOr<std::unique_ptr<SqlClient>> replica = NewMysqlClient(*env.db_read);
    if (!replica.ok()) return replica.status();
    return std::make_unique<ReadSplitSqlClient>(*std::move(primary), *std::move(replica));
  };
  if (env.db_read.has_value()) {
    env.new_db_replica = [&env]() {
      DbEndpoint endpoint = *env.db_read;
      endpoint.timeouts.io_ms = std::min<int64_t>(endpoint.timeouts.io_ms, 1000);
      endpoint.schema.clear();
      return NewMysqlClient(endpoint);
    };
  }

  MysqlLibrary mysql_library;
  FastClockInit();  // calibrate the operation clock now, not inside a SetUp
  if (absl::Status s = CheckServers(&env); !s.ok()) Fail(kExitRuntime, s.message());
  CheckReplicas(env);
  // Scenarios that bound the cache's memory run only on a cache cabench may
  // reconfigure. Others selected with them still run; alone, they are refused.
  std::vector<std::string> bounding;
  for (size_t i = 0; i < plan.size(); ++i) {
    if (run_it[i] && plan[i].scenario.BoundsTheCache()) bounding.push_back(plan[i].scenario.name);
  }
  if (!bounding.empty() && !flags.allow_cache_config) {
    if (absl::Status s = CheckCacheIsOurs(env); !s.ok()) {
      bounding.erase(std::unique(bounding.begin(), bounding.end()), bounding.end());
      const std::string why = absl::StrCat(
          absl::StrJoin(bounding, ", "), bounding.size() == 1 ? " sets" : " set",
          " the cache's maxmemory/maxmemory-policy, which cabench changes only on a cache "
          "tools/servers started, or with --allow_cache_config: ",
          s.message());
      for (size_t i = 0; i < plan.size(); ++i) {
        if (plan[i].scenario.BoundsTheCache()) run_it[i] = false;
      }
      if (std::find(run_it.begin(), run_it.end(), true) == run_it.end()) Fail(kExitUsage, why);
      std::fprintf(stderr, "cabench: not running %s\n", why.c_str());
      SelectExactly(plan, run_it);
    }
  }
  for (const Scenario& scenario : *scenarios) {
    if (absl::Status s = CheckWorkload(scenario, env.data); !s.ok()) {
      Fail(kExitRuntime, absl::StrCat(scenario.source_file, ": ", s.message()));
    }
  }
  std::error_code ec;
  std::filesystem::create_directories(env.out_dir, ec);
  if (ec)
    Fail(kExitRuntime, absl::StrCat("cannot create --out_dir '", env.out_dir, "': ", ec.message()));

  // This process's run slot in the schema: its inserts carry the slot's seat
  // tag, and what a killed run left is removed by a later one.
  absl::StatusOr<std::unique_ptr<RunLedger>> ledger = OpenRunLedger(env);
  if (!ledger.ok()) Fail(kExitRuntime, ledger.status().message());
  env.ledger = ledger->get();

  AddSuiteContext(env, flags.scenarios_dir, *scenarios);
  {
    // Every planned benchmark's parameters, for tools that would otherwise
    // parse its name: in the JSON context, and beside the series with the
    // stem of its files.
    JsonObject params;
    JsonObject files;
    for (const Planned& p : plan) {
      const std::string json = ScenarioParamsJson(p.scenario, p.threads);
      params.Raw(p.name, json);
      files.Raw(ScenarioBenchmark::FileStem(p.name),
                absl::StrCat(json.substr(0, json.size() - 1), ", \"benchmark\": ",
                             JsonQuote(p.name), "}"));
    }
    benchmark::AddCustomContext("cabench_benchmarks", params.str());
    std::ofstream out(std::filesystem::path(env.out_dir) / "benchmarks.json", std::ios::trunc);
    out << files.str() << "\n";
    if (!out) Fail(kExitRuntime, absl::StrCat("cannot write ", env.out_dir, "/benchmarks.json"));
  }

  std::vector<std::unique_ptr<ScenarioBenchmark>> benchmarks;
  std::vector<const ScenarioBenchmark*> selected;
  for (size_t i = 0; i < plan.size(); ++i) {
    const Planned& p = plan[i];
    benchmarks.push_back(std::make_unique<ScenarioBenchmark>(p.scenario, p.threads, &env));
    if (p.twin >= 0) benchmarks.back()->set_twin(benchmarks[static_cast<size_t>(p.twin)].get());
    benchmarks.back()->Register();
    if (run_it[i]) selected.push_back(benchmarks.back().get());
  }
  if (shard->sharded()) {
    if (absl::StatusOr<std::unique_ptr<KvClient>> kv = env.new_kv(-1); kv.ok()) {
      if (absl::StatusOr<double> offset = ClockOffsetMs(**kv); offset.ok()) {
        manifest.clock_offset_ms = *offset;
      }
    }
  }
  const std::string manifest_path = absl::StrCat(env.out_dir, "/shard.json");
  if (shard->sharded() && selected.front()->shard_threads().empty()) {
    // Nothing to run here: the manifest says so, for tools/merge.
    (*ledger)->Close().IgnoreError();
    if (absl::Status s = WriteShardManifest(manifest_path, manifest, selected); !s.ok()) {
      Fail(kExitRuntime, s.message());
    }
    std::fprintf(stderr,
                 "cabench: shard %d of %d has no thread of %s (%d threads): nothing to run\n",
                 shard->index, shard->count, selected.front()->full_name().c_str(),
                 selected.front()->threads());
    return 0;
  }

  InstallStopHandlers();
  size_t ran = benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  int failed = 0;
  if (shard->sharded()) {
    if (absl::Status s = WriteShardManifest(manifest_path, manifest, selected); !s.ok()) {
      std::fprintf(stderr, "cabench: %s\n", std::string(s.message()).c_str());
      ++failed;
    }
  }
  if (absl::Status s = (*ledger)->Close(); !s.ok()) {
    std::fprintf(stderr,
                 "cabench: could not close this run's record (a later cabench "
                 "run removes "
                 "what it left): %s\n",
                 std::string(s.message()).c_str());
    ++failed;
  }
  if (const int signal_number = StopRequested(); signal_number != 0) {
    std::fprintf(stderr, "cabench: interrupted by signal %d\n", signal_number);
    return 128 + signal_number;
  }
  if (ran == 0) {
    Fail(kExitUsage, absl::StrCat("no benchmark matches --benchmark_filter='",
                                  benchmark::GetBenchmarkFilter(), "'"));
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
