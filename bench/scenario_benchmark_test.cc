// How a run of the suite ends, through Google Benchmark's real runner and the
// real ScenarioBenchmark, with fake clients: deterministic choreographies in
// which some threads have finished (and wait in the library's end barrier)
// while another is held back in an operation, then a signal arrives or a
// server stays down. Every one must end within seconds, report the failure
// and count it; none may hang (a watchdog ends the process if one does).
#include "bench/scenario_benchmark.h"

#include "lib/engine/plan.h"

#include <signal.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "benchmark/benchmark.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/engine/run_control.h"
#include "lib/testing/fake_kv_client.h"
#include "lib/testing/fake_sql_client.h"

namespace cabench {
namespace {

using ::testing::HasSubstr;

constexpr int64_t kOpsPerThread = 300;

// Opens once; every Wait() before that blocks.
class Gate {
 public:
  void Wait() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return open_; });
  }
  void Open() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      open_ = true;
    }
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
};

// One thread's database client: forwards to a shared fake and counts its
// reads. The held thread's client blocks in its first read until the gate
// opens; with `down_after_gate` it then answers Unavailable to everything,
// reconnects included (a server that stays down).
class ThreadSql : public SqlClient {
 public:
  ThreadSql(FakeSqlClient* fake, Gate* hold, bool down_after_gate, std::atomic<int64_t>* reads)
      : fake_(fake), hold_(hold), down_(down_after_gate), reads_(reads) {}

  absl::Status QueryBookingCount(int64_t id, BookingCount* row) override {
    if (hold_ != nullptr) {
      hold_->Wait();
      hold_ = nullptr;
      if (down_) broken_ = true;
    }
    if (broken_) return absl::UnavailableError("fake database down");
    reads_->fetch_add(1);
    return fake_->QueryBookingCount(id, row);
  }
  absl::StatusOr<int64_t> InsertBooking(const NewBooking& b) override {
    if (broken_) return absl::UnavailableError("fake database down");
    return fake_->InsertBooking(b);
  }
  absl::StatusOr<int64_t> Execute(std::string_view sql) override { return fake_->Execute(sql); }
  absl::StatusOr<std::optional<std::vector<std::optional<std::string>>>> QueryRow(
      std::string_view sql) override {
    return fake_->QueryRow(sql);
  }
  absl::Status Ping() override {
    return broken_ ? absl::UnavailableError("fake database down") : absl::OkStatus();
  }
  absl::Status Reconnect() override { return Ping(); }
  absl::StatusOr<std::string> ServerInfo() override { return std::string("fake"); }

 private:
  FakeSqlClient* fake_;
  Gate* hold_;
  bool down_;
  bool broken_ = false;
  std::atomic<int64_t>* reads_;
};

// One thread's cache client: forwards to a shared (thread-safe) fake.
class ThreadKv : public KvClient {
 public:
  explicit ThreadKv(FakeKvClient* fake) : fake_(fake) {}
  absl::StatusOr<bool> Get(std::string_view key, std::string* value) override {
    return fake_->Get(key, value);
  }
  absl::Status Set(std::string_view key, std::string_view value, int64_t ttl_ms) override {
    return fake_->Set(key, value, ttl_ms);
  }
  absl::StatusOr<bool> SetIfAbsent(std::string_view key, std::string_view value,
                                   int64_t ttl_ms) override {
    return fake_->SetIfAbsent(key, value, ttl_ms);
  }
  absl::Status Del(std::string_view key) override { return fake_->Del(key); }
  absl::StatusOr<bool> DelIfEquals(std::string_view key, std::string_view value) override {
    return fake_->DelIfEquals(key, value);
  }
  absl::StatusOr<int64_t> DeletePrefix(std::string_view prefix) override {
    return fake_->DeletePrefix(prefix);
  }
  absl::Status Ping() override { return fake_->Ping(); }
  absl::Status Reconnect() override { return fake_->Reconnect(); }
  absl::StatusOr<std::string> ServerInfo() override { return fake_->ServerInfo(); }

 private:
  FakeKvClient* fake_;
};

class CaptureReporter : public benchmark::BenchmarkReporter {
 public:
  bool ReportContext(const Context&) override { return true; }
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& r : runs) runs_.push_back(r);
  }
  const std::vector<Run>& runs() const { return runs_; }

 private:
  std::vector<Run> runs_;
};

struct Outcome {
  std::vector<benchmark::BenchmarkReporter::Run> runs;
  int failed_runs = 0;
  double seconds = 0;
};

class ScenarioBenchmarkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static bool initialized = [] {
      int argc = 1;
      char arg0[] = "cabench_suite_tests";
      char* argv[] = {arg0, nullptr};
      benchmark::Initialize(&argc, argv);
      return true;
    }();
    (void)initialized;
    ClearStopRequest();
    out_dir_ = std::filesystem::temp_directory_path() /
               ("cabench_suite_test_" + std::to_string(::getpid()));
    env_.data.preset = "fake";
    env_.data.passengers = 1000;
    env_.data.flights = 10;
    env_.out_dir = out_dir_.string();
    env_.max_outage_ms = 300;
    scenario_.name = "stop_test";
    scenario_.cache = false;
    scenario_.read_pct = 100;
    scenario_.queries_per_thread = kOpsPerThread;
  }
  void TearDown() override {
    ClearStopRequest();
    std::error_code ec;
    std::filesystem::remove_all(out_dir_, ec);
  }

  // Runs the scenario at `threads` threads; thread `held` (-1: none) is held
  // in its first read until every other thread has done all its reads, then
  // `event` happens (a stop request, or nothing) and the gate opens.
  Outcome RunWith(int threads, int held, bool down_after_gate, bool signal) {
    std::vector<std::atomic<int64_t>> reads(static_cast<size_t>(threads));
    for (auto& r : reads) r = 0;
    env_.new_sql = [&](int t) -> absl::StatusOr<std::unique_ptr<SqlClient>> {
      return std::make_unique<ThreadSql>(&fake_, t == held ? &gate_ : nullptr, down_after_gate,
                                         &reads[static_cast<size_t>(t)]);
    };
    ScenarioBenchmark bench(scenario_, threads, &env_);
    benchmark::ClearRegisteredBenchmarks();
    bench.Register();
    CaptureReporter reporter;
    std::atomic<bool> done{false};
    const auto start = std::chrono::steady_clock::now();
    std::thread runner([&] {
      benchmark::RunSpecifiedBenchmarks(&reporter);
      done = true;
    });
    // The watchdog: a hang is a failure, not a stuck test run.
    std::thread watchdog([&] {
      for (int i = 0; i < 300 && !done; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
      if (!done) {
        std::fprintf(stderr, "HANG: the run did not end within 30 s\n");
        std::_Exit(1);
      }
    });
    if (held >= 0) {
      // Wait until every other thread has done all its reads, then give them
      // time to reach the library's end barrier.
      for (int i = 0; i < 1000; ++i) {
        bool all = true;
        for (int t = 0; t < threads; ++t) {
          if (t != held && reads[static_cast<size_t>(t)] < kOpsPerThread) all = false;
        }
        if (all) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      if (signal) RequestStop(SIGINT);
      gate_.Open();
    }
    runner.join();
    watchdog.join();
    Outcome o;
    o.runs = reporter.runs();
    o.failed_runs = bench.failed_runs();
    o.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return o;
  }

  // The scenario becomes `name`: 90% reads of 50 keys through a cache, open
  // loop at 2,000/s with a fixed schedule (an exact rate).
  void OpenLoopWithCache(const char* name) {
    scenario_.name = name;
    scenario_.cache = true;
    scenario_.read_pct = 90;
    scenario_.pool_size = 50;
    scenario_.rate_per_s = 2000;
    scenario_.arrival = Arrival::kUniform;
  }

  RunEnv env_;
  Scenario scenario_;
  FakeSqlClient fake_;
  Gate gate_;
  std::filesystem::path out_dir_;
};

TEST_F(ScenarioBenchmarkTest, SignalWhileThreadZeroIsHeldAndOthersHaveFinished) {
  const Outcome o = RunWith(3, /*held=*/0, /*down_after_gate=*/false, /*signal=*/true);
  ASSERT_EQ(o.runs.size(), 1u);
  EXPECT_TRUE(o.runs[0].error_occurred);
  EXPECT_THAT(o.runs[0].error_message, HasSubstr("interrupted by signal 2"));
  EXPECT_EQ(o.failed_runs, 1);
  EXPECT_LT(o.seconds, 10.0);
}

TEST_F(ScenarioBenchmarkTest, SignalWhileAnotherThreadIsHeldAndThreadZeroHasFinished) {
  const Outcome o = RunWith(3, /*held=*/2, /*down_after_gate=*/false, /*signal=*/true);
  ASSERT_EQ(o.runs.size(), 1u);
  EXPECT_TRUE(o.runs[0].error_occurred);
  EXPECT_THAT(o.runs[0].error_message, HasSubstr("interrupted by signal 2"));
  EXPECT_EQ(o.failed_runs, 1);
}

TEST_F(ScenarioBenchmarkTest, OutageAbortsWhileOtherThreadsHaveFinished) {
  const Outcome o = RunWith(2, /*held=*/0, /*down_after_gate=*/true, /*signal=*/false);
  ASSERT_EQ(o.runs.size(), 1u);
  EXPECT_TRUE(o.runs[0].error_occurred);
  EXPECT_THAT(o.runs[0].error_message, HasSubstr("unavailable for"));
  EXPECT_EQ(o.failed_runs, 1);
  EXPECT_LT(o.seconds, 10.0);
}

TEST_F(ScenarioBenchmarkTest, UnevenRunCompletesAndThroughputIsOpsOverWallTime) {
  // Thread 1 is held until thread 0 is done: the threads finish far apart,
  // so ops / (average thread time) would overstate the throughput.
  const Outcome o = RunWith(2, /*held=*/1, /*down_after_gate=*/false, /*signal=*/false);
  ASSERT_EQ(o.runs.size(), 1u);
  const auto& run = o.runs[0];
  ASSERT_FALSE(run.error_occurred) << run.error_message;
  EXPECT_EQ(o.failed_runs, 0);
  const auto& c = run.counters;
  ASSERT_TRUE(c.count("ops") && c.count("ops_per_s") && c.count("wall_s"));
  EXPECT_EQ(c.at("ops").value, 2.0 * kOpsPerThread);
  EXPECT_NEAR(c.at("ops_per_s").value * c.at("wall_s").value, c.at("ops").value,
              c.at("ops").value * 1e-9);
  EXPECT_EQ(c.at("db_reads").value, 2.0 * kOpsPerThread);
  // A run without a cache reports no hit rate, misses or cache-hit figures.
  EXPECT_EQ(c.count("hit_rate_pct"), 0u);
  EXPECT_EQ(c.count("cache_misses"), 0u);
  EXPECT_EQ(c.count("speedup"), 0u);
  EXPECT_EQ(c.count("hit_avg_us"), 0u);
  EXPECT_EQ(c.count("db_read_p99_us"), 1u);
}

TEST_F(ScenarioBenchmarkTest, OpenLoopRunReportsTheScheduleAndTheTwinItIsMeasuredAgainst) {
  FakeKvClient kv;
  std::atomic<int64_t> reads{0};
  env_.new_kv = [&](int) -> absl::StatusOr<std::unique_ptr<KvClient>> {
    return std::make_unique<ThreadKv>(&kv);
  };
  env_.new_sql = [&](int) -> absl::StatusOr<std::unique_ptr<SqlClient>> {
    return std::make_unique<ThreadSql>(&fake_, nullptr, false, &reads);
  };
  OpenLoopWithCache("open");
  scenario_.baseline_no_cache = true;
  const Scenario twin_scenario = NoCacheTwin(scenario_);
  ScenarioBenchmark twin(twin_scenario, 2, &env_);
  ScenarioBenchmark bench(scenario_, 2, &env_);
  bench.set_twin(&twin);
  benchmark::ClearRegisteredBenchmarks();
  twin.Register();
  bench.Register();
  EXPECT_EQ(twin.full_name(),
            "CacheAside/open@no_cache/read_pct:90/ttl_ms:300000/access:pool/rate:2000/"
            "iterations:300/real_time/threads:2");
  CaptureReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  ASSERT_EQ(reporter.runs().size(), 2u);
  const auto& base = reporter.runs()[0];
  const auto& run = reporter.runs()[1];
  ASSERT_FALSE(base.error_occurred) << base.error_message;
  ASSERT_FALSE(run.error_occurred) << run.error_message;
  EXPECT_THAT(base.benchmark_name(), HasSubstr("@no_cache"));
  EXPECT_EQ(base.counters.count("hit_rate_pct"), 0u);
  const auto& c = run.counters;
  const auto& b = base.counters;
  EXPECT_EQ(c.at("target_rate_per_s").value, 2000);
  // 600 operations at 2,000/s, all due within 0.3 s: the achieved rate is
  // the target when every operation ended within the window, and less by
  // however far the last one ended after it; never more. How far depends on
  // the machine's load (seen: a twin at 1,300/s on two busy cores), so what
  // is asserted is that each run's target_missed agrees with its rate.
  const double rate = c.at("ops_per_s").value;
  const double base_rate = b.at("ops_per_s").value;
  EXPECT_GT(rate, 0);
  EXPECT_LE(rate, 2000 * (1 + 1e-9));
  EXPECT_GT(base_rate, 0);
  EXPECT_LE(base_rate, 2000 * (1 + 1e-9));
  EXPECT_EQ(c.at("target_missed").value, rate < 0.99 * 2000 ? 1 : 0);
  EXPECT_EQ(b.at("target_missed").value, base_rate < 0.99 * 2000 ? 1 : 0);
  EXPECT_GT(c.at("intended_p99_us").value, 0);
  EXPECT_GE(c.at("intended_p99_us").value, c.at("p99_us").value * 0.99);
  EXPECT_EQ(c.count("hit_intended_p99_us"), 1u);
  EXPECT_EQ(c.count("late_ops"), 1u);
  // The gain is the run's rate over its twin's...
  EXPECT_NEAR(c.at("gain_ops_x").value, rate / base_rate, 1e-9 * rate / base_rate);
  // ... so when both reach the target the cache gains nothing in throughput,
  // which is the honest answer for an open-loop run.
  if (c.at("target_missed").value == 0 && b.at("target_missed").value == 0) {
    EXPECT_NEAR(c.at("gain_ops_x").value, 1.0, 0.0102);
  }
}

TEST_F(ScenarioBenchmarkTest, ShardRunsItsGlobalThreadsAtTheirShareOfTheRateFromStartAt) {
  FakeKvClient kv;
  std::atomic<int64_t> reads{0};
  std::mutex mu;
  std::vector<int> asked;  // thread indexes the clients were made for
  env_.new_kv = [&](int) -> absl::StatusOr<std::unique_ptr<KvClient>> {
    return std::make_unique<ThreadKv>(&kv);
  };
  env_.new_sql = [&](int t) -> absl::StatusOr<std::unique_ptr<SqlClient>> {
    std::lock_guard<std::mutex> lock(mu);
    if (t >= 0) asked.push_back(t);
    return std::make_unique<ThreadSql>(&fake_, nullptr, false, &reads);
  };
  OpenLoopWithCache("shard");
  scenario_.key_prefix = "shard:";
  scenario_.clean_end = true;
  // A key of the scenario's from before: only the shard with thread 0 flushes,
  // and no shard deletes the keys at its end.
  ASSERT_TRUE(kv.Set("shard:old", "x", 60'000).ok());
  env_.shard = ShardSpec{1, 3, "flags"};
  env_.start_at_ms = absl::ToUnixMillis(absl::Now()) + 300;
  ScenarioBenchmark bench(scenario_, 4, &env_);
  EXPECT_THAT(bench.shard_threads(), ::testing::ElementsAre(1));
  EXPECT_THAT(bench.full_name(), ::testing::EndsWith("/threads:4"));
  benchmark::ClearRegisteredBenchmarks();
  bench.Register();
  CaptureReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  ASSERT_EQ(reporter.runs().size(), 1u);
  const auto& run = reporter.runs()[0];
  ASSERT_FALSE(run.error_occurred) << run.error_message;
  EXPECT_EQ(run.threads, 1);
  EXPECT_EQ(asked, std::vector<int>{1});  // the global index, not 0
  const auto& c = run.counters;
  EXPECT_EQ(c.at("ops").value, kOpsPerThread);
  // One thread of four: a quarter of the target rate.
  EXPECT_NEAR(c.at("ops_per_s").value, 500, 25);
  // ... and judged against its share: 500/s.
  EXPECT_EQ(c.at("target_missed").value, c.at("ops_per_s").value < 0.99 * 500 ? 1 : 0);
  ASSERT_TRUE(bench.shard_record().has_value());
  // Every shard's schedule: 1,200 operations at 2,000/s from --start_at.
  EXPECT_EQ(bench.shard_record()->schedule_window_ns, 600'000'000);
  EXPECT_GE(bench.shard_record()->schedule_start_ns, env_.start_at_ms * 1'000'000);
  EXPECT_LT(bench.shard_record()->schedule_start_ns, env_.start_at_ms * 1'000'000 + 10'000'000);
  EXPECT_THAT(bench.shard_record()->shard_name, ::testing::EndsWith("/threads:1"));
  EXPECT_GE(bench.shard_record()->first_start_ns, env_.start_at_ms * 1'000'000);
  std::string value;
  EXPECT_TRUE(*kv.Get("shard:old", &value));
  // A shard with no thread of the benchmark registers nothing.
  env_.shard = ShardSpec{3, 5, "flags"};
  ScenarioBenchmark none(scenario_, 3, &env_);
  EXPECT_TRUE(none.shard_threads().empty());
}

TEST_F(ScenarioBenchmarkTest, ShardSetUpEndingAfterStartAtFailsTheRun) {
  env_.new_sql = [&](int) -> absl::StatusOr<std::unique_ptr<SqlClient>> {
    static std::atomic<int64_t> reads{0};
    return std::make_unique<ThreadSql>(&fake_, nullptr, false, &reads);
  };
  env_.shard = ShardSpec{0, 2, "flags"};
  env_.start_at_ms = absl::ToUnixMillis(absl::Now()) - 1;  // already passed
  ScenarioBenchmark bench(scenario_, 2, &env_);
  benchmark::ClearRegisteredBenchmarks();
  bench.Register();
  CaptureReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  ASSERT_EQ(reporter.runs().size(), 1u);
  EXPECT_TRUE(reporter.runs()[0].error_occurred);
  EXPECT_THAT(reporter.runs()[0].error_message, HasSubstr("after --start_at"));
  EXPECT_EQ(bench.failed_runs(), 1);
}

}  // namespace
}  // namespace cabench
