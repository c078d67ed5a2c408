// File: bench/flags.h
//
// cabench's command line: its own flags (abseil flags, declared in
// flags.cc: one mechanism, one table of names, types, defaults and help)
// and Google Benchmark's --benchmark_... flags, which are handed to the
// library untouched. What the values mean and their ranges are
// lib/config/run_options.h's.
//
// Thread safety: call from main, once, before any thread starts.
#ifndef CABENCH_BENCH_FLAGS_H_
#define CABENCH_BENCH_FLAGS_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "lib/config/run_options.h"

namespace cabench {

inline constexpr int kExitRuntime = 1;
inline constexpr int kExitUsage = 2;

// Prints "cabench: MESSAGE" on stderr and exits with `code`.
[[noreturn]] void Fail(int code, absl::string_view message);

// cabench's help: its flags, the environment, Google Benchmark's flags.
void PrintHelp();

struct CommandLine {
  RunOptions options;
  std::vector<std::string> gbench_args;  // --benchmark_... as given
};

// Parses argv: --help prints the help and exits 0; an unknown flag or a
// value that does not parse or is out of range is one line and exit 2.
CommandLine ParseCommandLine(int argc, char** argv);

}  // namespace cabench

#endif  // CABENCH_BENCH_FLAGS_H_
