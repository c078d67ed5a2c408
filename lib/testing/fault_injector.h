// File: lib/testing/fault_injector.h
//
// FaultInjector decides, call by call, whether a fake client's method fails
// and with which status, and how long it pretends to take. The fakes
// (fake_kv_client.h, fake_sql_client.h) keep one per method, as leveldb's
// ErrorEnv does for its file operations:
//
//   FailNext(n, status)    the next n calls fail with `status`
//   FailEvery(k, status)   every k-th call from now on fails (k-th, 2k-th...)
//   set_latency_ns(ns)     each call first sleeps `ns` of real time
//
// FailNext takes precedence over FailEvery. Plain value type; NOT thread-safe
// on its own: the fakes guard it with their mutex.
#ifndef CABENCH_LIB_TESTING_FAULT_INJECTOR_H_
#define CABENCH_LIB_TESTING_FAULT_INJECTOR_H_

#include <array>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <thread>
#include <utility>

#include "absl/status/status.h"

namespace cabench {

class FaultInjector {
 public:
  void FailNext(int n, absl::Status status) {
    fail_next_ = n;
    next_status_ = std::move(status);
  }
  void FailEvery(int k, absl::Status status) {
    every_ = k;
    every_count_ = 0;
    every_status_ = std::move(status);
  }
  void Clear() {
    fail_next_ = 0;
    every_ = 0;
  }
  void set_latency_ns(int64_t ns) { latency_ns_ = ns; }
  int64_t latency_ns() const { return latency_ns_; }
  int64_t calls() const { return calls_; }

  // Counts one call and returns the status it must fail with, or OK.
  absl::Status OnCall() {
    ++calls_;
    if (fail_next_ > 0) {
      --fail_next_;
      return next_status_;
    }
    if (every_ > 0 && ++every_count_ % every_ == 0) return every_status_;
    return absl::OkStatus();
  }

 private:
  int64_t calls_ = 0;
  int fail_next_ = 0;
  absl::Status next_status_;
  int every_ = 0;
  int64_t every_count_ = 0;
  absl::Status every_status_;
  int64_t latency_ns_ = 0;
};

// The injection controls of one fake: a FaultInjector per method of `Method`
// (an enum 0 .. kNumMethods - 1) behind its own lock. A fake derives from it,
// which gives the fake its public FailNext / FailEvery / SetLatencyNs /
// ClearFailures / calls / total_calls, and starts every method with
// OnCall(). Thread-safe (std::mutex, which ThreadSanitizer sees).
template <typename Method, int kNumMethods>
class FaultTable {
 public:
  void FailNext(Method method, int n, absl::Status status) {
    std::lock_guard<std::mutex> lock(mu_);
    At(method).FailNext(n, std::move(status));
  }
  void FailEvery(Method method, int k, absl::Status status) {
    std::lock_guard<std::mutex> lock(mu_);
    At(method).FailEvery(k, std::move(status));
  }
  void SetLatencyNs(Method method, int64_t ns) {
    std::lock_guard<std::mutex> lock(mu_);
    At(method).set_latency_ns(ns);
  }
  // Ends every injected failure (latencies stay).
  void ClearFaults() {
    std::lock_guard<std::mutex> lock(mu_);
    for (FaultInjector& f : faults_) f.Clear();
  }
  // Calls of `method` so far, failed ones included.
  int64_t calls(Method method) const {
    std::lock_guard<std::mutex> lock(mu_);
    return faults_[static_cast<int>(method)].calls();
  }
  // Calls of every method.
  int64_t total_calls() const {
    std::lock_guard<std::mutex> lock(mu_);
    int64_t n = 0;
    for (const FaultInjector& f : faults_) n += f.calls();
    return n;
  }

 protected:
  // Counts one call of `method`, waits its latency (outside the lock, so that
  // threads sharing a fake overlap) and returns the status it must fail
  // with, or OK.
  absl::Status OnCall(Method method) {
    int64_t latency_ns = 0;
    absl::Status status;
    {
      std::lock_guard<std::mutex> lock(mu_);
      FaultInjector& f = At(method);
      latency_ns = f.latency_ns();
      status = f.OnCall();
    }
    if (latency_ns > 0) std::this_thread::sleep_for(std::chrono::nanoseconds(latency_ns));
    return status;
  }

 private:
  FaultInjector& At(Method method) { return faults_[static_cast<int>(method)]; }

  mutable std::mutex mu_;
  std::array<FaultInjector, kNumMethods> faults_;
};

}  // namespace cabench

#endif  // CABENCH_LIB_TESTING_FAULT_INJECTOR_H_
