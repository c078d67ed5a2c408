#include "lib/engine/open_loop.h"

#include <sys/prctl.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <thread>

#include "lib/cache_aside/cache_aside.h"

namespace cabench {
namespace {

constexpr int64_t kMinMarginNs = 20'000;
constexpr int64_t kMaxMarginNs = 1'000'000;
constexpr int64_t kMaxSliceNs = 20'000'000;
// The first operation of a run is due this long after the origin is set, so
// that every thread has read the origin before any is late.
constexpr int64_t kStartDelayNs = 2'000'000;

inline void CpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

}  // namespace

OpenLoopSchedule::OpenLoopSchedule(const Options& options)
    : options_(options),
      mean_gap_ns_(1e9 * std::max(1, options.threads) / std::max(options.rate_per_s, 1e-9)),
      rng_(options.seed + 0x5bd1e995ULL * (static_cast<uint64_t>(options.thread_index) + 1)) {
  if (options.ops > 0) window_ns_ = std::llround(static_cast<double>(options.ops) * mean_gap_ns_);
  // Sleeps wake on time rather than up to 50 us late (the default slack).
  prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
}

double OpenLoopWindowS(const Scenario& scenario, int threads) {
  if (scenario.rate_per_s <= 0) return 0;
  return static_cast<double>(scenario.queries_per_thread) * std::max(1, threads) /
         static_cast<double>(scenario.rate_per_s);
}

double OpenLoopSchedule::NextGapNs() {
  if (options_.arrival == Arrival::kUniform) return mean_gap_ns_;
  // u in [0, 1): 53 random bits.
  const double u = static_cast<double>(rng_() >> 11) * 0x1.0p-53;
  return -std::log1p(-u) * mean_gap_ns_;
}

void OpenLoopSchedule::WaitUntil(int64_t deadline_ns) {
  const RunControl* control = options_.control;
  for (;;) {
    const int64_t now = CacheAside::MonoNowNs();
    const int64_t left = deadline_ns - now;
    if (left <= 0) return;
    if (control != nullptr && control->stopping()) return;
    const int64_t margin =
        std::clamp(static_cast<int64_t>(2 * oversleep_ns_), kMinMarginNs, kMaxMarginNs);
    if (left <= margin) break;
    const int64_t sleep_ns = std::min(left - margin, kMaxSliceNs);
    std::this_thread::sleep_for(std::chrono::nanoseconds(sleep_ns));
    const int64_t over = CacheAside::MonoNowNs() - (now + sleep_ns);
    oversleep_ns_ = 0.9 * oversleep_ns_ + 0.1 * static_cast<double>(std::max<int64_t>(0, over));
  }
  while (CacheAside::MonoNowNs() < deadline_ns) CpuRelax();
}

int64_t OpenLoopSchedule::Next(int64_t k, int64_t previous_ns) {
  if (options_.arrival == Arrival::kUniform) {
    // Thread t's k-th operation at (t + kT)/R: computed, not accumulated, so
    // that no rounding builds up over a long run.
    const double slot = static_cast<double>(options_.thread_index) +
                        static_cast<double>(k) * std::max(1, options_.threads);
    return origin_ns_ + std::llround(1e9 * slot / std::max(options_.rate_per_s, 1e-9));
  }
  if (window_ns_ > 0 && k < options_.ops) {
    // The minimum of the ops - k uniforms left above fraction_: 1 - u^(1/m)
    // of the room above it, u in (0, 1].
    const double left = static_cast<double>(options_.ops - k);
    const double u = (static_cast<double>(rng_() >> 11) + 1.0) * 0x1.0p-53;
    fraction_ += (1.0 - fraction_) * -std::expm1(std::log(u) / left);
    return origin_ns_ + static_cast<int64_t>(fraction_ * static_cast<double>(window_ns_));
  }
  // Advance by whole nanoseconds, carrying the fraction, so that a long run
  // keeps exactly the target rate.
  carry_ns_ += NextGapNs();
  const double whole = std::floor(carry_ns_);
  carry_ns_ -= whole;
  return previous_ns + static_cast<int64_t>(whole);
}

int64_t OpenLoopSchedule::WaitNext() {
  if (next_ns_ == 0) {
    const int64_t proposed = CacheAside::MonoNowNs() + kStartDelayNs;
    origin_ns_ =
        options_.control != nullptr ? options_.control->ScheduleOrigin(proposed) : proposed;
    next_ns_ = Next(0, origin_ns_);
  }
  const int64_t due = next_ns_;
  next_ns_ = Next(++k_, due);
  WaitUntil(due);
  return due;
}

}  // namespace cabench
