#include "lib/engine/thread_loop.h"

#include <algorithm>
#include <chrono>

#include "absl/strings/str_cat.h"
#include "lib/engine/open_loop.h"
#include "lib/metrics/steady.h"

namespace cabench {
namespace {

CacheAside::Options PatternOptions(const Scenario& scenario, const ThreadLoop::Options& options,
                                   Workload* workload) {
  CacheAside::Options o;
  o.thread_index = options.thread_index;
  o.seat_source = workload;
  o.fallback_to_db_on_cache_error = scenario.fallback_to_db;
  o.versions = options.key_versions;
  o.fills_may_lag = options.fills_may_lag;
  return o;
}

Reconnector::Options ReconnectOptions(const Scenario& scenario,
                                      const ThreadLoop::Options& options) {
  Reconnector::Options o = options.reconnect_options;
  o.cache_fallback = scenario.fallback_to_db;
  return o;
}

// Aborts the warm-up at its first failed operation, with that error.
class StopAtFirstError : public OpObserver {
 public:
  StopAtFirstError(RunControl* control, const CacheAside* pattern)
      : control_(control), pattern_(pattern) {}
  void OnOp(const Op&, OpResult& result, int64_t) override {
    if (result.op_class == OpClass::kError) control_->Abort(pattern_->last_error());
  }

 private:
  RunControl* control_;
  const CacheAside* pattern_;
};

}  // namespace

ThreadLoop::ThreadLoop(KvClient* kv, SqlClient* sql, const Scenario& scenario,
                       const DataSetInfo& data_set, const Options& options)
    : options_(options),
      workload_(scenario, data_set, options.thread_index, options.seat_tag,
                std::max(1, options.threads)),
      pattern_(kv, sql, scenario, PatternOptions(scenario, options, &workload_)),
      reconnector_(kv, sql, ReconnectOptions(scenario, options)) {
  workload_.set_run_no(options.run_no);
  if (options.key_states != nullptr) {
    miss_causes_ = std::make_unique<MissCauses>(options.key_states);
    // First, so that the others see the miss's cause.
    options_.observers.insert(options_.observers.begin(), miss_causes_.get());
  }
  schedule_ = options.schedule;
  if (schedule_ == nullptr && scenario.rate_per_s > 0) {
    OpenLoopSchedule::Options o;
    o.rate_per_s = static_cast<double>(scenario.rate_per_s);
    o.threads = options.threads;
    o.thread_index = options.thread_index;
    o.arrival = scenario.arrival;
    o.seed = scenario.seed;
    o.control = options.control;
    o.ops = scenario.queries_per_thread;
    own_schedule_ = std::make_unique<OpenLoopSchedule>(o);
    schedule_ = own_schedule_.get();
  }
}

absl::Status ThreadLoop::Run(int64_t n) {
  RunControl* const control = options_.control;
  for (int64_t i = 0; i < n; ++i) {
    if (control != nullptr && control->stopping()) return control->reason();
    // Rare: a client answered Unavailable. Reconnect between operations,
    // outside every operation's latency.
    if (pattern_.unavailable() != 0 && options_.reconnect) {
      if (absl::Status s = reconnector_.Recover(pattern_); !s.ok()) {
        if (control == nullptr) return s;
        control->Abort(s);
        return control->reason();
      }
    }
    int64_t intended = -1;
    if (schedule_ != nullptr) {
      intended = schedule_->WaitNext();
      if (control != nullptr && control->stopping()) return control->reason();
    }
    const Op& op = workload_.Next();
    // The key's shared state is often in the other threads' caches (they
    // write keys too): fetch its lines together, so that the misses overlap
    // instead of following one another (the observers load one, the pattern
    // the other, with clock reads between).
    if (options_.key_states != nullptr) options_.key_states->Prefetch(op.passenger_id);
    if (options_.key_versions != nullptr) options_.key_versions->Prefetch(op.passenger_id);
    for (OpObserver* o : options_.observers) o->BeforeOp(op);
    OpResult r = pattern_.Run(op);
    const int64_t start = pattern_.last_start_epoch_ns();
    // Observers see the operation before it is recorded, so that what they
    // add to it (a miss's cause) is recorded with it.
    for (OpObserver* o : options_.observers) o->OnOp(op, r, pattern_.last_start_mono_ns());
    if (intended < 0) {
      result_.recorder.Record(r, start);
    } else {
      result_.recorder.RecordOpenLoop(r, start, pattern_.last_start_mono_ns() - intended);
    }
    if ((++ops_done_ & (kProgressStep - 1)) == 0) {
      if (control != nullptr) control->AddOps(kProgressStep);
      if (options_.progress != nullptr) {
        options_.progress->OnProgress(control != nullptr ? control->ops_done() : ops_done_);
      }
    }
  }
  return absl::OkStatus();
}

absl::Status WarmUp(KvClient* kv, SqlClient* sql, const Scenario& scenario,
                    const DataSetInfo& data_set, const WarmUpOptions& warm_up,
                    WarmUpReport* report) {
  WarmUpReport ignored;
  if (report == nullptr) report = &ignored;
  *report = WarmUpReport();
  report->until_steady = scenario.warmup == WarmupMode::kUntilSteady;
  const int64_t cap = report->until_steady && scenario.warmup_ops <= 0
                          ? Scenario::kDefaultSteadyCapOps
                          : scenario.warmup_ops;
  if (!scenario.cache || cap <= 0) return absl::OkStatus();
  Scenario reads_only = scenario;
  reads_only.read_pct = 100;
  reads_only.rate_per_s = 0;  // as fast as it goes, closed loop
  RunControl control;
  ThreadLoop::Options options;
  options.thread_index = Workload::kWarmupThreadIndex;
  options.reconnect = false;
  options.control = &control;
  options.schedule = warm_up.schedule;
  options.key_states = warm_up.key_states;
  options.key_versions = warm_up.key_versions;
  options.fills_may_lag = warm_up.fills_may_lag;
  ThreadLoop loop(kv, sql, reads_only, data_set, options);
  StopAtFirstError stop(&control, &loop.pattern());
  loop.add_observer(&stop);
  const auto started = std::chrono::steady_clock::now();
  absl::Status s;
  if (!report->until_steady) {
    s = loop.Run(cap);
  } else {
    // Windows of warmup_window_ops reads; steady once each of the last two
    // windows' hit rates is within warmup_steady_pct of the window before
    // (SteadyRule).
    const int64_t window = std::max<int64_t>(1, scenario.warmup_window_ops);
    SteadyRule rule(scenario.warmup_steady_pct);
    int64_t hits = 0;
    int64_t lookups = 0;
    while (s.ok() && loop.ops_done() + window <= cap) {
      s = loop.Run(window);
      const LatencyRecorder& rec = loop.result().recorder;
      const int64_t h = rec.cache_hits() - hits;
      const int64_t n = rec.cache_hits() + rec.cache_misses() - lookups;
      hits = rec.cache_hits();
      lookups = rec.cache_hits() + rec.cache_misses();
      if (rule.Add(n > 0 ? 100.0 * static_cast<double>(h) / static_cast<double>(n) : 0)) {
        report->steady = true;
        break;
      }
    }
  }
  report->ops_done = loop.ops_done();
  report->seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (s.ok()) return s;
  return absl::Status(s.code(), absl::StrCat("warm-up: ", s.message()));
}

const ThreadResult& ThreadLoop::result() {
  result_.insert_retries = pattern_.insert_retries();
  result_.reconnect = reconnector_.stats();
  result_.last_op_error = pattern_.errors() > 0 ? pattern_.last_error() : absl::OkStatus();
  return result_;
}

}  // namespace cabench
