// File: lib/clients/sql_pool.h
//
// SqlPool is a bounded pool of database connections that the N threads of a
// benchmark run share, M < N, to measure what connection-pool exhaustion
// costs (a scenario's db_pool_size and db_pool_timeout_ms). Each thread talks
// to the pool through its own PooledSqlClient, an ordinary SqlClient, so the
// cache-aside pattern does not know it is pooled: every call borrows a
// connection, runs on it and gives it back. The wait for a free connection
// is inside the call, so it is inside the timing of the step and of the
// operation, which is the point: an exhausted pool shows up as latency, and a
// wait longer than the pool's timeout as an error.
//
//   absl::StatusOr<std::shared_ptr<SqlPool>> pool = SqlPool::Create(
//       4, [db] { return NewMysqlClient(db); }, {.timeout_ms = 1000});
//   if (!pool.ok()) return pool.status();
//   // in each of the 16 threads (once, before its timed loop):
//   auto sql = std::make_unique<PooledSqlClient>(*pool);  // its SqlClient
//
// Borrowing. A call takes a healthy idle connection at once when there is
// one. Otherwise it waits, first come first served, until a connection is
// handed to it (a returning call hands its connection straight to the
// longest waiter, so a thread that gives a connection back and asks again
// cannot overtake the waiters). A call that has waited timeout_ms fails with
// ResourceExhausted, "db pool: no connection free within 1000 ms (4
// connections for 16 threads)", and runs nothing; CacheAside counts it as a
// database error (it is not Unavailable, so no reconnect follows). A wait is
// bounded by the timeout, and a call already running on a connection by the
// real client's own read/write timeouts (a hung server eventually answers
// Unavailable), so no connection is held forever.
//
// Broken connections. A call that returns Unavailable leaves its connection
// broken (as the real SqlClient is until Reconnect()); the pool then lends
// only the healthy ones, so one killed connection costs one failed call and
// the other M-1 keep serving. When no connection is healthy and none is in a
// call or being reconnected (a server outage), calls fail at once with
// Unavailable ("db pool: all M connections are broken ...") instead of
// waiting, and waiting calls are woken with that error. Broken connections
// come back only through Reconnect(), which the thread's Reconnector calls
// between operations (never inside a timed call; see
// lib/cache_aside/reconnector.h).
//
// Statistics (Stats()): every borrow's wait, zero waits included, in a
// Histogram; timeouts; borrows; and the broken/reconnect events. They are
// updated under the pool's lock, which the call takes anyway. Once the pool
// exists, a call allocates nothing (no std::function, no new/delete): a
// borrow is a lock, a pop from a preallocated stack and two clock reads.
//
// Ownership: the pool owns its M clients; each PooledSqlClient holds a
// shared_ptr to the pool, so the pool (and its connections) lives until the
// last of them and the creator's pointer are gone. A connection is used by
// one thread at a time but by different threads over its life: with
// libmysqlclient every thread that uses the pool needs its own
// MysqlThreadScope (lib/mysql/mysql_client.h), as it would with its own
// connection.
//
// Thread safety: SqlPool is safe for concurrent use; a PooledSqlClient, like
// every SqlClient, belongs to one thread, and the threads' clients share the
// pool safely (one std::mutex, per-waiter std::condition_variable).
#ifndef CABENCH_LIB_CLIENTS_SQL_POOL_H_
#define CABENCH_LIB_CLIENTS_SQL_POOL_H_

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "lib/clients/sql_client.h"
#include "lib/metrics/histogram.h"
#include "lib/metrics/names.h"

namespace cabench {

// What a pool has seen since it was created or since ResetStats().
struct SqlPoolStats {
  int size = 0;                    // M, the connections of the pool
  int clients = 0;                 // PooledSqlClients alive (T, the threads)
  int64_t borrows = 0;             // calls that got a connection
  int64_t timeouts = 0;            // calls that waited timeout_ms in vain
  int64_t broken_failures = 0;     // calls failed at once: every connection broken
  int64_t connections_broken = 0;  // calls that answered Unavailable (broke theirs)
  int64_t reconnects = 0;          // broken connections reconnected
  int64_t reconnect_failures = 0;  // failed reconnects of a broken connection
  int max_in_use = 0;              // most connections lent at once
  // The wait of every borrow and of every timeout (which waited timeout_ms),
  // in nanoseconds, from the call's entry until it had a connection (or gave
  // up). Fast failures of a broken pool are not waits and are not in it.
  Histogram wait_ns;
};

// The run counters of a pool: db_pool_size, db_pool_wait_avg_us,
// db_pool_wait_p99_us and db_pool_timeouts (lib/metrics/names.def), for
// RunFacts::measured. Pure; safe to call concurrently.
std::map<CounterId, double> SqlPoolCounters(const SqlPoolStats& stats);

class SqlPool {
 public:
  // Makes one connection; called M times by Create(), from Create()'s thread.
  using Factory = std::function<absl::StatusOr<std::unique_ptr<SqlClient>>()>;

  struct Options {
    // The longest a call waits for a free connection (> 0).
    int64_t timeout_ms = 1000;
  };

  // Creates the pool's `size` connections up front, one factory call after
  // the other. Returns the pool, or: InvalidArgument when size < 1,
  // timeout_ms < 1 or the factory is empty; the factory's first error (its
  // code, with "db pool: connection i of M: " before its message; the
  // connections made so far are closed); Internal when the factory returns a
  // null client. Safe to call concurrently (each call makes its own pool).
  static absl::StatusOr<std::shared_ptr<SqlPool>> Create(int size, Factory factory,
                                                         Options options);

  SqlPool(const SqlPool&) = delete;
  SqlPool& operator=(const SqlPool&) = delete;
  ~SqlPool();

  int size() const { return static_cast<int>(slots_.size()); }
  int64_t timeout_ms() const { return timeout_ms_; }

  // A copy of the statistics. Thread-safe; allocates (the histogram), so
  // call it after the timed loop, not in it.
  SqlPoolStats Stats() const;
  // Forgets the statistics (size and clients stay), e.g. after a warm-up.
  // Thread-safe.
  void ResetStats();

  // Calls fn on each of the pool's M connections in turn, broken ones too,
  // while no call has one: for what must see every connection, such as the
  // session statistics of lib/servers before and after a run. Calls that
  // want a connection meanwhile wait (they are not expected: use it between
  // runs); a connection fn breaks is found broken by the next call that
  // borrows it, as if it had broken while idle. Returns OK, or
  // FailedPrecondition (fn not called) when a connection is lent or being
  // reconnected. fn must not use the pool.
  // Thread-safe.
  absl::Status WithEachConnection(const std::function<void(SqlClient&)>& fn);

 private:
  friend class PooledSqlClient;

  // A call waiting for a connection, on the waiting thread's stack, in the
  // FIFO list head_ .. tail_. Guarded by mu_.
  struct Waiter;

  SqlPool(std::vector<std::unique_ptr<SqlClient>> clients, int64_t timeout_ms);

  // Lends a healthy connection: returns its index, or -1 and sets *error
  // (ResourceExhausted after timeout_ms, Unavailable when all are broken).
  int Acquire(absl::Status* error);
  // Takes back connection `slot` from Acquire(); `broke` is the call's
  // Unavailable status when the call broke the connection, else null.
  void Release(int slot, const absl::Status* broke);
  // PooledSqlClient::Reconnect() (see there).
  absl::Status ReconnectBroken();

  // With mu_ held: gives healthy, unlent connection `slot` to the longest
  // waiter, or makes it idle.
  void HandOverLocked(int slot);
  // With mu_ held: when no connection can become healthy without a
  // Reconnect(), fails every waiter with Unavailable.
  void FailWaitersIfAllBrokenLocked();
  // With mu_ held: every connection is broken and nobody reconnects one.
  bool AllBrokenLocked() const { return idle_.empty() && lent_ == 0 && reconnecting_ == 0; }
  // With mu_ held: the errors the pool itself returns.
  absl::Status AllBrokenErrorLocked() const;
  absl::Status TimeoutErrorLocked() const;
  void CountLentLocked();

  const int64_t timeout_ms_;
  // Fixed at creation: each connection stays in its slot for the pool's life
  // (a reconnect happens inside the client). Which thread may touch one is
  // decided under mu_: the one it is lent to, or the one reconnecting it.
  const std::vector<std::unique_ptr<SqlClient>> slots_;

  // std::mutex, not absl::Mutex: Debian's prebuilt abseil is not built for
  // ThreadSanitizer. Guards everything below.
  mutable std::mutex mu_;
  // Every connection is in exactly one of: idle_ (healthy, free; LIFO, so the
  // warmest connection is reused), lent to a call (counted in lent_), broken_
  // (free, needs a reconnect), or being reconnected (reconnecting_). The
  // vectors have capacity M from the start, so lending never allocates.
  std::vector<int> idle_;
  std::vector<int> broken_;
  int lent_ = 0;
  int reconnecting_ = 0;
  Waiter* head_ = nullptr;  // oldest waiter
  Waiter* tail_ = nullptr;
  // Reconnect() calls waiting for other threads' reconnects.
  std::condition_variable reconnect_cv_;
  int clients_ = 0;
  // The error that last broke a connection, for the all-broken message.
  absl::Status last_break_;
  SqlPoolStats stats_;
};

// The SqlClient a benchmark thread uses over a shared SqlPool: every method
// borrows a connection for the call (see the file comment), so its latency
// includes the wait. Results, row contents and error codes of the real
// client pass through unchanged; the pool adds ResourceExhausted (no
// connection within timeout_ms) and Unavailable (every connection broken).
// NOT safe for concurrent use (one per thread); any number of them may share
// one pool.
class PooledSqlClient : public SqlClient {
 public:
  // `pool` must not be null.
  explicit PooledSqlClient(std::shared_ptr<SqlPool> pool);
  ~PooledSqlClient() override;

  // SqlClient, each on a borrowed connection; the codes are the real
  // client's plus the two above. An Unavailable answer breaks the connection
  // it came from.
  absl::Status QueryBookingCount(int64_t passenger_id, BookingCount* result) override;
  absl::StatusOr<int64_t> InsertBooking(const NewBooking& booking) override;
  absl::StatusOr<int64_t> Execute(std::string_view sql) override;
  absl::StatusOr<std::optional<std::vector<std::optional<std::string>>>> QueryRow(
      std::string_view sql) override;
  // Pings a borrowed (healthy) connection; Unavailable when the pool is
  // broken or the ping breaks the connection.
  absl::Status Ping() override;
  absl::StatusOr<std::string> ServerInfo() override;
  absl::StatusOr<std::vector<std::pair<std::string, std::string>>> QueryPairs(
      std::string_view sql) override;

  // Makes the pool usable again after an Unavailable. It reconnects, one
  // after the other, every broken connection that nobody else is
  // reconnecting, and then, when connections are still being reconnected by
  // other threads and none is healthy, waits (at most timeout_ms) for them.
  // Returns OK when all of these reconnects succeeded and at least one
  // connection of the pool is healthy (idle or in a call): the next call can
  // get a connection. Fails with the first failed reconnect's error
  // (Unavailable, PermissionDenied, ... as the factory), which leaves that
  // connection broken and stops there, so that a server that is still down
  // costs one connect attempt per call; or Unavailable when, after the wait,
  // every connection is still broken. Runs outside any operation's timing
  // (the Reconnector's). Returns OK at once when nothing is broken.
  absl::Status Reconnect() override;

  const std::shared_ptr<SqlPool>& pool() const { return pool_; }

 private:
  // Borrows a connection, runs `call` on it and gives the connection back.
  template <typename Result, typename Call>
  Result OnConnection(Call call);

  std::shared_ptr<SqlPool> pool_;
};

}  // namespace cabench

#endif  // CABENCH_LIB_CLIENTS_SQL_POOL_H_
