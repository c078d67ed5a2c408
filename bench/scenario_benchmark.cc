#include "bench/scenario_benchmark.h"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "bench/counters.h"
#include "lib/cache_aside/cache_aside.h"
#include "lib/metrics/summary.h"
#include "lib/metrics/time_series.h"
#include "lib/model/hit_rate_model.h"
#include "lib/mysql/mysql_client.h"
#include "lib/redis/redis_client.h"
#include "lib/workload/workload.h"

namespace cabench {
namespace {

// Progress goes to stderr at most this often, for runs long enough to need it.
constexpr auto kProgressEvery = std::chrono::seconds(2);

// Set by RequestStop() (a signal handler): the signal number, else 0.
std::atomic<int> g_stop_signal{0};
static_assert(std::atomic<int>::is_always_lock_free);

absl::Status WriteFile(const std::filesystem::path& path, const std::string& content) {
  std::error_code ec;
  std::filesystem::create_directories(path.parent_path(), ec);
  if (ec) {
    return absl::InternalError(absl::StrCat("cannot create ", path.parent_path().string(), ": ",
                                            ec.message()));
  }
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  out.close();
  if (!out) return absl::InternalError(absl::StrCat("cannot write ", path.string()));
  return absl::OkStatus();
}

// Reports how far thread 0 has come, scaled by the thread count.
class Progress {
 public:
  Progress(const std::string& name, int64_t total_ops, int threads)
      : name_(name), total_ops_(total_ops), threads_(threads),
        start_(std::chrono::steady_clock::now()), next_(start_ + kProgressEvery) {}

  void Tick(int64_t own_ops) {
    auto now = std::chrono::steady_clock::now();
    if (now < next_) return;
    next_ = now + kProgressEvery;
    const double elapsed = std::chrono::duration<double>(now - start_).count();
    const int64_t done = own_ops * threads_;
    std::fprintf(stderr, "cabench: %s: %lld%% (%lld of %lld ops, %.0f ops/s)\n", name_.c_str(),
                 static_cast<long long>(100 * done / total_ops_), static_cast<long long>(done),
                 static_cast<long long>(total_ops_), static_cast<double>(done) / elapsed);
  }

 private:
  const std::string& name_;
  const int64_t total_ops_;
  const int threads_;
  const std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point next_;
};

}  // namespace

void RequestStop(int signal_number) {
  g_stop_signal.store(signal_number, std::memory_order_relaxed);
}

int StopRequested() { return g_stop_signal.load(std::memory_order_relaxed); }

ScenarioBenchmark::ScenarioBenchmark(const Scenario& scenario, int threads, const SuiteEnv* env)
    : scenario_(scenario),
      threads_(threads),
      env_(env),
      merged_(std::make_unique<std::latch>(threads)) {
  full_name_ = FullName(scenario_, threads_);
}

std::string ScenarioBenchmark::FullName(const Scenario& scenario, int threads) {
  return absl::StrCat("CacheAside/", scenario.name, "/read_pct:", scenario.read_pct,
                      "/ttl_ms:", scenario.ttl_ms, "/access:", static_cast<int>(scenario.access),
                      "/iterations:", scenario.queries_per_thread,
                      "/real_time/threads:", threads);
}

void ScenarioBenchmark::Register() {
  const std::string base = absl::StrCat("CacheAside/", scenario_.name);
  benchmark::RegisterBenchmark(base.c_str(), [this](benchmark::State& state) { Run(state); })
      ->Args({scenario_.read_pct, scenario_.ttl_ms, static_cast<int64_t>(scenario_.access)})
      ->ArgNames({"read_pct", "ttl_ms", "access"})
      ->Iterations(scenario_.queries_per_thread)
      ->UseRealTime()
      ->Threads(threads_);
}

void ScenarioBenchmark::Abort(const absl::Status& status) {
  std::lock_guard<std::mutex> lock(mu_);
  if (error_.empty()) error_ = std::string(status.message());
  abort_.store(true);
}

absl::Status ScenarioBenchmark::PrepareRun(KvClient* kv, SqlClient* sql) {
  absl::StatusOr<std::optional<std::vector<std::optional<std::string>>>> row =
      sql->QueryRow("SELECT COALESCE(MAX(booking_id), 0) FROM booking");
  if (!row.ok()) return row.status();
  if (!row->has_value() || (*row)->empty() || !(**row)[0].has_value() ||
      !absl::SimpleAtoi(*(**row)[0], &booking_high_water_)) {
    return absl::InternalError("cannot read the booking high-water mark");
  }
  if (kv == nullptr) return absl::OkStatus();
  if (scenario_.flush) {
    absl::StatusOr<int64_t> deleted = kv->DeletePrefix(scenario_.key_prefix);
    if (!deleted.ok()) return deleted.status();
  }
  if (scenario_.warmup_ops > 0) {
    Workload ids(scenario_, env_->data, Workload::kWarmupThreadIndex);
    CacheAside::Options options;
    options.thread_index = Workload::kWarmupThreadIndex;  // its own jitter stream, as the model
    CacheAside warm(kv, sql, scenario_, options);
    if (absl::Status s = warm.Warmup(scenario_.warmup_ops, ids); !s.ok()) {
      return absl::Status(s.code(), absl::StrCat("warm-up: ", s.message()));
    }
  }
  return absl::OkStatus();
}

void ScenarioBenchmark::Run(benchmark::State& state) {
  MysqlThreadScope mysql_thread;
  const bool leader = state.thread_index() == 0;
  const int thread_index = state.thread_index();

  // Connect (untimed). Each thread has its own clients.
  std::unique_ptr<KvClient> kv;
  std::unique_ptr<SqlClient> sql;
  absl::Status status;
  if (StopRequested() != 0) status = absl::CancelledError("interrupted");
  if (status.ok() && scenario_.cache) {
    absl::StatusOr<std::unique_ptr<KvClient>> c = NewRedisClient(env_->cache);
    if (c.ok()) {
      kv = *std::move(c);
    } else {
      status = absl::Status(c.status().code(), absl::StrCat("cache server at ",
                                                            env_->cache.ToString(), ": ",
                                                            c.status().message()));
    }
  }
  if (status.ok()) {
    absl::StatusOr<std::unique_ptr<SqlClient>> c = NewMysqlClient(env_->db);
    if (c.ok()) {
      sql = *std::move(c);
    } else {
      status = absl::Status(c.status().code(), absl::StrCat("database at ", env_->db.ToString(),
                                                            ": ", c.status().message()));
    }
  }
  if (status.ok() && leader) status = PrepareRun(kv.get(), sql.get());
  if (!status.ok()) Abort(status);

  auto recorder = std::make_unique<LatencyRecorder>();
  Workload workload(scenario_, env_->data, thread_index);
  CacheAside::Options options;
  options.thread_index = thread_index;
  options.seat_source = &workload;
  options.fallback_to_db_on_cache_error = scenario_.fallback_to_db;
  CacheAside pattern(kv.get(), sql.get(), scenario_, options);
  Reconnector::Options reconnect_options;
  reconnect_options.cache_fallback = scenario_.fallback_to_db;
  reconnect_options.max_outage_ms = env_->max_outage_ms;
  Reconnector reconnector(kv.get(), sql.get(), reconnect_options);
  Progress progress(full_name_, scenario_.queries_per_thread * threads_, threads_);

  int64_t own_ops = 0;
  for (auto _ : state) {
    // Set before the start barrier by whichever thread failed to prepare, or
    // at any time by a signal.
    if (abort_.load(std::memory_order_relaxed) ||
        g_stop_signal.load(std::memory_order_relaxed) != 0) {
      std::string message;
      {
        std::lock_guard<std::mutex> lock(mu_);
        message = error_;
      }
      if (message.empty()) {
        message = absl::StrCat("interrupted by signal ", StopRequested());
        Abort(absl::CancelledError(message));
      }
      state.SkipWithError(message.c_str());
      break;
    }
    // Rare: a client answered Unavailable. Reconnect between operations,
    // outside every operation's latency.
    if (pattern.unavailable() != 0) {
      if (absl::Status s = reconnector.Recover(pattern); !s.ok()) Abort(s);
    }
    const OpResult result = pattern.Run(workload.Next());
    recorder->Record(result, pattern.last_start_epoch_ns());
    if (leader && (++own_ops & 1023) == 0) progress.Tick(own_ops);
  }

  {
    std::lock_guard<std::mutex> lock(mu_);
    aggregate_.Merge(*recorder);
    insert_retries_ += pattern.insert_retries();
    fallback_reads_ += pattern.fallback_reads();
    if (pattern.errors() > 0 && last_op_error_.empty()) {
      last_op_error_ = std::string(pattern.last_error().message());
    }
  }
  SetThreadCounters(*recorder, state);
  const Reconnector::Stats& rs = reconnector.stats();
  state.counters["reconnects"] = static_cast<double>(rs.reconnects);
  state.counters["reconnect_failures"] = static_cast<double>(rs.reconnect_failures);
  state.counters["reconnect_wait_ms"] = static_cast<double>(rs.wait_ns) / 1e6;
  merged_->count_down();
  if (leader) {
    merged_->wait();
    FinishRun(state, kv.get(), sql.get(), pattern, reconnector);
  }
}

void ScenarioBenchmark::FinishRun(benchmark::State& state, KvClient* kv, SqlClient* sql,
                                  CacheAside& pattern, Reconnector& reconnector) {
  const int run = run_index_++;
  const bool aborted = abort_.load();
  std::lock_guard<std::mutex> lock(mu_);
  if (aborted) {
    failed_runs_.fetch_add(1);
    std::fprintf(stderr, "cabench: %s: run failed: %s\n", full_name_.c_str(), error_.c_str());
  } else {
    const Summary summary = Summarize(aggregate_);
    const double ops_per_s =
        summary.duration_s > 0 ? static_cast<double>(summary.ops) / summary.duration_s : 0;
    const double predicted =
        PredictHitRatePct(ModelInputFor(scenario_, env_->data, threads_, ops_per_s));
    SetRunCounters(aggregate_, summary, predicted, state);
    state.counters["insert_retries"] = static_cast<double>(insert_retries_);
    state.counters["fallback_reads"] = static_cast<double>(fallback_reads_);
    if (summary.errors > 0) {
      std::fprintf(stderr, "cabench: %s: %lld operation(s) failed; last error: %s\n",
                   full_name_.c_str(), static_cast<long long>(summary.errors),
                   last_op_error_.c_str());
    }

    std::string file = absl::StrReplaceAll(full_name_, {{"/", "_"}, {":", "-"}});
    if (run > 0) absl::StrAppend(&file, "_run", run);
    const std::filesystem::path out(env_->out_dir);
    absl::Status s = WriteFile(out / "series" / (file + ".json"), TimeSeriesJson(aggregate_));
    if (s.ok()) s = WriteFile(out / "histograms" / (file + ".json"), HistogramsJson(aggregate_));
    if (!s.ok()) {
      std::fprintf(stderr, "cabench: %s: %s\n", full_name_.c_str(),
                   std::string(s.message()).c_str());
      failed_runs_.fetch_add(1);
    }
  }

  // Leave the data set as it was: remove this run's inserts (also after a
  // failed run) and, when asked, the scenario's keys.
  if (sql != nullptr && booking_high_water_ > 0) {
    const std::string remove =
        absl::StrCat("DELETE FROM booking WHERE booking_id > ", booking_high_water_);
    absl::StatusOr<int64_t> removed = sql->Execute(remove);
    if (absl::IsUnavailable(removed.status()) &&
        reconnector.ReconnectDb(pattern, env_->max_outage_ms).ok()) {
      removed = sql->Execute(remove);
    }
    if (!removed.ok()) {
      std::fprintf(stderr,
                   "cabench: %s: could not remove this run's bookings (the next cabench run "
                   "removes them): %s\n",
                   full_name_.c_str(), std::string(removed.status().message()).c_str());
      failed_runs_.fetch_add(1);
    }
  }
  if (kv != nullptr && scenario_.clean_end) {
    absl::StatusOr<int64_t> deleted = kv->DeletePrefix(scenario_.key_prefix);
    if (absl::IsUnavailable(deleted.status()) &&
        reconnector.ReconnectCache(pattern, env_->max_outage_ms).ok()) {
      deleted = kv->DeletePrefix(scenario_.key_prefix);
    }
    if (!deleted.ok()) {
      std::fprintf(stderr, "cabench: %s: could not delete keys under '%s': %s\n",
                   full_name_.c_str(), scenario_.key_prefix.c_str(),
                   std::string(deleted.status().message()).c_str());
    }
  }

  // Reset the per-run state for the next run (repetitions). Every other
  // thread of this run has finished with it: they all counted down.
  aggregate_.Clear();
  error_.clear();
  last_op_error_.clear();
  insert_retries_ = 0;
  fallback_reads_ = 0;
  booking_high_water_ = 0;
  merged_ = std::make_unique<std::latch>(threads_);
  abort_.store(false);
}

}  // namespace cabench
