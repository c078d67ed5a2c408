#include "lib/engine/run_control.h"

#include <signal.h>

#include "absl/strings/str_cat.h"

namespace cabench {

namespace internal {
std::atomic<int> g_stop_signal{0};
static_assert(std::atomic<int>::is_always_lock_free);
}  // namespace internal

void RequestStop(int signal_number) {
  internal::g_stop_signal.store(signal_number, std::memory_order_relaxed);
}

void ClearStopRequest() { internal::g_stop_signal.store(0, std::memory_order_relaxed); }

namespace {

void OnStopSignal(int signal_number) {
  RequestStop(signal_number);
  struct sigaction dfl = {};
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  sigaction(signal_number, &dfl, nullptr);
}

}  // namespace

void InstallStopSignalHandlers() {
  struct sigaction stop = {};
  stop.sa_handler = OnStopSignal;
  sigemptyset(&stop.sa_mask);
  sigaction(SIGINT, &stop, nullptr);
  sigaction(SIGTERM, &stop, nullptr);
}

void RunControl::Abort(const absl::Status& reason) {
  std::lock_guard<std::mutex> lock(mu_);
  if (first_reason_.ok()) {
    first_reason_ = reason.ok() ? absl::InternalError("aborted without a reason") : reason;
  }
  aborted_.store(true, std::memory_order_release);
}

absl::Status RunControl::reason() const {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!first_reason_.ok()) return first_reason_;
  }
  if (const int signal_number = StopRequested(); signal_number != 0) {
    return absl::CancelledError(absl::StrCat("interrupted by signal ", signal_number));
  }
  return absl::OkStatus();
}

int64_t RunControl::ScheduleOrigin(int64_t proposed_ns) {
  int64_t expected = 0;
  if (origin_ns_.compare_exchange_strong(expected, proposed_ns, std::memory_order_acq_rel)) {
    return proposed_ns;
  }
  return expected;
}

void RunControl::Reset() {
  std::lock_guard<std::mutex> lock(mu_);
  first_reason_ = absl::OkStatus();
  aborted_.store(false, std::memory_order_release);
  ops_done_.store(0, std::memory_order_relaxed);
  origin_ns_.store(0, std::memory_order_relaxed);
}

}  // namespace cabench
