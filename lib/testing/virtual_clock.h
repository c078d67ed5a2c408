// File: lib/testing/virtual_clock.h
//
// VirtualClock is a settable time source for the in-memory fakes: a test (or
// the hit-rate model's simulation) decides when time passes, so TTL expiry is
// exact and needs no sleeping. Time is an int64 count of nanoseconds from an
// arbitrary origin; it only moves when the owner calls AdvanceNs() or SetNs().
//
// Ownership: the test owns the clock; fakes hold a pointer to it, so it must
// outlive them. Thread safety: safe for concurrent use (one atomic).
#ifndef CABENCH_LIB_TESTING_VIRTUAL_CLOCK_H_
#define CABENCH_LIB_TESTING_VIRTUAL_CLOCK_H_

#include <atomic>
#include <cstdint>

namespace cabench {

class VirtualClock {
 public:
  explicit VirtualClock(int64_t start_ns = 0) : now_ns_(start_ns) {}
  VirtualClock(const VirtualClock&) = delete;
  VirtualClock& operator=(const VirtualClock&) = delete;

  // The current virtual time in nanoseconds.
  int64_t NowNs() const { return now_ns_.load(std::memory_order_acquire); }
  // Moves time forward by `ns` (>= 0).
  void AdvanceNs(int64_t ns) { now_ns_.fetch_add(ns, std::memory_order_acq_rel); }
  void AdvanceMs(int64_t ms) { AdvanceNs(ms * 1000000); }
  // Sets the time; tests use it to jump, callers keep it monotonic.
  void SetNs(int64_t ns) { now_ns_.store(ns, std::memory_order_release); }

 private:
  std::atomic<int64_t> now_ns_;
};

}  // namespace cabench

#endif  // CABENCH_LIB_TESTING_VIRTUAL_CLOCK_H_
