// File: bench/suite_env.h
//
// SuiteEnv is what every benchmark of one cabench process shares: the
// endpoints, how to connect to them, the loaded data set, the process's run
// record in the schema (lib/dataset/run_ledger.h) and where output goes.
// main() fills it once, before any benchmark is registered, and it is
// read-only afterwards, so benchmark threads may read it concurrently without
// locks (the ledger is used by one benchmark's finishing thread at a time).
#ifndef CABENCH_BENCH_SUITE_ENV_H_
#define CABENCH_BENCH_SUITE_ENV_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "lib/clients/kv_client.h"
#include "lib/clients/sql_client.h"
#include "lib/config/endpoints.h"
#include "lib/connect/connectors.h"
#include "lib/engine/plan.h"
#include "lib/dataset/run_ledger.h"
#include "lib/engine/shard.h"
#include "lib/workload/data_set.h"
#include "lib/workload/scenario.h"

namespace cabench {

struct SuiteEnv {
  CacheEndpoint cache;
  DbEndpoint db;
  DataSetInfo data;
  std::string cache_server;  // e.g. "redis 7.0.15"
  std::string db_server;     // e.g. "mariadb 10.11.19"
  std::string out_dir;       // time series go to out_dir/series/
  // A server down for longer than this during a run ends the run as failed
  // (see Reconnector::Options::max_outage_ms).
  int64_t max_outage_ms = 10'000;
  // Connect one benchmark thread's clients (thread index given; -1 for the
  // reader of the servers' statistics). main() sets the real ones
  // (NewKvClient, NewMysqlClient on the endpoints above); tests plug in
  // fakes.
  std::function<absl::StatusOr<std::unique_ptr<KvClient>>(int)> new_kv;
  std::function<absl::StatusOr<std::unique_ptr<SqlClient>>(int)> new_sql;
  // Read replicas (CABENCH_CACHE_READ_URL, CABENCH_DB_READ_URL): when set,
  // new_kv and new_sql of the benchmark threads split reads from writes
  // (lib/clients/read_split.h), and new_db_replica connects the statistics
  // reader to the database replica (SHOW SLAVE STATUS; null without one).
  std::optional<CacheEndpoint> cache_read;
  std::optional<DbEndpoint> db_read;
  std::function<absl::StatusOr<std::unique_ptr<SqlClient>>()> new_db_replica;
  // This process's run in the schema: the run number every insert carries
  // (and the seat tag that keeps its seats clear of other runs'), and the
  // removal of exactly its rows. Null: rows are not removed (tests on fakes).
  RunLedger* ledger = nullptr;
  // A sharded run (lib/engine/shard.h): this process's shard, and the agreed
  // instant every shard's measurement starts (Unix epoch milliseconds; 0:
  // each benchmark starts as soon as its set-up is done).
  ShardSpec shard;
  int64_t start_at_ms = 0;
};

// The git revision cabench was built from ("unknown" outside a checkout).
const char* GitRevision();

// Where output goes by default: results/runs/<local date-time>_<git rev>.
std::string DefaultOutDir();

// Fills env's endpoints and client factories from `endpoints` and `connect`.
void UseEndpoints(const SuiteEndpoints& endpoints, const Connectors& connect, SuiteEnv* env);

// Records every planned benchmark's parameters (lib/workload/scenario_params.h)
// in the JSON context ("cabench_benchmarks") and in out_dir/benchmarks.json,
// keyed by the stem of its files. Internal when the file cannot be written.
absl::Status RecordBenchmarkParams(const std::vector<PlannedBenchmark>& plan,
                                   const std::string& out_dir);

// Connects to both servers once and fills env->cache_server, env->db_server
// and env->data. Fails with Unavailable (a server does not answer),
// PermissionDenied/NotFound (database credentials or schema) or
// FailedPrecondition (the schema is not a cabench schema); the message names
// the endpoint (never the password). Call from main, before benchmarks run.
absl::Status CheckServers(SuiteEnv* env);

// Opens this process's run record in the schema (RunLedger::Open on a
// connection of its own, kept for the process's life): gives a schema of an
// older cabench_load its run columns, takes a run slot and removes the rows
// of runs that died without removing theirs, printing one line for each.
// Fails like RunLedger::Open, the message naming the endpoint.
absl::StatusOr<std::unique_ptr<RunLedger>> OpenRunLedger(const SuiteEnv& env);

// Adds the JSON context of the run (benchmark::AddCustomContext): server
// versions, data set, seed, scenario folder, git revision, build type, and
// the read replicas' URLs when reads go to them. Never a password.
// Each scenario's file is added as "scenario_file:<name>".
void AddSuiteContext(const SuiteEnv& env, const std::string& scenarios_dir,
                     const std::vector<Scenario>& scenarios);

}  // namespace cabench

#endif  // CABENCH_BENCH_SUITE_ENV_H_
