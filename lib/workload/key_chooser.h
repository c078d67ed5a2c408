// File: lib/workload/key_chooser.h
//
// The key chooser: which passenger id each operation of one benchmark thread
// is about, for every access mode of a Scenario. Workload
// (lib/workload/workload.h) owns one per thread and calls it once per
// operation; the hit-rate model (lib/model) reads the same shapes through
// KeyPopularity() (lib/workload/popularity.h).
//
//   pool     uniform over the pool's N ids (EffectivePassengerRange())
//   random   uniform over every passenger id
//   zipf     rank k in 1..N with probability k^-s / H(N, s), by
//            rejection-inversion (ZipfRanks); rank k is the id at position
//            Permute(k - 1) of the pool (KeyPermutation)
//   hotspot  with probability hot_ops_pct/100 a uniform key among the first
//            HotKeyCount() positions of the permuted pool, else a uniform key
//            among the others
//   trace    the recorded ids of scenario.trace, in order: thread t of T
//            takes operations t, t+T, t+2T, ... and starts again at t when
//            its share is used up; ids fold into the data set's passengers
//            (FoldTraceId())
//
// Everything a chooser draws comes from the caller's std::mt19937_64 through
// this file's own range reductions (UniformBelow, UnitInterval) and its own
// Zipf sampler, never from a library distribution: the sequence of ids for a
// given scenario, data set and thread is part of what a recorded run means,
// and neither the standard library nor abseil promises that their
// distributions keep their output across versions. The only outside code on
// the Zipf path is the C library's log/exp family (glibc computes them the
// same way on every Debian 12 machine; a different libm may move a draw that
// falls within an ulp of a rank boundary).
//
// Why a permutation rather than a hash of the rank modulo N: a hash modulo N
// is not a bijection, so some popular ranks land on the same id (their
// probabilities add up) and some ids are never drawn; the ids' popularity is
// then no longer the Zipf law the scenario states (the known complaint about
// YCSB's "scrambled zipfian"). KeyPermutation is a bijection of [0, N), so
// every id keeps exactly the probability of its rank, and the popular ids are
// still spread over the whole pool rather than packed at its start (where
// they would share database pages and make the no-cache baseline look
// better than it is). The permutation depends only on the scenario's seed
// and N, never on the thread: every thread agrees on which ids are popular.
//
// Ownership: a KeyChooser holds plain values and, in trace mode, a shared
// reference to the scenario's read-only KeyTrace. Thread safety: a
// KeyChooser is NOT safe for concurrent use (the trace cursor moves), so
// every thread owns one; KeyPermutation and ZipfRanks are immutable after
// construction and safe to share; the free functions are pure.
#ifndef CABENCH_LIB_WORKLOAD_KEY_CHOOSER_H_
#define CABENCH_LIB_WORKLOAD_KEY_CHOOSER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <random>

#include "absl/base/optimization.h"
#include "lib/workload/data_set.h"
#include "lib/workload/scenario.h"

namespace cabench {

namespace internal {
// GCC and Clang both have a 128-bit integer; __extension__ keeps -Wpedantic
// quiet about it.
__extension__ typedef unsigned __int128 Uint128;
uint64_t UniformBelowSlow(std::mt19937_64& rng, uint64_t bound, Uint128 m);
}  // namespace internal

// Returns a uniform integer in [0, bound) from one (rarely more) 64-bit draws
// of `rng`, by Lemire's multiply-shift with rejection ("Fast Random Integer
// Generation in an Interval", 2019), not std::uniform_int_distribution, whose
// algorithm is implementation-defined. `bound` must be > 0 (0 returns 0).
// Deterministic for a given generator state.
inline uint64_t UniformBelow(std::mt19937_64& rng, uint64_t bound) {
  if (bound == 0) return 0;
  const internal::Uint128 m = static_cast<internal::Uint128>(rng()) * bound;
  // The high word is uniform once the low word is outside the small biased
  // zone [0, 2^64 mod bound); only a low word below `bound` may be in it.
  if (ABSL_PREDICT_FALSE(static_cast<uint64_t>(m) < bound)) {
    return internal::UniformBelowSlow(rng, bound, m);
  }
  return static_cast<uint64_t>(m >> 64);
}

// Returns a double in [0, 1): the top 53 bits of one draw of `rng`, times
// 2^-53. Deterministic for a given generator state.
inline double UnitInterval(std::mt19937_64& rng) {
  return static_cast<double>(rng() >> 11) * 0x1.0p-53;
}

// The passenger ids one thread draws from: first_id .. first_id + count - 1.
struct IdRange {
  int64_t first_id = 1;
  int64_t count = 1;
};

// The ids a Workload for `scenario` over `data_set` draws from:
//   random, trace  every passenger id, 1..passengers (a trace's ids fold
//                  into it, see FoldTraceId())
//   pool, zipf, hotspot  the pool, pool_first_id .. pool_first_id +
//                  pool_size - 1, clamped to the data set's ids
//                  1..passengers; when that intersection is empty the pool
//                  is moved to start at id 1 (ids 1..min(pool_size,
//                  passengers)). CheckWorkload() (workload.h) reports both
//                  cases so that the benchmark can refuse or warn.
// `count` is at least 1 even when the data set is empty (passengers < 1 is
// treated as 1). Pure; safe to call concurrently.
IdRange EffectivePassengerRange(const Scenario& scenario, const DataSetInfo& data_set);

// The passenger id a trace's `id` (>= 1) stands for in a data set of
// `passengers` (>= 1) ids: `id` itself when it is a passenger id, else
// 1 + (id - 1) mod passengers. Ids of a file of passenger ids are used as
// written when the data set has them; the keys of a Twitter trace are
// numbered 1, 2, 3, ... by first appearance, so the first `passengers`
// distinct keys get distinct ids and later ones share them (the shared ids'
// popularities add up; KeyPopularity() describes exactly that). Pure.
inline int64_t FoldTraceId(int64_t id, int64_t passengers) {
  if (ABSL_PREDICT_TRUE(id >= 1 && id <= passengers)) return id;
  if (passengers < 1) return 1;
  const int64_t r = (id - 1) % passengers;
  return 1 + (r < 0 ? r + passengers : r);
}

// The scenario's trace when it can be replayed (loaded, at least one
// operation, a kind for every id), else null: a trace mode scenario without
// one draws as `random` does. Pure.
const KeyTrace* UsableTrace(const Scenario& scenario);

// The number of hot keys of `access: hotspot` over `n` keys:
// ceil(n * hot_keys_pct / 100), clamped to 0..n (NaN counts as 0). Pure.
int64_t HotKeyCount(int64_t n, double hot_keys_pct);

// sum_{k=first..last} k^-s (0 when first > last), for first >= 1 and
// s > 0: the unnormalized mass of Zipf ranks first..last, so that
// H(n, s) = PowerSum(1, n, s). The first terms are added one by one and a
// long remainder by Euler-Maclaurin with three Bernoulli corrections from
// k >= 256 on, so a call costs at most a few hundred terms however long the
// range; relative error below 1e-13. Pure.
double PowerSum(uint64_t first, uint64_t last, double s);

// A fixed, seeded bijection of [0, n): a small block cipher on the smallest
// power of two 2^b >= n (rounds of add-key, multiply by an odd key and
// xor-shift, each invertible modulo 2^b), cycle-walked into [0, n) (applied
// again while the result is >= n; as 2^b < 2n, fewer than 2 applications on
// average). O(1) time and memory, no table. Immutable; safe to share.
class KeyPermutation {
 public:
  // The identity of [0, 1).
  KeyPermutation() = default;
  // A permutation of [0, n) (n == 0 is treated as 1), chosen by `seed`: the
  // same n and seed give the same permutation on every machine.
  KeyPermutation(uint64_t n, uint64_t seed);

  // The image of `x`, which must be < size(). Never fails.
  uint64_t operator()(uint64_t x) const {
    if (bits_ == 0) return 0;
    uint64_t y = Mix(x);
    while (y >= n_) y = Mix(y);
    return y;
  }
  uint64_t size() const { return n_; }

 private:
  static constexpr int kRounds = 3;
  uint64_t Mix(uint64_t x) const {
    for (int r = 0; r < kRounds; ++r) {
      x = ((x + add_[r]) * mul_[r]) & mask_;
      x ^= x >> shift_;
    }
    return x;
  }

  uint64_t n_ = 1;
  int bits_ = 0;  // b; 0: n == 1
  int shift_ = 1;
  uint64_t mask_ = 0;
  uint64_t add_[kRounds] = {};
  uint64_t mul_[kRounds] = {1, 1, 1};
};

// Exact Zipf ranks: Next() returns k in 1..n with probability k^-s / H(n, s),
// H(n, s) = sum_{i=1..n} i^-s, for any s > 0 (s = 1 and n = 1, 2 included).
// Our own implementation of the rejection-inversion method of Hörmann &
// Derflinger ("Rejection-inversion to generate variates from monotone
// discrete distributions", 1996; the method behind absl::zipf_distribution
// and Apache Commons' sampler): invert the integral of x^-s over a uniform
// draw, round to the nearest rank, accept most draws by a cheap squeeze
// test, else by comparing with the exact area of the rank. O(1) per draw,
// no table, about 1.05 draws of `rng` per rank. Written here, not taken from
// abseil, so that the sequence never changes with a library version (see
// the top of this file). Immutable; Next() is safe to call concurrently
// with distinct generators.
class ZipfRanks {
 public:
  // `n` >= 1 (0 is treated as 1); `s` > 0 (anything else, NaN included, is
  // treated as the smallest positive exponent, 1e-9).
  ZipfRanks(uint64_t n, double s);

  // A rank in 1..n. Deterministic for a given generator state.
  uint64_t Next(std::mt19937_64& rng) const;

  uint64_t n() const { return n_; }
  double s() const { return s_; }

 private:
  double H(double x) const;         // integral of t^-s from 1 to x
  double HInverse(double y) const;  // its inverse
  double h(double x) const;         // x^-s

  uint64_t n_;
  double s_;
  double h_integral_x1_ = 0;  // H(1.5) - 1
  double h_integral_n_ = 0;   // H(n + 0.5)
  double squeeze_ = 0;        // accept at once when k - x <= squeeze_
};

// The chooser itself: one per thread (see the top of this file).
class KeyChooser {
 public:
  // The chooser of thread `thread_index` (>= 0) of a run of `threads`
  // (>= 1; less is treated as 1) threads for `scenario` over `data_set`.
  // Never fails: a trace mode scenario without a loaded, non-empty trace
  // draws as `random` does, and exponents or percentages a loaded scenario
  // cannot have are clamped (CheckWorkload() reports the missing trace).
  // The scenario and data set need not outlive the chooser; the trace is
  // shared.
  KeyChooser(const Scenario& scenario, const DataSetInfo& data_set, int thread_index,
             int threads);

  // The next passenger id, for every mode but trace (see replays_trace()).
  // Draws from `rng` only. Never allocates.
  int64_t Next(std::mt19937_64& rng) {
    if (ABSL_PREDICT_TRUE(kind_ == Kind::kUniform)) {
      return range_.first_id + static_cast<int64_t>(UniformBelow(rng, count_));
    }
    return NextSkewed(rng);
  }

  // Trace mode: the next operation of this thread's share; sets *is_read
  // from the trace. Draws nothing. Never allocates. Only when
  // replays_trace().
  int64_t NextTrace(bool* is_read) {
    const size_t i = trace_pos_;
    trace_pos_ += trace_step_;
    if (trace_pos_ >= trace_size_) trace_pos_ = trace_start_;
    *is_read = trace_->is_read[i];
    return FoldTraceId(trace_ids_[i], passengers_);
  }

  // True when ids come from a trace (NextTrace()), with their kinds.
  bool replays_trace() const { return kind_ == Kind::kTrace; }
  // The ids this chooser draws from.
  const IdRange& range() const { return range_; }

 private:
  enum class Kind : uint8_t { kUniform, kZipf, kHotspot, kTrace };

  int64_t NextSkewed(std::mt19937_64& rng);

  Kind kind_ = Kind::kUniform;
  IdRange range_;
  uint64_t count_ = 1;  // range_.count
  // zipf and hotspot: position -> offset in the range.
  KeyPermutation permutation_;
  ZipfRanks zipf_{1, 1.0};
  // hotspot: positions 0 .. hot_count_ - 1 are hot; an op is hot when
  // always_hot_ or a draw is below hot_threshold_ (hot_ops_pct/100 * 2^64).
  uint64_t hot_count_ = 0;
  uint64_t hot_threshold_ = 0;
  bool always_hot_ = false;
  // trace
  std::shared_ptr<const KeyTrace> trace_;
  const int64_t* trace_ids_ = nullptr;
  size_t trace_size_ = 0;
  size_t trace_start_ = 0;
  size_t trace_step_ = 1;
  size_t trace_pos_ = 0;
  int64_t passengers_ = 1;
};

}  // namespace cabench

#endif  // CABENCH_LIB_WORKLOAD_KEY_CHOOSER_H_
