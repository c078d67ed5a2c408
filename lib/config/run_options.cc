#include "lib/config/run_options.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace cabench {
namespace {

constexpr int64_t kMaxQueries = 1'000'000'000;
constexpr int64_t kMaxRate = 100'000'000;
constexpr int64_t kMaxTimeoutMs = 3'600'000;
constexpr int64_t kMaxRunIdChars = 100;

absl::Status Expected(absl::string_view name, absl::string_view got) {
  return absl::InvalidArgumentError(
      absl::StrCat("--", name, ": expected ", FlagExpects(name), ", got '", got, "'"));
}

bool InRange(int64_t v, int64_t lo, int64_t hi) { return v >= lo && v <= hi; }

}  // namespace

std::string FlagExpects(absl::string_view name) {
  if (name == "queries") return absl::StrCat("a whole number 1..", kMaxQueries);
  if (name == "max_warmup_ops") return absl::StrCat("a whole number 0..", kMaxQueries);
  if (name == "rate_per_s") {
    return absl::StrCat("operations per second 0..", kMaxRate, " (0: closed loop)");
  }
  if (name == "timeout_ms" || name == "connect_timeout_ms" || name == "max_outage_ms") {
    return absl::StrCat("milliseconds 1..", kMaxTimeoutMs);
  }
  if (name == "scenarios" || name == "out_dir") return "a folder";
  if (name == "shard_index" || name == "shard_count") return "a whole number";
  if (name == "start_at") return "Unix epoch milliseconds";
  if (name == "run_id") return absl::StrCat("1..", kMaxRunIdChars, " of [A-Za-z0-9._-]");
  if (name == "cache_url" || name == "db_url") return "a URL";
  return "a value";
}

absl::Status ValidateRunOptions(const RunOptions& o) {
  if (o.scenarios_dir.empty()) return Expected("scenarios", "");
  if (o.queries && !InRange(*o.queries, 1, kMaxQueries)) {
    return Expected("queries", absl::StrCat(*o.queries));
  }
  if (o.max_warmup_ops && !InRange(*o.max_warmup_ops, 0, kMaxQueries)) {
    return Expected("max_warmup_ops", absl::StrCat(*o.max_warmup_ops));
  }
  if (o.rate_per_s && !InRange(*o.rate_per_s, 0, kMaxRate)) {
    return Expected("rate_per_s", absl::StrCat(*o.rate_per_s));
  }
  for (const auto& [name, value] :
       {std::pair<const char*, std::optional<int64_t>>{"timeout_ms", o.endpoints.timeout_ms},
        {"connect_timeout_ms", o.endpoints.connect_timeout_ms}}) {
    if (value && !InRange(*value, 1, kMaxTimeoutMs)) return Expected(name, absl::StrCat(*value));
  }
  if (!InRange(o.max_outage_ms, 1, kMaxTimeoutMs)) {
    return Expected("max_outage_ms", absl::StrCat(o.max_outage_ms));
  }
  if (o.start_at_ms && *o.start_at_ms <= 0)
    return Expected("start_at", absl::StrCat(*o.start_at_ms));
  if (!o.run_id.empty() &&
      (static_cast<int64_t>(o.run_id.size()) > kMaxRunIdChars ||
       o.run_id.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                  "0123456789._-") != std::string::npos)) {
    return Expected("run_id", o.run_id);
  }
  return absl::OkStatus();
}

void ApplyRunOptions(const RunOptions& options, bool sharded, std::vector<Scenario>* scenarios) {
  for (Scenario& s : *scenarios) {
    if (options.queries) s.queries_per_thread = *options.queries;
    if (options.rate_per_s) s.rate_per_s = *options.rate_per_s;
    if (options.no_twins || sharded) s.baseline_no_cache = false;
    if (options.max_warmup_ops) {
      // until_steady's cap of 0 means the default cap.
      const int64_t cap = s.warmup == WarmupMode::kUntilSteady && s.warmup_ops == 0
                              ? Scenario::kDefaultSteadyCapOps
                              : s.warmup_ops;
      s.warmup_ops = std::min(cap, *options.max_warmup_ops);
    }
  }
}

}  // namespace cabench
