#include "bench/gbench_init.h"

#include <unistd.h>

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"

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

}  // namespace cabench
