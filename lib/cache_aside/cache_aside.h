// File: lib/cache_aside/cache_aside.h
//
// CacheAside runs the cache-aside pattern for one benchmark thread, one
// operation at a time, and times every server round trip:
//
//   Read(id)   GET key -> hit (any cached value, including the negative entry
//              of a passenger without bookings) | miss -> SELECT (the
//              reference's join, SqlClient::QueryBookingCount) -> SET key
//              value PX ttl (+- ttl_jitter_pct, uniform) -> class kCacheMiss.
//   Write(b)   INSERT (committed) -> refresh: re-SELECT + SET | invalidate:
//              DEL -> class kWrite. A duplicate (flight, seat) is retried with
//              the seat source's next seat, at most max_insert_retries times.
//              ttl_only: nothing more (another application wrote the row;
//              only the TTL brings the key up to date).
//   no-cache   (scenario.cache == false) reads only SELECT (class kDbRead)
//              and writes only INSERT; the KvClient is never touched and may
//              be null.
//
// Stampede mitigations (scenario options; the outcome's OpEvent bits say
// what happened):
//   single_flight       a miss takes the key's fill lock (SET <key>:lock
//                       <token> NX PX single_flight_lock_ms, the token unique
//                       to this acquisition), GETs the key once more (the
//                       lock's last holder may just have filled it), fills it
//                       and deletes the lock only if it still holds its token
//                       (KvClient::DelIfEquals: a lock that expired during a
//                       slow fill may be another reader's by then; all three
//                       timed as kCacheLock). A miss
//                       that finds the lock taken waits (step kFillWait,
//                       kEventFillWait), re-reading the cache every
//                       single_flight_poll_us: the first hit ends the wait
//                       (still class kCacheMiss: its GET missed, but no
//                       database read); after single_flight_wait_ms it fills
//                       the key itself (kEventWaitTimeout).
//   early_refresh_beta  XFetch: a hit refreshes its key (SELECT + SET inside
//                       the hit, kEventEarlyRefresh) when
//                       -beta * delta * ln(rand) >= the key's remaining TTL,
//                       delta the duration of the SELECT that made the value.
//
// The key is scenario.key_prefix + decimal passenger id. The cached value is
// EncodeBookingCount() of the row: "<count>|<firstname>|<lastname>" for a
// found row and "-" for the empty result, which is cached too (negative
// caching, as the reference does). When the run tracks versions
// (Options::versions) or refreshes early, a header goes before it:
// "<lo>,<hi - lo>#" or "<lo>,<hi - lo>,<delta_us>,<expiry_epoch_ms>#"
// (ValueMeta; hi - lo is 0 unless a write began during the fill's SELECT).
//
// With Options::versions (shared by the run's threads; key_versions.h says
// what is counted and why it is certain) every write counts in its key's
// writes begun just before its INSERT and done just after it returned, every
// fill (a read's, an early refresh's, a write's refresh) stores lo (done,
// read just before its SELECT) and hi (begun, read just after it), every GET
// that hits reads done just before it and begun just after it, and the hit
// is classified: certainly stale (kEventStale, OpResult::stale_age_ns),
// uncertain (kEventStaleUncertain) or fresh. Every read fill is checked for
// a duplicate fill of the same key in flight (kEventDupFill) and every
// SELECT counts the database reads in flight (OpResult::db_reads_in_flight).
//
// Timing: FastMonoNowNs() (CLOCK_MONOTONIC's time line, read from the TSC where
// the kernel trusts it; lib/metrics/clock.h), one clock read per boundary; the
// end of one step is the start of the next. OpResult::total_ns spans the whole
// operation, and each step that ran is in OpResult::step_ns. Encoding the
// value for SET is inside the kCacheSet step (tens of nanoseconds). The start
// of the last operation as wall-clock epoch nanoseconds is
// last_start_epoch_ns(): derived from the monotonic start plus a
// realtime-minus-monotonic offset measured once per process, so the hot
// path reads one clock per boundary only, and a wall-clock step (NTP) during a
// run does not reorder per-second buckets.
//
// Errors never throw and never abort: any failed step makes the operation
// class kError with ErrorSource kCache or kDb, and its status is kept in
// last_error() (plus the errors() counter) so that the benchmark can report
// it. With Options::fallback_to_db_on_cache_error a failed GET is instead
// served by a SELECT (class kFallback, no SET).
//
// Broken clients: a client that returns Unavailable is broken until it is
// reconnected (kv_client.h, sql_client.h). CacheAside never reconnects (that
// would hide a reconnect inside a timed operation); it raises a bit in
// unavailable() instead, on the error path only, and the caller reconnects
// the client between operations and calls ClearUnavailable().
//
// Ownership: CacheAside does not own the clients, nor the seat source; they
// must outlive it. It copies what it needs from the Scenario.
//
// Allocation: none on the hot path once the reusable buffers (key, value,
// BookingCount) have grown to the largest row seen, which happens within the
// first few operations.
//
// Thread safety: NOT safe for concurrent use, like the clients it drives.
// Each benchmark thread owns one CacheAside, its clients and its Workload.
#ifndef CABENCH_LIB_CACHE_ASIDE_CACHE_ASIDE_H_
#define CABENCH_LIB_CACHE_ASIDE_CACHE_ASIDE_H_

#include <chrono>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "lib/cache_aside/key_versions.h"
#include "lib/clients/kv_client.h"
#include "lib/clients/sql_client.h"
#include "lib/metrics/clock.h"
#include "lib/metrics/op_types.h"
#include "lib/workload/scenario.h"
#include "lib/workload/workload.h"

namespace cabench {

// Replaces *out with the cache value of `row` (see above), reusing out's
// buffer. Names are stored as they are; a '|' inside a firstname would not
// decode (flughafendb names have none). Never fails. Safe to call
// concurrently on distinct outputs.
void EncodeBookingCount(const BookingCount& row, std::string* out);

// Parses a value written by EncodeBookingCount() into *row (reusing its
// buffers), after a ValueMeta header if it has one. Returns false (and
// leaves *row unspecified) when `value` is not such a value. Safe to call
// concurrently on distinct rows.
bool DecodeBookingCount(std::string_view value, BookingCount* row);

// The header a cached value may carry before the row (see the file comment
// and key_versions.h).
struct ValueMeta {
  int64_t lo = 0;          // the key's writes done just before the filling SELECT
  int64_t hi = 0;          // the key's writes begun just after it returned (>= lo)
  int64_t delta_us = -1;   // the filling SELECT's duration; -1: not stored
  int64_t expiry_ms = -1;  // epoch milliseconds the value's TTL ends; -1: not stored
};

// Replaces *out with `meta` and `row` as
// "<lo>,<hi - lo>[,<delta_us>,<expiry_ms>]#" + EncodeBookingCount(row)
// (delta and expiry when meta.delta_us >= 0).
void EncodeCachedValue(const ValueMeta& meta, const BookingCount& row, std::string* out);

// Parses the header of a cached value into *meta. Returns false (leaving
// *meta unspecified) when the value has none (a plain EncodeBookingCount()
// value) or a malformed one.
bool ParseValueMeta(std::string_view value, ValueMeta* meta);

class CacheAside {
 public:
  struct Options {
    // On a failed GET, serve the read from the database instead of failing
    // it. No SET is attempted (the cache just failed). Off by default: a
    // cache outage should show up as errors, not as a slower benchmark.
    bool fallback_to_db_on_cache_error = false;
    // Extra INSERT attempts after AlreadyExists, each with the seat source's
    // next seat. Ignored when seat_source is null (no retry).
    int max_insert_retries = 8;
    // Seeds the TTL jitter generator (scenario.seed mixed with this index):
    // a stream of its own, so jitter never shifts the Workload's op sequence.
    int thread_index = 0;
    // Where retry seats come from: normally the thread's own Workload.
    Workload* seat_source = nullptr;
    // The run's shared key versions (stale reads, duplicate fills, database
    // reads in flight); null: none of those are measured and values carry
    // no version.
    KeyVersions* versions = nullptr;
    // The SELECTs of fills read a database replica, which may lag behind
    // the primary: a fill then certainly includes no write (its lo is 0),
    // so hits on it are never certainly fresh once the key was written.
    bool fills_may_lag = false;
  };

  // `kv` may be null when scenario.cache is false. With scenario.cache true
  // and a null `kv`, or a null `sql`, the operations that need the missing
  // client fail with FailedPrecondition (class kError) instead of crashing.
  CacheAside(KvClient* kv, SqlClient* sql, const Scenario& scenario);
  CacheAside(KvClient* kv, SqlClient* sql, const Scenario& scenario, Options options);

  CacheAside(const CacheAside&) = delete;
  CacheAside& operator=(const CacheAside&) = delete;

  // One cache-aside read of `passenger_id`. Returns its OpResult: kCacheHit,
  // kCacheMiss, or kError (then error_source says where, and last_error()
  // holds the status: Unavailable/Internal from the clients, or
  // FailedPrecondition for a missing client).
  OpResult Read(int64_t passenger_id);

  // One write: INSERT `booking`, then refresh or invalidate
  // key(booking.passenger_id) per scenario.write_policy. Returns kWrite or
  // kError (AlreadyExists after the retries are used up counts as a database
  // error).
  OpResult Write(const NewBooking& booking);

  // Read(op.passenger_id) or Write(op.booking), by op.kind.
  OpResult Run(const Op& op) {
    return op.kind == OpKind::kRead ? Read(op.passenger_id) : Write(op.booking);
  }

  // The key of `passenger_id`, in this object's buffer: valid until the next
  // call on this object.
  std::string_view KeyFor(int64_t passenger_id);

  // Start of the last operation, in nanoseconds since the Unix epoch, and on
  // the monotonic clock (MonoNowNs).
  int64_t last_start_epoch_ns() const { return start_mono_ns_ + epoch_offset_ns_; }
  int64_t last_start_mono_ns() const { return start_mono_ns_; }
  // Status of the most recent failed step (OK until one fails). A GET failure
  // served by the fallback is recorded here too.
  const absl::Status& last_error() const { return last_error_; }
  // Operations that ended in kError.
  int64_t errors() const { return errors_; }
  // INSERT attempts repeated after AlreadyExists.
  int64_t insert_retries() const { return insert_retries_; }

  // Bits of unavailable(): which client answered Unavailable (and is thus
  // broken) since the last ClearUnavailable().
  static constexpr uint8_t kCacheUnavailable = 1;
  static constexpr uint8_t kDbUnavailable = 2;
  // A mask of the bits above; 0 while both clients are healthy. One load: the
  // caller may test it after every operation.
  uint8_t unavailable() const { return unavailable_; }
  // Clears the bits in `mask`, once the caller has reconnected those clients.
  void ClearUnavailable(uint8_t mask) { unavailable_ &= static_cast<uint8_t>(~mask); }
  // The cache value of the last hit, or the value the last SET wrote.
  std::string_view last_value() const { return value_; }

  // Current monotonic time in nanoseconds: about 17 ns a read instead of
  // steady_clock's 29 on the tuning machine, half the harness's own cost.
  static int64_t MonoNowNs() { return FastMonoNowNs(); }

 private:
  // Starts an operation's clock. False (and `r` a kError) when a client the
  // operation needs is missing.
  bool Begin(OpResult& r);
  int64_t TtlForSet();
  // A SELECT of `passenger_id` into row_, counted in the database reads in
  // flight; the step is timed by the caller.
  absl::Status Select(int64_t passenger_id, OpResult& r);
  // SELECT + SET of key_ (already formatted), steps timed from t_start; the
  // value carries the key's writes done before the SELECT and begun after
  // it (key_versions.h). Returns the end time; on failure fills `r` as an
  // error.
  int64_t SelectAndSet(int64_t passenger_id, int64_t t_start, OpResult& r);
  // A read's fill: SelectAndSet counted as a fill in flight (a duplicate
  // when another is).
  int64_t Fill(int64_t passenger_id, int64_t t_start, OpResult& r);
  // What a GET knew of its key's writes: the key's writes done just before
  // it was sent (at or after sent_ns) and begun just after it returned.
  struct GetWindow {
    int64_t sent_ns = 0;
    int64_t done_before = 0;
    int64_t begun_after = 0;
  };
  // GET of key_ into value_, sent at or after `sent_ns`; on a hit *w holds
  // its window. Fails as KvClient::Get.
  absl::StatusOr<bool> Get(int64_t passenger_id, int64_t sent_ns, GetWindow* w);
  // A hit on value_ by the GET of window `w`, returned at `t_hit`: the
  // staleness check and the early refresh. Returns the end time.
  int64_t OnHit(int64_t passenger_id, const GetWindow& w, int64_t t_hit, bool may_refresh,
                OpResult& r);
  // A miss under single flight, after the GET that missed ended at t_get.
  // Returns the end time.
  int64_t MissSingleFlight(int64_t passenger_id, int64_t t_get, OpResult& r);
  void Fail(OpResult& r, ErrorSource source, absl::Status status);

  KvClient* kv_;
  SqlClient* sql_;
  bool cache_;
  int64_t ttl_ms_;
  int ttl_jitter_pct_;
  WritePolicy write_policy_;
  bool single_flight_;
  int64_t lock_ms_;
  int64_t wait_ns_;
  int64_t poll_ns_;
  double beta_;
  bool meta_;  // values carry a ValueMeta header
  Options options_;
  std::mt19937_64 jitter_rng_;  // TTL jitter and early-refresh draws

  std::string key_;  // key_prefix followed by room for the id
  size_t prefix_len_;
  size_t key_len_ = 0;    // length of the key last formatted
  std::string value_;     // GET result / SET payload
  std::string lock_key_;  // key_ + ":lock" (single flight)
  // The fill lock's value: a prefix unique to this process and thread, then
  // the count of locks this object took (lock_prefix_len_ characters of it
  // stay).
  std::string lock_token_;
  size_t lock_prefix_len_ = 0;
  int64_t locks_taken_ = 0;
  BookingCount row_;  // SELECT result
  NewBooking retry_booking_;

  int64_t epoch_offset_ns_;
  int64_t start_mono_ns_ = 0;
  absl::Status last_error_;
  int64_t errors_ = 0;
  int64_t insert_retries_ = 0;
  uint8_t unavailable_ = 0;
};

}  // namespace cabench

#endif  // CABENCH_LIB_CACHE_ASIDE_CACHE_ASIDE_H_
