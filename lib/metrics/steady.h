// The steady-state rule: when a hit rate has stopped moving, over consecutive
// windows of reads (the warm-up's until_steady, lib/engine/thread_loop.cc,
// and the steady second tools/plot marks on a run's series, through
// cabench_report --steady_start).
//
// Steady at the first window i >= 2 such that windows i - 1 and i each differ
// from the window before by less than `steady_pct` points of hit rate. A
// window without reads counts as 0%.
//
// Not thread-safe: one SteadyRule per sequence of windows.
#ifndef CABENCH_LIB_METRICS_STEADY_H_
#define CABENCH_LIB_METRICS_STEADY_H_

#include <cstddef>
#include <optional>
#include <vector>

namespace cabench {

class SteadyRule {
 public:
  explicit SteadyRule(double steady_pct) : steady_pct_(steady_pct) {}

  // Adds the next window's hit rate, % (0 for a window without reads);
  // returns true when the rate is steady as of this window.
  bool Add(double rate_pct);

 private:
  double steady_pct_;
  double rates_[3] = {-1, -1, -1};  // the last three windows, newest last
};

// The index of the first window at which `rates` are steady by the rule
// above; nullopt when none is.
std::optional<size_t> SteadyStart(const std::vector<double>& rates, double steady_pct);

}  // namespace cabench

#endif  // CABENCH_LIB_METRICS_STEADY_H_
