// File: lib/model/hit_rate_model.h
//
// The expected cache hit rate of a scenario, so that a run's measured
// hit_rate_pct can be checked against what the workload makes possible
// (reported as `predicted_hit_rate_pct`). Pure computation, no I/O.
//
// The model looks at one key at a time. Every operation picks one of N keys
// uniformly (the pool, or every passenger), so a given key is touched by an
// operation with probability p = 1/N, independently of its past; a touch is a
// read with probability r. A read hits when the key is cached just before it,
// so the expected hit rate is the mean, over the run's operations, of
// C_i = P(a given key is cached before operation i). In cache-aside only a SET
// (a read miss, or a write under `refresh`) starts a TTL; a hit does not
// extend it; a write under `invalidate` removes the key.
//
// Long TTL (no entry can expire during warm-up + run), q = 1 - 1/N, T ops,
// c = cached fraction at the start of the run (after warm-up):
//   refresh:     C_i = 1 - (1 - c) q^i       mean = 1 - (1 - c) N (1 - q^T) / T
//   invalidate:  C_i = r (1 - q^i) + c q^i   mean = r + (c - r) N (1 - q^T) / T
// Warm-up: W untimed reads (all caching what they touch) before the run take
// an initial fraction c0 to c = 1 - (1 - c0) q^W.
//
// Short TTL: operations run at a steady `ops_per_s`, so an entry SET at op j
// is live for the ops j+1 .. j+L, L = floor(ttl_ms * ops_per_s / 1000).
// With b_j = P(the key is SET at op j) and S = 1 - p (1 - r) the chance that
// an op leaves a cached key's TTL alone,
//   C_i = sum_{j=i-L}^{i-1} b_j S^(i-1-j)
//   b_i = p (1 - r) + p r (1 - C_i)   (refresh)    b_i = p r (1 - C_i)   (invalidate)
// which is evaluated exactly by a sliding sum in O(T + W) time and O(L)
// memory (L is capped; beyond the cap, ops are grouped in blocks, an error of
// order 1/cap). Initial cached entries (c0) count as SET just before the
// run. TTL jitter is ignored (it keeps the mean TTL; for L << N the hit rate
// is linear in L).
//
// The reference scenarios come out at 75.5% (concurrency: N 10,000, 40,000
// ops, 80% reads, refresh, cold), 99.5% (read_heavy: 99% reads after the
// 40,000 concurrency ops, c = 1 - e^-4), 40.4% (random_balanced: N 34,996, 60%
// reads, cold) and 1.2% (short_ttl: N 36,000, 90% reads, TTL 100 ms, about
// 4,500 ops/s), as the reference's own runs measured.
//
// SimulateHitRate() instead runs the real Workload and CacheAside, single-
// threaded, over an in-memory cache on a virtual clock: the exact hits and
// misses of one seed, against which the closed form and the fakes of
// lib/testing are checked.
//
// Thread safety: every function is pure and safe to call concurrently.
#ifndef CABENCH_LIB_MODEL_HIT_RATE_MODEL_H_
#define CABENCH_LIB_MODEL_HIT_RATE_MODEL_H_

#include <cstdint>

#include "lib/workload/data_set.h"
#include "lib/workload/scenario.h"

namespace cabench {

struct ModelInput {
  // false: the no-cache baseline (no hits, prediction 0).
  bool cache = true;
  // Distinct keys the run draws from, uniformly (pool_size, or passengers).
  int64_t key_universe = 10000;
  // Fraction of operations that are reads, 0..1.
  double read_fraction = 0.8;
  WritePolicy write_policy = WritePolicy::kRefresh;
  // Cache TTL in milliseconds.
  int64_t ttl_ms = 300000;
  // Timed operations, all threads together (threads * queries_per_thread).
  int64_t total_ops = 40000;
  // Measured throughput. Needed only when the TTL is short relative to the
  // run; <= 0 means unknown, and the TTL is then taken as infinite.
  double ops_per_s = 0;
  // Fraction of the keys cached when the warm-up starts (0: flushed, cold).
  double initial_cached_fraction = 0;
  // Untimed warm-up reads before the run (Scenario::warmup_ops).
  int64_t warmup_ops = 0;
};

// The expected hit rate in percent (hits / reads * 100) for `in`, by the
// closed forms above. Returns 0 when there is no cache, no read or no
// operation. Never fails: out-of-range inputs are clamped (universe >= 1,
// fractions to 0..1).
double PredictHitRatePct(const ModelInput& in);

// The model input of `scenario` on `data_set` with `threads` threads: the key
// universe follows the Workload's rule (EffectivePassengerRange), total_ops is
// threads * queries_per_thread, warmup_ops comes from the scenario. The
// initial cached fraction is 0: with flush the cache starts empty, and
// without flush its content is unknown to the model (set the field yourself,
// e.g. 1 - e^-4 after a 40,000-op pool run of 10,000 keys).
ModelInput ModelInputFor(const Scenario& scenario, const DataSetInfo& data_set,
                         int threads, double measured_ops_per_s);

struct SimulationResult {
  int64_t reads = 0;
  int64_t writes = 0;
  int64_t hits = 0;
  int64_t misses = 0;
  int64_t errors = 0;
  double hit_rate_pct() const {
    return reads > 0 ? 100.0 * static_cast<double>(hits) / static_cast<double>(reads) : 0;
  }
};

// Virtual time of timed op `i` (0-based) in the simulation, in nanoseconds:
// floor(i * 1e9 / ops_per_s), or 0 when ops_per_s <= 0 (time stands still).
// Warm-up op k runs at SimOpTimeNs(k) and the timed ops then continue at
// SimOpTimeNs(warmup_ops + i). Exposed so that tests can drive the fakes on
// exactly the same schedule.
int64_t SimOpTimeNs(int64_t i, double ops_per_s);

// Runs `scenario` on `data_set` as `threads` threads would, interleaved round
// robin on one thread (op i belongs to thread i % threads): each thread has
// its own Workload(scenario, data_set, t) and CacheAside (jitter stream t),
// all over one in-memory cache whose clock reads SimOpTimeNs() of the op in
// progress, and an in-memory database that accepts every insert. Warm-up
// (scenario.warmup_ops) reads first, with a Workload of thread index
// Workload::kWarmupThreadIndex. Returns the exact counts of the timed ops.
// Deterministic for a given seed. Safe to call concurrently.
SimulationResult SimulateHitRate(const Scenario& scenario,
                                 const DataSetInfo& data_set, int threads,
                                 double ops_per_s);

// SimulateHitRate(...).hit_rate_pct().
double SimulateHitRatePct(const Scenario& scenario, const DataSetInfo& data_set,
                          int threads, double ops_per_s);

}  // namespace cabench

#endif  // CABENCH_LIB_MODEL_HIT_RATE_MODEL_H_
