// File: lib/engine/run_control.h
//
// RunControl is what the threads of one benchmark run share while they run:
// the flag that stops them early and the reason, and a running count of
// operations for progress reports. A run stops early when one thread aborts it
// (a server down for longer than allowed, a failed set-up) or when the process
// is asked to stop (RequestStop(), from a SIGINT/SIGTERM handler). Either way
// every thread sees it before its next operation, finishes that one, and
// leaves its loop; nothing waits for anything else, so a stop can never hang
// (lib/engine/run.h says how the run is then finished).
//
// Thread safety: every method is safe to call concurrently. RequestStop() is
// also async-signal-safe (one lock-free atomic store).
#ifndef CABENCH_LIB_ENGINE_RUN_CONTROL_H_
#define CABENCH_LIB_ENGINE_RUN_CONTROL_H_

#include <atomic>
#include <cstdint>
#include <mutex>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"

namespace cabench {

namespace internal {
// The signal number given to RequestStop(), else 0.
extern std::atomic<int> g_stop_signal;
}  // namespace internal

// Asks every run in the process to stop at its next operation, and runs that
// have not started yet to not start. `signal_number` (> 0) is reported in the
// reason. Async-signal-safe.
void RequestStop(int signal_number);
// The signal number given to RequestStop(), or 0 when none was requested.
inline int StopRequested() { return internal::g_stop_signal.load(std::memory_order_relaxed); }
// Forgets a stop request (tests only: a real stop ends the process).
void ClearStopRequest();
// Makes SIGINT and SIGTERM call RequestStop(); each handler then gives its
// signal its default action back, so a second one ends the process at once.
void InstallStopSignalHandlers();

class RunControl {
 public:
  RunControl() = default;
  RunControl(const RunControl&) = delete;
  RunControl& operator=(const RunControl&) = delete;

  // Stops the run; the first reason given is kept. `reason` must not be OK.
  void Abort(const absl::Status& reason);

  // True once the run was aborted or the process asked to stop. Two relaxed
  // loads: cheap enough to test before every operation.
  bool stopping() const { return aborted_.load(std::memory_order_relaxed) || StopRequested() != 0; }
  // Why the run stopped: the first Abort() reason, else Cancelled naming the
  // signal when the process was asked to stop, else OK.
  absl::Status reason() const;
  // True when Abort() was called (a stop request alone does not count).
  bool aborted() const { return aborted_.load(std::memory_order_acquire); }

  // Operations done by every thread so far, as reported by the threads
  // (in steps of ThreadLoop::kProgressStep).
  void AddOps(int64_t n) { ops_done_.fetch_add(n, std::memory_order_relaxed); }
  int64_t ops_done() const { return ops_done_.load(std::memory_order_relaxed); }

  // The time origin of the run's open-loop schedules, on the monotonic clock:
  // the first caller sets it to `proposed_ns`, every later caller (the other
  // threads of the run) gets that same value, so the threads' schedules are
  // phase-staggered against one origin.
  int64_t ScheduleOrigin(int64_t proposed_ns);
  // The origin set by ScheduleOrigin(), or 0 when no schedule set one (a
  // closed-loop run).
  int64_t schedule_origin_ns() const { return origin_ns_.load(std::memory_order_acquire); }

  // Back to a fresh run's state (call when no thread of the run is running).
  void Reset();

 private:
  std::atomic<bool> aborted_{false};
  std::atomic<int64_t> ops_done_{0};
  std::atomic<int64_t> origin_ns_{0};  // 0: not set
  mutable std::mutex mu_;
  absl::Status first_reason_ ABSL_GUARDED_BY(mu_);
};

}  // namespace cabench

#endif  // CABENCH_LIB_ENGINE_RUN_CONTROL_H_
