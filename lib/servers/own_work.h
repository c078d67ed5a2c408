// File: lib/servers/own_work.h
//
// What a run's own connections did on the servers, as each connection
// counts it itself: the run's figures that other clients of the same
// servers cannot inflate, and what RunServerCounters() (server_stats.h)
// subtracts from the servers' whole counts to find the other clients' work.
//
//   database  each of the run's sessions reads its own SHOW SESSION STATUS
//             (Questions, Com_select, Com_insert, Rows_read: all
//             session-scoped in MariaDB 10.11) just before its loop and just
//             after it; the run's figures are the sums over its sessions of
//             after - before. SHOW SESSION STATUS counts itself in Questions
//             (a statement of the session, counted when it starts) and in
//             none of the others (not a SELECT, no table rows read), so a
//             session's after - before holds its statements in between plus
//             exactly one: the after-read's own SHOW.
//   cache     each of the run's cache clients reads KvClient::Commands() at
//             the same moments: the commands it sent in between, less those
//             the server refused without counting them (MOVED ...), are what
//             the server counted from it.
//
// A session that reconnected in between (its id changed) restarted its
// counts, and one whose counts cannot be read leaves the run's figure
// unknown: it is then absent, with the reason, never a wrong number. A
// session is one SqlClient with a Session(): a thread's own connection, a
// read-split client's primary (the replica's reads are not counted: they
// are another server's), or each connection of a shared SqlPool
// (MarkPool). Connections are read outside the operations and their timing.
//
//   OwnWork work;                                    // one per run
//   // each thread, after its set-up and before its loop:
//   const OwnMark before = MarkOwn(kv, sql);
//   ... the loop ...
//   work.Add(before, MarkOwn(kv, sql));
//   const OwnTotals totals = work.Totals();           // after every Add
//
// Thread safety: MarkOwn and MarkPool use their clients (one thread per
// client, as always); OwnWork is safe for concurrent use; the rest is pure.
#ifndef CABENCH_LIB_SERVERS_OWN_WORK_H_
#define CABENCH_LIB_SERVERS_OWN_WORK_H_

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "lib/clients/kv_client.h"
#include "lib/clients/sql_client.h"
#include "lib/clients/sql_pool.h"
#include "lib/metrics/names.h"

namespace cabench {

// One session's counts at one moment, each optional; a missing one has its
// reason under the counter it feeds (kDbQueries for Questions, kDbSelects,
// kDbInserts, kDbRowsRead).
struct SessionMark {
  std::optional<SqlSession> session;  // which session (nullopt: unknown)
  std::string session_why;            // why it is unknown
  std::optional<int64_t> questions;   // Questions (this read's SHOW included)
  std::optional<int64_t> selects;     // Com_select
  std::optional<int64_t> inserts;     // Com_insert
  std::optional<int64_t> rows_read;   // Rows_read
  std::map<CounterId, std::string> why;
};

// The marks of one thread's (or a pool's) connections at one moment.
struct OwnMark {
  std::vector<SessionMark> sessions;
  // The cache client's count (nullopt without a cache client, or with the
  // reason in cache_why when it cannot count).
  bool has_cache = false;
  std::optional<KvCommands> cache;
  std::string cache_why;
};

// Reads one session: SqlClient::Session() and one SHOW SESSION STATUS.
// Never fails: what cannot be read has its reason. Not thread-safe for `sql`.
SessionMark ReadSession(SqlClient& sql);

// The marks of a thread's clients: `sql`'s session (none when null) and
// `kv`'s commands (none when null). Never fails. Not thread-safe for the
// clients.
OwnMark MarkOwn(KvClient* kv, SqlClient* sql);

// The marks of every connection of `pool`, in the pool's order, while none
// is in use (SqlPool::WithEachConnection; when one is, every session's
// figures are unknown, with the reason). Never fails. Thread-safe.
OwnMark MarkPool(SqlPool& pool);

// The run's own work, added up over its connections.
struct OwnTotals {
  // Sessions added (each mark pair's sessions).
  int64_t db_sessions = 0;
  // Sums over the sessions of after - before: Questions (each after-read's
  // own SHOW included: what the server counted from them), Com_select,
  // Com_insert, Rows_read. nullopt when a session's count is unknown: the
  // reason is in db_why under kDbQueries, kDbSelects, kDbInserts or
  // kDbRowsRead.
  std::optional<int64_t> db_questions = 0;
  std::optional<int64_t> db_selects = 0;
  std::optional<int64_t> db_inserts = 0;
  std::optional<int64_t> db_rows_read = 0;
  std::map<CounterId, std::string> db_why;
  // Commands the server counted from the run's cache clients (sent less
  // refused, plus what their scripts ran); nullopt when not known exactly,
  // with the reason in cache_why.
  std::optional<int64_t> cache_commands = 0;
  std::string cache_why;
};

// Adds the work between `before` and `after` of the same connections (the
// same client or pool, marked in the same order) to *totals. Pure.
void AddOwnWork(const OwnMark& before, const OwnMark& after, OwnTotals* totals);

// A run's OwnTotals, added to by its threads as they end. Thread-safe.
class OwnWork {
 public:
  // AddOwnWork(before, after, ...) into the run's totals.
  void Add(const OwnMark& before, const OwnMark& after);
  // The totals so far.
  OwnTotals Totals() const;
  // Back to no work, for the next run.
  void Reset();

 private:
  // std::mutex, not absl::Mutex: Debian's prebuilt abseil is not built for
  // ThreadSanitizer.
  mutable std::mutex mu_;
  OwnTotals totals_ ABSL_GUARDED_BY(mu_);
};

}  // namespace cabench

#endif  // CABENCH_LIB_SERVERS_OWN_WORK_H_
