// File: lib/run/run_env.h
//
// RunEnv is what every benchmark run of one cabench process shares: the
// endpoints and how to connect to them, the loaded data set, the process's
// run record in the schema (lib/dataset/run_ledger.h), the shard it is, and
// where output goes. main() fills it once, before any run (lib/connect fills
// the connecting parts), and it is read-only afterwards, so the threads of a
// run may read it concurrently without locks (the ledger is used by one run's
// finishing thread at a time).
#ifndef CABENCH_LIB_RUN_RUN_ENV_H_
#define CABENCH_LIB_RUN_RUN_ENV_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "lib/clients/kv_client.h"
#include "lib/clients/sql_client.h"
#include "lib/config/endpoints.h"
#include "lib/dataset/run_ledger.h"
#include "lib/engine/shard.h"
#include "lib/workload/data_set.h"

namespace cabench {

struct RunEnv {
  CacheEndpoint cache;
  DbEndpoint db;
  DataSetInfo data;
  std::string cache_server;  // e.g. "redis 7.0.15"
  std::string db_server;     // e.g. "mariadb 10.11.19"
  std::string out_dir;       // a run's files go to out_dir/series/, out_dir/histograms/
  // A server down for longer than this during a run ends the run as failed
  // (see Reconnector::Options::max_outage_ms).
  int64_t max_outage_ms = 10'000;
  // Connect one benchmark thread's clients (thread index given; -1 for the
  // reader of the servers' statistics): lib/connect's; tests plug in fakes.
  std::function<absl::StatusOr<std::unique_ptr<KvClient>>(int)> new_kv;
  std::function<absl::StatusOr<std::unique_ptr<SqlClient>>(int)> new_sql;
  // Read replicas (CABENCH_CACHE_READ_URL, CABENCH_DB_READ_URL): when set,
  // new_kv and new_sql of the benchmark threads split reads from writes
  // (lib/clients/read_split.h), and new_db_replica connects the statistics
  // reader to the database replica (SHOW SLAVE STATUS; null without one).
  std::optional<CacheEndpoint> cache_read;
  std::optional<DbEndpoint> db_read;
  std::function<absl::StatusOr<std::unique_ptr<SqlClient>>()> new_db_replica;
  // Made at the start of every thread that uses a database client, destroyed
  // at its end (a MysqlThreadScope for the MariaDB client); null: nothing.
  std::function<std::shared_ptr<void>()> thread_scope;
  // Where a run says what a person should know (progress, figures it could
  // not read, clean-up that failed): one line each, without a prefix; main()
  // prints them as "cabench: <line>". Null: nothing is said. Called from the
  // run's threads, one at a time per run.
  std::function<void(const std::string&)> log;
  // This process's run in the schema: the run number every insert carries
  // (and the seat tag that keeps its seats clear of other runs'), and the
  // removal of exactly its rows. Null: rows are not removed (tests on fakes).
  RunLedger* ledger = nullptr;
  // A sharded run (lib/engine/shard.h): this process's shard, and the agreed
  // instant every shard's measurement starts (Unix epoch milliseconds; 0:
  // each run starts as soon as its set-up is done).
  ShardSpec shard;
  int64_t start_at_ms = 0;
};

}  // namespace cabench

#endif  // CABENCH_LIB_RUN_RUN_ENV_H_
