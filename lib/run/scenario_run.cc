#include "lib/run/scenario_run.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "absl/time/clock.h"
#include "lib/clients/kv_routing.h"
#include "lib/config/endpoints.h"
#include "lib/engine/cache_bound.h"
#include "lib/engine/open_loop.h"
#include "lib/engine/plan.h"
#include "lib/engine/validity.h"
#include "lib/metrics/clock.h"
#include "lib/metrics/summary.h"
#include "lib/metrics/time_series.h"
#include "lib/model/hit_rate_model.h"
#include "lib/servers/server_stats.h"

namespace cabench {
namespace {

// Progress goes to stderr at most this often, for runs long enough to need it.
constexpr auto kProgressEvery = std::chrono::seconds(2);
// A sharded run's first open-loop operation is due this long after
// --start_at, so that every thread is past the start barrier by then.
constexpr int64_t kStartDelayNs = 2'000'000;

absl::Status WriteFile(const std::filesystem::path& path, const std::string& content) {
  std::error_code ec;
  std::filesystem::create_directories(path.parent_path(), ec);
  if (ec) {
    return absl::InternalError(
        absl::StrCat("cannot create ", path.parent_path().string(), ": ", ec.message()));
  }
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  out.close();
  if (!out) return absl::InternalError(absl::StrCat("cannot write ", path.string()));
  return absl::OkStatus();
}

// Reports how far the run has come (every thread's operations), from the
// loop of the process's first thread.
class Progress : public ProgressSink {
 public:
  Progress(const ScenarioRun* run, int64_t total_ops)
      : run_(run),
        total_ops_(total_ops),
        start_(std::chrono::steady_clock::now()),
        next_(start_ + kProgressEvery) {}

  void OnProgress(int64_t done) override {
    const auto now = std::chrono::steady_clock::now();
    if (now < next_) return;
    next_ = now + kProgressEvery;
    const double elapsed = std::chrono::duration<double>(now - start_).count();
    run_->LogLine(absl::StrFormat("%d%% (%d of %d ops, %.0f ops/s)", 100 * done / total_ops_, done,
                                  total_ops_, static_cast<double>(done) / elapsed));
  }

 private:
  const ScenarioRun* const run_;
  const int64_t total_ops_;
  const std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point next_;
};

absl::Status Connected(absl::Status s, const char* what, const std::string& endpoint) {
  return absl::Status(s.code(), absl::StrCat(what, " at ", endpoint, ": ", s.message()));
}

}  // namespace

ScenarioRun::ScenarioRun(const Scenario& scenario, int threads, const RunEnv* env)
    : scenario_(scenario),
      threads_(threads),
      env_(env),
      shard_threads_(ShardThreads(env->shard, threads)),
      run_(static_cast<int>(shard_threads_.size())) {
  full_name_ = BenchmarkName(scenario_, threads_);
}

void ScenarioRun::AwaitStart(bool first_local, RunControl& control) {
  if (env_->start_at_ms <= 0) return;
  const int64_t start_ns = env_->start_at_ms * 1'000'000;
  const int64_t now_ns = absl::GetCurrentTimeNanos();
  if (first_local && now_ns > start_ns) {
    control.Abort(absl::DeadlineExceededError(absl::StrCat(
        "set-up ended ", (now_ns - start_ns) / 1'000'000,
        " ms after --start_at: give every shard a later --start_at (this shard's set-up took "
        "longer)")));
  }
  // Every shard's open-loop schedules share the agreed origin (the first
  // thread of this process to get here sets it), converted to the monotonic
  // clock by the one offset this process converts every time it reports
  // with (EpochOffsetNs()): converted by the clocks' relation of now, it came
  // back a few ms off when the calibrated clock had drifted since.
  control.ScheduleOrigin(start_ns - EpochOffsetNs() + kStartDelayNs);
  while (!control.stopping()) {
    const int64_t left = start_ns - absl::GetCurrentTimeNanos();
    if (left <= 0) break;
    std::this_thread::sleep_for(std::chrono::nanoseconds(std::min<int64_t>(left, 20'000'000)));
  }
}

absl::StatusOr<std::shared_ptr<SqlPool>> ScenarioRun::RunPool(int thread_index) {
  std::lock_guard<std::mutex> lock(pool_mu_);
  if (std::shared_ptr<SqlPool> pool = pool_.lock()) return pool;
  SqlPool::Options options;
  options.timeout_ms = scenario_.db_pool_timeout_ms;
  absl::StatusOr<std::shared_ptr<SqlPool>> pool = SqlPool::Create(
      scenario_.db_pool_size, [this, thread_index] { return env_->new_sql(thread_index); },
      options);
  if (pool.ok()) pool_ = *pool;
  return pool;
}

void ScenarioRun::StartServerStats() {
  // Connections of its own (thread index -1: short timeouts, no statements
  // prepared), so that reading the servers never waits behind the run.
  std::unique_ptr<KvClient> kv;
  if (scenario_.cache) {
    if (absl::StatusOr<std::unique_ptr<KvClient>> c = env_->new_kv(-1); c.ok()) kv = *std::move(c);
  }
  std::unique_ptr<SqlClient> sql;
  if (absl::StatusOr<std::unique_ptr<SqlClient>> c = env_->new_sql(-1); c.ok()) {
    sql = *std::move(c);
  }
  ServerStatsOptions options;
  options.cache_local = IsLoopbackHost(env_->cache.host);
  options.db_local = IsLoopbackHost(env_->db.host);
  options.cache_replicas = scenario_.cache && env_->cache_read.has_value();
  options.key_prefix = scenario_.key_prefix;
  stats_reader_ = std::make_unique<ServerStatsReader>(std::move(kv), std::move(sql), options);
  if (env_->new_db_replica) {
    if (absl::StatusOr<std::unique_ptr<SqlClient>> c = env_->new_db_replica(); c.ok()) {
      stats_reader_->SetDbReplica(*std::move(c));
    }
  }
  ServerSampler::Options sampler_options;
  sampler_options.thread_scope = env_->thread_scope;
  sampler_ = std::make_unique<ServerSampler>(stats_reader_.get(), sampler_options);
  sampler_->Start();
}

absl::Status ScenarioRun::PrepareRun(KvClient* kv, SqlClient* sql) {
  // The run slot is still this process's (a database restart drops the
  // ledger's connection and its lock: take it back, or stop writing if
  // another run took the slot meanwhile).
  if (env_->ledger != nullptr) {
    if (absl::Status s = env_->ledger->CheckOwnership(); !s.ok()) return s;
  }
  if (kv == nullptr) return absl::OkStatus();
  if (scenario_.flush) {
    absl::StatusOr<int64_t> deleted = kv->DeletePrefix(scenario_.key_prefix);
    if (!deleted.ok()) return deleted.status();
  }
  // A memory-bounded cache (main checked that cabench may reconfigure it).
  WarmUpOptions warm_up;
  RunKeys(&warm_up.key_states, &warm_up.key_versions);
  warm_up.fills_may_lag = env_->db_read.has_value();
  if (absl::Status s = cache_bound_.Apply(kv, sql, scenario_, env_->data, threads_, warm_up);
      !s.ok()) {
    return s;
  }
  if (cache_bound_.report().other_keys > 0) {
    LogLine(
        absl::StrFormat("the cache holds %d keys besides the run's: they share the room "
                        "cache_keys_pct measured (an LRU policy evicts them first), so the run's "
                        "share ends larger (cache_capacity_keys says how large)",
                        cache_bound_.report().other_keys));
  }
  return WarmUp(kv, sql, scenario_, env_->data, warm_up, &warm_up_);
}

std::unique_ptr<ScenarioRun::Thread> ScenarioRun::BeginThread(int local_index) {
  std::unique_ptr<Thread> t(new Thread(this));
  if (env_->thread_scope) t->scope_ = env_->thread_scope();
  // The thread's global index (sharded runs: this process runs a share).
  const int thread_index = shard_threads_[static_cast<size_t>(local_index)];
  const bool first_local = local_index == 0;
  RunControl& control = run_.control();

  // Connect (untimed). Each thread has its own clients.
  absl::Status status;
  if (StopRequested() != 0) status = control.reason();
  if (status.ok() && scenario_.cache) {
    absl::StatusOr<std::unique_ptr<KvClient>> c = env_->new_kv(thread_index);
    if (c.ok()) {
      t->kv_ = *std::move(c);
    } else {
      status = Connected(c.status(), "cache server", env_->cache.ToString());
    }
  }
  // The run's key states and versions (one per run, 56 bytes per key of its
  // range).
  KeyStates* key_states = nullptr;
  KeyVersions* key_versions = nullptr;
  RunKeys(&key_states, &key_versions);
  if (status.ok() && scenario_.db_pool_size > 0) {
    // The threads share db_pool_size connections; waiting for one is inside
    // the operation's latency.
    absl::StatusOr<std::shared_ptr<SqlPool>> p = RunPool(thread_index);
    if (p.ok()) {
      t->pool_ = *p;
      t->sql_ = std::make_unique<PooledSqlClient>(t->pool_);
    } else {
      status = Connected(p.status(), "database pool", env_->db.ToString());
    }
  } else if (status.ok()) {
    absl::StatusOr<std::unique_ptr<SqlClient>> c = env_->new_sql(thread_index);
    if (c.ok()) {
      t->sql_ = *std::move(c);
    } else {
      status = Connected(c.status(), "database", env_->db.ToString());
    }
  }
  if (status.ok() && thread_index == 0) status = PrepareRun(t->kv_.get(), t->sql_.get());
  if (first_local) {
    run_pool_ = t->pool_;
    if (t->pool_ != nullptr) t->pool_->ResetStats();  // the warm-up is not the run
  }
  if (!status.ok()) control.Abort(status);
  // The run's own work on the servers starts here for this thread's
  // connections (a pool's: all of them, by the last thread ready); the
  // servers' window opens once every thread has marked (untimed).
  t->own_before_ = MarkOwn(t->kv_.get(), t->pool_ == nullptr ? t->sql_.get() : nullptr);
  if (threads_ready_.fetch_add(1) + 1 == static_cast<int>(shard_threads_.size())) {
    if (t->pool_ != nullptr) pool_before_ = MarkPool(*t->pool_);
    if (control.reason().ok()) StartServerStats();
  }

  if (status.ok()) AwaitStart(first_local, control);

  ThreadLoop::Options options;
  options.thread_index = thread_index;
  options.threads = threads_;
  options.key_states = key_states;
  options.key_versions = key_versions;
  // Fills read the database replica (read_split.h), which may lag.
  options.fills_may_lag = env_->db_read.has_value();
  if (env_->ledger != nullptr) {
    options.seat_tag = env_->ledger->seat_tag();
    options.run_no = env_->ledger->run_no();
  }
  options.reconnect_options.max_outage_ms = env_->max_outage_ms;
  options.control = &control;
  if (first_local) {
    t->progress_ = std::make_unique<Progress>(
        this, scenario_.queries_per_thread * static_cast<int64_t>(shard_threads_.size()));
    options.progress = t->progress_.get();
  }
  t->loop_ =
      std::make_unique<ThreadLoop>(t->kv_.get(), t->sql_.get(), scenario_, env_->data, options);
  // A cluster client's routing before the loop (the warm-up is not the run).
  if (t->kv_ != nullptr) t->routing_before_ = t->kv_->Routing();
  return t;
}

ScenarioRun::Thread::~Thread() = default;

absl::Status ScenarioRun::Thread::Loop() {
  // The whole timed part is the engine's loop. A thread whose set-up failed
  // runs no operation (the loop sees the abort at once).
  return loop_->Run(run_->scenario_.queries_per_thread);
}

std::optional<RunReport> ScenarioRun::Thread::End() {
  if (routing_before_.ok()) {
    if (absl::StatusOr<KvRouting> after = kv_->Routing(); after.ok()) {
      std::lock_guard<std::mutex> lock(run_->routing_mu_);
      if (!run_->routing_.has_value()) run_->routing_.emplace();
      AddRouting(RoutingSince(*routing_before_, *after), &*run_->routing_);
    }
  }
  run_->own_work_.Add(own_before_, MarkOwn(kv_.get(), pool_ == nullptr ? sql_.get() : nullptr));
  {
    std::lock_guard<std::mutex> lock(run_->retired_mu_);
    run_->retired_sql_.push_back(std::move(sql_));
  }
  if (!run_->run_.Merge(loop_->result())) return std::nullopt;
  return run_->Finish(*loop_, kv_.get());
}

ModelInput ScenarioRun::PredictionInput(KvClient* kv, const Summary& summary,
                                        RunFacts& facts) const {
  ModelInput in = ModelInputFor(scenario_, env_->data, threads_, summary.ops_per_s);
  // A warm-up until steady ran as many reads as it took, not warmup_ops.
  if (scenario_.warmup == WarmupMode::kUntilSteady) in.warmup_ops = warm_up_.ops_done;
  if (scenario_.cache) {
    facts.measured[CounterId::kKeyUniverse] =
        static_cast<double>(EffectivePassengerRange(scenario_, env_->data).count);
  }
  if (kv == nullptr || cache_bound_.report().max_memory <= 0) return in;
  facts.measured[CounterId::kCacheMaxmemoryMb] =
      static_cast<double>(cache_bound_.report().max_memory) / (1024.0 * 1024.0);
  // A memory-bounded cache that evicted during the run: how many of this
  // run's keys it held at the end is its capacity, the model's C (never
  // derived from the measured hits). One that never filled is unbounded.
  auto evicted = facts.measured.find(CounterId::kCacheEvictedKeys);
  if (evicted == facts.measured.end() || evicted->second <= 0) return in;
  absl::StatusOr<int64_t> held = kv->CountPrefix(scenario_.key_prefix);
  if (!held.ok() || *held <= 0) return in;
  facts.measured[CounterId::kCacheCapacityKeys] = static_cast<double>(*held);
  in.capacity_keys = *held;
  in.eviction = EvictionFromPolicy(scenario_.eviction_policy).value_or(Eviction::kLru);
  if (in.eviction == Eviction::kLru) {
    // Redis approximates LRU by sampling keys whose idle time it knows to the
    // second: where the cache turns over within a second, eviction is close
    // to random. The random prediction is the other end of the band.
    ModelInput random = in;
    random.eviction = Eviction::kRandom;
    facts.measured[CounterId::kPredictedRandomHitRatePct] = PredictHitRatePct(random);
  }
  return in;
}

void ScenarioRun::RunKeys(KeyStates** states, KeyVersions** versions) {
  std::lock_guard<std::mutex> lock(key_states_mu_);
  if (key_versions_ == nullptr) {
    const IdRange range = EffectivePassengerRange(scenario_, env_->data);
    // Without a cache only the database reads in flight are counted.
    key_versions_ =
        std::make_unique<KeyVersions>(range.first_id, scenario_.cache ? range.count : 0);
    if (scenario_.cache) key_states_ = std::make_unique<KeyStates>(range.first_id, range.count);
  }
  *states = key_states_.get();
  *versions = key_versions_.get();
}

RunReport ScenarioRun::Finish(ThreadLoop& loop, KvClient* kv) {
  RunReport report;
  const int run = run_index_++;
  const ThreadResult& totals = run_.totals();
  const absl::Status reason = run_.control().reason();
  if (sampler_ != nullptr) {
    if (run_pool_ != nullptr) own_work_.Add(pool_before_, MarkPool(*run_pool_));
    sampler_->Stop();
  }

  // Leave the data set as it was: remove exactly this run's inserts, by the
  // run number they carry (also after a failed run, and those whose reply
  // was lost).
  absl::StatusOr<int64_t> removed =
      env_->ledger != nullptr ? env_->ledger->RemoveOwnBookings() : int64_t{0};
  if (!removed.ok()) {
    LogLine(
        absl::StrFormat("could not remove this run's %d booking(s) (a later cabench run removes "
                        "them once this one has ended): %s",
                        totals.recorder.writes(), std::string(removed.status().message())));
    failed_runs_.fetch_add(1);
  }

  if (!reason.ok()) {
    report.status = reason;
    failed_runs_.fetch_add(1);
    LogLine(absl::StrFormat("run failed: %s", std::string(reason.message())));
  } else {
    const Summary summary = Summarize(totals.recorder);
    RunFacts facts;
    facts.cache = scenario_.cache;
    facts.bookings_removed = removed.value_or(0);
    facts.target_rate_per_s = static_cast<double>(scenario_.rate_per_s);
    if (const int64_t origin = run_.control().schedule_origin_ns(); origin > 0) {
      facts.rate_share = static_cast<double>(shard_threads_.size()) / threads_;
      facts.schedule_start_epoch_ns = origin + EpochOffsetNs();
      facts.schedule_window_s = OpenLoopWindowS(scenario_, threads_);
    }
    facts.key_versions = true;
    facts.single_flight = scenario_.single_flight;
    facts.early_refresh = scenario_.early_refresh_beta > 0;
    SeriesExtras extras;
    if (sampler_ != nullptr) {
      ServerCounters server = sampler_->Counters(own_work_.Totals(), summary.ops, summary.wall_s);
      facts.measured.insert(server.values.begin(), server.values.end());
      if (!scenario_.cache) {
        // Without a cache its figures do not apply: absent, and no news.
        for (CounterId id :
             {CounterId::kCacheServerHits, CounterId::kCacheServerMisses,
              CounterId::kCacheExpiredKeys, CounterId::kCacheEvictedKeys,
              CounterId::kCacheUsedMemoryMb, CounterId::kCacheKeys, CounterId::kCacheCpuMs,
              CounterId::kCacheCpuUsPerOp, CounterId::kCacheForeignCommands}) {
          server.absent.erase(id);
        }
      }
      if (twin_ != nullptr && twin_->last_outcome().has_value()) {
        // The servers' CPU is every client's: db_cpu_reduction_pct compares
        // two runs' only when neither shared the servers.
        auto shared = server.values.find(CounterId::kServerFiguresShared);
        const std::optional<double>& twin_shared = twin_->last_outcome()->figures_shared;
        if (shared == server.values.end() || shared->second != 0) {
          server.absent[CounterId::kDbCpuReductionPct] =
              "this run's server figures may include other clients' work (server_figures_shared "
              "is not 0)";
        } else if (twin_shared != 0.0) {
          server.absent[CounterId::kDbCpuReductionPct] =
              "its no-cache twin's server figures may include other clients' work "
              "(server_figures_shared is not 0)";
        }
      }
      if (!absent_reported_ && !server.absent.empty()) {
        absent_reported_ = true;
        for (const std::string& why : AbsentReasons(server)) {
          LogLine(absl::StrFormat("not reported: %s", why));
        }
      }
      for (const ServerSecond& second : sampler_->Seconds()) {
        extras[second.epoch_s].insert(second.values.begin(), second.values.end());
      }
    }
    facts.predicted_hit_rate_pct = PredictHitRatePct(PredictionInput(kv, summary, facts));
    if (warm_up_.ops_done > 0 || warm_up_.until_steady) {
      facts.measured[CounterId::kWarmupOpsDone] = static_cast<double>(warm_up_.ops_done);
    }
    if (warm_up_.until_steady) {
      facts.measured[CounterId::kSteadyReached] = warm_up_.steady ? 1 : 0;
      if (warm_up_.steady) facts.measured[CounterId::kTimeToSteadyS] = warm_up_.seconds;
    }
    // A cluster's routing: its counters, which primary took how much (the
    // log), and the record's "routing" entry, for tools that join runs.
    std::map<std::string, std::string> record_more;
    {
      std::lock_guard<std::mutex> lock(routing_mu_);
      if (routing_.has_value()) {
        facts.measured.merge(RoutingCounters(*routing_));
        LogLine(NodeOpsLine(*routing_));
        record_more["routing"] = RoutingText(*routing_);
      }
    }
    if (run_pool_ != nullptr) {
      for (const auto& [id, value] : SqlPoolCounters(run_pool_->Stats())) {
        facts.measured[id] = value;
      }
    }
    // The throughput the run reports (an open loop's is over its schedule's
    // window), so that gain_ops_x is the ratio of the two reported ops_per_s.
    Outcome outcome;
    outcome.ops_per_s = ReportedSummary(totals, summary, facts).ops_per_s;
    if (auto q = facts.measured.find(CounterId::kDbQueriesPerS); q != facts.measured.end()) {
      outcome.db_queries_per_s = q->second;
    }
    if (auto cpu = facts.measured.find(CounterId::kDbCpuMs);
        cpu != facts.measured.end() && summary.wall_s > 0) {
      outcome.db_cpu_ms_per_s = cpu->second / summary.wall_s;
    }
    if (auto shared = facts.measured.find(CounterId::kServerFiguresShared);
        shared != facts.measured.end()) {
      outcome.figures_shared = shared->second;
    }
    if (twin_ != nullptr && twin_->last_outcome().has_value()) {
      // What the cache bought against the same workload without it.
      const Outcome& base = *twin_->last_outcome();
      if (base.ops_per_s > 0) {
        facts.measured[CounterId::kGainOpsX] = outcome.ops_per_s / base.ops_per_s;
      }
      if (outcome.db_queries_per_s && base.db_queries_per_s && *base.db_queries_per_s > 0) {
        facts.measured[CounterId::kDbLoadReductionPct] =
            100.0 * (1.0 - *outcome.db_queries_per_s / *base.db_queries_per_s);
      }
      // The server's CPU is every client's: compared only when neither run
      // shared the servers.
      if (outcome.db_cpu_ms_per_s && base.db_cpu_ms_per_s && *base.db_cpu_ms_per_s > 0 &&
          outcome.figures_shared == 0.0 && base.figures_shared == 0.0) {
        facts.measured[CounterId::kDbCpuReductionPct] =
            100.0 * (1.0 - *outcome.db_cpu_ms_per_s / *base.db_cpu_ms_per_s);
      }
    }
    report.counters = RunCounters(totals, summary, facts);
    // The run's verdict on itself: its counters, and its label when invalid.
    const Validity validity = JudgeRun(report.counters, totals.recorder,
                                       static_cast<int>(std::thread::hardware_concurrency()));
    for (NamedValue& c : validity.Counters()) report.counters.push_back(std::move(c));
    report.label = validity.Label();
    if (!validity.valid()) LogLine(report.label);
    if (!percentiles_reported_) {
      percentiles_reported_ = true;
      if (std::string left_out = PercentilesLeftOut(summary); !left_out.empty()) {
        LogLine(absl::StrFormat("not reported: %s", left_out));
      }
    }
    last_outcome_ = outcome;
    if (summary.errors > 0) {
      LogLine(absl::StrFormat("%d operation(s) failed; last error: %s", summary.errors,
                              std::string(totals.last_op_error.message())));
    }

    std::string file = BenchmarkFileStem(full_name_);
    if (run > 0) absl::StrAppend(&file, "_run", run);
    const std::filesystem::path out(env_->out_dir);
    absl::Status s =
        WriteFile(out / "series" / (file + ".json"), TimeSeriesJson(totals.recorder, &extras));
    if (s.ok()) {
      s = WriteFile(out / "histograms" / (file + ".json"),
                    HistogramsJson(totals.recorder, record_more));
    }
    if (!s.ok()) {
      LogLine(absl::StrFormat("%s", std::string(s.message())));
      failed_runs_.fetch_add(1);
    } else {
      ShardRecord record;
      record.shard_name =
          absl::StrCat(BenchmarkBaseName(scenario_), "/iterations:", scenario_.queries_per_thread,
                       "/real_time/threads:", shard_threads_.size());
      record.histograms = absl::StrCat("histograms/", file, ".json");
      record.series = absl::StrCat("series/", file, ".json");
      record.first_start_ns = totals.recorder.first_start_ns();
      record.last_end_ns = totals.recorder.last_end_ns();
      record.first_intended_ns = totals.recorder.first_intended_ns();
      record.last_intended_ns = totals.recorder.last_intended_ns();
      record.schedule_start_ns = facts.schedule_start_epoch_ns;
      record.schedule_window_ns = std::llround(facts.schedule_window_s * 1e9);
      shard_record_ = record;
    }
  }

  if (kv != nullptr) {
    if (absl::Status s = cache_bound_.Restore(kv); !s.ok()) {
      LogLine(absl::StrFormat("could not restore the cache's memory settings: %s",
                              std::string(s.message())));
      failed_runs_.fetch_add(1);
    }
  }
  // A shard leaves the keys: other shards may still be running.
  if (kv != nullptr && scenario_.clean_end && !env_->shard.sharded()) {
    absl::StatusOr<int64_t> deleted = kv->DeletePrefix(scenario_.key_prefix);
    if (absl::IsUnavailable(deleted.status()) &&
        loop.reconnector().ReconnectCache(loop.pattern(), env_->max_outage_ms).ok()) {
      deleted = kv->DeletePrefix(scenario_.key_prefix);
    }
    if (!deleted.ok()) {
      LogLine(absl::StrFormat("could not delete keys under '%s': %s", scenario_.key_prefix,
                              std::string(deleted.status().message())));
    }
  }
  // Every other thread of this run has merged and is done with the
  // aggregate; the next run (a repetition) starts after this one returns.
  sampler_.reset();
  stats_reader_.reset();
  run_pool_.reset();
  own_work_.Reset();
  pool_before_ = OwnMark();
  threads_ready_.store(0);
  {
    // Past the servers' last read: the threads' connections may close.
    std::lock_guard<std::mutex> lock(retired_mu_);
    retired_sql_.clear();
  }
  {
    // Every thread has left its loop: the next run starts from "never cached".
    std::lock_guard<std::mutex> lock(key_states_mu_);
    key_states_.reset();
    key_versions_.reset();
  }
  warm_up_ = WarmUpReport();
  {
    std::lock_guard<std::mutex> lock(routing_mu_);
    routing_.reset();
  }
  run_.Reset();
  return report;
}

void ScenarioRun::LogLine(const std::string& line) const {
  if (env_->log) env_->log(absl::StrCat(full_name_, ": ", line));
}

}  // namespace cabench
