// File: lib/engine/thread_loop.h
//
// ThreadLoop is THE per-thread loop of cabench: every benchmark thread of the
// suite, the micro-benchmark of the harness, the model's simulation and the
// tests run their operations through it, so there is one copy of
//
//   before each operation   stop? (RunControl: an abort or a signal)
//                           a client broken? reconnect it, between operations
//                             (Reconnector), or abort the run when a server
//                             stays down too long
//                           wait for the schedule (none: closed loop; the
//                             scenario's rate_per_s: open loop)
//   the operation           Workload::Next -> CacheAside::Run
//   after it                the observers (which may annotate the result,
//                             e.g. a miss's cause), LatencyRecorder::Record
//                             (open loop: also the response time from the
//                             intended start), progress
//
// A ThreadLoop owns one thread's parts: its Workload (seeded with the
// scenario's seed + thread index), its CacheAside over the caller's clients,
// its Reconnector and its LatencyRecorder. What it did is in result(), which
// the run merges at the end (lib/engine/run.h).
//
// Ownership: the clients, the RunControl, the schedule, the observers and the
// progress sink belong to the caller and must outlive the loop. Thread
// safety: NOT safe for concurrent use; one ThreadLoop per thread, like the
// clients it drives.
#ifndef CABENCH_LIB_ENGINE_THREAD_LOOP_H_
#define CABENCH_LIB_ENGINE_THREAD_LOOP_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "lib/cache_aside/cache_aside.h"
#include "lib/cache_aside/key_versions.h"
#include "lib/cache_aside/reconnector.h"
#include "lib/clients/kv_client.h"
#include "lib/clients/sql_client.h"
#include "lib/engine/key_states.h"
#include "lib/engine/run_control.h"
#include "lib/engine/schedule.h"
#include "lib/metrics/recorder.h"
#include "lib/workload/data_set.h"
#include "lib/workload/scenario.h"
#include "lib/workload/workload.h"

namespace cabench {

// What one thread did, for the run's merge.
struct ThreadResult {
  LatencyRecorder recorder;
  int64_t insert_retries = 0;
  Reconnector::Stats reconnect;
  // The last failed operation's error (OK when none failed).
  absl::Status last_op_error;
};

class ThreadLoop {
 public:
  // Every this many operations of a thread, the run's operation count and
  // the progress sink are updated.
  static constexpr int64_t kProgressStep = 1024;

  struct Options {
    // Seeds the Workload and the TTL jitter (scenario.seed + thread_index).
    int thread_index = 0;
    // The first character of every seat this thread inserts (the process's
    // run slot, lib/dataset/run_ledger.h), which keeps its seats clear of
    // other processes' on (flight_id, seat).
    char seat_tag = '0';
    // The run's number (RunLedger::run_no()), which every booking this
    // thread inserts carries (booking.cabench_run): how the run, or a later
    // one after a crash, finds exactly its rows. 0: none (NULL).
    int64_t run_no = 0;
    // Bring broken clients back between operations (else a broken client
    // keeps failing its operations, counted as errors).
    bool reconnect = true;
    // Bounds of the reconnect backoff; cache_fallback is taken from the
    // scenario's fallback_to_db.
    Reconnector::Options reconnect_options;
    // Shared by the threads of one run; null: the loop never stops early.
    RunControl* control = nullptr;
    // The run's thread count (an open-loop thread runs at rate_per_s / threads).
    int threads = 1;
    // Null: the scenario's own: open loop at its rate_per_s (lib/engine/
    // open_loop.h), or closed loop when it has none.
    Schedule* schedule = nullptr;
    // Called for every operation, in order (staleness, stampedes, ...).
    std::vector<OpObserver*> observers;
    // The run's shared key states: when set, the loop says why each miss
    // happened (OpResult::miss_cause; lib/engine/key_states.h).
    KeyStates* key_states = nullptr;
    // The run's shared key versions: when set, the pattern measures stale
    // reads, duplicate fills and database reads in flight
    // (lib/cache_aside/key_versions.h).
    KeyVersions* key_versions = nullptr;
    // The SELECTs read a database replica that may lag behind the primary
    // (CacheAside::Options::fills_may_lag).
    bool fills_may_lag = false;
    ProgressSink* progress = nullptr;
  };

  // `kv` may be null for a scenario without a cache; `sql` may not. The
  // scenario and data set are copied as needed.
  ThreadLoop(KvClient* kv, SqlClient* sql, const Scenario& scenario, const DataSetInfo& data_set,
             const Options& options);
  ThreadLoop(const ThreadLoop&) = delete;
  ThreadLoop& operator=(const ThreadLoop&) = delete;

  // Runs up to `n` operations. Returns OK after all `n`, or, when the run was
  // stopped (by this thread or another, or a signal), the RunControl's
  // reason: the operation in progress finishes first, nothing waits for
  // other threads. A server down for longer than the reconnect options allow
  // aborts the run (Unavailable). May be called again to run more.
  absl::Status Run(int64_t n);

  // Operations run so far by this loop.
  int64_t ops_done() const { return ops_done_; }

  // Adds an observer. Not during Run().
  void add_observer(OpObserver* observer) { options_.observers.push_back(observer); }

  // What the loop did so far (result().recorder is the thread's recorder),
  // with the pattern's and the reconnector's counts brought up to date.
  const ThreadResult& result();

  // The parts, for untimed work around the loop (warm-up, clean-up
  // reconnects) on the same clients.
  CacheAside& pattern() { return pattern_; }
  Reconnector& reconnector() { return reconnector_; }
  Workload& workload() { return workload_; }

 private:
  Options options_;
  std::unique_ptr<MissCauses> miss_causes_;  // when options_.key_states is set
  std::unique_ptr<Schedule> own_schedule_;   // the scenario's open loop, if any
  Schedule* schedule_;                       // options_.schedule or own_schedule_
  ThreadResult result_;                      // before pattern_, which appends to its ids
  Workload workload_;
  CacheAside pattern_;
  Reconnector reconnector_;
  int64_t ops_done_ = 0;
};

struct WarmUpOptions {
  // Paces the warm-up's reads, as the model's simulation does with its
  // virtual clock (null: as fast as they go).
  Schedule* schedule = nullptr;
  // The run's shared state, when set, learns what the warm-up cached.
  KeyStates* key_states = nullptr;
  KeyVersions* key_versions = nullptr;
  // As ThreadLoop::Options::fills_may_lag.
  bool fills_may_lag = false;
};

// What a warm-up did.
struct WarmUpReport {
  int64_t ops_done = 0;
  double seconds = 0;  // wall time
  // warmup: until_steady, and whether the hit rate became steady.
  bool until_steady = false;
  bool steady = false;
};

// The untimed warm-up of a run, through the pattern, by a ThreadLoop of its
// own (reads only, thread index Workload::kWarmupThreadIndex, so the timed
// operations' sequence does not shift), over the caller's clients:
//   warmup: ops           scenario.warmup_ops reads;
//   warmup: until_steady  reads in windows of warmup_window_ops until the hit
//                         rates of the last two windows each differ from the
//                         window before by less than warmup_steady_pct
//                         points, at most warmup_ops reads
//                         (Scenario::kDefaultSteadyCapOps when 0);
//                         report->steady says whether it got there.
// Stops at the first failed read and returns its status (prefixed "warm-up:
// "), or Cancelled when the process is asked to stop; OK otherwise (also when
// there is no cache or no warm-up). `report` (may be null) receives what it
// did. Not safe for concurrent use of the same clients.
absl::Status WarmUp(KvClient* kv, SqlClient* sql, const Scenario& scenario,
                    const DataSetInfo& data_set, const WarmUpOptions& options = {},
                    WarmUpReport* report = nullptr);

}  // namespace cabench

#endif  // CABENCH_LIB_ENGINE_THREAD_LOOP_H_
