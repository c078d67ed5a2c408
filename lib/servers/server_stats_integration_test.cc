// Integration tests of lib/servers against the real servers named by
// CABENCH_CACHE_URL and CABENCH_DB_URL (eval "$(tools/servers start)"): a
// known amount of work between two snapshots shows up exactly in the servers'
// own counts (the run's connections' own and the whole server's, whose
// difference is other clients' work), and the CPU of servers on this machine
// is read from /proc. Nothing else may use the test servers meanwhile (the
// whole-server counts are global).
// Keys are written under the test's own prefix and deleted at the end.
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/clients/own_sessions.h"
#include "lib/config/endpoints.h"
#include "lib/mysql/mysql_client.h"
#include "lib/redis/redis_client.h"
#include "lib/servers/own_work.h"
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
                           .db_local = IsLoopbackHost(db_.host),
                           .key_prefix = prefix_});
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

TEST_F(ServerStatsIntegrationTest, TheRunsOwnWorkAndNobodyElsesShowsUpExactly) {
  auto reader = MakeReader();
  ASSERT_THAT(kv_->Set(Key("k"), "value", kLongTtlMs), IsOk());
  // The run's connections mark their own counts, then the servers are read
  // (the order of a benchmark run, see server_stats.h).
  const OwnMark mark = MarkOwn(kv_.get(), sql_.get());
  const ServerSnapshot before = reader->Read();

  std::vector<ServerSnapshot> samples;
  for (int i = 0; i < 5; ++i) {
    ASSERT_THAT(sql_->QueryRow("SELECT 1"), IsOk());
    // Reads in between send statements of their own; the counts leave them
    // out, and they are not SELECTs.
    if (i % 2 == 0) samples.push_back(reader->Read());
  }
  ASSERT_THAT(sql_->Execute("DO 1"), IsOk());  // a statement, not a SELECT
  std::string value;
  for (int i = 0; i < 4; ++i) ASSERT_THAT(kv_->Get(Key("k"), &value), IsOk());
  for (int i = 0; i < 3; ++i) ASSERT_THAT(kv_->Get(Key(absl::StrCat("no", i)), &value), IsOk());
  OwnTotals own;
  AddOwnWork(mark, MarkOwn(kv_.get(), sql_.get()), &own);
  const ServerSnapshot after = reader->Read(/*last=*/true);

  const ServerCounters c = RunServerCounters(before, after, samples, own, /*ops=*/13, 1);
  // 5 SELECTs and a DO, nothing of the reader's or of the marks'.
  EXPECT_EQ(Value(c, CounterId::kDbQueries), 6);
  EXPECT_EQ(Value(c, CounterId::kDbSelects), 5);
  EXPECT_EQ(Value(c, CounterId::kDbInserts), 0);
  EXPECT_EQ(Value(c, CounterId::kDbRowsRead), 0);  // SELECT 1 reads no table
  // Nobody else used the servers (the tests run one at a time).
  EXPECT_EQ(Value(c, CounterId::kDbForeignQueries), 0);
  EXPECT_EQ(Value(c, CounterId::kCacheForeignCommands), 0);
  EXPECT_EQ(Value(c, CounterId::kForeignClientsMax), 0);
  EXPECT_EQ(Value(c, CounterId::kServerFiguresShared), 0);
  // So the server's hits and misses are the run's.
  EXPECT_EQ(Value(c, CounterId::kCacheServerHits), 4);
  EXPECT_EQ(Value(c, CounterId::kCacheServerMisses), 3);
  EXPECT_EQ(Value(c, CounterId::kCacheKeys), 1);  // under the test's prefix
  EXPECT_GE(Value(c, CounterId::kDbDiskReads), 0);
  EXPECT_GE(Value(c, CounterId::kDbConnections), 1);  // sql_, at least
  EXPECT_GE(Value(c, CounterId::kCacheExpiredKeys), 0);
  EXPECT_EQ(Value(c, CounterId::kCacheEvictedKeys), 0);
  EXPECT_GT(Value(c, CounterId::kCacheUsedMemoryMb), 0);
  EXPECT_GE(Value(c, CounterId::kClientCpuMs), 0);
  EXPECT_TRUE(c.absent.empty()) << absl::StrJoin(AbsentReasons(c), "; ");
}

TEST_F(ServerStatsIntegrationTest, SessionStatusCountsItselfOnceInQuestionsAndNowhereElse) {
  // Two reads in a row: the second SHOW SESSION STATUS is the only statement
  // in between, and it counts itself (a session's Questions include the
  // statement running).
  const SessionMark first = ReadSession(*sql_);
  const SessionMark second = ReadSession(*sql_);
  ASSERT_TRUE(first.questions && first.selects && first.inserts && first.rows_read)
      << first.why.size();
  EXPECT_EQ(*second.questions - *first.questions, 1);
  EXPECT_EQ(*second.selects - *first.selects, 0);
  EXPECT_EQ(*second.inserts - *first.inserts, 0);
  EXPECT_EQ(*second.rows_read - *first.rows_read, 0);
  ASSERT_TRUE(first.session.has_value()) << first.session_why;
  EXPECT_EQ(first.session->id, second.session->id);
  EXPECT_TRUE(IsOwnDbSession(first.session->server, first.session->id));
  // CONNECTION_ID() is the session the client names.
  ASSERT_OK_AND_ASSIGN(auto row, sql_->QueryRow("SELECT CONNECTION_ID()"));
  ASSERT_TRUE(row.has_value() && (*row)[0].has_value());
  EXPECT_EQ(*(*row)[0], absl::StrCat(first.session->id));
  // A reconnect is a new session.
  ASSERT_THAT(sql_->Reconnect(), IsOk());
  const SessionMark again = ReadSession(*sql_);
  ASSERT_TRUE(again.session.has_value());
  EXPECT_NE(again.session->id, first.session->id);
  EXPECT_TRUE(IsOwnDbSession(again.session->server, again.session->id));
}

// The prepared read and insert of the pattern, on a schema of the test's own.
TEST_F(ServerStatsIntegrationTest, PreparedStatementsCountAsTheirKind) {
  DbEndpoint server = db_;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<SqlClient> admin, NewMysqlClient(server));
  const std::string schema = absl::StrCat("cabench_it_", getpid(), "_session_counts");
  absl::Cleanup drop = [&] {
    EXPECT_THAT(admin->Execute(absl::StrCat("DROP DATABASE IF EXISTS `", schema, "`")), IsOk());
  };
  for (const std::string& sql : {
           absl::StrCat("DROP DATABASE IF EXISTS `", schema, "`"),
           absl::StrCat("CREATE DATABASE `", schema, "`"),
           absl::StrCat("CREATE TABLE `", schema,
                        "`.passenger (passenger_id INT NOT NULL PRIMARY KEY, "
                        "firstname VARCHAR(100) NOT NULL, lastname VARCHAR(100) NOT NULL)"),
           absl::StrCat("CREATE TABLE `", schema,
                        "`.booking (booking_id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, "
                        "flight_id INT NOT NULL, seat CHAR(4) NULL, passenger_id INT NOT NULL, "
                        "price DECIMAL(10,2) NOT NULL, cabench_run INT UNSIGNED NULL DEFAULT NULL, "
                        "UNIQUE KEY seatplan_unq (flight_id, seat), "
                        "KEY passenger_idx (passenger_id))"),
           absl::StrCat("INSERT INTO `", schema, "`.passenger VALUES (1, 'Ada', 'Lovelace')"),
           absl::StrCat("INSERT INTO `", schema,
                        "`.booking (flight_id, seat, passenger_id, price) VALUES "
                        "(10, '1A', 1, 1.00), (10, '1B', 1, 2.00)"),
       }) {
    ASSERT_THAT(admin->Execute(sql), IsOk()) << sql;
  }
  server.schema = schema;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<SqlClient> run, NewMysqlClient(server));
  const OwnMark before = MarkOwn(nullptr, run.get());
  BookingCount row;
  for (int i = 0; i < 3; ++i) ASSERT_THAT(run->QueryBookingCount(1, &row), IsOk());
  ASSERT_THAT(run->InsertBooking({.flight_id = 10, .seat = "2A", .passenger_id = 1}), IsOk());
  // A duplicate seat fails, and still counts as an INSERT the server ran.
  EXPECT_THAT(run->InsertBooking({.flight_id = 10, .seat = "2A", .passenger_id = 1}),
              StatusIs(absl::StatusCode::kAlreadyExists, ::testing::_));
  OwnTotals own;
  AddOwnWork(before, MarkOwn(nullptr, run.get()), &own);
  EXPECT_EQ(own.db_questions, 3 + 2 + 1);  // and the after-mark's SHOW
  EXPECT_EQ(own.db_selects, 3);
  EXPECT_EQ(own.db_inserts, 2);
  EXPECT_GT(*own.db_rows_read, 0);
}

TEST_F(ServerStatsIntegrationTest, WorkOfConnectionsNotTheRunsIsForeignExactly) {
  auto reader = MakeReader();
  const OwnMark mark = MarkOwn(kv_.get(), sql_.get());
  const ServerSnapshot before = reader->Read();
  // The run does a little; connections that are not the run's (not marked)
  // do a known amount: other clients, as far as the counts go.
  ASSERT_THAT(sql_->QueryRow("SELECT 1"), IsOk());
  ASSERT_THAT(kv_->Set(Key("k"), "v", kLongTtlMs), IsOk());
  CacheEndpoint cache = cache_;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<KvClient> other_kv, NewRedisClient(cache));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<SqlClient> other_sql, NewMysqlClient(db_));
  constexpr int kStatements = 17;
  constexpr int kCommands = 23;
  for (int i = 0; i < kStatements; ++i) ASSERT_THAT(other_sql->Execute("DO 1"), IsOk());
  std::string value;
  for (int i = 0; i < kCommands; ++i) ASSERT_THAT(other_kv->Get(Key("k"), &value), IsOk());
  OwnTotals own;
  AddOwnWork(mark, MarkOwn(kv_.get(), sql_.get()), &own);
  const ServerSnapshot after = reader->Read(/*last=*/true);
  const ServerCounters c = RunServerCounters(before, after, {}, own, 2, 1);
  EXPECT_EQ(Value(c, CounterId::kDbQueries), 1);
  // Connecting is work too: MariaDB counts the connection set-up's
  // statement (autocommit), Redis the SELECT and CLIENT SETNAME.
  EXPECT_EQ(Value(c, CounterId::kDbForeignQueries), kStatements + 1);
  EXPECT_EQ(Value(c, CounterId::kCacheForeignCommands), kCommands + 2);
  EXPECT_EQ(Value(c, CounterId::kServerFiguresShared), 1);
  EXPECT_EQ(c.absent.at(CounterId::kCacheServerHits),
            "other clients used the cache during the run");
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

  const ServerCounters c =
      RunServerCounters(before, after, {}, OwnTotals(), /*ops=*/20001, /*wall_s=*/1);
  EXPECT_GT(Value(c, CounterId::kDbCpuMs), 0);
  EXPECT_GT(Value(c, CounterId::kCacheCpuMs), 0);
  EXPECT_GT(Value(c, CounterId::kClientCpuMs), 0);
  EXPECT_GT(Value(c, CounterId::kDbCpuUsPerOp), 0);
  EXPECT_GT(Value(c, CounterId::kCacheCpuUsPerOp), 0);
  // Not marked as the run's: the GETs are another client's work.
  EXPECT_EQ(Value(c, CounterId::kCacheForeignCommands), 20001);
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
  // The SELECTs are not marked as a run's: another client's.
  const ServerCounters c = sampler.Counters(OwnTotals(), selects, 1.3);
  EXPECT_EQ(Value(c, CounterId::kDbForeignQueries), selects);
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
