// File: bench/gbench_init.h
//
// Google Benchmark's own flags (--benchmark_...), handed to the library.
// benchmark::Initialize() reports a bad value with a line of its own on
// stderr and goes on; InitializeGoogleBenchmark() turns that line into an
// error instead, so the user sees one "cabench: ..." line naming the flag.
//
// Thread safety: call once, from main, before any benchmark runs.
#ifndef CABENCH_BENCH_GBENCH_INIT_H_
#define CABENCH_BENCH_GBENCH_INIT_H_

#include <string>
#include <vector>

#include "absl/status/status.h"

namespace cabench {

// Initializes Google Benchmark with `args` (its flags only; `help` prints
// the program's help for --help). InvalidArgument with the library's own
// message when it refused a value; OK otherwise.
absl::Status InitializeGoogleBenchmark(const std::vector<std::string>& args, void (*help)());

}  // namespace cabench

#endif  // CABENCH_BENCH_GBENCH_INIT_H_
