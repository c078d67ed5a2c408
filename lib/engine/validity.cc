#include "lib/engine/validity.h"

#include <cmath>
#include <map>

#include "absl/strings/str_join.h"
#include "lib/metrics/order_stats.h"

namespace cabench {

std::optional<Trend> MeasuredTrend(const LatencyRecorder& recorder) {
  const std::vector<SecondStats>& seconds = recorder.seconds();
  // Whole seconds only: the first and last are partly outside the run.
  if (seconds.size() < static_cast<size_t>(kMinSecondsForTrend) + 2) return std::nullopt;
  const size_t whole = seconds.size() - 2;
  const size_t half = whole / 2;
  struct Half {
    int64_t ops = 0, hits = 0, misses = 0;
  };
  auto add = [&](size_t from, size_t to) {
    Half h;
    for (size_t i = from; i < to; ++i) {
      h.ops += seconds[i].count();
      h.hits += seconds[i].cache_hits();
      h.misses += seconds[i].cache_misses();
    }
    return h;
  };
  // Seconds 1 .. half and the last `half` whole seconds (an odd middle one
  // left out, so both halves span the same time).
  const Half first = add(1, 1 + half);
  const Half second = add(1 + whole - half, 1 + whole);
  if (first.ops == 0) return std::nullopt;
  Trend t;
  t.ops_pct = 100.0 * static_cast<double>(second.ops - first.ops) / static_cast<double>(first.ops);
  if (first.hits + first.misses > 0 && second.hits + second.misses > 0) {
    const auto rate = [](const Half& h) {
      return 100.0 * static_cast<double>(h.hits) / static_cast<double>(h.hits + h.misses);
    };
    t.hit_rate_pts = rate(second) - rate(first);
  }
  return t;
}

std::string Validity::Label() const {
  return valid() ? "" : "invalid: " + absl::StrJoin(reasons, ", ");
}

std::vector<NamedValue> Validity::Counters() const {
  std::vector<NamedValue> out = {{std::string(CounterName(CounterId::kValid)), valid() ? 1 : 0}};
  if (client_cores)
    out.emplace_back(std::string(CounterName(CounterId::kClientCores)), *client_cores);
  if (trend) {
    out.emplace_back(std::string(CounterName(CounterId::kTrendPct)), trend->ops_pct);
    if (trend->hit_rate_pts) {
      out.emplace_back(std::string(CounterName(CounterId::kHitRateTrendPts)), *trend->hit_rate_pts);
    }
  }
  return out;
}

Validity JudgeRun(const std::vector<NamedValue>& counters, const LatencyRecorder& recorder,
                  int cores) {
  std::map<std::string, double> c(counters.begin(), counters.end());
  auto value = [&](CounterId id) -> std::optional<double> {
    auto it = c.find(std::string(CounterName(id)));
    return it == c.end() ? std::nullopt : std::optional<double>(it->second);
  };
  Validity v;
  const std::optional<double> cpu_ms = value(CounterId::kClientCpuMs);
  const std::optional<double> wall_s = value(CounterId::kWallS);
  if (cpu_ms && wall_s && *wall_s > 0) v.client_cores = *cpu_ms / (*wall_s * 1000.0);
  v.trend = MeasuredTrend(recorder);
  if (v.client_cores && cores > 0 && *v.client_cores >= kClientBoundShare * cores) {
    v.reasons.push_back("client_bound");
  }
  if (v.trend &&
      (std::abs(v.trend->ops_pct) > kNotSteadyTrendPct ||
       (v.trend->hit_rate_pts && std::abs(*v.trend->hit_rate_pts) > kNotSteadyHitRatePts))) {
    v.reasons.push_back("not_steady");
  }
  if (value(CounterId::kTargetMissed).value_or(0) != 0) v.reasons.push_back("target_missed");
  if (value(CounterId::kServerFiguresShared).value_or(0) != 0)
    v.reasons.push_back("shared_servers");
  if (value(CounterId::kSteadyReached).value_or(1) == 0) v.reasons.push_back("warmup_unsettled");
  int64_t succeeded = 0;
  for (int cls = 0; cls < kNumOpClasses; ++cls) {
    if (static_cast<OpClass>(cls) != OpClass::kError) {
      succeeded += recorder.class_count(static_cast<OpClass>(cls));
    }
  }
  if (!QuantileEstimable(succeeded, 0.99)) v.reasons.push_back("few_samples");
  return v;
}

}  // namespace cabench
