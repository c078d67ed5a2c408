// File: lib/engine/open_loop.h
//
// OpenLoopSchedule is the open-loop Schedule of one benchmark thread: it
// gives every operation an intended start, computed from the schedule alone
// and never from when the previous operation finished (wrk2's and YCSB's
// "intended time"), so that a stalled server cannot make the load generator
// send less and hide the stall (coordinated omission). The loop records each
// operation's response time from that intended start besides its service
// time (lib/metrics/recorder.h, RecordOpenLoop).
//
// A run's total rate R is split over its T threads: each thread runs at R/T.
// A run of n operations per thread (Options::ops) is a WINDOW of
// D = n * T / R seconds from the run's common origin, and every thread's
// operations fall inside it, so that all threads end together and the run as
// a whole sends at R from the first to the last operation (no thread runs on
// alone at the end, which would make the total rate sag):
//   arrival uniform   thread t's k-th operation is due at origin + (t + kT)/R:
//                     the threads interleave evenly, T/R apart each;
//   arrival poisson   thread t's n operations are due at n independent
//                     uniform instants of [origin, origin + D), in order: a
//                     Poisson process conditioned on its count, so the
//                     superposition of the threads is a Poisson process of
//                     rate R conditioned on n*T arrivals in D (independent
//                     users, and exactly the target's count in the window;
//                     an unconditioned Poisson run of 12,000 arrivals asks
//                     for a rate 0.9% off the target by chance, one sd).
// The order statistics are drawn one after another, ascending (the next is
// the minimum of the uniforms left above the last), from the thread's own
// std::mt19937_64 (seed + thread index), written here rather than taken from a
// library so that a schedule never changes between library versions.
// Operations past n (Options::ops 0: all of them) follow with exponential
// gaps of mean T/R.
//
// Waiting: sleep until a margin before the deadline, then spin on the clock
// (the thread's timer slack is set to 1 ns so sleeps wake on time). The margin
// adapts to how late this machine's sleeps wake (twice the recent mean
// oversleep, within 20 us .. 1 ms), so that a deadline is never slept past
// when it could have been spun for; at high rates, when the gap is shorter
// than the margin, the thread only spins. What remains of the schedule's own
// error shows in the start lag the recorder keeps (start_lag_p99_us). A
// thread behind schedule does not wait: it sends at once, and the lag shows.
// Long sleeps are cut into slices of at most 20 ms so a stop is seen quickly.
//
// Thread safety: NOT safe for concurrent use; one per benchmark thread.
#ifndef CABENCH_LIB_ENGINE_OPEN_LOOP_H_
#define CABENCH_LIB_ENGINE_OPEN_LOOP_H_

#include <cstdint>
#include <random>

#include "lib/engine/run_control.h"
#include "lib/engine/schedule.h"
#include "lib/workload/scenario.h"

namespace cabench {

class OpenLoopSchedule : public Schedule {
 public:
  struct Options {
    // The run's total target rate, operations per second (> 0), over
    // `threads` threads; this is thread `thread_index`.
    double rate_per_s = 1000;
    int threads = 1;
    int thread_index = 0;
    Arrival arrival = Arrival::kPoisson;
    uint64_t seed = 42;
    // Shared by the run's threads: gives the common origin and stops waits.
    // Null: the origin is this schedule's first WaitNext().
    RunControl* control = nullptr;
    // The operations this thread will run: they fall in the window
    // (above). 0: unknown; every gap is then drawn alone.
    int64_t ops = 0;
  };

  explicit OpenLoopSchedule(const Options& options);

  // Waits for the next operation's intended start and returns it (monotonic
  // nanoseconds, CacheAside::MonoNowNs's clock). Returns at once when behind
  // schedule, or when the run is stopping.
  int64_t WaitNext() override;

  // The intended start of the operation after the current one, and the
  // mean inter-arrival gap of this thread, in nanoseconds (for tests).
  int64_t next_ns() const { return next_ns_; }
  double mean_gap_ns() const { return mean_gap_ns_; }

 private:
  // The intended start of operation `k` (0-based), given the previous one.
  int64_t Next(int64_t k, int64_t previous_ns);
  double NextGapNs();
  void WaitUntil(int64_t deadline_ns);

  Options options_;
  double mean_gap_ns_;
  std::mt19937_64 rng_;
  int64_t origin_ns_ = 0;         // the run's origin, set by the first WaitNext()
  int64_t window_ns_ = 0;         // D, in nanoseconds (0: no window)
  int64_t k_ = 0;                 // the operation the next WaitNext() returns
  double fraction_ = 0;           // poisson: the last order statistic, in [0, 1)
  int64_t next_ns_ = 0;           // 0: before the first operation
  double carry_ns_ = 0;           // fractional nanoseconds of the gaps so far
  double oversleep_ns_ = 50'000;  // recent mean oversleep (EWMA)
};

// The window of an open-loop run of `scenario` with `threads` threads, all
// shards together: queries_per_thread * threads / rate_per_s seconds; 0 for
// a closed-loop scenario. Pure.
double OpenLoopWindowS(const Scenario& scenario, int threads);

}  // namespace cabench

#endif  // CABENCH_LIB_ENGINE_OPEN_LOOP_H_
