// File: lib/connect/connectors.h
//
// How a run connects to its servers: one place that turns the run's
// endpoints (lib/config/endpoints.h) into clients (lib/redis, lib/mysql) and
// checks, before any benchmark, what the endpoints claim:
//
//   Connectors         new_kv / new_sql make a benchmark thread's clients
//                      (thread index >= 0: with read replicas, reads go to
//                      the replicas, lib/clients/read_split.h) or the
//                      statistics reader's (index -1: primaries only, a
//                      command timeout of at most 1 s, and no schema, so no
//                      statements prepared on its connection); new_db_replica
//                      the reader's connection to the database replica.
//   CheckReplicas      each read replica answers and replicates, and the
//                      database replica has applied what the primary had.
//   CheckCacheIsOurs   the cache is the one `tools/servers start` started
//                      (its INFO process_id is the pid in
//                      $CABENCH_SERVERS_DIR/cache.pid), which cabench may
//                      reconfigure.
//
// Thread safety: the Connectors' functions may be called concurrently (each
// call makes new clients); the checks are for one thread, before the run.
#ifndef CABENCH_LIB_CONNECT_CONNECTORS_H_
#define CABENCH_LIB_CONNECT_CONNECTORS_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "lib/clients/kv_client.h"
#include "lib/clients/sql_client.h"
#include "lib/config/endpoints.h"
#include "lib/dataset/run_ledger.h"
#include "lib/run/run_env.h"

namespace cabench {

struct Connectors {
  std::function<absl::StatusOr<std::unique_ptr<KvClient>>(int thread_index)> new_kv;
  std::function<absl::StatusOr<std::unique_ptr<SqlClient>>(int thread_index)> new_sql;
  // Null without a database read replica.
  std::function<absl::StatusOr<std::unique_ptr<SqlClient>>()> new_db_replica;
};

// The connectors of `endpoints` (copied into them).
Connectors MakeConnectors(const SuiteEndpoints& endpoints);

// OK when every read replica of `endpoints` answers and replicates and the
// database replica has caught up with the primary (waiting up to
// `catch_up_s`). FailedPrecondition (the URL names a server that is no
// replica) or Unavailable/Internal/DeadlineExceeded otherwise; the message
// names the variable and the URL.
absl::Status CheckReplicas(const SuiteEndpoints& endpoints, const Connectors& connect,
                           int64_t catch_up_s = 30);

// OK when the cache is the one tools/servers started in `servers_dir` (see
// above). FailedPrecondition saying why not: a cluster (no single pid), no
// servers_dir, an unreadable or empty pid file, a different process_id;
// the client's error when the cache cannot be asked.
absl::Status CheckCacheIsOurs(const SuiteEndpoints& endpoints, const Connectors& connect,
                              const std::string& servers_dir);

// Fills env's endpoints, client factories and thread scope (MariaDB's
// per-thread set-up) from `endpoints` and `connect`.
void ConnectEnv(const SuiteEndpoints& endpoints, const Connectors& connect, RunEnv* env);

// Connects to both servers once and fills env->cache_server, env->db_server
// and env->data. Fails with Unavailable (a server does not answer),
// PermissionDenied/NotFound (database credentials or schema) or
// FailedPrecondition (the schema is not a cabench schema); the message names
// the endpoint (never the password).
absl::Status CheckServers(RunEnv* env);

// Opens this process's run record in the schema (RunLedger::Open on a
// connection of its own, kept for the process's life): takes a run slot and
// removes the rows of runs that died without removing theirs (the ledger's
// leftovers() says which, for the caller to report). Fails like
// RunLedger::Open, the message naming the endpoint.
absl::StatusOr<std::unique_ptr<RunLedger>> OpenRunLedger(const RunEnv& env);

}  // namespace cabench

#endif  // CABENCH_LIB_CONNECT_CONNECTORS_H_
