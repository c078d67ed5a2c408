// File: lib/engine/validity.h
//
// Whether a run's numbers can carry a conclusion: the verdict a run gives on
// itself, from its own counters and per-second series.
//
// A run is INVALID for each of these reasons (one word each, in this order):
//   client_bound      the load generator was the bottleneck: cabench's own
//                     CPU (client_cpu_ms over wall_s) reached 90% of the
//                     machine's cores, so the servers were not what limited
//                     the rate
//   not_steady        the measured window was not at steady state: between
//                     its halves (whole seconds, at least 4) the throughput
//                     moved by more than 20% or the hit rate by more than 5
//                     points (a cache still filling, a machine that got
//                     busier)
//   target_missed     the open loop fell short of its target (target_missed)
//   shared_servers    other clients used the servers during the run
//                     (server_figures_shared)
//   warmup_unsettled  the warm-up ended before the hit rate was steady
//                     (steady_reached 0)
//   few_samples       too few operations to bound the 99th percentile the run
//                     reports (under 368: lib/metrics/order_stats.h)
// and VALID when none holds. The counters: valid (1 or 0), client_cores
// (client_cpu_ms / wall_s / 1000: cores the client kept busy; with the
// servers' statistics only), trend_pct and hit_rate_trend_pts (the second
// half against the first; runs of 4 whole seconds or more); the reasons go to
// the benchmark's label ("invalid: not_steady, few_samples").
//
// Pure functions; safe to call concurrently.
#ifndef CABENCH_LIB_ENGINE_VALIDITY_H_
#define CABENCH_LIB_ENGINE_VALIDITY_H_

#include <optional>
#include <string>
#include <vector>

#include "lib/engine/run.h"
#include "lib/metrics/recorder.h"

namespace cabench {

// The thresholds above.
inline constexpr double kClientBoundShare = 0.9;
inline constexpr double kNotSteadyTrendPct = 20.0;
inline constexpr double kNotSteadyHitRatePts = 5.0;
inline constexpr int kMinSecondsForTrend = 4;

// How the measured window's second half differs from its first, over the
// whole seconds of `recorder`'s series (the first and the last second, which
// the run only partly covers, left out; an odd middle second too).
struct Trend {
  double ops_pct = 0;                  // (second half's ops - first's) / first's x 100
  std::optional<double> hit_rate_pts;  // hit rate difference, points (runs with reads of the cache)
};

// The trend of the recorder's series; nullopt with fewer than
// kMinSecondsForTrend whole seconds, or none with operations in its first half.
std::optional<Trend> MeasuredTrend(const LatencyRecorder& recorder);

struct Validity {
  std::vector<std::string> reasons;  // the words above, in that order
  std::optional<double> client_cores;
  std::optional<Trend> trend;
  bool valid() const { return reasons.empty(); }
  // "invalid: a, b", or "" when valid.
  std::string Label() const;
  // The counters valid, client_cores, trend_pct, hit_rate_trend_pts (those
  // that could be judged).
  std::vector<NamedValue> Counters() const;
};

// The verdict on a run whose counters are `counters` (RunCounters() and the
// measured ones) and whose operations `recorder` holds, on a machine of
// `cores` cores.
Validity JudgeRun(const std::vector<NamedValue>& counters, const LatencyRecorder& recorder,
                  int cores);

}  // namespace cabench

#endif  // CABENCH_LIB_ENGINE_VALIDITY_H_
