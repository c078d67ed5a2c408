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

}  // namespace cabench

#endif  // CABENCH_LIB_CONNECT_CONNECTORS_H_
