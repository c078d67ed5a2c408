// File: bench/gbench_init.h
//
// Google Benchmark's own flags (--benchmark_...), handed to the library.
// benchmark::Initialize() reports a bad value with a line of its own on
// stderr and goes on; InitializeGoogleBenchmark() turns that line into an
// error instead, so the user sees one "cabench: ..." line naming the flag.
//
// SuiteJsonReporter is the --benchmark_out reporter for the json format.
//
// Thread safety: call once, from main, before any benchmark runs.
#ifndef CABENCH_BENCH_GBENCH_INIT_H_
#define CABENCH_BENCH_GBENCH_INIT_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "benchmark/benchmark.h"

namespace cabench {

// Initializes Google Benchmark with `args` (its flags only; `help` prints
// the program's help for --help). InvalidArgument with the library's own
// message when it refused a value; OK otherwise.
absl::Status InitializeGoogleBenchmark(const std::vector<std::string>& args, void (*help)());

// Google Benchmark's JSON reporter, except for the aggregates of a run with
// repetitions: a flag counter (valid, target_missed, steady_reached: unit
// flag in lib/metrics/names.def) keeps only its mean, the share of the
// repetitions in which it was 1. Its median, stddev, cv and 95% interval
// would be numbers without a meaning (an interval of valid from -0.08 to
// 1.28), so they are left out. The low end of the 95% interval of a counter
// that cannot be negative (IsNonNegativeCounter: a latency, a rate, a count)
// is at least 0.
class SuiteJsonReporter : public benchmark::JSONReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override;
};

// The file reporter for `args` (Google Benchmark's flags): a
// SuiteJsonReporter when they write --benchmark_out in the json format (the
// library's default), else nullptr (the library's own).
std::unique_ptr<benchmark::BenchmarkReporter> NewFileReporter(
    const std::vector<std::string>& args);

}  // namespace cabench

#endif  // CABENCH_BENCH_GBENCH_INIT_H_
