// Integration tests of lib/servers against the real servers named by
// CABENCH_CACHE_URL and CABENCH_DB_URL (eval "$(tools/servers start)"): a
// known amount of work between two snapshots shows up exactly in the servers'
// own counts, and the CPU of servers on this machine is read from /proc.
// Nothing else may use the test servers meanwhile (the counts are global).
// Keys are written under the test's own prefix and deleted at the end.
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/config/endpoints.h"
#include "lib/mysql/mysql_client.h"
#include "lib/redis/redis_client.h"
#include "lib/servers/server_sampler.h"
#include "lib/servers/server_stats.h"
#include "lib/testing/status_matchers.h"

namespace cabench {
namespace {

constexpr int64_t kLongTtlMs = 10 * 60 * 1000;

class ServerStatsIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(cache_, CacheEndpointFromEnv());
    ASSERT_OK_AND_ASSIGN(db_, DbEndpointFromEnv());
    ASSERT_TRUE(IsLoopbackHost(cache_.host) && IsLoopbackHost(db_.host))
        << "integration tests only talk to loopback servers";
    // No schema: these tests need no tables, only statements.
    db_.schema.clear();
    prefix_ = absl::StrCat("cabench_test:", getpid(), ":",
                           ::testing::UnitTest::GetInstance()->current_test_info()->name(), ":");
    ASSERT_OK_AND_ASSIGN(kv_, NewRedisClient(cache_));
    ASSERT_OK_AND_ASSIGN(sql_, NewMysqlClient(db_));
  }

  void TearDown() override {
    if (kv_ != nullptr) {
      EXPECT_THAT(kv_->DeletePrefix(prefix_), IsOk());
    }
  }

  // A reader on its own connections, with the short timeouts it wants.
  std::unique_ptr<ServerStatsReader> MakeReader() {
    CacheEndpoint cache = cache_;
    DbEndpoint db = db_;
    cache.timeouts = db.timeouts = {.connect_ms = 1000, .io_ms = 1000};
    absl::StatusOr<std::unique_ptr<KvClient>> kv = NewRedisClient(cache);
    absl::StatusOr<std::unique_ptr<SqlClient>> sql = NewMysqlClient(db);
    EXPECT_THAT(kv, IsOk());
    EXPECT_THAT(sql, IsOk());
    return std::make_unique<ServerStatsReader>(
        kv.ok() ? std::move(*kv) : nullptr, sql.ok() ? std::move(*sql) : nullptr,
        ServerStatsOptions{.cache_local = IsLoopbackHost(cache_.host),
                           .db_local = IsLoopbackHost(db_.host)});
  }

  std::string Key(absl::string_view suffix) const { return absl::StrCat(prefix_, suffix); }

  double Value(const ServerCounters& counters, CounterId id) {
    auto it = counters.values.find(id);
    EXPECT_NE(it, counters.values.end())
        << CounterName(id) << " is absent; " << absl::StrJoin(AbsentReasons(counters), "; ");
    return it == counters.values.end() ? -1 : it->second;
  }

  CacheEndpoint cache_;
  DbEndpoint db_;
  std::string prefix_;
  std::unique_ptr<KvClient> kv_;  // the "benchmark's" connections
  std::unique_ptr<SqlClient> sql_;
};

TEST_F(ServerStatsIntegrationTest, KnownWorkShowsUpExactly) {
  auto reader = MakeReader();
  ASSERT_THAT(kv_->Set(Key("k"), "value", kLongTtlMs), IsOk());
  const ServerSnapshot before = reader->Read();

  std::vector<ServerSnapshot> samples;
  for (int i = 0; i < 5; ++i) {
    ASSERT_THAT(sql_->QueryRow("SELECT 1"), IsOk());
    // Reads in between send statements of their own; db_queries leaves them
    // out, and they are not SELECTs.
    if (i % 2 == 0) samples.push_back(reader->Read());
  }
  ASSERT_THAT(sql_->Execute("DO 1"), IsOk());  // a statement, not a SELECT
  std::string value;
  for (int i = 0; i < 4; ++i) ASSERT_THAT(kv_->Get(Key("k"), &value), IsOk());
  for (int i = 0; i < 3; ++i) ASSERT_THAT(kv_->Get(Key(absl::StrCat("no", i)), &value), IsOk());
  const ServerSnapshot after = reader->Read();

  const ServerCounters c = RunServerCounters(before, after, samples, /*ops=*/13, /*wall_s=*/1);
  // 5 SELECTs and a DO. Under a sanitizer the reader's own connection may
  // time out and come back, and a reconnect's session set-up statements are
  // not among the reads' statements it subtracts: allow a few of those (the
  // SELECT count below stays exact).
  EXPECT_GE(Value(c, CounterId::kDbQueries), 6);
  EXPECT_LE(Value(c, CounterId::kDbQueries), 9);
  EXPECT_EQ(Value(c, CounterId::kDbSelects), 5);
  EXPECT_EQ(Value(c, CounterId::kDbInserts), 0);
  EXPECT_GE(Value(c, CounterId::kDbRowsRead), 0);
  EXPECT_GE(Value(c, CounterId::kDbDiskReads), 0);
  EXPECT_GE(Value(c, CounterId::kDbConnections), 1);  // sql_, at least
  EXPECT_EQ(Value(c, CounterId::kCacheServerHits), 4);
  EXPECT_EQ(Value(c, CounterId::kCacheServerMisses), 3);
  EXPECT_GE(Value(c, CounterId::kCacheExpiredKeys), 0);
  EXPECT_EQ(Value(c, CounterId::kCacheEvictedKeys), 0);
  EXPECT_GE(Value(c, CounterId::kCacheKeys), 1);
  EXPECT_GT(Value(c, CounterId::kCacheUsedMemoryMb), 0);
  EXPECT_GE(Value(c, CounterId::kClientCpuMs), 0);
  EXPECT_TRUE(c.absent.empty()) << absl::StrJoin(AbsentReasons(c), "; ");
}

TEST_F(ServerStatsIntegrationTest, CpuOfLocalServersIsReadFromProc) {
  auto reader = MakeReader();
  ServerSnapshot before = reader->Read();
  ASSERT_TRUE(before.db_pid.has_value()) << before.absent[CounterId::kDbCpuMs];
  ASSERT_TRUE(before.cache_pid.has_value()) << before.absent[CounterId::kCacheCpuMs];
  EXPECT_NE(before.db_pid, getpid());

  // Work enough for several clock ticks in each server.
  ASSERT_THAT(sql_->QueryRow("SELECT BENCHMARK(3000000, MD5('cabench'))"), IsOk());
  ASSERT_THAT(kv_->Set(Key("k"), "value", kLongTtlMs), IsOk());
  std::string value;
  for (int i = 0; i < 20000; ++i) ASSERT_THAT(kv_->Get(Key("k"), &value), IsOk());
  const ServerSnapshot after = reader->Read();

  const ServerCounters c = RunServerCounters(before, after, {}, /*ops=*/20001, /*wall_s=*/1);
  EXPECT_GT(Value(c, CounterId::kDbCpuMs), 0);
  EXPECT_GT(Value(c, CounterId::kCacheCpuMs), 0);
  EXPECT_GT(Value(c, CounterId::kClientCpuMs), 0);
  EXPECT_GT(Value(c, CounterId::kDbCpuUsPerOp), 0);
  EXPECT_GT(Value(c, CounterId::kCacheCpuUsPerOp), 0);
  EXPECT_EQ(Value(c, CounterId::kCacheServerHits), 20000);
}

TEST_F(ServerStatsIntegrationTest, SamplerReadsOnItsOwnThreadAndStopsPromptly) {
  auto reader = MakeReader();
  ServerSampler sampler(reader.get(),
                        {.thread_scope = [] { return std::make_shared<MysqlThreadScope>(); }});
  sampler.Start();
  const auto start = std::chrono::steady_clock::now();
  int selects = 0;
  while (std::chrono::steady_clock::now() - start < std::chrono::milliseconds(1300)) {
    ASSERT_THAT(sql_->QueryRow("SELECT 1"), IsOk());
    ++selects;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  const auto stop = std::chrono::steady_clock::now();
  sampler.Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - stop, std::chrono::milliseconds(500));

  EXPECT_GE(sampler.samples().size(), 1u);
  EXPECT_LE(sampler.samples().size(), 3u);
  const ServerCounters c = sampler.Counters(selects, 1.3);
  EXPECT_EQ(Value(c, CounterId::kDbQueries), selects);
  EXPECT_EQ(Value(c, CounterId::kDbSelects), selects);
  double per_second_total = 0;
  for (const ServerSecond& second : sampler.Seconds()) {
    ASSERT_TRUE(second.values.count(SeriesField::kSeriesDbQueries)) << second.epoch_s;
    EXPECT_TRUE(second.values.count(SeriesField::kSeriesDbCpuMs)) << second.epoch_s;
    EXPECT_TRUE(second.values.count(SeriesField::kSeriesCacheCpuMs)) << second.epoch_s;
    per_second_total += second.values.at(SeriesField::kSeriesDbQueries);
  }
  EXPECT_EQ(per_second_total, selects);
}

}  // namespace
}  // namespace cabench
