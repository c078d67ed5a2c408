// Micro-benchmarks of the engine's per-operation overhead: the Workload's op
// generator and the CacheAside pattern over the in-process null backends of
// lib/testing (no server, no map), so that what is measured is the harness
// itself. DESIGN.md §6 targets <= 150 ns per operation for the whole path a
// benchmark thread runs (BM_CacheAside_Mixed: Next + Read/Write + Record).
#include <atomic>
#include <cstdint>

#include "benchmark/benchmark.h"
#include "lib/cache_aside/cache_aside.h"
#include "lib/metrics/recorder.h"
#include "lib/testing/null_clients.h"
#include "lib/workload/data_set.h"
#include "lib/workload/scenario.h"
#include "lib/workload/workload.h"

namespace cabench {
namespace {

DataSetInfo MicroDataSet() {
  DataSetInfo ds;
  ds.preset = "micro";
  ds.passengers = 36000;
  ds.flights = 1000;
  return ds;
}

void BM_Workload_Next(benchmark::State& state) {
  Scenario s;
  Workload w(s, MicroDataSet(), 0);
  for (auto _ : state) {
    const Op& op = w.Next();
    benchmark::DoNotOptimize(op.passenger_id);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Workload_Next);

void BM_CacheAside_ReadHit(benchmark::State& state) {
  Scenario s;
  NullKvClient kv(/*hit=*/true);
  NullSqlClient sql;
  CacheAside ca(&kv, &sql, s);
  int64_t id = 4;
  for (auto _ : state) {
    OpResult r = ca.Read(id);
    benchmark::DoNotOptimize(r);
    id = id < 10003 ? id + 1 : 4;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CacheAside_ReadHit);

void BM_CacheAside_ReadMiss(benchmark::State& state) {
  Scenario s;
  s.ttl_jitter_pct = static_cast<int>(state.range(0));
  NullKvClient kv(/*hit=*/false);
  NullSqlClient sql;
  CacheAside ca(&kv, &sql, s);
  int64_t id = 4;
  for (auto _ : state) {
    OpResult r = ca.Read(id);
    benchmark::DoNotOptimize(r);
    id = id < 10003 ? id + 1 : 4;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CacheAside_ReadMiss)->ArgName("jitter_pct")->Arg(0)->Arg(20);

void BM_CacheAside_Write(benchmark::State& state) {
  Scenario s;
  s.write_policy = static_cast<WritePolicy>(state.range(0));
  NullKvClient kv;
  NullSqlClient sql;
  CacheAside ca(&kv, &sql, s);
  NewBooking b;
  b.flight_id = 7;
  b.seat = "0000";
  b.passenger_id = 42;
  b.price_cents = 1000;
  for (auto _ : state) {
    OpResult r = ca.Write(b);
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}
// 0: refresh (INSERT, SELECT, SET), 1: invalidate (INSERT, DEL).
BENCHMARK(BM_CacheAside_Write)->ArgName("policy")->Arg(0)->Arg(1);

// The whole per-op path of a benchmark thread, as bench/scenario_benchmark.cc
// runs it: the abort check, draw the op (80% reads), run it through the
// pattern (reads hit), file it in the thread's recorder, count it for the
// progress line. tools/limits (c) reports this benchmark's CPU time.
void BM_CacheAside_Mixed(benchmark::State& state) {
  Scenario s;
  s.read_pct = 80;
  NullKvClient kv(/*hit=*/true);
  NullSqlClient sql;
  Workload w(s, MicroDataSet(), 0);
  CacheAside::Options options;
  options.seat_source = &w;
  CacheAside ca(&kv, &sql, s, options);
  LatencyRecorder recorder;
  std::atomic<bool> abort{false};
  int64_t own_ops = 0;
  int64_t ticks = 0;
  for (auto _ : state) {
    if (abort.load(std::memory_order_relaxed)) break;
    const Op& op = w.Next();
    const OpResult r = ca.Run(op);
    recorder.Record(r, ca.last_start_epoch_ns());
    if ((++own_ops & 1023) == 0) ++ticks;
  }
  benchmark::DoNotOptimize(recorder.ops());
  benchmark::DoNotOptimize(ticks);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CacheAside_Mixed)->Threads(1)->Threads(2);

}  // namespace
}  // namespace cabench
