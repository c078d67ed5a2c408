// File: lib/cache_aside/reconnector.h
//
// Reconnector brings a benchmark thread's broken clients back, between
// operations, with capped exponential backoff. A client that answered
// Unavailable is broken until Reconnect() succeeds (kv_client.h,
// sql_client.h); CacheAside reports that in CacheAside::unavailable() and
// never reconnects by itself, because a reconnect hidden inside a timed
// operation would make its latency a lie. The benchmark loop instead calls
//
//   if (pattern.unavailable() != 0) reconnector.Recover(pattern);  // rare
//
// before each operation. Recover() tries Reconnect() on each broken client
// once its next attempt is due: the first attempt at once, then after
// min_backoff_ms, doubling up to max_backoff_ms, reset by a success. When an
// attempt is not yet due, Recover() sleeps until it is, so that a server
// outage costs a few failed (fast-failing) operations per backoff step
// instead of burning every remaining operation of the run in microseconds.
// One exception, the cache-aside fallback: when only the cache is down and
// reads fall back to the database, operations proceed without waiting (reads
// are served by the database, writes fail their cache step fast) and the
// cache is retried when due.
//
// An outage is bounded: once a client has been down for longer than
// max_outage_ms, Recover() fails (Unavailable, naming how long and the last
// error), and the benchmark ends the run as failed instead of waiting, one
// backoff step per operation, for a server that does not come back. A cache
// outage with fallback never fails this way (nothing waits for the cache).
//
// Sleeping and reconnecting happen between operations: they cost wall time
// (ops_per_s falls, as it should during an outage) but are in no operation's
// latency. Each attempt is bounded by the clients' own connect and command
// timeouts.
//
// Ownership: the Reconnector holds raw pointers to the clients; they must
// outlive it. Thread safety: NOT safe for concurrent use; one per benchmark
// thread, like the clients.
#ifndef CABENCH_LIB_CACHE_ASIDE_RECONNECTOR_H_
#define CABENCH_LIB_CACHE_ASIDE_RECONNECTOR_H_

#include <cstdint>
#include <functional>

#include "absl/status/status.h"
#include "lib/cache_aside/cache_aside.h"
#include "lib/clients/kv_client.h"
#include "lib/clients/sql_client.h"

namespace cabench {

class Reconnector {
 public:
  struct Options {
    // Backoff after the first failed attempt, and its cap.
    int64_t min_backoff_ms = 10;
    int64_t max_backoff_ms = 500;
    // Do not wait for the cache's next attempt (see the file comment). Set
    // it to CacheAside::Options::fallback_to_db_on_cache_error.
    bool cache_fallback = false;
    // How long a client may stay down before Recover() gives up (> 0).
    int64_t max_outage_ms = 10'000;
    // The clock and the sleep, replaceable in tests; default steady_clock
    // and std::this_thread::sleep_for.
    std::function<int64_t()> now_ns;
    std::function<void(int64_t ns)> sleep_ns;
  };

  // What happened so far, for the benchmark's counters.
  struct Stats {
    int64_t reconnects = 0;          // successful Reconnect() calls
    int64_t reconnect_failures = 0;  // failed Reconnect() calls
    int64_t wait_ns = 0;             // time slept waiting for a due attempt
  };

  // `kv` may be null (no-cache scenarios); `sql` may not.
  Reconnector(KvClient* kv, SqlClient* sql, Options options);
  Reconnector(const Reconnector&) = delete;
  Reconnector& operator=(const Reconnector&) = delete;

  // For each client flagged in pattern.unavailable(): waits until its next
  // attempt is due (unless it is the cache and cache_fallback is set and the
  // database is healthy: then it returns at once when not due), calls
  // Reconnect() and, on success, clears its bit with
  // pattern.ClearUnavailable(). A failed attempt schedules the next one; the
  // operations meanwhile fail fast and count as errors. Returns OK, or
  // Unavailable once a client has been down for more than max_outage_ms (the
  // caller should end the run).
  absl::Status Recover(CacheAside& pattern);

  // Outside the timed loop (set-up, clean-up): reconnects the database (or
  // cache) client whether or not it is flagged, retrying with the same
  // backoff until an attempt succeeds or `patience_ms` have passed; clears
  // the client's bit in `pattern` on success. Returns OK, or the last
  // attempt's error (Unavailable, PermissionDenied, ... as the factory).
  absl::Status ReconnectDb(CacheAside& pattern, int64_t patience_ms);
  absl::Status ReconnectCache(CacheAside& pattern, int64_t patience_ms);

  const Stats& stats() const { return stats_; }

 private:
  struct Backoff {
    int64_t next_attempt_ns = 0;  // 0: attempt at once
    int64_t backoff_ms = 0;       // 0: no failure yet
    int64_t down_since_ns = 0;    // 0: up
  };
  // One attempt for `client` (bit `bit`), after waiting when `wait` is set.
  // Returns the attempt's status, or Unavailable when not due and not waiting.
  absl::Status Attempt(CacheAside& pattern, uint8_t bit, Backoff& backoff,
                       bool wait);
  // Unavailable when `backoff`'s client is down for longer than allowed.
  absl::Status CheckOutage(const Backoff& backoff, const char* what,
                           const absl::Status& last) const;
  absl::Status ReconnectWithin(CacheAside& pattern, uint8_t bit,
                               Backoff& backoff, int64_t patience_ms);

  KvClient* kv_;
  SqlClient* sql_;
  Options options_;
  Backoff cache_;
  Backoff db_;
  Stats stats_;
};

}  // namespace cabench

#endif  // CABENCH_LIB_CACHE_ASIDE_RECONNECTOR_H_
