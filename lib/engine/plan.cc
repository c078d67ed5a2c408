#include "lib/engine/plan.h"

#include <regex.h>

#include <algorithm>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"

namespace cabench {
namespace {

// A memory size in the largest unit that writes it whole: 2mb, 1536kb, 100b.
std::string MemorySizeName(int64_t bytes) {
  for (const auto& [unit, size] : {std::pair<const char*, int64_t>{"gb", int64_t{1} << 30},
                                   {"mb", int64_t{1} << 20},
                                   {"kb", int64_t{1} << 10}}) {
    if (bytes % size == 0) return absl::StrCat(bytes / size, unit);
  }
  return absl::StrCat(bytes, "b");
}

// A regular expression matching exactly `name` (POSIX extended).
std::string ExactPattern(const std::string& name) {
  std::string out;
  for (char c : name) {
    if (std::strchr(".[]()*+?{}|^$\\", c) != nullptr) out += '\\';
    out += c;
  }
  return out;
}

}  // namespace

std::string BenchmarkBaseName(const Scenario& scenario) {
  // The arguments are in the name itself (access as a word, which Args
  // cannot carry); an open-loop scenario's rate too, so that runs at
  // different rates never share a name.
  std::string name =
      absl::StrCat("CacheAside/", scenario.name, "/read_pct:", scenario.read_pct,
                   "/ttl_ms:", scenario.ttl_ms, "/access:", AccessName(scenario.access));
  if (scenario.cache_max_memory > 0) {
    absl::StrAppend(&name, "/maxmemory:", MemorySizeName(scenario.cache_max_memory));
  }
  if (scenario.cache_keys_pct > 0) {
    absl::StrAppend(&name, "/cache_keys_pct:", scenario.cache_keys_pct);
  }
  if (scenario.rate_per_s > 0) absl::StrAppend(&name, "/rate:", scenario.rate_per_s);
  return name;
}

std::string BenchmarkName(const Scenario& scenario, int threads) {
  return absl::StrCat(BenchmarkBaseName(scenario), "/iterations:", scenario.queries_per_thread,
                      "/real_time/threads:", threads);
}

std::string BenchmarkFileStem(const std::string& name) {
  return absl::StrReplaceAll(name, {{"/", "_"}, {":", "-"}});
}

Scenario NoCacheTwin(const Scenario& scenario) {
  Scenario twin = scenario;
  twin.name = scenario.name + "@no_cache";
  twin.cache = false;
  twin.baseline_no_cache = false;
  twin.warmup_ops = 0;
  twin.warmup = WarmupMode::kOps;
  twin.fallback_to_db = false;
  twin.single_flight = false;
  twin.early_refresh_beta = 0;
  return twin;
}

std::vector<PlannedBenchmark> PlanBenchmarks(const std::vector<Scenario>& scenarios) {
  std::vector<PlannedBenchmark> plan;
  for (const Scenario& sweep : scenarios) {
    for (const Scenario& scenario : SweepPoints(sweep)) {
      for (int threads : scenario.threads) {
        int twin = -1;
        if (scenario.baseline_no_cache) {
          twin = static_cast<int>(plan.size());
          Scenario t = NoCacheTwin(scenario);
          std::string name = BenchmarkName(t, threads);
          plan.push_back({std::move(t), threads, -1, std::move(name)});
        }
        plan.push_back({scenario, threads, twin, BenchmarkName(scenario, threads)});
      }
    }
  }
  return plan;
}

absl::StatusOr<std::vector<bool>> SelectBenchmarks(const std::vector<PlannedBenchmark>& plan,
                                                   const std::string& filter) {
  std::vector<bool> selected(plan.size(), true);
  if (!filter.empty() && filter != "all") {
    std::string pattern = filter;
    const bool negate = pattern[0] == '-';
    if (negate) pattern.erase(0, 1);
    regex_t re;
    if (regcomp(&re, pattern.c_str(), REG_EXTENDED | REG_NOSUB) != 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("--benchmark_filter: '", pattern, "' is not a valid regular expression"));
    }
    for (size_t i = 0; i < plan.size(); ++i) {
      selected[i] = (regexec(&re, plan[i].name.c_str(), 0, nullptr, 0) == 0) != negate;
    }
    regfree(&re);
  }
  for (size_t i = 0; i < plan.size(); ++i) {
    if (selected[i] && plan[i].twin >= 0) selected[static_cast<size_t>(plan[i].twin)] = true;
  }
  if (std::find(selected.begin(), selected.end(), true) == selected.end()) {
    return absl::InvalidArgumentError(
        absl::StrCat("no benchmark matches --benchmark_filter='", filter, "'"));
  }
  return selected;
}

std::string ExactFilter(const std::vector<PlannedBenchmark>& plan,
                        const std::vector<bool>& selected) {
  std::string exact;
  for (size_t i = 0; i < plan.size(); ++i) {
    if (selected[i])
      absl::StrAppend(&exact, exact.empty() ? "^(" : "|", ExactPattern(plan[i].name));
  }
  return exact + ")$";
}

bool BoundsTheCache(const std::vector<PlannedBenchmark>& plan, const std::vector<bool>& selected) {
  for (size_t i = 0; i < plan.size(); ++i) {
    if (selected[i] && plan[i].scenario.BoundsTheCache()) return true;
  }
  return false;
}

namespace {

// Deselects the entries whose scenario `leave_out` is true of; returns the
// names of the scenarios that had one selected, each once.
template <typename Pred>
std::vector<std::string> LeaveOut(const std::vector<PlannedBenchmark>& plan, Pred leave_out,
                                  std::vector<bool>* selected) {
  std::vector<std::string> names;
  for (size_t i = 0; i < plan.size(); ++i) {
    if (!leave_out(plan[i].scenario)) continue;
    if ((*selected)[i] && (names.empty() || names.back() != plan[i].scenario.name)) {
      names.push_back(plan[i].scenario.name);
    }
    (*selected)[i] = false;
  }
  return names;
}

}  // namespace

std::string LeaveOutKeySizedCaches(const std::vector<PlannedBenchmark>& plan,
                                   std::vector<bool>* selected) {
  const std::vector<std::string> names = LeaveOut(
      plan, [](const Scenario& s) { return s.cache && s.cache_keys_pct > 0; }, selected);
  if (names.empty()) return "";
  return absl::StrCat(absl::StrJoin(names, ", "), names.size() == 1 ? " sizes" : " size",
                      " the cache by its keys (cache_keys_pct), which needs one cache server: "
                      "on a cluster each primary would hold a share of the room smaller than "
                      "its own memory's swings (use cache_max_memory)");
}

std::string LeaveOutCacheBounding(const std::vector<PlannedBenchmark>& plan,
                                  const absl::Status& why_not, std::vector<bool>* selected) {
  const std::vector<std::string> names = LeaveOut(
      plan, [](const Scenario& s) { return s.BoundsTheCache(); }, selected);
  return absl::StrCat(absl::StrJoin(names, ", "), names.size() == 1 ? " sets" : " set",
                      " the cache's maxmemory/maxmemory-policy, which cabench changes only on a "
                      "cache tools/servers started, or with --allow_cache_config: ",
                      why_not.message());
}

}  // namespace cabench
