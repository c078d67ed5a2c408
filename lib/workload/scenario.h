// File: lib/workload/scenario.h
//
// A Scenario is one documented benchmark case of the cache-aside suite, as
// loaded and validated from scenarios/<name>.yaml by LoadScenarioFile()
// (lib/workload/scenario_loader.h). It is a plain value: copy it freely; it is
// immutable once loaded, so sharing a const Scenario between threads is safe.
//
// Every field has a default; a YAML file states only what differs. The
// defaults reproduce the reference script's defaults (4 threads, 10,000
// queries per thread, 80% reads, TTL 300,000 ms, pool mode).
#ifndef CABENCH_LIB_WORKLOAD_SCENARIO_H_
#define CABENCH_LIB_WORKLOAD_SCENARIO_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace cabench {

// How a thread chooses the passenger an operation is about.
enum class AccessMode : int {
  kPool = 0,     // uniform over pool_size ids starting at pool_first_id
  kRandom = 1,   // uniform over every passenger id of the loaded data set
  kZipf = 2,     // Zipf(zipf_s) over the pool's ids, ranks scattered over the ids
  kHotspot = 3,  // hot_ops_pct of operations uniformly over hot_keys_pct of the pool
  kTrace = 4,    // a recorded key sequence (trace_file), replayed in order
};

// The word for `mode` in scenario files and benchmark names: "pool",
// "random".
inline const char* AccessName(AccessMode mode) {
  switch (mode) {
    case AccessMode::kPool:
      return "pool";
    case AccessMode::kRandom:
      return "random";
    case AccessMode::kZipf:
      return "zipf";
    case AccessMode::kHotspot:
      return "hotspot";
    case AccessMode::kTrace:
      return "trace";
  }
  return "?";
}

// A recorded sequence of operations (access: trace), loaded once from
// trace_file by the scenario loader and shared, read-only, by every thread:
// the passenger id of each operation and whether it is a read.
struct KeyTrace {
  std::string source;                 // the file it was read from
  std::vector<int64_t> passenger_ids;  // in trace order
  std::vector<bool> is_read;           // same length; true: a read
  int64_t distinct_keys = 0;           // distinct keys of the file
};

// What a write does to the cache after its INSERT is committed.
enum class WritePolicy : int {
  kRefresh = 0,     // re-SELECT and SET the key (the reference's behaviour)
  kInvalidate = 1,  // DEL the key; the next read misses and refills it
  kTtlOnly = 2,     // leave the cache alone, as when another application
                    // writes the row: only the TTL brings the key up to date
};

// How the untimed warm-up before a run decides it is done.
enum class WarmupMode : int {
  kOps = 0,          // exactly warmup_ops reads
  kUntilSteady = 1,  // until the hit rate is steady, at most warmup_ops reads
};

// How an open-loop run spaces its operations.
enum class Arrival : int {
  kPoisson = 0,  // exponential gaps: independent users (the default)
  kUniform = 1,  // equal gaps: a metronome
};

inline const char* ArrivalName(Arrival arrival) {
  return arrival == Arrival::kPoisson ? "poisson" : "uniform";
}

struct Scenario {
  // Must equal the YAML file's stem; used in benchmark names.
  std::string name;
  // What question the scenario answers and what result would surprise us.
  std::string description;
  // The file it was loaded from (empty when built in code).
  std::string source_file;

  // One benchmark is registered per entry (a thread sweep lists several).
  std::vector<int> threads = {4};
  // Iterations of each benchmark thread: operations per thread.
  int64_t queries_per_thread = 10000;
  // Percentage of operations that are reads, 0..100.
  int read_pct = 80;

  // false: the no-cache baseline; every read goes to the database and writes
  // touch no cache.
  bool cache = true;
  // Cache TTL in milliseconds (> 0) and its uniform jitter, +-ttl_jitter_pct
  // percent (0..90).
  int64_t ttl_ms = 300000;
  int ttl_jitter_pct = 0;
  WritePolicy write_policy = WritePolicy::kRefresh;
  // During a cache outage, serve reads from the database (counted in the
  // fallback_reads counter) instead of failing them, as many cache-aside
  // applications do. Off: a cache outage shows up as errors.
  bool fallback_to_db = false;

  AccessMode access = AccessMode::kPool;
  // Pool mode: ids pool_first_id .. pool_first_id + pool_size - 1.
  int64_t pool_size = 10000;
  int64_t pool_first_id = 4;

  // Keys are key_prefix + passenger id, e.g. "cabench:bookings:42".
  std::string key_prefix = "cabench:bookings:";
  // Delete every key under key_prefix before the run (never FLUSHALL).
  bool flush = true;
  // Untimed reads through the pattern before the run, with the scenario's
  // access mode, to start from a known cache state (0: none).
  int64_t warmup_ops = 0;
  // warmup: until_steady: reads in windows of warmup_window_ops until the hit
  // rate of each of the last two windows differs from the window before by
  // less than warmup_steady_pct points, or warmup_ops reads (its cap;
  // kDefaultSteadyCapOps when 0) were run (counter steady_reached 0).
  WarmupMode warmup = WarmupMode::kOps;
  int64_t warmup_window_ops = 5000;
  double warmup_steady_pct = 1.0;
  static constexpr int64_t kDefaultSteadyCapOps = 1'000'000;

  // Stampede mitigations (issue 13). single_flight: the first reader to miss
  // a key takes the lock key (<key>:lock, SET NX PX single_flight_lock_ms) and
  // fills it; the others re-read the cache every single_flight_poll_us for
  // at most single_flight_wait_ms, then read the database themselves.
  bool single_flight = false;
  int64_t single_flight_lock_ms = 1000;
  int64_t single_flight_wait_ms = 200;
  int64_t single_flight_poll_us = 500;
  // Probabilistic early recomputation (XFetch, Vattani et al., VLDB 2015): a
  // hit refreshes its key (SELECT + SET) when -beta * delta * ln(rand) >= the
  // key's remaining TTL, delta the last fill's duration (stored in the value
  // with the expiry). 0: off.
  double early_refresh_beta = 0;

  // Delete every key under key_prefix after the run.
  bool clean_end = false;

  // Seeds every thread's generator (seed + thread index).
  uint64_t seed = 42;

  // Open loop: the total target rate of all threads, operations per second,
  // each operation scheduled at an intended start whatever happened to the
  // previous ones (0: closed loop, each thread sends when its last request
  // returned). The threads' schedules are phase-staggered so the total is
  // smooth.
  int64_t rate_per_s = 0;
  Arrival arrival = Arrival::kPoisson;

  // Register a twin of the scenario with the cache off (same seed, threads,
  // rate and ids), run just before it, which the cache run is measured
  // against (gain_ops_x, db_load_reduction_pct, ...).
  bool baseline_no_cache = false;

  // The threads share this many database connections (0: one each); the
  // wait for one counts in the operation's latency, and a wait longer than
  // db_pool_timeout_ms fails the operation.
  int db_pool_size = 0;
  int64_t db_pool_timeout_ms = 1000;

  // Key popularity (issue 12), for access zipf, hotspot and trace.
  double zipf_s = 0.99;     // Zipf exponent (> 0)
  double hot_keys_pct = 20;  // hotspot: this share of the pool's keys ...
  double hot_ops_pct = 80;   // ... gets this share of the operations
  std::string trace_file;    // access: trace; relative to the scenario file
  std::shared_ptr<const KeyTrace> trace;  // loaded from trace_file

  // A memory-bounded cache: the room for the run's keys in bytes (0: the
  // server's own setting, untouched; else maxmemory is set to this plus what
  // the server uses besides keys when the run starts) and maxmemory-policy ("":
  // untouched), applied with CONFIG SET for the run and restored after it.
  int64_t cache_max_memory = 0;
  // ... or the room as a share of the run's keys, in percent (1..100; 0:
  // none): before the run, maxmemory is set so that the cache holds about
  // this share of the key universe (lib/engine/cache_bound.h measures it).
  int64_t cache_keys_pct = 0;
  // The fewest keys a cache sized by cache_keys_pct may hold.
  static constexpr int64_t kMinCacheKeys = 10;
  std::string eviction_policy;

  // Sweeps: ttl_ms, cache_max_memory and cache_keys_pct may be lists in the
  // YAML file; the scenario then runs once per value (per thread count), each
  // run with that value in ttl_ms / cache_max_memory / cache_keys_pct
  // (SweepPoints()). Empty: no sweep.
  std::vector<int64_t> ttl_sweep_ms;
  std::vector<int64_t> cache_max_memory_sweep;
  std::vector<int64_t> cache_keys_pct_sweep;

  // True when the run bounds the cache's memory (sets maxmemory or its
  // policy), which cabench does only on a cache it may reconfigure.
  bool BoundsTheCache() const {
    return cache && (cache_max_memory > 0 || cache_keys_pct > 0 || !eviction_policy.empty());
  }
};

// The runs of a sweep (ttl_ms, cache_max_memory or cache_keys_pct given as a list): one
// Scenario per combination, TTLs outer, memory sizes inner, in the order
// listed, each with its value in ttl_ms / cache_max_memory / cache_keys_pct and the sweep
// lists empty. A scenario without a sweep is returned alone, as it is. Pure.
std::vector<Scenario> SweepPoints(const Scenario& scenario);

}  // namespace cabench

#endif  // CABENCH_LIB_WORKLOAD_SCENARIO_H_
