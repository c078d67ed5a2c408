#include "lib/engine/run.h"

#include <algorithm>
#include <cmath>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "lib/metrics/names.h"
#include "lib/metrics/order_stats.h"

namespace cabench {
namespace {

// Whether n samples can bound the p-th percentile: else it is not reported.
bool Known(int64_t n, double p) { return QuantileEstimable(n, p / 100.0); }

// `value` when n samples can bound the p-th percentile.
std::optional<double> IfKnown(int64_t n, double p, double value) {
  return Known(n, p) ? std::optional<double>(value) : std::nullopt;
}

std::optional<double> Lo(const std::optional<IntervalUs>& ci) {
  return ci.has_value() ? std::optional<double>(ci->lo) : std::nullopt;
}
std::optional<double> Hi(const std::optional<IntervalUs>& ci) {
  return ci.has_value() ? std::optional<double>(ci->hi) : std::nullopt;
}

// The value of a statistic names.def lists, by suffix (nullopt for one no
// code computes yet, or a percentile the class's samples cannot bound).
std::optional<double> ClassStat(const ClassSummary& c, bool open_loop, std::string_view suffix) {
  const int64_t n = c.count;
  if (suffix.substr(0, 9) == "intended_") {
    if (!open_loop) return std::nullopt;
    if (suffix == "intended_avg_us") return c.intended_avg_us;
    if (suffix == "intended_p50_us") return IfKnown(n, 50, c.intended_p50_us);
    if (suffix == "intended_p99_us") return IfKnown(n, 99, c.intended_p99_us);
    if (suffix == "intended_p999_us") return IfKnown(n, 99.9, c.intended_p999_us);
    return std::nullopt;
  }
  if (suffix == "avg_us") return c.avg_us;
  if (suffix == "p50_us") return IfKnown(n, 50, c.p50_us);
  if (suffix == "p95_us") return IfKnown(n, 95, c.p95_us);
  if (suffix == "p99_us") return IfKnown(n, 99, c.p99_us);
  if (suffix == "p999_us") return IfKnown(n, 99.9, c.p999_us);
  if (suffix == "max_us") return c.max_us;
  if (suffix == "p50_us_ci_lo") return Lo(c.p50_ci);
  if (suffix == "p50_us_ci_hi") return Hi(c.p50_ci);
  if (suffix == "p99_us_ci_lo") return Lo(c.p99_ci);
  if (suffix == "p99_us_ci_hi") return Hi(c.p99_ci);
  if (suffix == "p999_us_ci_lo") return Lo(c.p999_ci);
  if (suffix == "p999_us_ci_hi") return Hi(c.p999_ci);
  return std::nullopt;
}

std::optional<double> StepStat(const StepSummary& s, std::string_view suffix) {
  if (suffix == "avg_us") return s.avg_us;
  if (suffix == "p99_us") return IfKnown(s.count, 99, s.p99_us);
  return std::nullopt;
}

}  // namespace

RunAggregate::RunAggregate(int threads) : threads_(std::max(threads, 1)) {}

bool RunAggregate::Merge(const ThreadResult& thread) {
  std::lock_guard<std::mutex> lock(mu_);
  totals_.recorder.Merge(thread.recorder);
  totals_.insert_retries += thread.insert_retries;
  totals_.reconnect.reconnects += thread.reconnect.reconnects;
  totals_.reconnect.reconnect_failures += thread.reconnect.reconnect_failures;
  totals_.reconnect.wait_ns += thread.reconnect.wait_ns;
  if (!thread.last_op_error.ok()) totals_.last_op_error = thread.last_op_error;
  return ++merged_ == threads_;
}

void RunAggregate::Reset() {
  std::lock_guard<std::mutex> lock(mu_);
  merged_ = 0;
  totals_.recorder.Clear();
  totals_.insert_retries = 0;
  totals_.reconnect = Reconnector::Stats();
  totals_.last_op_error = absl::OkStatus();
  control_.Reset();
}

Summary ReportedSummary(const ThreadResult& totals, const Summary& summary, const RunFacts& facts) {
  Summary s = summary;
  if (facts.target_rate_per_s > 0 && facts.schedule_start_epoch_ns > 0 &&
      facts.schedule_window_s > 0 && s.ops > 0) {
    // Open loop: the run is the window the schedule sent in (all threads end
    // together, see lib/engine/open_loop.h), or longer when the servers fell
    // behind and the last operation ended after it.
    const int64_t window_end =
        facts.schedule_start_epoch_ns + std::llround(facts.schedule_window_s * 1e9);
    const int64_t end = std::max(window_end, totals.recorder.last_end_ns());
    s.wall_s = static_cast<double>(end - facts.schedule_start_epoch_ns) / 1e9;
    s.ops_per_s = static_cast<double>(s.ops) / s.wall_s;
  }
  return s;
}

std::vector<NamedValue> RunCounters(const ThreadResult& totals, const Summary& summary,
                                    const RunFacts& facts) {
  const Summary s = ReportedSummary(totals, summary, facts);
  const bool hits = facts.cache && s.cache_hits > 0;
  std::vector<NamedValue> out;
  for (int i = 0; i < kNumCounters; ++i) {
    const auto id = static_cast<CounterId>(i);
    std::optional<double> v;
    switch (id) {
      case CounterId::kOps:
        v = static_cast<double>(s.ops);
        break;
      case CounterId::kReads:
        v = static_cast<double>(s.reads);
        break;
      case CounterId::kWrites:
        v = static_cast<double>(s.writes);
        break;
      case CounterId::kCacheHits:
        if (facts.cache) v = static_cast<double>(s.cache_hits);
        break;
      case CounterId::kCacheMisses:
        if (facts.cache) v = static_cast<double>(s.cache_misses);
        break;
      case CounterId::kDbReads:
        v = static_cast<double>(s.db_reads);
        break;
      case CounterId::kFallbackReads:
        if (facts.cache) v = static_cast<double>(s.fallback_reads);
        break;
      case CounterId::kErrors:
        v = static_cast<double>(s.errors);
        break;
      case CounterId::kErrorsCache:
        v = static_cast<double>(s.errors_by_source[static_cast<int>(ErrorSource::kCache)]);
        break;
      case CounterId::kErrorsDb:
        v = static_cast<double>(s.errors_by_source[static_cast<int>(ErrorSource::kDb)]);
        break;
      case CounterId::kInsertRetries:
        v = static_cast<double>(totals.insert_retries);
        break;
      case CounterId::kReconnects:
        v = static_cast<double>(totals.reconnect.reconnects);
        break;
      case CounterId::kReconnectFailures:
        v = static_cast<double>(totals.reconnect.reconnect_failures);
        break;
      case CounterId::kReconnectWaitMs:
        v = static_cast<double>(totals.reconnect.wait_ns) / 1e6;
        break;
      case CounterId::kBookingsRemoved:
        v = static_cast<double>(facts.bookings_removed);
        break;
      case CounterId::kWallS:
        v = s.wall_s;
        break;
      case CounterId::kOpsPerS:
        v = s.ops_per_s;
        break;
      case CounterId::kHitRatePct:
        if (facts.cache && s.has_hit_rate) v = s.hit_rate_pct;
        break;
      case CounterId::kPredictedHitRatePct:
        if (facts.cache) v = facts.predicted_hit_rate_pct;
        break;
      case CounterId::kDbAvgUs:
        if (s.db_avg_us > 0) v = s.db_avg_us;
        break;
      case CounterId::kDbP99Us:
        if (s.db_avg_us > 0) v = IfKnown(s.db_count, 99, s.db_p99_us);
        break;
      case CounterId::kSpeedup:
        if (hits && s.speedup > 0) v = s.speedup;
        break;
      case CounterId::kMissVsHit:
        if (hits && s.miss_vs_hit > 0) v = s.miss_vs_hit;
        break;
      case CounterId::kP50Us:
        v = IfKnown(s.latency_count, 50, s.p50_us);
        break;
      case CounterId::kP95Us:
        v = IfKnown(s.latency_count, 95, s.p95_us);
        break;
      case CounterId::kP99Us:
        v = IfKnown(s.latency_count, 99, s.p99_us);
        break;
      case CounterId::kP999Us:
        v = IfKnown(s.latency_count, 99.9, s.p999_us);
        break;
      case CounterId::kP50UsCiLo:
        v = Lo(s.p50_ci);
        break;
      case CounterId::kP50UsCiHi:
        v = Hi(s.p50_ci);
        break;
      case CounterId::kP99UsCiLo:
        v = Lo(s.p99_ci);
        break;
      case CounterId::kP99UsCiHi:
        v = Hi(s.p99_ci);
        break;
      case CounterId::kP999UsCiLo:
        v = Lo(s.p999_ci);
        break;
      case CounterId::kP999UsCiHi:
        v = Hi(s.p999_ci);
        break;
      case CounterId::kMaxUs:
        v = s.max_us;
        break;
      case CounterId::kErrorMaxUs:
        if (s.errors > 0) v = s.error_max_us;
        break;
      case CounterId::kMissCold:
      case CounterId::kMissExpired:
      case CounterId::kMissInvalidated:
      case CounterId::kMissEvicted:
        if (facts.cache && (s.miss_causes_known || s.cache_misses == 0)) {
          const int cause = static_cast<int>(id) - static_cast<int>(CounterId::kMissCold);
          v = static_cast<double>(s.miss_causes[cause]);
        }
        break;
      case CounterId::kDupFills:
        if (facts.cache && facts.key_versions) v = static_cast<double>(s.dup_fills);
        break;
      case CounterId::kDbReadsInFlightMax:
        if (facts.key_versions) v = static_cast<double>(s.db_reads_in_flight_max);
        break;
      case CounterId::kDbReadsPerMiss:
        if (facts.cache && s.cache_misses > 0) v = s.db_reads_per_miss;
        break;
      case CounterId::kFillWaits:
        if (facts.cache && facts.single_flight) v = static_cast<double>(s.fill_waits);
        break;
      case CounterId::kFillWaitTimeouts:
        if (facts.cache && facts.single_flight) v = static_cast<double>(s.fill_wait_timeouts);
        break;
      case CounterId::kEarlyRefreshes:
        if (facts.cache && facts.early_refresh) v = static_cast<double>(s.early_refreshes);
        break;
      case CounterId::kStaleReads:
        if (facts.cache && facts.key_versions) v = static_cast<double>(s.stale_reads);
        break;
      case CounterId::kStaleReadsUncertain:
        if (facts.cache && facts.key_versions) v = static_cast<double>(s.stale_reads_uncertain);
        break;
      case CounterId::kStaleReadPct:
        if (hits && facts.key_versions) v = s.stale_read_pct;
        break;
      case CounterId::kStaleReadMaxPct:
        if (hits && facts.key_versions) v = s.stale_read_max_pct;
        break;
      case CounterId::kStaleAgeP50Ms:
        if (facts.cache && s.stale_reads > 0) v = IfKnown(s.stale_reads, 50, s.stale_age_p50_ms);
        break;
      case CounterId::kStaleAgeP99Ms:
        if (facts.cache && s.stale_reads > 0) v = IfKnown(s.stale_reads, 99, s.stale_age_p99_ms);
        break;
      case CounterId::kLateOps:
        if (s.has_intended) v = static_cast<double>(s.late_ops);
        break;
      case CounterId::kStartLagAvgUs:
        if (s.has_intended) v = s.start_lag_avg_us;
        break;
      case CounterId::kStartLagP99Us:
        if (s.has_intended) v = IfKnown(s.ops, 99, s.start_lag_p99_us);
        break;
      case CounterId::kIntendedP50Us:
        if (s.has_intended) v = IfKnown(s.latency_count, 50, s.intended_p50_us);
        break;
      case CounterId::kIntendedP99Us:
        if (s.has_intended) v = IfKnown(s.latency_count, 99, s.intended_p99_us);
        break;
      case CounterId::kIntendedP999Us:
        if (s.has_intended) v = IfKnown(s.latency_count, 99.9, s.intended_p999_us);
        break;
      case CounterId::kTargetRatePerS:
        if (facts.target_rate_per_s > 0) v = facts.target_rate_per_s;
        break;
      case CounterId::kTargetMissed:
        // Against the target itself (this process's share of it): the
        // schedule sends exactly the target's count in its window, so a rate
        // below it is the servers' or the load generator's doing.
        if (facts.target_rate_per_s > 0) {
          v = s.ops_per_s < kTargetAchievedFraction * facts.target_rate_per_s * facts.rate_share
                  ? 1
                  : 0;
        }
        break;
      default:
        break;  // measured elsewhere: facts.measured
    }
    if (auto m = facts.measured.find(id); m != facts.measured.end()) v = m->second;
    if (v.has_value()) out.emplace_back(std::string(CounterName(id)), *v);
  }
  for (int c = 0; c < kNumOpClasses; ++c) {
    const auto cls = static_cast<OpClass>(c);
    const ClassSummary& cs = s.of(cls);
    if (cs.count == 0 || cls == OpClass::kError) continue;
    for (std::string_view suffix : ClassStatSuffixes()) {
      if (std::optional<double> v = ClassStat(cs, s.has_intended, suffix)) {
        out.emplace_back(ClassStatName(cls, suffix), *v);
      }
    }
  }
  for (int st = 0; st < kNumSteps; ++st) {
    const auto step = static_cast<Step>(st);
    const StepSummary& ss = s.of(step);
    if (ss.count == 0) continue;
    for (std::string_view suffix : StepStatSuffixes()) {
      if (std::optional<double> v = StepStat(ss, suffix)) {
        out.emplace_back(StepStatName(step, suffix), *v);
      }
    }
  }
  return out;
}

std::string PercentilesLeftOut(const Summary& summary) {
  constexpr std::pair<double, std::string_view> kPercentiles[] = {
      {50, "p50_us"}, {95, "p95_us"}, {99, "p99_us"}, {99.9, "p999_us"}};
  std::vector<std::string> names;
  auto check = [&](int64_t n, std::string_view prefix) {
    if (n == 0) return;
    for (const auto& [p, suffix] : kPercentiles) {
      if (!Known(n, p)) names.push_back(std::string(prefix) + std::string(suffix));
    }
  };
  check(summary.latency_count, "");
  for (int c = 0; c < kNumOpClasses; ++c) {
    const auto cls = static_cast<OpClass>(c);
    if (cls != OpClass::kError) check(summary.of(cls).count, std::string(OpClassName(cls)) + "_");
  }
  if (names.empty()) return "";
  return absl::StrCat(absl::StrJoin(names, ", "),
                      ": too few operations to bound them at 95% (p50 needs ",
                      MinSamplesForQuantile(0.5), ", p95 ", MinSamplesForQuantile(0.95), ", p99 ",
                      MinSamplesForQuantile(0.99), ", p999 ", MinSamplesForQuantile(0.999), ")");
}

}  // namespace cabench
