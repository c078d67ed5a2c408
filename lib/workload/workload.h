// File: lib/workload/workload.h
//
// Workload is the per-thread generator of benchmark operations: for every
// operation it decides read or write (read with probability read_pct/100),
// which passenger the operation is about, and for a write the booking to
// insert. It is the "get_passenger_id / should_read / get_random_flight_id"
// part of the reference script, made reproducible: each Workload owns a
// std::mt19937_64 seeded with `scenario.seed + thread_index`, so
// the same scenario, data set and thread index give the same sequence of
// operations run after run, on any machine.
//
// The sequence never depends on what the cache answers: hits and misses draw
// nothing from this generator (TTL jitter in CacheAside has its own stream).
// A run with the cache and its no-cache baseline therefore see the same ops.
//
// Ranges are drawn with UniformBelow() (Lemire's multiply-shift with
// rejection: exactly uniform, one 64-bit draw almost always), not
// std::uniform_int_distribution, whose algorithm is implementation-defined and
// could change between standard libraries.
//
// Passenger ids come from the thread's KeyChooser (lib/workload/
// key_chooser.h), which states every access mode exactly:
//   pool     uniform over pool_first_id .. pool_first_id + pool_size - 1,
//            clamped to the data set's ids 1..passengers. When that
//            intersection is empty the pool is moved to start at id 1 (ids
//            1..min(pool_size, passengers)). EffectivePassengerRange() states
//            the rule in code; CheckWorkload() reports both cases so that the
//            benchmark can refuse or warn.
//   random   uniform over every passenger id, 1..passengers.
//   zipf     Zipf(zipf_s) over the same (clamped) pool: rank k with
//            probability k^-s / H(N, s), the ranks scattered over the pool's
//            ids by a permutation fixed by the scenario's seed (the same for
//            every thread).
//   hotspot  the same pool, permuted; hot_ops_pct of the operations go
//            uniformly to the first ceil(N * hot_keys_pct / 100) of it.
//   trace    scenario.trace, replayed: thread t of `threads` takes operations
//            t, t+threads, t+2*threads, ... and starts again at t when its
//            share is used up. The op's kind is the trace's (read_pct is not
//            used), except that read_pct 100 makes every op a read (the
//            reads-only copy of the scenario that a warm-up runs; the loader
//            refuses any other read_pct with a trace). Ids fold into
//            1..passengers (FoldTraceId()).
//
// Draw order of Next(), part of the reproducibility contract (changing it
// changes every recorded run): for every mode but trace, kind (one
// UniformBelow(100)), then the passenger (pool and random: one
// UniformBelow(N); zipf: its rejection-inversion draws; hotspot: one draw
// for hot or cold, then one UniformBelow() for the key, the first omitted
// when hot_ops_pct is 100 or when no key or every key is hot), then for a
// write the flight (one UniformBelow(flights)). In trace mode only a write's
// flight is drawn.
//
// Writes: flight uniform over 1..flights; price_cents a deterministic function
// of the per-thread write counter; seat a 4-character string, all in [0-9a-z]
// (booking.seat is CHAR(4) under a case-insensitive collation, so case is
// never used to distinguish seats):
//
//   seat = <seat_tag> <3 base-36 digits of v>,  v = (counter*36 + t%36) mod
//   36^3
//
// for thread t. The seat tag is the process's run slot (lib/dataset/
// run_ledger.h), so concurrent processes on one schema never collide on
// (flight_id, seat); it does not mark the rows as the process's (anybody may
// insert such a seat): every booking also carries the run's number
// (set_run_no(), NewBooking::run_no), which is how a run finds exactly its
// own rows. Loaded bookings have 2-3 character seats, so no insert collides
// with them; v's last digit is t%36, so threads of one process never collide
// for up to 36 threads. A thread's seats repeat after kSeatsPerThread (1,296)
// writes; a repeat on the same flight fails with AlreadyExists and
// CacheAside retries with NextSeat() a bounded number of times and counts the
// retries. Only the seat characters depend on the tag: the sequence of
// operations (kinds, passengers, flights, prices) is the same for every tag.
//
// No allocation after construction: the op, its NewBooking and the 4-char seat
// (always within std::string's small-buffer capacity) are reused by Next().
//
// Thread safety: a Workload is NOT safe for concurrent use; every benchmark
// thread owns one. Distinct Workload objects share nothing.
#ifndef CABENCH_LIB_WORKLOAD_WORKLOAD_H_
#define CABENCH_LIB_WORKLOAD_WORKLOAD_H_

#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "lib/clients/sql_client.h"
#include "lib/metrics/op_types.h"
#include "lib/workload/data_set.h"
#include "lib/workload/key_chooser.h"
#include "lib/workload/scenario.h"

namespace cabench {

// UniformBelow(), IdRange and EffectivePassengerRange() are declared in
// lib/workload/key_chooser.h, which this header includes.

// OK when `scenario` can run as written on `data_set`. Fails with
// FailedPrecondition when the data set has no passengers or no flights, when
// the pool of pool, zipf or hotspot mode is not entirely inside
// 1..passengers (the message names the pool and the data set's range), or
// when a trace mode scenario has no loaded trace (it would draw as random
// does); with InvalidArgument when a cache_keys_pct (a point of its sweep)
// would hold fewer than Scenario::kMinCacheKeys keys. Pure; safe to call
// concurrently.
absl::Status CheckWorkload(const Scenario& scenario, const DataSetInfo& data_set);

// Longest decimal int64 ("-9223372036854775808").
inline constexpr size_t kMaxIdChars = 20;

// Writes `prefix` followed by the decimal `id` into out[0 .. out_size) and
// returns the number of characters written (no terminating NUL), or 0 when
// the key does not fit (out_size < prefix.size() + digits). Never allocates.
// Safe to call concurrently (on distinct buffers).
size_t FormatCacheKey(std::string_view prefix, int64_t id, char* out, size_t out_size);

// Seats are 4 characters: the seat tag, then 3 base-36 digits.
inline constexpr int kSeatChars = 4;
// Distinct seats one thread produces before they repeat (36^3 / 36 threads).
inline constexpr int64_t kSeatsPerThread = 1296;
// The seat tag of a Workload built without one.
inline constexpr char kDefaultSeatTag = '0';

// One operation. For reads only `kind` and `passenger_id` are meaningful; for
// writes `booking` is complete and booking.passenger_id == passenger_id.
struct Op {
  OpKind kind = OpKind::kRead;
  int64_t passenger_id = 0;
  NewBooking booking;
};

class Workload {
 public:
  // A thread index for warm-up streams: a warm-up Workload built with it draws
  // from a stream distinct from every benchmark thread's (for any realistic
  // thread count), so warming up does not shift the timed op sequence.
  static constexpr int kWarmupThreadIndex = 1 << 20;

  // `thread_index` >= 0. `seat_tag` is the first character of every seat,
  // one of [0-9a-z] (RunLedger::seat_tag()); anything else is replaced by
  // kDefaultSeatTag. `threads` (>= 1) is the run's thread count, which only
  // trace mode uses (to split the trace into shares); a thread_index >=
  // threads (the warm-up's) takes the share of thread_index % threads. The
  // scenario and data set are copied as needed and need not outlive the
  // Workload (a trace is shared). Never fails: an incompatible data set is
  // clamped as described above (see CheckWorkload()).
  Workload(const Scenario& scenario, const DataSetInfo& data_set, int thread_index,
           char seat_tag = kDefaultSeatTag, int threads = 1);

  Workload(const Workload&) = delete;
  Workload& operator=(const Workload&) = delete;

  // Returns the next operation. The reference stays valid until the next call
  // of Next() or NextSeat() on this Workload. Never allocates.
  const Op& Next();

  // Draws only a passenger id (as Next() would for a read), for warm-up; in
  // trace mode, the id of this thread's next trace operation.
  int64_t NextPassengerId();

  // Replaces *seat with this thread's next seat and advances the counter.
  // Used to retry an INSERT whose (flight, seat) already exists. Never
  // allocates when *seat already holds 4 characters (always true here: a
  // 4-char std::string lives in its small buffer).
  void NextSeat(std::string* seat);

  // The ids this Workload draws passengers from.
  const IdRange& passenger_range() const { return chooser_.range(); }
  int thread_index() const { return thread_index_; }
  int threads() const { return threads_; }
  char seat_tag() const { return seat_tag_; }
  // Seats handed out so far (writes plus NextSeat() calls).
  int64_t seats_issued() const { return seat_counter_; }

  // Every booking Next() returns from now on carries `run_no`
  // (NewBooking::run_no: RunLedger::run_no(), 0 for none). Changes no draw.
  void set_run_no(int64_t run_no) { op_.booking.run_no = run_no; }
  int64_t run_no() const { return op_.booking.run_no; }

 private:
  std::mt19937_64 rng_;
  int thread_index_;
  int threads_;
  char seat_tag_;
  uint64_t read_pct_;
  KeyChooser chooser_;
  int64_t flights_;
  int64_t seat_counter_ = 0;
  Op op_;
};

}  // namespace cabench

#endif  // CABENCH_LIB_WORKLOAD_WORKLOAD_H_
