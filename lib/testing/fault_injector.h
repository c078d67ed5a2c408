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

#include <cstdint>
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

}  // namespace cabench

#endif  // CABENCH_LIB_TESTING_FAULT_INJECTOR_H_
