// File: lib/servers/server_stats.h
//
// What the servers spent during a run, as the servers themselves count it,
// and how much of it was other clients' work.
//
// A ServerStatsReader reads, at one moment, the database's SHOW GLOBAL
// STATUS and its active sessions (information_schema.PROCESSLIST), the
// cache's INFO (with commandstats) and CLIENT LIST, the CPU time of both
// server processes (from /proc, when they run on this machine) and cabench's
// own CPU time into a ServerSnapshot; the last read of a run also counts the
// run's keys. RunServerCounters() turns the snapshots before and after a run
// (and the samples between, see server_sampler.h), with the run's own work
// (own_work.h), into the counters of lib/metrics/names.def ("What the servers
// spent during the run"), keyed by CounterId; ServerSeconds() turns them into
// the server-side fields of the per-second time series.
//
// The run's own figures count the run's connections only (own_work.h), so
// other clients of the same servers (a second cabench, an application)
// cannot inflate them:
//   db_queries, db_selects,        the sums over the run's database sessions
//   db_inserts, db_rows_read       of SHOW SESSION STATUS Questions (less the
//                                  reads' own SHOW), Com_select, Com_insert,
//                                  Rows_read, after its loop - before it
//   cache_keys                     the keys under the run's key prefix at the
//                                  end (KvClient::CountPrefix: SCAN MATCH;
//                                  over every primary of a cluster)
//   cache_server_hits/_misses      INFO keyspace_hits, keyspace_misses: the
//                                  whole server's, reported only when no other
//                                  client sent the cache a command during the
//                                  run (cache_foreign_commands == 0), when
//                                  they are exactly the run's (Redis does not
//                                  count hits per connection)
// What only the whole server can tell, which includes other clients' work:
//   db_disk_reads                  Innodb_buffer_pool_reads
//   db_connections                 Threads_connected less the reader's own
//                                  connection, the most of all snapshots
//   cache_expired/evicted_keys     INFO expired_keys, evicted_keys
//   cache_used_memory_mb           INFO used_memory at the end, in MiB
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
// ... and how much of it was other clients':
//   db_foreign_queries             the change of global Questions less every
//                                  statement of this process's connections in
//                                  the window: the reader's own (it counts
//                                  them) and the run's sessions' (own_work.h)
//   cache_foreign_commands         the change of INFO total_commands_processed
//                                  less the commands this process's clients
//                                  sent (the reader's and the run's, each
//                                  counted by its client, less refusals the
//                                  server does not count) and the replicas'
//                                  own (commandstats: REPLCONF, PSYNC, SYNC)
//   foreign_clients_max            the most connections of other clients seen
//                                  active at one read: PROCESSLIST sessions
//                                  that are not this process's
//                                  (IsOwnDbSession) and not asleep for a
//                                  second or more, plus CLIENT LIST
//                                  connections not named OwnCacheClientName()
//                                  with idle 0 or 1 (Redis counts whole
//                                  seconds: internal::ForeignActiveClients);
//                                  replication links and the servers' own
//                                  threads left out
//   server_figures_shared          1 when one of the three is above 0, 0 when
//                                  all three are 0
//   *_per_op, *_per_s              the above / ops, / wall_s
// Counts are the change from `before` to `after`. The window is from the
// `before` read to the `after` read: the caller reads the run's own marks
// before `before` and after the loops, and nothing of the process talks to
// the servers between a mark and the read next to it (a thread's database
// connection is also not closed before `after`: MariaDB counts the
// disconnect, COM_QUIT, in Questions).
//
// Absent, never 0. A figure that cannot be read is left out, with a short
// reason the caller may log once: no connection or an unreachable server, a
// client that cannot read statistics (Unimplemented), a refused statement, a
// missing or unparsable field, a server not on this machine (CPU), a pid file
// or /proc entry we may not read, a process that is not the server, a server
// that restarted during the run (its uptime went down or its pid changed), a
// count that went down (FLUSH STATUS, CONFIG RESETSTAT), a run session that
// reconnected (its session counts restarted), a command of ours whose count
// on the server is not known (own_work.h), a database user without the
// PROCESS privilege (other users' sessions are not visible). Nothing here
// fails a run.
//
// The reader's own footprint. Its statements count in Questions: every
// snapshot records how many statements the reader has sent on its database
// connection, and the counts subtract exactly those sent after `before` up to
// and including `after` (if that connection had to reconnect in between, the
// count is not exact and the figures that need it are absent). Its cache
// commands are counted by its client, as the run's are. INFO counts no
// keyspace hits or misses; Threads_connected excludes the reader's
// connection; PROCESSLIST and CLIENT LIST leave it out.
//
// A cluster cache (redis-cluster://): INFO, CLIENT LIST and the key count are
// summed or gathered over the primaries (redis_cluster_client.h), and each
// client counts its commands to every node. When the reader's primaries
// changed between two reads (a failover), the cache's counts between them are
// absent, as after a restart. Slots moved during the run to a node the reader
// does not know yet (resharding, which the run shows as moved_redirects) are
// not seen.
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
#include "lib/servers/own_work.h"

namespace cabench {

// The raw figures of both servers at one moment. Counts are the servers'
// running totals; every figure is optional, and a missing one has its reason
// in `absent`, under the counter it feeds.
struct ServerSnapshot {
  // When the read began: nanoseconds since the Unix epoch (wall clock).
  int64_t epoch_ns = 0;

  // The database: SHOW GLOBAL STATUS.
  std::optional<int64_t> db_questions;          // Questions (the reader's included)
  std::optional<int64_t> db_disk_reads;         // Innodb_buffer_pool_reads
  std::optional<int64_t> db_threads_connected;  // Threads_connected - 1 (the reader's)
  std::optional<int64_t> db_uptime_s;           // Uptime
  std::optional<int64_t> db_pid;                // from @@pid_file's file
  std::optional<double> db_cpu_ms;              // /proc/<db_pid>/stat

  // Database sessions of other clients active at this read (PROCESSLIST),
  // or why not known.
  std::optional<int64_t> db_foreign_active;
  std::string db_foreign_active_why;

  // The cache: INFO (default sections and commandstats), CLIENT LIST.
  bool has_cache = false;                     // the reader has a cache client
  std::optional<int64_t> cache_hits;          // keyspace_hits
  std::optional<int64_t> cache_misses;        // keyspace_misses
  std::optional<int64_t> cache_expired_keys;  // expired_keys
  std::optional<int64_t> cache_evicted_keys;  // evicted_keys
  std::optional<int64_t> cache_used_memory;   // used_memory, bytes
  std::optional<int64_t> cache_commands;      // total_commands_processed
  std::optional<int64_t> cache_replication;   // REPLCONF + PSYNC + SYNC calls
  std::optional<int64_t> cache_keys;          // under the key prefix (last read)
  std::optional<int64_t> cache_uptime_s;      // uptime_in_seconds
  std::optional<int64_t> cache_pid;           // process_id
  // A cluster's primaries whose INFO was summed ("host:port,...", sorted;
  // empty for one server): counts over other nodes do not compare.
  std::string cache_nodes;
  std::optional<double> cache_cpu_ms;         // /proc/<cache_pid>/stat
  // Connections of other clients with idle=0 (CLIENT LIST), or why not known.
  std::optional<int64_t> cache_foreign_active;
  std::string cache_foreign_active_why;
  // The reader's cache client's commands just before this read's INFO
  // (KvClient::Commands; nullopt when it cannot count: why under
  // kCacheForeignCommands).
  std::optional<KvCommands> own_cache;

  // Read replicas (only when the reader is told of them).
  std::optional<int64_t> db_replica_lag_s;          // Seconds_Behind_Master
  std::optional<int64_t> cache_replica_offset_lag;  // bytes, the largest

  // cabench itself.
  std::optional<double> client_cpu_ms;  // getrusage(RUSAGE_SELF)

  // Statements the reader had sent on its database connection up to this
  // read's SHOW GLOBAL STATUS, that one included, and which connection that
  // was (1 for the first, +1 on each reconnect): what the foreign count
  // subtracts.
  int64_t own_db_statements = 0;
  int64_t db_connection = 0;

  // Why a figure is missing, under the counter it feeds (kDbForeignQueries
  // for db_questions, kCacheForeignCommands for cache_commands, kDbCpuMs for
  // db_cpu_ms, ...).
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
  // The run's key prefix: the run's last read (Read(true)) counts the keys
  // under it (cache_keys). Empty: cache_keys is absent.
  std::string key_prefix;
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

  // Reads every figure once: one SHOW GLOBAL STATUS, one PROCESSLIST query,
  // one INFO, one CLIENT LIST and two /proc files; the first call also reads
  // @@pid_file (one SHOW GLOBAL VARIABLES) and whether the user has the
  // PROCESS privilege (one query); with `last` (the run's last read), the
  // keys under options.key_prefix too (SCAN, after the INFO). A connection
  // that failed with Unavailable is reconnected once, at the start of the
  // next Read(). Never fails: what cannot be read is absent, with its reason.
  // Not thread-safe.
  ServerSnapshot Read(bool last = false);

  // Also reads SHOW SLAVE STATUS on `replica` (the database's read replica,
  // a connection of its own) at every Read(): db_replica_lag_s.
  void SetDbReplica(std::unique_ptr<SqlClient> replica);

 private:
  void ReadDbReplica(ServerSnapshot* snapshot);
  void ReadDatabase(ServerSnapshot* snapshot);
  // Other clients' active sessions (PROCESSLIST), after the privilege check.
  void ReadForeignSessions(ServerSnapshot* snapshot);
  void ReadCache(ServerSnapshot* snapshot, bool last);
  // Other clients' active connections (CLIENT LIST).
  void ReadForeignClients(ServerSnapshot* snapshot);
  // Looks up the database's pid once (@@pid_file, then the file).
  void FindDatabasePid();
  // Checks once whether the reader's user has the PROCESS privilege.
  void CheckProcessPrivilege();

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
  bool privilege_checked_ = false;
  absl::Status process_privilege_;  // OK: the user sees every session
};

// The counters of a run, and why each of the others is missing.
struct ServerCounters {
  std::map<CounterId, double> values;
  std::map<CounterId, std::string> absent;
};

// The counters of a run from the snapshots before and after it, the
// samples taken in between (in time order; db_connections and
// foreign_clients_max read them), the run's own work between the two
// (own_work.h), its operations and wall time (the per-op and per-s counters
// are absent when ops <= 0 or wall_s <= 0). Every server counter of
// names.def is in exactly one of the two maps, but the replica lags, which
// are in neither when no snapshot read or tried to read them (no replicas).
// Without a cache client in the reader (a run without a cache), the cache's
// part of the shared figures is left out of them. Pure; thread-safe.
ServerCounters RunServerCounters(const ServerSnapshot& before, const ServerSnapshot& after,
                                 const std::vector<ServerSnapshot>& samples, const OwnTotals& own,
                                 int64_t ops, double wall_s);

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

// The connections of CLIENT LIST text (one "k=v k=v ..." line each) that
// belong to other clients and are active: not named `own_name`, not a
// replication link (flags with S or M), idle 0 or 1. Redis counts idle in
// whole seconds of its clock (the second of the last command), and the
// reader reads just after a second begins, when a client that sent a
// command a moment ago already shows idle=1: "active" is a command within
// the current or the previous second. Fails with InvalidArgument for a line
// without idle= or flags=. Pure.
absl::StatusOr<int64_t> ForeignActiveClients(std::string_view client_list,
                                             std::string_view own_name);

}  // namespace internal
}  // namespace cabench

#endif  // CABENCH_LIB_SERVERS_SERVER_STATS_H_
