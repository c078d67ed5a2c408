// File: bench/scenario_benchmark.h
//
// ScenarioBenchmark turns one Scenario at one thread count into one Google
// Benchmark, named
//   CacheAside/<scenario>/read_pct:R/ttl_ms:T/access:A/iterations:Q/real_time/threads:N
// with Iterations = queries per thread and real time (the servers' waits are
// the point). The lifecycle is written for Google Benchmark 1.7.1, where the
// benchmark function runs in every thread on every run (repetitions included)
// and the library holds all threads at a barrier when the timed loop starts
// and ends:
//
//   every thread   connect its own cache and database clients (untimed)
//   thread 0       reset the per-run aggregate; delete the scenario's keys
//                  (flush), warm up, note the booking high-water mark
//   -- start barrier (inside the library) --
//   every thread   the timed loop: Workload::Next -> CacheAside -> Record
//   every thread   merge its recorder into the run's aggregate (mutex), set
//                  the additive counters, count down
//   thread 0       wait for all merges, set ratios and percentiles, write the
//                  time series, delete the bookings this run inserted and,
//                  if the scenario asks, its keys
//
// A failure before the loop ends the run with SkipWithError in every thread
// (thread 0 raises a flag that the other threads check once per operation),
// so the JSON records the failure instead of a bogus time. So does
// RequestStop() (SIGINT/SIGTERM): the run stops at its next operation and
// still removes the bookings it inserted.
//
// Faults during the loop (a server restarted, paused or a connection reset)
// do not end the run: each failed operation counts in `errors` (and
// errors_cache / errors_db), and a Reconnector (lib/cache_aside/reconnector.h)
// brings broken clients back between operations with capped exponential
// backoff (10 ms .. 500 ms), counted in `reconnects`, `reconnect_failures`
// and `reconnect_wait_ms`. With the scenario's fallback_to_db, reads during a
// cache outage go to the database (`fallback_reads`). A server down for longer
// than SuiteEnv::max_outage_ms ends the run as failed. Clean-up after the loop
// reconnects a broken client first (for up to max_outage_ms; bookings it
// cannot remove are removed by the next cabench run, see CheckServers).
//
// Ownership: main() owns every ScenarioBenchmark for the whole run of the
// library; the registered benchmark holds a raw pointer to it. Thread safety:
// Run() is called concurrently by the benchmark's threads; the per-run shared
// state is guarded as documented on each member.
#ifndef CABENCH_BENCH_SCENARIO_BENCHMARK_H_
#define CABENCH_BENCH_SCENARIO_BENCHMARK_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include <latch>
#include <mutex>

#include "absl/base/thread_annotations.h"
#include "bench/suite_env.h"
#include "benchmark/benchmark.h"
#include "lib/cache_aside/cache_aside.h"
#include "lib/cache_aside/reconnector.h"
#include "lib/clients/kv_client.h"
#include "lib/clients/sql_client.h"
#include "lib/metrics/recorder.h"
#include "lib/workload/scenario.h"

namespace cabench {

// Asks the benchmarks to stop: the running one at its next operation, later
// ones before they connect. Async-signal-safe (one lock-free atomic store):
// main's SIGINT/SIGTERM handler calls it with the signal number.
void RequestStop(int signal_number);
// The signal number given to RequestStop(), or 0 when none was requested.
int StopRequested();

class ScenarioBenchmark {
 public:
  // `env` must outlive this object and is read-only during runs.
  ScenarioBenchmark(const Scenario& scenario, int threads, const SuiteEnv* env);
  ScenarioBenchmark(const ScenarioBenchmark&) = delete;
  ScenarioBenchmark& operator=(const ScenarioBenchmark&) = delete;

  // Registers the benchmark with Google Benchmark. Call once, from main,
  // before RunSpecifiedBenchmarks().
  void Register();

  // The benchmark body; called by Google Benchmark in every thread.
  void Run(benchmark::State& state);

  // Runs that ended with an error so far. Read after the benchmarks ran.
  int failed_runs() const { return failed_runs_.load(); }

  // "CacheAside/<scenario>/read_pct:R/ttl_ms:T/access:A/iterations:Q/real_time/threads:N"
  const std::string& full_name() const { return full_name_; }
  // The same name for `scenario` at `threads`, without an object.
  static std::string FullName(const Scenario& scenario, int threads);

 private:
  // Thread 0, before the loop: flush, warm up, note the high-water mark.
  absl::Status PrepareRun(KvClient* kv, SqlClient* sql);
  // Thread 0, after every thread merged: counters, time series, clean-up
  // (reconnecting the clients through `pattern`/`reconnector` if broken).
  void FinishRun(benchmark::State& state, KvClient* kv, SqlClient* sql, CacheAside& pattern,
                 Reconnector& reconnector);
  // Records the first error of the run and raises the abort flag.
  void Abort(const absl::Status& status);

  const Scenario scenario_;
  const int threads_;
  const SuiteEnv* const env_;
  std::string full_name_;
  std::atomic<int> failed_runs_{0};
  int run_index_ = 0;  // thread 0 only

  // Per-run state. Written by thread 0 before the start barrier (which orders
  // it before every other thread's reads), except where guarded by mu_.
  // std::mutex and std::latch rather than absl::Mutex and BlockingCounter:
  // Debian's abseil is not built for ThreadSanitizer, which then cannot see
  // absl's synchronization and reports false races; the std ones it sees.
  std::unique_ptr<std::latch> merged_;
  std::atomic<bool> abort_{false};
  int64_t booking_high_water_ = 0;
  std::mutex mu_;
  LatencyRecorder aggregate_ ABSL_GUARDED_BY(mu_);
  std::string error_ ABSL_GUARDED_BY(mu_);          // why the run aborted
  std::string last_op_error_ ABSL_GUARDED_BY(mu_);  // last failed operation's error
  int64_t insert_retries_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t fallback_reads_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace cabench

#endif  // CABENCH_BENCH_SCENARIO_BENCHMARK_H_
