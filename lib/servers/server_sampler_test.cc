#include "lib/servers/server_sampler.h"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <thread>
#include <utility>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/testing/fake_kv_client.h"
#include "lib/testing/fake_sql_client.h"

namespace cabench {
namespace {

using ::testing::Ge;
using ::testing::Le;

int64_t ElapsedMs(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                               since)
      .count();
}

class ServerSamplerTest : public ::testing::Test {
 protected:
  ServerSamplerTest() {
    auto sql = std::make_unique<FakeSqlClient>();
    sql_ = sql.get();
    sql->SetStatus("Threads_connected", "3");
    reader_ = std::make_unique<ServerStatsReader>(std::make_unique<FakeKvClient>(), std::move(sql),
                                                  ServerStatsOptions());
  }

  FakeSqlClient* sql_ = nullptr;
  std::unique_ptr<ServerStatsReader> reader_;
};

TEST_F(ServerSamplerTest, ReadsAtMostOncePerPeriodOnItsBoundaries) {
  constexpr int64_t kPeriodMs = 20;
  ServerSampler sampler(reader_.get(), {.period_ms = kPeriodMs});
  const auto start = std::chrono::steady_clock::now();
  sampler.Start();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  sampler.Stop();
  const int64_t elapsed_ms = ElapsedMs(start);

  const auto& samples = sampler.samples();
  EXPECT_THAT(static_cast<int64_t>(samples.size()),
              testing::AllOf(Ge(3), Le(elapsed_ms / kPeriodMs + 1)));
  // Each read opens its own period: no two in one, none before the boundary
  // that follows `before`.
  int64_t last_period = sampler.before().epoch_ns / (kPeriodMs * 1000000);
  for (const ServerSnapshot& s : samples) {
    const int64_t period = s.epoch_ns / (kPeriodMs * 1000000);
    EXPECT_GT(period, last_period);
    last_period = period;
  }
  EXPECT_GE(sampler.after().epoch_ns, samples.back().epoch_ns);
  // before + samples + after, each one SHOW GLOBAL STATUS and one
  // PROCESSLIST query; the first also checks the PROCESS privilege.
  EXPECT_EQ(sql_->calls(SqlMethod::kQueryPairs),
            2 * (static_cast<int64_t>(samples.size()) + 2) + 1);
}

TEST_F(ServerSamplerTest, StopDoesNotWaitForTheNextPeriod) {
  ServerSampler sampler(reader_.get(), {.period_ms = 60000});
  sampler.Start();
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  const auto stop = std::chrono::steady_clock::now();
  sampler.Stop();
  EXPECT_LT(ElapsedMs(stop), 1000);
  EXPECT_TRUE(sampler.samples().empty());
  EXPECT_EQ(sql_->calls(SqlMethod::kQueryPairs), 5);  // before and after, see above
}

TEST_F(ServerSamplerTest, CountersAndSecondsCoverTheRun) {
  ServerSampler sampler(reader_.get(), {.period_ms = 10});
  sampler.Start();
  BookingCount row;
  for (int i = 0; i < 7; ++i) ASSERT_TRUE(sql_->QueryBookingCount(1, &row).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  sql_->SetStatus("Threads_connected", "6");
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  sql_->SetStatus("Threads_connected", "2");
  sampler.Stop();

  // No work of the run's own sessions: the 7 SELECTs are another client's.
  const ServerCounters c = sampler.Counters(OwnTotals(), 7, 0.1);
  EXPECT_EQ(c.values.at(CounterId::kDbQueries), 0);
  EXPECT_EQ(c.values.at(CounterId::kDbForeignQueries), 7);
  EXPECT_EQ(c.values.at(CounterId::kDbConnections), 5);  // seen by a sample only
  // The seconds add up to the run's statements, whatever the seconds are.
  double total = 0;
  for (const ServerSecond& second : sampler.Seconds()) {
    total += second.values.at(SeriesField::kSeriesDbQueries);
  }
  EXPECT_EQ(total, 7);
}

TEST_F(ServerSamplerTest, RestartsCleanAndRunsTheThreadScope) {
  std::atomic<int> made{0};
  std::atomic<int> destroyed{0};
  ServerSampler::Options options;
  options.period_ms = 10;
  options.thread_scope = [&made, &destroyed]() -> std::shared_ptr<void> {
    ++made;
    return std::shared_ptr<void>(nullptr, [&destroyed](void*) { ++destroyed; });
  };
  ServerSampler sampler(reader_.get(), std::move(options));
  sampler.Stop();  // not started: nothing
  EXPECT_EQ(sql_->calls(SqlMethod::kQueryPairs), 0);
  for (int run = 0; run < 2; ++run) {
    sampler.Start();
    sampler.Start();  // already started: nothing
    std::this_thread::sleep_for(std::chrono::milliseconds(40));
    sampler.Stop();
    EXPECT_EQ(made.load(), run + 1);
    EXPECT_EQ(destroyed.load(), run + 1);
    EXPECT_LE(sampler.samples().size(), 5u);  // this run's only
    EXPECT_LT(sampler.before().epoch_ns, sampler.after().epoch_ns);
  }
}

TEST_F(ServerSamplerTest, DestructorStopsARunningSampler) {
  const auto start = std::chrono::steady_clock::now();
  {
    ServerSampler sampler(reader_.get(), {.period_ms = 60000});
    sampler.Start();
  }
  EXPECT_LT(ElapsedMs(start), 1000);
}

}  // namespace
}  // namespace cabench
