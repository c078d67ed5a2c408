// File: lib/servers/server_stats.h
//
// What the servers spent during a run, as the servers themselves count it.
// A ServerStatsReader reads, at one moment, the database's SHOW GLOBAL STATUS,
// the cache's INFO and DBSIZE, the CPU time of both server processes (from
// /proc, when they run on this machine) and cabench's own CPU time into a
// ServerSnapshot. RunServerCounters() turns the snapshots before and after a
// run (and the samples between, see server_sampler.h) into the counters of
// lib/metrics/names.def ("What the servers spent during the run"), keyed by
// CounterId; ServerSeconds() turns them into the server-side fields of the
// per-second time series.
//
//   counter                        read from
//   db_queries                     Questions, less the reader's own statements
//   db_selects, db_inserts         Com_select, Com_insert
//   db_rows_read, db_disk_reads    Innodb_rows_read (MariaDB 10.11, which has
//                                  none: Rows_read), Innodb_buffer_pool_reads
//   db_connections                 Threads_connected less the reader's own
//                                  connection, the most of all snapshots
//   cache_server_hits/_misses      INFO keyspace_hits, keyspace_misses
//   cache_expired/evicted_keys     INFO expired_keys, evicted_keys
//   cache_used_memory_mb           INFO used_memory at the end, in MiB (as
//                                  INFO's used_memory_human)
//   cache_keys                     DBSIZE at the end (the reader's database)
//   db_cpu_ms, cache_cpu_ms        /proc/<pid>/stat utime + stime; the cache's
//                                  pid from INFO process_id, the database's
//                                  from the file named by @@pid_file
//   client_cpu_ms                  getrusage(RUSAGE_SELF)
//   db_replica_lag_max_s           the database replica's SHOW SLAVE STATUS
//                                  Seconds_Behind_Master, the most of all
//                                  snapshots (SetDbReplica; replication.h)
//   cache_replica_offset_lag_max   the cache primary's INFO master_repl_offset
//                                  less each replica's offset, in bytes, the
//                                  most of all snapshots (cache_replicas)
//   *_per_op, *_per_s              the above / ops, / wall_s
// Counts are the change from `before` to `after`.
//
// Absent, never 0. A figure that cannot be read is left out, with a short
// reason the caller may log once: no connection or an unreachable server, a
// client that cannot read statistics (Unimplemented), a refused statement, a
// missing or unparsable field, a server not on this machine (CPU), a pid file
// or /proc entry we may not read, a process that is not the server, a server
// that restarted during the run (its uptime went down or its pid changed), or
// a count that went down (FLUSH STATUS, CONFIG RESETSTAT). Nothing here fails
// a run.
//
// The reader's own footprint. Its SHOW statements count in Questions: every
// snapshot records how many statements the reader has sent on its database
// connection, and db_queries subtracts exactly those sent after `before` up to
// and including `after`, so it counts the other clients' statements only (if
// that connection had to reconnect in between, the count is not exact and
// db_queries is absent). SHOW is not Com_select; INFO and DBSIZE touch no
// keyspace hits or misses; Threads_connected excludes the reader's connection.
//
// Ownership: the reader owns its two connections, which nothing else may use.
// Thread safety: a ServerStatsReader is NOT safe for concurrent use (one
// thread at a time, like its clients); the free functions are pure and safe to
// call concurrently.
#ifndef CABENCH_LIB_SERVERS_SERVER_STATS_H_
#define CABENCH_LIB_SERVERS_SERVER_STATS_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "lib/clients/kv_client.h"
#include "lib/clients/sql_client.h"
#include "lib/metrics/names.h"

namespace cabench {

// The raw figures of both servers at one moment. Counts are the servers'
// running totals; every figure is optional, and a missing one has its reason
// in `absent`, under the counter it feeds.
struct ServerSnapshot {
  // When the read began: nanoseconds since the Unix epoch (wall clock).
  int64_t epoch_ns = 0;

  // The database: SHOW GLOBAL STATUS.
  std::optional<int64_t> db_questions;          // Questions (the reader's included)
  std::optional<int64_t> db_selects;            // Com_select
  std::optional<int64_t> db_inserts;            // Com_insert
  std::optional<int64_t> db_rows_read;          // Innodb_rows_read, else Rows_read
  std::optional<int64_t> db_disk_reads;         // Innodb_buffer_pool_reads
  std::optional<int64_t> db_threads_connected;  // Threads_connected - 1 (the reader's)
  std::optional<int64_t> db_uptime_s;           // Uptime
  std::optional<int64_t> db_pid;                // from @@pid_file's file
  std::optional<double> db_cpu_ms;              // /proc/<db_pid>/stat

  // The cache: INFO and DBSIZE.
  std::optional<int64_t> cache_hits;          // keyspace_hits
  std::optional<int64_t> cache_misses;        // keyspace_misses
  std::optional<int64_t> cache_expired_keys;  // expired_keys
  std::optional<int64_t> cache_evicted_keys;  // evicted_keys
  std::optional<int64_t> cache_used_memory;   // used_memory, bytes
  std::optional<int64_t> cache_keys;          // DBSIZE
  std::optional<int64_t> cache_uptime_s;      // uptime_in_seconds
  std::optional<int64_t> cache_pid;           // process_id
  std::optional<double> cache_cpu_ms;         // /proc/<cache_pid>/stat

  // Read replicas (only when the reader is told of them).
  std::optional<int64_t> db_replica_lag_s;          // Seconds_Behind_Master
  std::optional<int64_t> cache_replica_offset_lag;  // bytes, the largest

  // cabench itself.
  std::optional<double> client_cpu_ms;  // getrusage(RUSAGE_SELF)

  // Statements the reader had sent on its database connection, this read's
  // included, and which connection that was (1 for the first, +1 on each
  // reconnect): what db_queries subtracts.
  int64_t own_db_statements = 0;
  int64_t db_connection = 0;

  // Why a figure is missing, under the counter it feeds (kDbQueries for
  // db_questions, kDbCpuMs for db_cpu_ms, ...).
  std::map<CounterId, std::string> absent;
};

// Where the servers run, for the CPU figures.
struct ServerStatsOptions {
  // The server runs on this machine, so its process can be read in /proc.
  // Callers pass IsLoopbackHost(endpoint.host) (lib/config/endpoints.h); a
  // server on another machine is never read, even when a local process has
  // the same pid.
  bool cache_local = false;
  bool db_local = false;
  // The cache has read replicas: read their offset lag from the primary's
  // INFO (the reader's INFO already has the replication section).
  bool cache_replicas = false;
  // Where /proc is mounted; tests give a fake directory.
  std::string proc_root = "/proc";
};

class ServerStatsReader {
 public:
  // `kv` and `sql` are the reader's own connections (not the benchmark's);
  // either may be null, and then that server's figures are absent. Short
  // timeouts (about a second) keep a stalled server from delaying a read. For
  // a MySQL client, the thread that calls Read() needs a MysqlThreadScope.
  ServerStatsReader(std::unique_ptr<KvClient> kv, std::unique_ptr<SqlClient> sql,
                    ServerStatsOptions options);
  ServerStatsReader(const ServerStatsReader&) = delete;
  ServerStatsReader& operator=(const ServerStatsReader&) = delete;

  // Reads every figure once: one SHOW GLOBAL STATUS, one INFO, one DBSIZE
  // and two /proc files; the first call also reads @@pid_file (one SHOW
  // GLOBAL VARIABLES). A connection that failed with Unavailable is
  // reconnected once, at the start of the next Read(). Never fails: what
  // cannot be read is absent, with its reason. Not thread-safe.
  ServerSnapshot Read();

  // Also reads SHOW SLAVE STATUS on `replica` (the database's read replica,
  // a connection of its own) at every Read(): db_replica_lag_s.
  void SetDbReplica(std::unique_ptr<SqlClient> replica);

 private:
  void ReadDbReplica(ServerSnapshot* snapshot);
  void ReadDatabase(ServerSnapshot* snapshot);
  void ReadCache(ServerSnapshot* snapshot);
  // Looks up the database's pid once (@@pid_file, then the file).
  void FindDatabasePid();

  const std::unique_ptr<KvClient> kv_;
  const std::unique_ptr<SqlClient> sql_;
  std::unique_ptr<SqlClient> db_replica_;
  bool db_replica_broken_ = false;
  const ServerStatsOptions options_;
  bool kv_broken_ = false;
  bool sql_broken_ = false;
  int64_t own_db_statements_ = 0;
  int64_t db_connection_ = 1;
  bool db_pid_looked_up_ = false;
  absl::StatusOr<int64_t> db_pid_;
};

// The counters of a run, and why each of the others is missing.
struct ServerCounters {
  std::map<CounterId, double> values;
  std::map<CounterId, std::string> absent;
};

// The counters of a run from the snapshots before and after it and the
// samples taken in between (in time order; only db_connections reads them),
// with the run's operations and wall time (the per-op and per-s counters are
// absent when ops <= 0 or wall_s <= 0). Every server counter of names.def is
// in exactly one of the two maps, but the replica lags, which are in neither
// when no snapshot read or tried to read them (no replicas). Pure; thread-safe.
ServerCounters RunServerCounters(const ServerSnapshot& before, const ServerSnapshot& after,
                                 const std::vector<ServerSnapshot>& samples, int64_t ops,
                                 double wall_s);

// The absent counters grouped by reason, one line per reason, for a log:
// "db_cpu_ms, db_cpu_us_per_op: the database is not on this machine".
// Pure; thread-safe.
std::vector<std::string> AbsentReasons(const ServerCounters& counters);

// What the servers did in one epoch second, for the time series: the fields
// kSeriesDbQueries, kSeriesDbCpuMs and kSeriesCacheCpuMs that could be read.
struct ServerSecond {
  int64_t epoch_s = 0;
  std::map<SeriesField, double> values;
};

// The per-second series of a run: the change between each two consecutive
// snapshots of before, samples..., after is given to the epoch second in which
// the first of the two was read (ServerSampler reads just after each whole
// second, so that is the second the change happened in); changes given to the
// same second add up. Seconds in ascending order; a field that cannot be
// computed for every change of its second is left out of that second.
// Pure; thread-safe.
std::vector<ServerSecond> ServerSeconds(const ServerSnapshot& before,
                                        const std::vector<ServerSnapshot>& samples,
                                        const ServerSnapshot& after);

// The value of field `name` in INFO text ("name:value" lines, any section),
// as an integer; nullopt when the field is missing or not an integer. Pure.
std::optional<int64_t> InfoInt(std::string_view text, std::string_view name);

namespace internal {

// Exposed for tests.

// The "name:value" lines of INFO text (any sections; "# Section" headers,
// blank lines and lines without ':' are skipped), in order. With
// `keep_headers`, each "# Section" header is kept too, as (header, ""). Pure.
std::vector<std::pair<std::string, std::string>> ParseInfo(std::string_view text,
                                                           bool keep_headers = false);

}  // namespace internal
}  // namespace cabench

#endif  // CABENCH_LIB_SERVERS_SERVER_STATS_H_
