#include "lib/engine/thread_loop.h"

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/engine/run.h"
#include "lib/testing/fake_kv_client.h"
#include "lib/testing/fake_sql_client.h"
#include "lib/testing/status_matchers.h"

namespace cabench {
namespace {

using ::testing::HasSubstr;

DataSetInfo SmallDataSet(int64_t flights = 10) {
  DataSetInfo ds;
  ds.passengers = 1000;
  ds.flights = flights;
  return ds;
}

class CountingObserver : public OpObserver {
 public:
  void OnOp(const Op& op, OpResult& r, int64_t start) override {
    ++ops;
    reads += op.kind == OpKind::kRead;
    errors += r.op_class == OpClass::kError;
    last_start = start;
  }
  int64_t ops = 0, reads = 0, errors = 0, last_start = 0;
};

class CountingProgress : public ProgressSink {
 public:
  void OnProgress(int64_t n) override { calls.push_back(n); }
  std::vector<int64_t> calls;
};

TEST(ThreadLoopTest, RunsRecordsObservesAndInserts) {
  Scenario s;
  s.pool_size = 100;
  s.read_pct = 70;
  FakeKvClient kv;
  FakeSqlClient sql;
  CountingObserver observer;
  CountingProgress progress;
  ThreadLoop::Options options;
  options.observers = {&observer};
  options.progress = &progress;
  ThreadLoop loop(&kv, &sql, s, SmallDataSet(), options);
  ASSERT_THAT(loop.Run(3000), IsOk());
  EXPECT_EQ(loop.ops_done(), 3000);
  const ThreadResult& r = loop.result();
  EXPECT_EQ(r.recorder.ops(), 3000);
  EXPECT_EQ(observer.ops, 3000);
  EXPECT_EQ(r.recorder.reads(), observer.reads);
  EXPECT_EQ(r.recorder.errors(), 0);
  EXPECT_EQ(sql.inserted(), r.recorder.writes());
  // Without a run, bookings carry none (NULL).
  EXPECT_EQ(sql.inserted_by_run(0), r.recorder.writes());
  // Progress every 1024 operations of the thread.
  EXPECT_EQ(progress.calls, (std::vector<int64_t>{1024, 2048}));
  // Seats carry the seat tag ('0' by default) and are 4 characters.
  EXPECT_EQ(loop.workload().Next().booking.seat.size(), 4u);
}

TEST(ThreadLoopTest, FourThreadsShareTheServers) {
  // Each thread with its own loop over one shared (internally locked) pair
  // of fakes: per-thread state must not race (run under ThreadSanitizer), and
  // seats from different threads never collide.
  constexpr int kThreads = 4;
  Scenario s;
  // About 1,000 writes per thread: fewer than a thread's 1,296 seats, so
  // any duplicate seat would be one thread's against another's.
  s.queries_per_thread = 4000;
  s.pool_size = 500;
  s.read_pct = 75;
  const DataSetInfo ds = SmallDataSet(/*flights=*/3);  // seats of threads meet on few flights
  FakeKvClient kv;
  FakeSqlClient sql;
  RunAggregate run(kThreads);
  std::atomic<int> finishers{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      ThreadLoop::Options options;
      options.thread_index = t;
      options.run_no = 77;
      options.control = &run.control();
      ThreadLoop loop(&kv, &sql, s, ds, options);
      EXPECT_THAT(loop.Run(s.queries_per_thread), IsOk());
      if (run.Merge(loop.result())) finishers.fetch_add(1);
    });
  }
  for (std::thread& th : threads) th.join();
  ASSERT_EQ(finishers.load(), 1);  // exactly one thread finishes the run
  const ThreadResult& total = run.totals();
  EXPECT_EQ(total.recorder.ops(), kThreads * s.queries_per_thread);
  EXPECT_EQ(total.recorder.errors(), 0);
  EXPECT_EQ(total.insert_retries, 0);
  EXPECT_EQ(sql.inserted(), total.recorder.writes());
  // Every committed INSERT of every thread carries the run's number.
  EXPECT_GT(total.recorder.writes(), 0);
  EXPECT_EQ(sql.inserted_by_run(77), total.recorder.writes());
  // 16,000 ops over 500 keys: nearly every read after the first few hits.
  EXPECT_GT(total.recorder.cache_hits(), total.recorder.reads() * 9 / 10);
  EXPECT_LE(kv.size(), 500);
  EXPECT_EQ(run.control().ops_done(), kThreads * (s.queries_per_thread / 1024) * 1024);
}

TEST(ThreadLoopTest, AnAbortStopsEveryLoopBeforeItsNextOperation) {
  Scenario s;
  FakeKvClient kv;
  FakeSqlClient sql;
  RunControl control;
  ThreadLoop::Options options;
  options.control = &control;
  ThreadLoop loop(&kv, &sql, s, SmallDataSet(), options);
  ASSERT_THAT(loop.Run(10), IsOk());
  control.Abort(absl::UnavailableError("database unavailable for 11 ms"));
  EXPECT_THAT(loop.Run(1000), StatusIs(absl::StatusCode::kUnavailable, HasSubstr("11 ms")));
  EXPECT_EQ(loop.ops_done(), 10);
  // The first reason is kept.
  control.Abort(absl::InternalError("later"));
  EXPECT_THAT(control.reason(), StatusIs(absl::StatusCode::kUnavailable, HasSubstr("11 ms")));
}

TEST(ThreadLoopTest, AStopRequestStopsTheLoopWithTheSignal) {
  Scenario s;
  FakeKvClient kv;
  FakeSqlClient sql;
  RunControl control;
  ThreadLoop::Options options;
  options.control = &control;
  ThreadLoop loop(&kv, &sql, s, SmallDataSet(), options);
  RequestStop(15);
  EXPECT_THAT(loop.Run(100), StatusIs(absl::StatusCode::kCancelled, "interrupted by signal 15"));
  ClearStopRequest();
  EXPECT_EQ(loop.ops_done(), 0);
  EXPECT_FALSE(control.aborted());
}

TEST(ThreadLoopTest, AServerThatStaysDownAbortsTheRun) {
  Scenario s;
  s.read_pct = 100;
  FakeKvClient kv;
  kv.set_emulate_broken(true);
  FakeSqlClient sql;
  RunControl control;
  ThreadLoop::Options options;
  options.control = &control;
  options.reconnect_options.max_outage_ms = 50;
  ThreadLoop loop(&kv, &sql, s, SmallDataSet(), options);
  kv.FailNext(KvMethod::kGet, 1, absl::UnavailableError("reset"));
  kv.FailEvery(KvMethod::kReconnect, 1, absl::UnavailableError("refused"));
  const auto start = std::chrono::steady_clock::now();
  const absl::Status s2 = loop.Run(1'000'000);
  EXPECT_THAT(s2, StatusIs(absl::StatusCode::kUnavailable, HasSubstr("unavailable for")));
  EXPECT_TRUE(control.aborted());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_GT(loop.result().recorder.errors(), 0);
  EXPECT_GT(loop.result().reconnect.reconnect_failures, 0);
}

TEST(ThreadLoopTest, WarmUpReadsThroughThePatternAndStopsAtTheFirstError) {
  Scenario s;
  s.pool_size = 100;
  s.warmup_ops = 500;
  FakeKvClient kv;
  FakeSqlClient sql;
  ASSERT_THAT(WarmUp(&kv, &sql, s, SmallDataSet()), IsOk());
  EXPECT_GT(kv.size(), 95);  // 1 - e^-5 of 100 keys, in expectation 99.3
  EXPECT_LE(kv.size(), 100);
  EXPECT_EQ(sql.inserted(), 0);  // reads only
  kv.FailNext(KvMethod::kGet, 1, absl::UnavailableError("down"));
  const int64_t gets = kv.calls(KvMethod::kGet);
  EXPECT_THAT(WarmUp(&kv, &sql, s, SmallDataSet()),
              StatusIs(absl::StatusCode::kUnavailable, "warm-up: down"));
  EXPECT_EQ(kv.calls(KvMethod::kGet), gets + 1);
  // Nothing to do without a cache.
  s.cache = false;
  EXPECT_THAT(WarmUp(nullptr, &sql, s, SmallDataSet()), IsOk());
}

TEST(ThreadLoopTest, WarmUpUntilSteadyStopsOnceTheHitRateSettles) {
  Scenario s;
  s.pool_size = 1000;
  s.warmup = WarmupMode::kUntilSteady;
  s.warmup_window_ops = 1000;
  s.warmup_steady_pct = 2.0;
  FakeKvClient kv;
  FakeSqlClient sql;
  WarmUpReport report;
  ASSERT_THAT(WarmUp(&kv, &sql, s, SmallDataSet(), {}, &report), IsOk());
  EXPECT_TRUE(report.until_steady);
  EXPECT_TRUE(report.steady);
  // Window k's hit rate is about 1 - e^-(k-1) - (1 - e^-k)... it climbs by
  // more than 2 points a window until ~97% of the keys are cached: at least
  // 4 windows, and whole windows only.
  EXPECT_GE(report.ops_done, 4000);
  EXPECT_EQ(report.ops_done % 1000, 0);
  EXPECT_LE(report.ops_done, 12000);
  EXPECT_GT(kv.size(), 950);
  EXPECT_GE(report.seconds, 0);

  // Capped before it settles: not steady, and no more than the cap.
  s.warmup_ops = 2500;
  FakeKvClient cold;
  ASSERT_THAT(WarmUp(&cold, &sql, s, SmallDataSet(), {}, &report), IsOk());
  EXPECT_FALSE(report.steady);
  EXPECT_EQ(report.ops_done, 2000);

  // A fixed warm-up reports its reads and no steadiness.
  s.warmup = WarmupMode::kOps;
  s.warmup_ops = 300;
  ASSERT_THAT(WarmUp(&cold, &sql, s, SmallDataSet(), {}, &report), IsOk());
  EXPECT_FALSE(report.until_steady);
  EXPECT_EQ(report.ops_done, 300);
}

}  // namespace
}  // namespace cabench
