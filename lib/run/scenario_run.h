// File: lib/run/scenario_run.h
//
// ScenarioRun is one Scenario at one thread count, run as cabench runs it,
// without Google Benchmark: every thread joins with BeginThread(), runs its
// operations through the one per-thread loop (lib/engine/thread_loop.h) and
// leaves with End(); the last thread to leave finishes the run and returns
// its report. bench/scenario_benchmark.h makes one Google Benchmark of it;
// its threads' barriers are the library's.
//
//   every thread   connect its own clients (untimed)
//   global thread 0  delete the scenario's keys (flush), bound the cache's
//                  memory (lib/engine/cache_bound.h), warm up
//   every thread   mark its connections' own counts (lib/servers/own_work.h);
//                  the last one to do so reads the servers (the sampler's
//                  `before`), so the servers' window starts after every mark
//   every thread   Loop(): ThreadLoop::Run(queries per thread), the timed part
//   every thread   End(): mark its connections again and add the difference
//                  to the run's own work; keep its database connection open
//                  until the run is finished (MariaDB counts a disconnect);
//                  merge its result (RunAggregate::Merge, a short mutex)
//   the last one   the run's counters (lib/engine/run.h), the time series and
//                  histograms files, remove exactly the bookings the run
//                  inserted and, if the scenario asks, its keys
//
// No thread waits for another, so every way a run can end (all operations
// done; a signal; a server down too long; a failed set-up) ends it within an
// operation's time: a run that stops early is reported as failed (its report
// says why) and still removes its rows.
//
// Faults during the loop (a server restarted, paused, a connection reset) do
// not end the run: each failed operation counts in `errors`, and the loop
// brings broken clients back between operations
// (lib/cache_aside/reconnector.h). A server down for longer than
// RunEnv::max_outage_ms ends the run as failed. Clean-up after the loop
// reconnects a broken client first (for up to max_outage_ms); rows it cannot
// remove are removed by a later cabench run once this process has ended
// (lib/dataset/run_ledger.h).
//
// Sharded (RunEnv::shard): this process runs only its share of the global
// thread indexes, each thread with its global index for seeds and schedule;
// thread 0's duties fall to the shard that holds global thread 0; every
// thread waits for RunEnv::start_at_ms (a set-up that ends after it fails
// the run); the keys are not deleted at the end (other shards may still run:
// they expire by their TTL, or the next run's flush deletes them).
//
// Ownership: the caller owns the ScenarioRun for all its runs (repetitions
// run one after another) and its Threads for one run each. Thread safety:
// BeginThread() and each Thread's methods are called concurrently by the
// run's threads; the shared state of a run is the RunAggregate's.
#ifndef CABENCH_LIB_RUN_SCENARIO_RUN_H_
#define CABENCH_LIB_RUN_SCENARIO_RUN_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "lib/cache_aside/key_versions.h"
#include "lib/clients/kv_client.h"
#include "lib/clients/sql_client.h"
#include "lib/clients/sql_pool.h"
#include "lib/engine/cache_bound.h"
#include "lib/engine/key_states.h"
#include "lib/engine/run.h"
#include "lib/engine/schedule.h"
#include "lib/engine/thread_loop.h"
#include "lib/metrics/summary.h"
#include "lib/model/hit_rate_model.h"
#include "lib/run/run_env.h"
#include "lib/servers/own_work.h"
#include "lib/servers/server_sampler.h"
#include "lib/servers/server_stats.h"
#include "lib/workload/scenario.h"

namespace cabench {

// What a finished run reports: its counters (names of lib/metrics/names.def)
// or why it failed.
struct RunReport {
  absl::Status status;
  std::vector<NamedValue> counters;
  // The benchmark's label: why the run's numbers cannot be trusted
  // ("invalid: not_steady, ..."), empty when they can (lib/engine/validity.h).
  std::string label;
};

class ScenarioRun {
 public:
  // `env` must outlive this object and is read-only during runs.
  ScenarioRun(const Scenario& scenario, int threads, const RunEnv* env);
  ScenarioRun(const ScenarioRun&) = delete;
  ScenarioRun& operator=(const ScenarioRun&) = delete;

  // One thread's part of one run: made by BeginThread() in each of the
  // run's threads, used by that thread only.
  class Thread {
   public:
    Thread(const Thread&) = delete;
    Thread& operator=(const Thread&) = delete;
    ~Thread();

    // Runs the thread's operations (queries_per_thread; the timed part).
    // Returns OK, or why the run stopped (the run then fails).
    absl::Status Loop();

    // Leaves the run. Returns the run's report for exactly one of its
    // threads, the last to leave, which finished the run (counters, files,
    // clean-up); nullopt for the others. Call once, after Loop().
    std::optional<RunReport> End();

   private:
    friend class ScenarioRun;
    explicit Thread(ScenarioRun* run) : run_(run) {}

    ScenarioRun* const run_;
    std::shared_ptr<void> scope_;
    std::unique_ptr<KvClient> kv_;
    std::unique_ptr<SqlClient> sql_;
    std::shared_ptr<SqlPool> pool_;
    std::unique_ptr<ThreadLoop> loop_;
    std::unique_ptr<ProgressSink> progress_;
    OwnMark own_before_;
    absl::StatusOr<KvRouting> routing_before_ = absl::UnimplementedError("no cache");
  };

  // Joins the run as its local thread `local_index` (0 .. local threads - 1):
  // connects the thread's clients, prepares the run (the thread of global
  // index 0: flush, bound the cache, warm up), marks the thread's own work on
  // the servers and waits for the agreed start (sharded runs). Untimed. A
  // failure aborts the run; the thread still runs Loop() (which returns at
  // once) and End(). Call concurrently from every thread of the run.
  std::unique_ptr<Thread> BeginThread(int local_index);

  // The global indexes of the threads this process runs (all of them
  // unsharded; lib/engine/shard.h). Empty: the shard has none, and Register()
  // has nothing to run.
  const std::vector<int>& shard_threads() const { return shard_threads_; }

  // What a shard's manifest says of the last successful run (empty before).
  struct ShardRecord {
    std::string shard_name;  // the name the library reports: threads:<local>
    std::string histograms;  // the files written, relative to out_dir
    std::string series;
    int64_t first_start_ns = 0;  // epoch ns of the first start, the last end
    int64_t last_end_ns = 0;
    // Open loop: the first and the last intended start (epoch ns; else 0).
    int64_t first_intended_ns = 0;
    int64_t last_intended_ns = 0;
    // Open loop: the schedule's origin (epoch ns) and its window (ns), the
    // same for every shard (else 0).
    int64_t schedule_start_ns = 0;
    int64_t schedule_window_ns = 0;
  };
  const std::optional<ShardRecord>& shard_record() const { return shard_record_; }

  // Runs that ended with an error so far. Read after the benchmarks ran.
  int failed_runs() const { return failed_runs_.load(); }

  // "CacheAside/<scenario>/read_pct:R/ttl_ms:T/access:A[/rate:R]/iterations:Q/real_time/threads:N"
  // (rate only for an open-loop scenario).
  const std::string& full_name() const { return full_name_; }
  // Threads of the benchmark, every shard's together.
  int threads() const { return threads_; }
  const Scenario& scenario() const { return scenario_; }
  // What the last successful run measured, for the run that compares
  // itself with this one (its twin). Empty before.
  struct Outcome {
    double ops_per_s = 0;
    std::optional<double> db_queries_per_s;
    std::optional<double> db_cpu_ms_per_s;
    // server_figures_shared (nullopt: not known).
    std::optional<double> figures_shared;
  };
  const std::optional<Outcome>& last_outcome() const { return last_outcome_; }

  // Says `line`, prefixed with the run's name, to the person running
  // cabench (RunEnv::log; nothing without one). Safe to call concurrently
  // when the log is.
  void LogLine(const std::string& line) const;

  // This run measures itself against `twin`, which runs just before it and
  // must outlive it. Call before the benchmarks run.
  void set_twin(const ScenarioRun* twin) { twin_ = twin; }

 private:
  // Every thread, after its set-up: waits for RunEnv::start_at_ms (if
  // any) and sets the run's open-loop origin to it; the process's first
  // thread aborts the run when the instant has already passed.
  void AwaitStart(bool first_local, RunControl& control);
  // Thread 0, before the loop: bound the cache's memory, flush, warm up.
  absl::Status PrepareRun(KvClient* kv, SqlClient* sql);
  // The model's input for this run; with a memory-bounded cache that
  // evicted, its measured capacity (also set in `facts`).
  ModelInput PredictionInput(KvClient* kv, const Summary& summary, RunFacts& facts) const;
  // The run's shared key states (runs with a cache; else null) and key
  // versions, made by the first thread that asks.
  void RunKeys(KeyStates** states, KeyVersions** versions);
  // The thread that merged last: counters, files, clean-up, reset.
  RunReport Finish(ThreadLoop& loop, KvClient* kv);
  // The run's shared connection pool (db_pool_size): the first thread to ask
  // creates it, the others of the same run get it; it ends with the run's
  // last client.
  absl::StatusOr<std::shared_ptr<SqlPool>> RunPool(int thread_index);
  // The last thread ready, before the loop: connect the statistics reader
  // and start the sampler; the finisher stops it. Failures only make
  // figures absent.
  void StartServerStats();

  const Scenario scenario_;
  const int threads_;  // every shard's together
  const RunEnv* const env_;
  const std::vector<int> shard_threads_;
  std::optional<ShardRecord> shard_record_;  // the finishing thread only
  std::string full_name_;
  std::atomic<int> failed_runs_{0};
  int run_index_ = 0;  // the finishing thread only (one run at a time)
  RunAggregate run_;
  const ScenarioRun* twin_ = nullptr;
  std::optional<Outcome> last_outcome_;  // the finishing thread only
  std::mutex pool_mu_;
  std::weak_ptr<SqlPool> pool_ ABSL_GUARDED_BY(pool_mu_);
  // Set by thread 0 before the start barrier, used by the finisher after it.
  std::shared_ptr<SqlPool> run_pool_;
  std::unique_ptr<ServerStatsReader> stats_reader_;
  std::unique_ptr<ServerSampler> sampler_;
  // The run's own work on the servers: every thread adds its connections'
  // (a pool's by the finisher, from pool_before_, which the last thread
  // ready marks); threads_ready_ finds that last thread. Reset per run.
  OwnWork own_work_;
  std::atomic<int> threads_ready_{0};
  OwnMark pool_before_;
  // The threads' database connections, closed by the finisher after the
  // servers' last read (a disconnect is a statement to MariaDB).
  std::mutex retired_mu_;
  std::vector<std::unique_ptr<SqlClient>> retired_sql_ ABSL_GUARDED_BY(retired_mu_);
  // A memory-bounded cache: thread 0 applies the bound before the run, the
  // finisher restores the cache's settings after it.
  CacheBound cache_bound_;
  // What the run knows of each key, for the cause of each miss, stale reads
  // and stampedes: shared by the run's threads, cleared when the run ends.
  // A cluster cache: the run's routing (each thread's, added as it ends).
  std::mutex routing_mu_;
  std::optional<KvRouting> routing_ ABSL_GUARDED_BY(routing_mu_);
  std::mutex key_states_mu_;
  std::unique_ptr<KeyStates> key_states_ ABSL_GUARDED_BY(key_states_mu_);
  std::unique_ptr<KeyVersions> key_versions_ ABSL_GUARDED_BY(key_states_mu_);
  // What thread 0's warm-up did (set before the loop, read by the finisher).
  WarmUpReport warm_up_;
  bool absent_reported_ = false;       // the finishing thread only
  bool percentiles_reported_ = false;  // the same
};

}  // namespace cabench

#endif  // CABENCH_LIB_RUN_SCENARIO_RUN_H_
