#include "bench/scenario_benchmark.h"

#include <memory>
#include <optional>
#include <string>

#include "lib/engine/plan.h"

namespace cabench {

void ScenarioBenchmark::Register() {
  if (run_.shard_threads().empty()) return;
  const std::string base = BenchmarkBaseName(run_.scenario());
  benchmark::RegisterBenchmark(base.c_str(), [this](benchmark::State& state) { Run(state); })
      ->Iterations(run_.scenario().queries_per_thread)
      ->UseRealTime()
      ->Threads(static_cast<int>(run_.shard_threads().size()));
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
  }
}

}  // namespace cabench
