#include "bench/gbench_init.h"

#include <unistd.h>

#include <cstdio>
#include <iterator>
#include <memory>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "lib/metrics/names.h"

namespace cabench {

absl::Status InitializeGoogleBenchmark(const std::vector<std::string>& args, void (*help)()) {
  // The library keeps argv[0] (it prints it as "Running ..."): the strings
  // live for the process.
  static std::vector<std::string>& storage = *new std::vector<std::string>();
  storage = {"cabench"};
  storage.insert(storage.end(), args.begin(), args.end());
  static std::vector<char*>& argv = *new std::vector<char*>();
  argv.clear();
  for (std::string& s : storage) argv.push_back(s.data());
  argv.push_back(nullptr);
  int argc = static_cast<int>(storage.size());
  // The library's complaint goes to a temporary file meanwhile.
  std::fflush(stderr);
  const int saved = dup(STDERR_FILENO);
  std::FILE* capture = std::tmpfile();
  if (saved < 0 || capture == nullptr) {
    if (saved >= 0) close(saved);
    if (capture != nullptr) std::fclose(capture);
    benchmark::Initialize(&argc, argv.data(), help);
    return absl::OkStatus();
  }
  dup2(fileno(capture), STDERR_FILENO);
  benchmark::Initialize(&argc, argv.data(), help);
  std::fflush(stderr);
  dup2(saved, STDERR_FILENO);
  close(saved);
  std::rewind(capture);
  char line[512] = {};
  const bool said = std::fgets(line, sizeof(line), capture) != nullptr;
  std::fclose(capture);
  if (!said) return absl::OkStatus();
  std::string message(line);
  while (!message.empty() && (message.back() == '\n' || message.back() == '\r')) {
    message.pop_back();
  }
  return absl::InvalidArgumentError(absl::StrCat(message, " (see cabench --help)"));
}

void SuiteJsonReporter::ReportRuns(const std::vector<Run>& runs) {
  std::vector<Run> out = runs;
  for (Run& run : out) {
    if (run.run_type != Run::RT_Aggregate || run.aggregate_name == "mean") continue;
    for (auto it = run.counters.begin(); it != run.counters.end();) {
      it = IsFlagCounter(it->first) ? run.counters.erase(it) : std::next(it);
    }
    // Student's t interval is symmetric; the mean of a quantity that cannot
    // be negative is not below 0, so the interval ends there.
    if (run.aggregate_name != "ci95_lo") continue;
    for (auto& [name, counter] : run.counters) {
      if (IsNonNegativeCounter(name) && counter.value < 0) counter.value = 0;
    }
  }
  JSONReporter::ReportRuns(out);
}

std::unique_ptr<benchmark::BenchmarkReporter> NewFileReporter(
    const std::vector<std::string>& args) {
  bool out = false;
  bool json = true;
  for (const std::string& arg : args) {
    if (absl::StartsWith(arg, "--benchmark_out=")) out = arg.size() > 16;
    if (absl::StartsWith(arg, "--benchmark_out_format=")) {
      json = arg == "--benchmark_out_format=json";
    }
  }
  if (!out || !json) return nullptr;
  return std::make_unique<SuiteJsonReporter>();
}

}  // namespace cabench
