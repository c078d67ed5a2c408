// Micro-benchmarks of lib/metrics: the cost a benchmark thread pays per
// operation to file its OpResult (LatencyRecorder::Record, target well under
// 50 ns; with operation events too), a bare Histogram::Record, and the after-the-run merge of one
// thread's recorder into the aggregate.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

#include "benchmark/benchmark.h"
#include "lib/metrics/histogram.h"
#include "lib/metrics/op_types.h"
#include "lib/metrics/recorder.h"

namespace cabench {
namespace {

constexpr int64_t kEpochStartNs = 1'764'081'507LL * 1'000'000'000LL;
// A power of two, so the ring index is a mask; large enough that the branch
// predictor cannot learn the class sequence.
constexpr size_t kRing = 1 << 14;

// Realistic mixed operations: 80% reads (75% hits), 20% writes, 0.5% errors,
// with lognormal latencies around 150 us (hits) and 3 ms (database paths).
std::vector<OpResult> MixedOps(uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::lognormal_distribution<double> hit_ns(std::log(150'000.0), 0.6);
  std::lognormal_distribution<double> db_ns(std::log(3'000'000.0), 0.9);
  std::vector<OpResult> ops(kRing);
  for (OpResult& op : ops) {
    const uint64_t r = rng() % 1000;
    if (r < 5) {
      op.kind = OpKind::kRead;
      op.op_class = OpClass::kError;
      op.error_source = ErrorSource::kCache;
      op.total_ns = static_cast<int64_t>(hit_ns(rng));
      op.SetStep(Step::kCacheGet, op.total_ns);
    } else if (r < 605) {
      op.kind = OpKind::kRead;
      op.op_class = OpClass::kCacheHit;
      op.total_ns = static_cast<int64_t>(hit_ns(rng));
      op.SetStep(Step::kCacheGet, op.total_ns - 500);
    } else if (r < 800) {
      op.kind = OpKind::kRead;
      op.op_class = OpClass::kCacheMiss;
      op.total_ns = static_cast<int64_t>(db_ns(rng));
      op.SetStep(Step::kCacheGet, op.total_ns / 20);
      op.SetStep(Step::kDbSelect, op.total_ns * 3 / 4);
      op.SetStep(Step::kCacheSet, op.total_ns / 5);
    } else {
      op.kind = OpKind::kWrite;
      op.op_class = OpClass::kWrite;
      op.total_ns = static_cast<int64_t>(db_ns(rng));
      op.SetStep(Step::kDbInsert, op.total_ns * 3 / 4);
      op.SetStep(Step::kCacheSet, op.total_ns / 5);
    }
  }
  return ops;
}

// MixedOps with the events of a stampede-prone, stale-prone run: 10% of the
// hits stale (ages around 50 ms), every miss a SELECT with 1..8 in flight,
// one in five of them a duplicate fill. About 27% of the operations take
// Record()'s out-of-line event path.
std::vector<OpResult> MixedOpsWithEvents(uint64_t seed) {
  std::vector<OpResult> ops = MixedOps(seed);
  std::mt19937_64 rng(seed + 1);
  std::lognormal_distribution<double> age_ns(std::log(50'000'000.0), 1.0);
  for (OpResult& op : ops) {
    const uint64_t r = rng() % 10;
    if (op.op_class == OpClass::kCacheHit && r == 0) {
      op.events = kEventStale;
      op.stale_age_ns = static_cast<int64_t>(age_ns(rng));
    } else if (op.op_class == OpClass::kCacheMiss) {
      op.events = kEventReadSelect | (r < 2 ? kEventDupFill : 0);
      op.db_reads_in_flight = static_cast<int32_t>(1 + rng() % 8);
    }
  }
  return ops;
}

// Start times advance ~1 us per operation, so a new second starts every
// ~10^6 operations and its (amortized) allocation is part of the cost.
void RecordRing(benchmark::State& state, const std::vector<OpResult>& ops,
                LatencyRecorder& recorder) {
  int64_t start = kEpochStartNs;
  size_t i = 0;
  for (auto _ : state) {
    recorder.Record(ops[i & (kRing - 1)], start);
    ++i;
    start += 1000;
  }
  benchmark::DoNotOptimize(recorder.ops());
  state.SetItemsProcessed(state.iterations());
}

void BM_Recorder_Record(benchmark::State& state) {
  LatencyRecorder recorder;
  RecordRing(state, MixedOps(42), recorder);
  state.counters["seconds"] = static_cast<double>(recorder.seconds().size());
  state.counters["recorder_kb"] = static_cast<double>(recorder.MemoryBytes()) / 1024.0;
}
BENCHMARK(BM_Recorder_Record);

// The same with events (MixedOpsWithEvents): the cost of the slow path.
void BM_Recorder_RecordWithEvents(benchmark::State& state) {
  LatencyRecorder recorder;
  RecordRing(state, MixedOpsWithEvents(42), recorder);
  state.counters["stale_reads"] = static_cast<double>(recorder.stale_reads());
  state.counters["recorder_kb"] = static_cast<double>(recorder.MemoryBytes()) / 1024.0;
}
BENCHMARK(BM_Recorder_RecordWithEvents);

void BM_Histogram_Record(benchmark::State& state) {
  const std::vector<OpResult> ops = MixedOps(7);
  Histogram h;
  size_t i = 0;
  for (auto _ : state) {
    h.Record(ops[i & (kRing - 1)].total_ns);
    ++i;
  }
  benchmark::DoNotOptimize(h.Count());
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Histogram_Record);

// One thread's recorder covering range(0) seconds merged into a run
// aggregate that already holds the same seconds (the TearDown case).
void BM_Recorder_Merge(benchmark::State& state) {
  const int64_t seconds = state.range(0);
  const std::vector<OpResult> ops = MixedOps(11);
  LatencyRecorder thread_recorder;
  LatencyRecorder aggregate;
  const int64_t per_second = 20'000;
  const int64_t step_ns = 1'000'000'000 / per_second;
  for (int64_t k = 0; k < seconds * per_second; ++k) {
    const OpResult& op = ops[static_cast<size_t>(k) & (kRing - 1)];
    thread_recorder.Record(op, kEpochStartNs + k * step_ns);
    aggregate.Record(op, kEpochStartNs + k * step_ns + 1);
  }
  for (auto _ : state) {
    aggregate.Merge(thread_recorder);
    benchmark::ClobberMemory();
  }
  benchmark::DoNotOptimize(aggregate.ops());
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Recorder_Merge)->Arg(1)->Arg(10)->Arg(60);

}  // namespace
}  // namespace cabench
