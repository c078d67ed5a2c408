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
// Skewed popularity and a memory-bounded cache (steady state). When the
// keys are not equally popular (ModelInput::popularity: groups of `count`
// keys drawn with probability p each per operation, KeyPopularity() in
// lib/workload/popularity.h) or the cache holds fewer keys than the run
// touches (capacity_keys = C), the model looks at each group's keys as a
// renewal process in operation time: a key is requested at rate p per op
// (reads rp, writes wp, w = 1 - r), it is cached from a SET until its entry
// dies, then uncached until the request that SETs it again. The entry's
// expected life l (in ops) gives, per key, by renewal-reward and PASTA,
//   x = p l (refresh) or r p l (invalidate),   h = x / (1 + x)
// both the fraction of its reads that hit and the chance it is cached. A
// write under `refresh` is a request that SETs the key (restarting its TTL
// and counting as a use), one under `invalidate` deletes it (the entry dies;
// an uncached key waits for a read). Every clock of the entry's life is the
// time since some event, a "gap clock" (a, u): it ends a ops after the last
// of its resetting events (rate u), or an exponential kill at rate s:
//   TTL          a = L = ttl_ms * ops_per_s / 1000 (mean TTL), reset by
//                writes under refresh (u = wp), never under invalidate
//   LRU          a = T (Che's characteristic time), reset by every request
//                (u = p) under refresh, by reads (u = rp) under invalidate
//   FIFO (kTtl)  a = T since the last SET: the same clock as the TTL's,
//                with a = min(L, T)
//   random       an exponential kill at rate 1/T
//   invalidate   an exponential kill at rate wp (the next write)
// With one gap clock and kill rate s the life is exact (the Laplace
// transform of the time to the first gap of length a):
//   l = (1 - E) / (s + u E),  E = e^(-(u + s) a)      (l = a when u = s = 0)
// which gives Che's h = 1 - e^(-pT) for LRU (refresh; r (1 - e^(-pT)) under
// invalidate), h = pT / (1 + pT) for random eviction and FIFO, and for a TTL
// alone h = pL / (1 + pL) at read_pct 100 (the Poisson TTL-cache formula
// lambda T / (1 + lambda T) with lambda = p * ops_per_s; exact at any TTL
// distribution with mean L, so TTL jitter does not change it). With writes
// the TTL alone gives x = (e^(wpL) - 1) / w (refresh) or r (1 - e^(-wpL)) / w
// (invalidate), where jitter enters only through the mean L: an
// approximation, tested below. LRU with a binding TTL has two gap clocks; each
// is then taken as a shifted exponential (a plus an exponential tail with the
// clock's exact mean), which is exact when either clock never binds and for
// a deterministic TTL (read_pct 100) when L <= T. This per-key combination
// replaces "the smaller of the TTL-only and capacity-only predictions": it
// lets expired entries free room (T grows), and it never exceeds either.
//
// T solves the occupancy equation sum_groups count * h(T) = C (monotone in
// T; bisection in log T, at most ~130 evaluations of the groups); when even
// T = infinity fits (sum count * h <= C) the capacity does not bind and only
// the TTL counts. LRU and random are Che's and the random-replacement
// approximation, asymptotically exact for large caches (Fricker, Robert and
// Roberts 2012); FIFO has the same hit rate as random at read_pct 100
// (Gelenbe 1973). kNone (noeviction) is predicted as LRU: the keys SET
// first stay, and under independent requests a key is among the first C
// distinct ones with probability 1 - e^(-pT), T from the same equation
// (exact in Che's sense for refresh with a TTL longer than the run). LFU is
// its upper bound: the most popular keys, each cached with its TTL-only
// chance, fill the cache; the others never hit.
//
// Cold start: the steady state is reached only once a key has been
// requested. From a flushed cache, after W warm-up reads, key k is cached
// before timed op i with probability at most
//   F(i) = rho + (A - rho) (1 - p)^i,  A = 1 - (1 - c) (1 - p)^W,
// (rho = 1 refresh, r invalidate), exactly so with neither TTL nor capacity.
// The model takes min(h, F(i)) per key, averaged in closed form over the
// run: exact in Che's sense for LRU and noeviction (whose transient is
// 1 - e^(-p min(i, T))) and for an unbounded long-TTL cache; for TTL and
// random eviction it errs low by at most ~0.5 hits per key over the run.
//
// Cost: O(groups) per evaluation, O(groups * 130) per prediction, never
// O(keys): KeyPopularity bins the Zipf tail into at most max_groups groups.
// Uniform popularity with an unbounded cache (or one that holds every key)
// keeps the exact closed forms above.
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
#include <vector>

#include "lib/model/eviction.h"
#include "lib/workload/data_set.h"
#include "lib/workload/popularity.h"
#include "lib/workload/scenario.h"

namespace cabench {

struct ModelInput {
  // false: the no-cache baseline (no hits, prediction 0).
  bool cache = true;
  // Distinct keys the run draws from, uniformly (pool_size, or passengers).
  int64_t key_universe = 10000;
  // Fraction of operations that are reads, 0..1.
  double read_fraction = 0.8;
  // kTtlOnly is predicted as the run of the reads alone (writes leave the
  // cache as it is).
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
  // Key popularity, most popular first or in any order (KeyPopularity()).
  // Empty: key_universe keys, uniform. Otherwise it replaces key_universe;
  // the p * count need not sum exactly to 1 (hits are normalised by it).
  std::vector<PopularityGroup> popularity;
  // Keys the cache holds at most (a run's measured cache_capacity_keys);
  // 0: unbounded.
  int64_t capacity_keys = 0;
  // What a full cache drops (only with capacity_keys > 0).
  Eviction eviction = Eviction::kLru;
};

// How PredictHitRate() computed its answer, for reports and tests.
struct HitRatePrediction {
  enum class Method : int {
    kNone = 0,      // no cache, no read or no operation: 0
    kUniform = 1,   // the exact uniform closed forms (long or short TTL)
    kRenewal = 2,   // the per-group steady state with the cold-start bound
  };
  double hit_rate_pct = 0;
  Method method = Method::kNone;
  // Che's characteristic time (kLru, kNone), the mean life of an entry
  // (kRandom) or the FIFO time (kTtl), in operations; +infinity when the
  // capacity does not bind (or there is none, or kLfu).
  double characteristic_ops = 0;
  // Groups the prediction ran over, and evaluations of the per-group
  // formulas (groups times solver steps): the cost, O(groups).
  int64_t groups = 0;
  int64_t group_evaluations = 0;
};

// The expected hit rate in percent (hits / reads * 100) for `in`, by the
// closed forms above: the exact uniform ones when every key is equally
// popular and the cache holds them all, else the renewal steady state.
// Returns 0 when there is no cache, no read or no operation. Never fails:
// out-of-range inputs are clamped (universe >= 1, fractions to 0..1, groups
// with p <= 0 or count <= 0 ignored). Cost O(groups). Safe to call
// concurrently.
double PredictHitRatePct(const ModelInput& in);

// PredictHitRatePct() with how it was computed.
HitRatePrediction PredictHitRate(const ModelInput& in);

// The model input of `scenario` on `data_set` with `threads` threads: the key
// universe follows the Workload's rule (EffectivePassengerRange), total_ops is
// threads * queries_per_thread, warmup_ops comes from the scenario. Access
// modes other than pool and random take their popularity from
// KeyPopularity(scenario, data_set). `capacity_keys` is the run's measured
// cache_capacity_keys (0: unbounded; never derive it from measured hits),
// and the eviction rule is the scenario's eviction_policy ("" is the
// server's default, noeviction: set `eviction` yourself when the server was
// configured otherwise; an unknown name, which the loader rejects, is taken
// as LRU). The initial cached fraction is 0: with flush the cache starts
// empty, and without flush its content is unknown to the model (set the
// field yourself, e.g. 1 - e^-4 after a 40,000-op pool run of 10,000 keys).
ModelInput ModelInputFor(const Scenario& scenario, const DataSetInfo& data_set,
                         int threads, double measured_ops_per_s, int64_t capacity_keys = 0);

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
// all over one in-memory cache (SimKv, sim_clients.h) whose clock reads
// SimOpTimeNs() of the op in progress, and an in-memory database that
// accepts every insert. The cache holds at most `capacity_keys` keys (0:
// unbounded) and evicts by `eviction`, exactly; kRandom draws from a
// generator seeded with scenario.seed. Warm-up (scenario.warmup_ops) reads
// first, with a Workload of thread index Workload::kWarmupThreadIndex.
// Returns the exact counts of the timed ops (under kNone, a read whose SET
// failed counts as an error, not a read). Deterministic for a given seed.
// Safe to call concurrently.
SimulationResult SimulateHitRate(const Scenario& scenario, const DataSetInfo& data_set, int threads,
                                 double ops_per_s, int64_t capacity_keys = 0,
                                 Eviction eviction = Eviction::kLru);

// SimulateHitRate(...).hit_rate_pct().
double SimulateHitRatePct(const Scenario& scenario, const DataSetInfo& data_set, int threads,
                          double ops_per_s, int64_t capacity_keys = 0,
                          Eviction eviction = Eviction::kLru);

}  // namespace cabench

#endif  // CABENCH_LIB_MODEL_HIT_RATE_MODEL_H_
