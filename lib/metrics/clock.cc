#include "lib/metrics/clock.h"

#include <fstream>
#include <string>

#if defined(__x86_64__)
#include <cpuid.h>
#endif

namespace cabench {
namespace internal {
namespace {

#if defined(__x86_64__)
bool InvariantTsc() {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (__get_cpuid_max(0x80000000u, nullptr) < 0x80000007u) return false;
  __cpuid(0x80000007u, eax, ebx, ecx, edx);
  return (edx & (1u << 8)) != 0;
}

// The kernel drives CLOCK_MONOTONIC from the TSC only after its own
// synchronization checks; anything else (kvm-clock, hpet) means we should not
// trust raw TSC values across CPUs either.
bool KernelUsesTsc() {
  std::ifstream in("/sys/devices/system/clocksource/clocksource0/current_clocksource");
  std::string name;
  return static_cast<bool>(in >> name) && name == "tsc";
}

// One (tsc, ns) pair taken as close together as possible: the pair whose
// steady_clock reads bracket the RDTSC most tightly out of a few tries.
void Sample(uint64_t* tsc, int64_t* ns) {
  int64_t best_width = INT64_MAX;
  for (int i = 0; i < 8; ++i) {
    const int64_t before = SteadyNowNs();
    const uint64_t t = __rdtsc();
    const int64_t after = SteadyNowNs();
    if (after - before < best_width) {
      best_width = after - before;
      *tsc = t;
      *ns = before + (after - before) / 2;
    }
  }
}

TscScale Calibrate() {
  TscScale s;
  if (!InvariantTsc() || !KernelUsesTsc()) return s;
  uint64_t tsc0 = 0, tsc1 = 0;
  int64_t ns0 = 0, ns1 = 0;
  Sample(&tsc0, &ns0);
  // ~2 ms of spinning: endpoint jitter of ~100 ns gives ~5e-5 rate error.
  // Spinning, not sleeping, so that a descheduled thread cannot stretch it
  // unnoticed (a longer window only helps anyway).
  while (SteadyNowNs() - ns0 < 2'000'000) {
  }
  Sample(&tsc1, &ns1);
  if (tsc1 <= tsc0 || ns1 <= ns0) return s;
  const long double ns_per_tick = static_cast<long double>(ns1 - ns0) /
                                  static_cast<long double>(tsc1 - tsc0);
  // Sanity: a TSC between 100 MHz and 20 GHz.
  if (!(ns_per_tick > 0.05L && ns_per_tick < 10.0L)) return s;
  s.mult = static_cast<uint64_t>(ns_per_tick * 4294967296.0L + 0.5L);
  s.base_tsc = tsc1;
  s.base_ns = ns1;
  s.use_tsc = true;
  return s;
}
#endif

}  // namespace

const TscScale& FastClockScale() {
#if defined(__x86_64__)
  static const TscScale scale = Calibrate();
#else
  static const TscScale scale;
#endif
  return scale;
}

}  // namespace internal

bool FastClockInit() { return internal::FastClockScale().use_tsc; }

int64_t EpochOffsetNs() {
  static const int64_t offset = [] {
    const int64_t real = std::chrono::duration_cast<std::chrono::nanoseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
    return real - FastMonoNowNs();
  }();
  return offset;
}

}  // namespace cabench
