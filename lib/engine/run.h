// File: lib/engine/run.h
//
// RunAggregate is what the threads of one benchmark run share: the
// RunControl that stops them, and the merged result of their loops. The end
// of a run is wait-free between threads: each thread, once its loop has
// returned (all its operations done, or the run stopped), merges its
// ThreadResult under a short mutex, and the LAST thread to merge finishes the
// run (reports it, writes its files, removes its rows) while the others have
// already returned. No thread ever waits for another to arrive anywhere, so a
// stop at any moment (a signal, an aborted run, threads that finished at
// different times) cannot hang. With Google Benchmark this composes with the
// library's own end barrier, which every thread reaches by leaving its loop.
//
// RunCounters() turns a finished run into the counters of
// lib/metrics/names.def, set once per run, by name.
//
// Thread safety: Merge() and control() are safe to call concurrently; totals()
// and Reset() only by the thread that merged last (Merge() returned true),
// when no other thread of the run still uses the aggregate.
#ifndef CABENCH_LIB_ENGINE_RUN_H_
#define CABENCH_LIB_ENGINE_RUN_H_

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "lib/engine/run_control.h"
#include "lib/engine/thread_loop.h"
#include "lib/metrics/names.h"
#include "lib/metrics/summary.h"

namespace cabench {

class RunAggregate {
 public:
  // A run of `threads` threads (>= 1).
  explicit RunAggregate(int threads);
  RunAggregate(const RunAggregate&) = delete;
  RunAggregate& operator=(const RunAggregate&) = delete;

  RunControl& control() { return control_; }
  int threads() const { return threads_; }

  // Adds one thread's result. Returns true for exactly one of the run's
  // threads, the last to merge: it then owns totals() and finishes the run.
  // Never waits for another thread. Call once per thread per run.
  bool Merge(const ThreadResult& thread);

  // Every thread's results together (last merger only). The ids of
  // inserted bookings are concatenated; counts are summed; last_op_error is
  // one of the threads' last errors.
  const ThreadResult& totals() const { return totals_; }

  // Back to an empty run, for the next one (repetitions). Last merger only.
  void Reset();

 private:
  const int threads_;
  RunControl control_;
  std::mutex mu_;
  int merged_ ABSL_GUARDED_BY(mu_) = 0;
  ThreadResult totals_ ABSL_GUARDED_BY(mu_);
};

// An open-loop run misses its target when it achieves less than this share
// of it (target_missed).
inline constexpr double kTargetAchievedFraction = 0.99;

// One counter: a name of lib/metrics/names.def and its value.
using NamedValue = std::pair<std::string, double>;

// What the counters need beyond the threads' results.
struct RunFacts {
  // The scenario has a cache: hit rate, prediction and cache-hit ratios are
  // reported (without one they are left out, never reported as 0).
  bool cache = true;
  // lib/model's prediction for the run, when there is one.
  std::optional<double> predicted_hit_rate_pct;
  // Bookings the run inserted and removed at its end.
  int64_t bookings_removed = 0;
  // Open loop: the target rate of all threads together (0: closed loop).
  double target_rate_per_s = 0;
  // Open loop: the share of the run's threads this process ran (a shard's
  // local threads / all threads; 1 unsharded): its own target is
  // target_rate_per_s * rate_share.
  double rate_share = 1.0;
  // Open loop: when the schedule began sending (its origin, epoch ns) and
  // the window it sends in (OpenLoopWindowS). When both are set, wall_s and
  // ops_per_s are judged over that window, extended to the last operation's
  // end if that came later.
  int64_t schedule_start_epoch_ns = 0;
  double schedule_window_s = 0;
  // The run tracked key versions (ThreadLoop::Options::key_versions): stale
  // reads, duplicate fills and database reads in flight are reported.
  bool key_versions = false;
  // The scenario's single_flight and early refresh: their counters are
  // reported (else absent).
  bool single_flight = false;
  bool early_refresh = false;
  // Counters measured outside the threads' results (the servers' own
  // statistics, the no-cache twin, the connection pool, the schedule), by
  // id. They take precedence over what the summary gives.
  std::map<CounterId, double> measured;
};

// `summary` with the wall time and throughput a run reports: an open-loop
// run's (schedule_start_epoch_ns and schedule_window_s set) are over the
// window its schedule sent in, extended to the last operation's end if that
// came later; any other run's are the summary's. gain_ops_x divides these, as
// RunCounters reports them. Pure; safe to call concurrently.
Summary ReportedSummary(const ThreadResult& totals, const Summary& summary, const RunFacts& facts);

// The counters of a finished run, in the order of names.def: every run
// counter that applies, then <class>_<stat> for each class that had
// operations and <step>_<stat> for each step that ran. A counter that does
// not apply is absent: hit rate, prediction, speedup and miss_vs_hit without
// a cache or without hits; a class's or step's counters without operations;
// a percentile (and its interval) whose samples are too few to bound it at
// 95% (lib/metrics/order_stats.h: p50 needs 6, p95 72, p99 368, p999 3,688).
// Pure; safe to call concurrently.
std::vector<NamedValue> RunCounters(const ThreadResult& totals, const Summary& summary,
                                    const RunFacts& facts);

// Why RunCounters() leaves percentiles of `summary` out: one line naming the
// overall and per-class percentiles with too few samples, and how many each
// needs; empty when none is left out. Pure; safe to call concurrently.
std::string PercentilesLeftOut(const Summary& summary);

}  // namespace cabench

#endif  // CABENCH_LIB_ENGINE_RUN_H_
