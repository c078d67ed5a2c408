#include "bench/scenario_benchmark.h"

#include <memory>
#include <optional>
#include <string>

#include "lib/engine/plan.h"
#include "lib/metrics/order_stats.h"

namespace cabench {

void ScenarioBenchmark::Register() {
  if (run_.shard_threads().empty()) return;
  const std::string base = BenchmarkBaseName(run_.scenario());
  benchmark::RegisterBenchmark(base.c_str(), [this](benchmark::State& state) { Run(state); })
      ->Iterations(run_.scenario().queries_per_thread)
      ->UseRealTime()
      ->Threads(static_cast<int>(run_.shard_threads().size()))
      // With repetitions, each counter's 95% interval of its mean (aggregate
      // rows <name>_ci95_lo and <name>_ci95_hi beside mean, median, stddev).
      ->ComputeStatistics("ci95_lo", &MeanCi95Lo)
      ->ComputeStatistics("ci95_hi", &MeanCi95Hi);
}

void ScenarioBenchmark::Run(benchmark::State& state) {
  std::unique_ptr<ScenarioRun::Thread> thread = run_.BeginThread(state.thread_index());
  // One batch: the whole timed part is the engine's loop. A thread whose
  // set-up failed runs no operation but still passes both of the library's
  // barriers.
  while (state.KeepRunningBatch(run_.scenario().queries_per_thread)) {
    if (absl::Status s = thread->Loop(); !s.ok()) {
      state.SkipWithError(std::string(s.message()).c_str());
    }
  }
  if (std::optional<RunReport> report = thread->End(); report.has_value()) {
    for (const auto& [name, value] : report->counters) state.counters[name] = value;
    if (!report->label.empty()) state.SetLabel(report->label);
  }
}

}  // namespace cabench
