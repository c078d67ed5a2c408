// Micro-benchmarks of the clocks a benchmark thread reads at every step
// boundary (two to four times per operation): steady_clock through libstdc++
// and the vDSO, and lib/metrics' FastMonoNowNs (calibrated TSC where the
// kernel trusts it). Compare their CPU times within one run.
#include <cstdint>

#include "benchmark/benchmark.h"
#include "lib/metrics/clock.h"

namespace cabench {
namespace {

void BM_Clock_SteadyNow(benchmark::State& state) {
  for (auto _ : state) {
    benchmark::DoNotOptimize(SteadyNowNs());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Clock_SteadyNow);

void BM_Clock_FastMonoNow(benchmark::State& state) {
  state.counters["tsc"] = FastClockInit() ? 1 : 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(FastMonoNowNs());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Clock_FastMonoNow);

}  // namespace
}  // namespace cabench
