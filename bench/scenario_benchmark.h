// File: bench/scenario_benchmark.h
//
// ScenarioBenchmark makes one Google Benchmark of one ScenarioRun
// (lib/run/scenario_run.h): a Scenario at one thread count, named
//   CacheAside/<scenario>/read_pct:R/ttl_ms:T/access:A[...]/iterations:Q/real_time/threads:N
// (lib/engine/plan.h) with Iterations = queries per thread and real time
// (the servers' waits are the point). It is registration and the library's
// lifecycle only; what a run does, and its counters, are the ScenarioRun's.
// Written for Google Benchmark 1.7.1, where the benchmark function runs in
// every thread on every run (repetitions included) and the library holds all
// threads at a barrier when the timed part starts and ends:
//
//   every thread   ScenarioRun::BeginThread (connect, prepare; untimed)
//   -- start barrier (inside the library: KeepRunningBatch) --
//   every thread   Thread::Loop(): the whole timed part
//   -- end barrier (inside the library) --
//   every thread   Thread::End(); the last one hands the run's counters to
//                  the library (state.counters)
//
// A run that stops early is reported with SkipWithError: the JSON records the
// failure, not a bogus time. A sharded run registers its local threads
// (Threads(<its count>), so the library reports threads:<local>).
//
// Ownership: main() owns every ScenarioBenchmark for the whole run of the
// library; the registered benchmark holds a raw pointer to it. Thread safety:
// Run() is called concurrently by the benchmark's threads.
#ifndef CABENCH_BENCH_SCENARIO_BENCHMARK_H_
#define CABENCH_BENCH_SCENARIO_BENCHMARK_H_

#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "lib/run/run_env.h"
#include "lib/run/scenario_run.h"
#include "lib/workload/scenario.h"

namespace cabench {

class ScenarioBenchmark {
 public:
  // `env` must outlive this object and is read-only during runs.
  ScenarioBenchmark(const Scenario& scenario, int threads, const RunEnv* env)
      : run_(scenario, threads, env) {}
  ScenarioBenchmark(const ScenarioBenchmark&) = delete;
  ScenarioBenchmark& operator=(const ScenarioBenchmark&) = delete;

  // Registers the benchmark with Google Benchmark (nothing when this shard
  // has none of its threads). Call once, from main, before
  // RunSpecifiedBenchmarks().
  void Register();

  // The benchmark body; called by Google Benchmark in every thread.
  void Run(benchmark::State& state);

  // This run measures itself against `twin`'s, which runs just before it and
  // must outlive it. Call before the benchmarks run.
  void set_twin(const ScenarioBenchmark* twin) { run_.set_twin(&twin->run_); }

  const ScenarioRun& run() const { return run_; }
  const std::string& full_name() const { return run_.full_name(); }
  const std::vector<int>& shard_threads() const { return run_.shard_threads(); }
  const std::optional<ScenarioRun::ShardRecord>& shard_record() const {
    return run_.shard_record();
  }
  int failed_runs() const { return run_.failed_runs(); }
  int threads() const { return run_.threads(); }

 private:
  ScenarioRun run_;
};

}  // namespace cabench

#endif  // CABENCH_BENCH_SCENARIO_BENCHMARK_H_
