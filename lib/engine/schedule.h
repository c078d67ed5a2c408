// File: lib/engine/schedule.h
//
// The small interfaces through which new behaviour plugs into the one
// per-thread loop (lib/engine/thread_loop.h) without a second copy of it:
//
//   Schedule       when the next operation starts. No schedule is the closed
//                  loop: each operation starts when the previous one returned.
//                  An open-loop schedule (a target rate) waits until the next
//                  operation's intended start and returns it, so the loop can
//                  record the time a user waiting in line would see.
//   OpObserver     sees every operation before it runs and once it finished,
//                  before it is recorded (miss causes, staleness, stampede
//                  counts, ...).
//   ProgressSink   hears, every ThreadLoop::kProgressStep operations of one
//                  thread, how many operations all threads have done.
//
// Ownership: the loop holds raw pointers; the caller keeps the objects alive
// for the loop's life. Thread safety: the loop calls each object from its own
// thread only; an object shared by several loops must be safe for that.
#ifndef CABENCH_LIB_ENGINE_SCHEDULE_H_
#define CABENCH_LIB_ENGINE_SCHEDULE_H_

#include <cstdint>

#include "lib/metrics/op_types.h"
#include "lib/workload/workload.h"

namespace cabench {

class Schedule {
 public:
  virtual ~Schedule() = default;
  // Waits until the next operation is due and returns its intended start on
  // the monotonic clock (CacheAside::MonoNowNs), in nanoseconds; the loop
  // then records the operation's response time from that start too. A
  // schedule whose time is not the monotonic clock (a simulation's virtual
  // clock) returns a negative value: nothing extra is recorded.
  virtual int64_t WaitNext() = 0;
};

class OpObserver {
 public:
  virtual ~OpObserver() = default;
  // `op` is about to run (a chance to look at shared state before it does).
  virtual void BeforeOp(const Op& op) { (void)op; }
  // `op` ran with outcome `result`, starting at `start_mono_ns`
  // (CacheAside::MonoNowNs's clock). Called before the result is recorded:
  // an observer may annotate it (e.g. result.miss_cause).
  virtual void OnOp(const Op& op, OpResult& result, int64_t start_mono_ns) = 0;
};

class ProgressSink {
 public:
  virtual ~ProgressSink() = default;
  // `ops_all_threads` operations are done so far by every thread of the run.
  virtual void OnProgress(int64_t ops_all_threads) = 0;
};

}  // namespace cabench

#endif  // CABENCH_LIB_ENGINE_SCHEDULE_H_
