// File: lib/metrics/clock.h
//
// A monotonic nanosecond clock for the hot path of a benchmark thread, which
// reads the clock at every step boundary of every operation. std::chrono's
// steady_clock goes through libstdc++ and the vDSO's clock_gettime, which
// reads the TSC with a fence and scales it: about 30 ns per read on the KVM
// guest cabench was tuned on (tools/limits, bench/micro/clock_bench.cc). A bare
// RDTSC there costs about 16 ns.
//
// FastMonoNowNs() therefore reads the TSC itself and scales it with a factor
// calibrated once per process against CLOCK_MONOTONIC, but only where that is
// as trustworthy as CLOCK_MONOTONIC: x86-64, the CPU reports an invariant TSC
// (CPUID 0x80000007 EDX bit 8), and the kernel itself drives CLOCK_MONOTONIC
// from the TSC (its clocksource is "tsc", which the kernel selects only after
// checking that the TSCs of all CPUs are synchronized). Anywhere else it is
// steady_clock. The result is on CLOCK_MONOTONIC's time line (same origin,
// rate within the calibration error, ~1e-5), so it may be mixed with
// steady_clock readings taken at about the same time; over hours the two may
// drift apart by NTP's frequency slew (parts per million).
//
// The RDTSC is not serialized: the CPU may execute it a few dozen cycles
// early or late relative to neighbouring instructions. That is far below the
// microseconds of any server round trip this clock times.
//
// Thread safety: every function here is safe to call concurrently. The first
// call calibrates (about 2 ms, once per process); call FastClockInit() before
// timing anything to keep that out of a measurement.
#ifndef CABENCH_LIB_METRICS_CLOCK_H_
#define CABENCH_LIB_METRICS_CLOCK_H_

#include <chrono>
#include <cstdint>

#if defined(__x86_64__)
#include <x86intrin.h>
#endif

namespace cabench {
namespace internal {

// The calibration: ns = base_ns + ((tsc - base_tsc) * mult) >> 32. `use_tsc`
// false means steady_clock.
struct TscScale {
  bool use_tsc = false;
  uint64_t base_tsc = 0;
  int64_t base_ns = 0;
  uint64_t mult = 0;  // nanoseconds per tick, in 32.32 fixed point
};

// The process-wide calibration (made on first use; thread-safe).
const TscScale& FastClockScale();

}  // namespace internal

// CLOCK_MONOTONIC (steady_clock) now, in nanoseconds. Never fails.
inline int64_t SteadyNowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Monotonic nanoseconds on CLOCK_MONOTONIC's time line, from the TSC where
// that is safe (see above), else SteadyNowNs(). Never fails; thread-safe.
inline int64_t FastMonoNowNs() {
#if defined(__x86_64__)
  const internal::TscScale& s = internal::FastClockScale();
  if (s.use_tsc) {
    // GCC and Clang both have a 128-bit integer; __extension__ keeps
    // -Wpedantic quiet about it.
    __extension__ typedef unsigned __int128 U128;
    const uint64_t ticks = __rdtsc() - s.base_tsc;
    return s.base_ns +
           static_cast<int64_t>((static_cast<U128>(ticks) * s.mult) >> 32);
  }
#endif
  return SteadyNowNs();
}

// Realtime minus monotonic (CLOCK_REALTIME - FastMonoNowNs()), measured once
// per process, so that every thread's monotonic readings land on one epoch
// time line and a wall-clock step (NTP) during a run reorders nothing.
// Thread-safe.
int64_t EpochOffsetNs();

// Calibrates now (if not done yet). Returns true when FastMonoNowNs() reads
// the TSC, false when it falls back to steady_clock. Thread-safe.
bool FastClockInit();

}  // namespace cabench

#endif  // CABENCH_LIB_METRICS_CLOCK_H_
