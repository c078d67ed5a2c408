#include "lib/servers/server_stats.h"

#include <unistd.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/servers/fake_proc.h"
#include "lib/testing/fake_kv_client.h"
#include "lib/testing/fake_sql_client.h"
#include "lib/testing/null_clients.h"

namespace cabench {
namespace {

using ::testing::AllOf;
using ::testing::DoubleEq;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Key;
using ::testing::Pair;
using ::testing::UnorderedElementsAreArray;

constexpr int64_t kTtlMs = 60000;

// Every counter lib/servers reports: names.def's "What the servers spent".
const std::vector<CounterId>& ServerCounterIds() {
  static const auto* ids = new std::vector<CounterId>{
      CounterId::kDbQueries,         CounterId::kDbSelects,        CounterId::kDbInserts,
      CounterId::kDbQueriesPerOp,    CounterId::kDbQueriesPerS,    CounterId::kDbRowsRead,
      CounterId::kDbDiskReads,       CounterId::kDbConnections,    CounterId::kCacheServerHits,
      CounterId::kCacheServerMisses, CounterId::kCacheExpiredKeys, CounterId::kCacheEvictedKeys,
      CounterId::kCacheUsedMemoryMb, CounterId::kCacheKeys,        CounterId::kDbCpuMs,
      CounterId::kCacheCpuMs,        CounterId::kClientCpuMs,      CounterId::kDbCpuUsPerOp,
      CounterId::kCacheCpuUsPerOp,   CounterId::kClientCpuUsPerOp,
  };
  return *ids;
}

// Each server counter is either a value or absent with a reason, never both.
void ExpectEachCounterOnce(const ServerCounters& counters) {
  std::vector<CounterId> seen;
  for (const auto& [id, value] : counters.values) seen.push_back(id);
  for (const auto& [id, why] : counters.absent) {
    EXPECT_EQ(counters.values.count(id), 0u) << CounterName(id);
    EXPECT_FALSE(why.empty()) << CounterName(id);
    seen.push_back(id);
  }
  EXPECT_THAT(seen, UnorderedElementsAreArray(ServerCounterIds()));
}

double Value(const ServerCounters& counters, CounterId id) {
  auto it = counters.values.find(id);
  EXPECT_NE(it, counters.values.end())
      << CounterName(id)
      << " is absent: " << (counters.absent.count(id) ? counters.absent.at(id) : "");
  return it == counters.values.end() ? -1 : it->second;
}

std::string Absent(const ServerCounters& counters, CounterId id) {
  auto it = counters.absent.find(id);
  EXPECT_NE(it, counters.absent.end()) << CounterName(id) << " is present";
  return it == counters.absent.end() ? "" : it->second;
}

// A SqlClient and a KvClient that keep the interfaces' defaults: no
// statistics.
class NoStatsSql : public NullSqlClient {
 public:
  absl::StatusOr<std::vector<std::pair<std::string, std::string>>> QueryPairs(
      std::string_view sql) override {
    return SqlClient::QueryPairs(sql);
  }
};
class NoInfoKv : public NullKvClient {
 public:
  absl::StatusOr<std::string> Info(std::string_view section) override {
    return KvClient::Info(section);
  }
  absl::StatusOr<int64_t> DbSize() override { return KvClient::DbSize(); }
};

// A reader over the two fakes, which the test keeps pointers to.
class ServerStatsReaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    sql_->SetStatus("Innodb_rows_read", "100");
    sql_->SetStatus("Innodb_buffer_pool_reads", "7");
    sql_->SetStatus("Threads_connected", "5");
    sql_->SetStatus("Uptime", "1000");
  }

  std::unique_ptr<ServerStatsReader> MakeReader(ServerStatsOptions options = {}) {
    return std::make_unique<ServerStatsReader>(std::move(kv_owned_), std::move(sql_owned_),
                                               std::move(options));
  }

  void Select(int n) {
    BookingCount row;
    for (int i = 0; i < n; ++i) ASSERT_TRUE(sql_->QueryBookingCount(i + 1, &row).ok());
  }

  std::unique_ptr<FakeKvClient> kv_owned_ = std::make_unique<FakeKvClient>();
  std::unique_ptr<FakeSqlClient> sql_owned_ = std::make_unique<FakeSqlClient>();
  FakeKvClient* const kv_ = kv_owned_.get();
  FakeSqlClient* const sql_ = sql_owned_.get();
};

TEST_F(ServerStatsReaderTest, CountsExactlyWhatTheOtherClientsDid) {
  auto reader = MakeReader();
  const ServerSnapshot before = reader->Read();

  Select(3);
  ASSERT_TRUE(sql_->InsertBooking({1, "1A", 1, 100}).ok());
  ASSERT_TRUE(sql_->InsertBooking({1, "1B", 2, 100}).ok());
  ASSERT_TRUE(kv_->Set("k", "vv", kTtlMs).ok());
  std::string value;
  ASSERT_TRUE(kv_->Get("k", &value).ok());
  ASSERT_TRUE(kv_->Get("x", &value).ok());
  ASSERT_TRUE(kv_->Get("y", &value).ok());
  // Samples in between send statements too; db_queries leaves them out.
  std::vector<ServerSnapshot> samples;
  samples.push_back(reader->Read());
  sql_->SetStatus("Threads_connected", "9");
  samples.push_back(reader->Read());
  sql_->SetStatus("Threads_connected", "4");
  sql_->SetStatus("Innodb_rows_read", "150");
  const ServerSnapshot after = reader->Read();

  EXPECT_EQ(after.own_db_statements - before.own_db_statements, 3);
  const ServerCounters c = RunServerCounters(before, after, samples, /*ops=*/10, /*wall_s=*/2);
  ExpectEachCounterOnce(c);
  EXPECT_EQ(Value(c, CounterId::kDbQueries), 5);
  EXPECT_EQ(Value(c, CounterId::kDbSelects), 3);
  EXPECT_EQ(Value(c, CounterId::kDbInserts), 2);
  EXPECT_EQ(Value(c, CounterId::kDbRowsRead), 50);
  EXPECT_EQ(Value(c, CounterId::kDbDiskReads), 0);
  EXPECT_EQ(Value(c, CounterId::kDbConnections), 8);  // 9 less the reader's own
  EXPECT_THAT(Value(c, CounterId::kDbQueriesPerOp), DoubleEq(0.5));
  EXPECT_THAT(Value(c, CounterId::kDbQueriesPerS), DoubleEq(2.5));
  EXPECT_EQ(Value(c, CounterId::kCacheServerHits), 1);
  EXPECT_EQ(Value(c, CounterId::kCacheServerMisses), 2);
  EXPECT_EQ(Value(c, CounterId::kCacheExpiredKeys), 0);
  EXPECT_EQ(Value(c, CounterId::kCacheEvictedKeys), 0);
  EXPECT_EQ(Value(c, CounterId::kCacheKeys), 1);
  EXPECT_THAT(Value(c, CounterId::kCacheUsedMemoryMb), DoubleEq(3.0 / (1024 * 1024)));
  EXPECT_GE(Value(c, CounterId::kClientCpuMs), 0);
  EXPECT_GE(Value(c, CounterId::kClientCpuUsPerOp), 0);
  // Not local (the default): no server CPU.
  EXPECT_EQ(Absent(c, CounterId::kDbCpuMs), "the database is not on this machine");
  EXPECT_EQ(Absent(c, CounterId::kDbCpuUsPerOp), "the database is not on this machine");
  EXPECT_EQ(Absent(c, CounterId::kCacheCpuMs), "the cache is not on this machine");
}

TEST_F(ServerStatsReaderTest, NoOperationsOrNoTimeLeaveTheRatiosOut) {
  auto reader = MakeReader();
  const ServerSnapshot before = reader->Read();
  const ServerSnapshot after = reader->Read();
  const ServerCounters c = RunServerCounters(before, after, {}, 0, 0);
  ExpectEachCounterOnce(c);
  EXPECT_EQ(Value(c, CounterId::kDbQueries), 0);
  EXPECT_EQ(Absent(c, CounterId::kDbQueriesPerOp), "the run had no operations");
  EXPECT_EQ(Absent(c, CounterId::kDbQueriesPerS), "the run took no time");
  EXPECT_EQ(Absent(c, CounterId::kClientCpuUsPerOp), "the run had no operations");
}

TEST_F(ServerStatsReaderTest, SendsOneStatusQueryAndOneInfoPerRead) {
  auto reader = MakeReader();
  reader->Read();
  reader->Read();
  EXPECT_EQ(sql_->calls(SqlMethod::kQueryPairs), 2);
  EXPECT_EQ(sql_->calls(SqlMethod::kQueryRow), 0);
  EXPECT_EQ(kv_->calls(KvMethod::kInfo), 2);
  EXPECT_EQ(kv_->calls(KvMethod::kDbSize), 2);
  EXPECT_EQ(kv_->calls(KvMethod::kGet), 0);
  EXPECT_THAT(sql_->statements(), ElementsAre(HasSubstr("SHOW GLOBAL STATUS WHERE"),
                                              HasSubstr("SHOW GLOBAL STATUS WHERE")));
}

TEST(ServerStatsReaderAbsentTest, NoClientsNothingButTheClient) {
  ServerStatsReader reader(nullptr, nullptr, {});
  const ServerSnapshot before = reader.Read();
  EXPECT_FALSE(before.db_questions.has_value());
  EXPECT_FALSE(before.cache_hits.has_value());
  EXPECT_EQ(before.absent.at(CounterId::kDbSelects), "no database connection");
  EXPECT_EQ(before.absent.at(CounterId::kCacheKeys), "no cache connection");
  const ServerCounters c = RunServerCounters(before, reader.Read(), {}, 10, 1);
  ExpectEachCounterOnce(c);
  EXPECT_THAT(c.values,
              ElementsAre(Key(CounterId::kClientCpuMs), Key(CounterId::kClientCpuUsPerOp)));
  EXPECT_EQ(Absent(c, CounterId::kDbQueriesPerS), "no database connection");
  EXPECT_EQ(Absent(c, CounterId::kCacheUsedMemoryMb), "no cache connection");
}

TEST(ServerStatsReaderAbsentTest, ClientsWithoutStatisticsAreAbsent) {
  ServerStatsReader reader(std::make_unique<NoInfoKv>(), std::make_unique<NoStatsSql>(),
                           {.cache_local = true, .db_local = true});
  const ServerCounters c = RunServerCounters(reader.Read(), reader.Read(), {}, 10, 1);
  ExpectEachCounterOnce(c);
  EXPECT_THAT(Absent(c, CounterId::kDbQueries),
              AllOf(HasSubstr("SHOW GLOBAL STATUS"), HasSubstr("QueryPairs")));
  EXPECT_THAT(Absent(c, CounterId::kDbCpuMs), HasSubstr("pid"));
  EXPECT_THAT(Absent(c, CounterId::kCacheServerHits), HasSubstr("INFO"));
  EXPECT_THAT(Absent(c, CounterId::kCacheKeys), HasSubstr("DBSIZE"));
  EXPECT_THAT(Absent(c, CounterId::kCacheCpuMs), HasSubstr("INFO"));
}

TEST(ServerStatsReaderAbsentTest, MissingAndMalformedFieldsAreAbsentNotZero) {
  auto sql = std::make_unique<FakeSqlClient>();
  sql->SetStatus("Innodb_rows_read", "lots");  // no Innodb_buffer_pool_reads at all
  ServerStatsReader reader(std::make_unique<NullKvClient>(), std::move(sql), {});
  const ServerSnapshot before = reader.Read();
  EXPECT_TRUE(before.db_selects.has_value());
  EXPECT_EQ(before.absent.at(CounterId::kDbRowsRead),
            "SHOW GLOBAL STATUS Innodb_rows_read is not an integer: 'lots'");
  EXPECT_EQ(before.absent.at(CounterId::kDbDiskReads),
            "SHOW GLOBAL STATUS has no Innodb_buffer_pool_reads");
  // NullKvClient's INFO is empty; its DBSIZE is 0, a real answer.
  EXPECT_EQ(before.absent.at(CounterId::kCacheServerHits), "INFO has no keyspace_hits");
  const ServerCounters c = RunServerCounters(before, reader.Read(), {}, 10, 1);
  ExpectEachCounterOnce(c);
  EXPECT_EQ(Value(c, CounterId::kDbSelects), 0);
  EXPECT_EQ(Value(c, CounterId::kCacheKeys), 0);
  EXPECT_EQ(Absent(c, CounterId::kDbRowsRead),
            "SHOW GLOBAL STATUS Innodb_rows_read is not an integer: 'lots'");
  EXPECT_EQ(Absent(c, CounterId::kDbConnections), "SHOW GLOBAL STATUS has no Threads_connected");
}

TEST(ServerStatsReaderAbsentTest, RowsReadFallsBackToMariaDbsRowsRead) {
  // MariaDB 10.11 has Rows_read and no Innodb_rows_read.
  auto sql = std::make_unique<FakeSqlClient>();
  FakeSqlClient* fake = sql.get();
  sql->SetStatus("Rows_read", "40");
  ServerStatsReader reader(nullptr, std::move(sql), {});
  const ServerSnapshot before = reader.Read();
  EXPECT_EQ(before.db_rows_read, 40);
  fake->SetStatus("Rows_read", "52");
  fake->SetStatus("Innodb_rows_read", "1000");  // the engine's own, when there is one
  EXPECT_EQ(reader.Read().db_rows_read, 1000);
  fake->SetStatus("Rows_read", "x");
  EXPECT_EQ(reader.Read().db_rows_read, 1000);
}

TEST_F(ServerStatsReaderTest, ALostConnectionIsReconnectedOnceAndCostsOnlyDbQueries) {
  auto reader = MakeReader();
  const ServerSnapshot before = reader->Read();
  Select(2);
  sql_->FailNext(SqlMethod::kQueryPairs, 1, absl::UnavailableError("connection reset"));
  kv_->FailNext(KvMethod::kInfo, 1, absl::UnavailableError("connection reset"));
  const ServerSnapshot lost = reader->Read();
  EXPECT_THAT(lost.absent.at(CounterId::kDbSelects), HasSubstr("connection reset"));
  EXPECT_THAT(lost.absent.at(CounterId::kCacheServerHits), HasSubstr("connection reset"));
  EXPECT_EQ(sql_->calls(SqlMethod::kReconnect), 0);
  const ServerSnapshot after = reader->Read();
  EXPECT_EQ(sql_->calls(SqlMethod::kReconnect), 1);
  EXPECT_EQ(kv_->calls(KvMethod::kReconnect), 1);
  EXPECT_EQ(after.db_connection, before.db_connection + 1);

  const ServerCounters c = RunServerCounters(before, after, {lost}, 2, 1);
  ExpectEachCounterOnce(c);
  EXPECT_THAT(Absent(c, CounterId::kDbQueries), HasSubstr("reconnected"));
  EXPECT_EQ(Value(c, CounterId::kDbSelects), 2);
  EXPECT_EQ(Value(c, CounterId::kCacheServerHits), 0);
  // Between two reads on the new connection, db_queries is exact again.
  Select(4);
  const ServerCounters later = RunServerCounters(after, reader->Read(), {}, 4, 1);
  EXPECT_EQ(Value(later, CounterId::kDbQueries), 4);
}

TEST_F(ServerStatsReaderTest, ARestartOrAResetIsAbsentNotNegative) {
  auto reader = MakeReader();
  const ServerSnapshot before = reader->Read();
  sql_->SetStatus("Uptime", "3");
  kv_->set_uptime_s(2);
  const ServerCounters restarted = RunServerCounters(before, reader->Read(), {}, 1, 1);
  ExpectEachCounterOnce(restarted);
  EXPECT_EQ(Absent(restarted, CounterId::kDbSelects),
            "the database restarted (uptime 1000 s, then 3 s)");
  EXPECT_EQ(Absent(restarted, CounterId::kDbQueriesPerOp),
            "the database restarted (uptime 1000 s, then 3 s)");
  EXPECT_EQ(Absent(restarted, CounterId::kCacheServerMisses),
            "the cache restarted (uptime 100 s, then 2 s)");
  // Levels at the end are still reported.
  EXPECT_EQ(Value(restarted, CounterId::kCacheKeys), 0);
  EXPECT_EQ(Value(restarted, CounterId::kDbConnections), 4);

  const ServerSnapshot base = reader->Read();
  sql_->SetStatus("Innodb_rows_read", "20");  // was 100: FLUSH STATUS
  const ServerCounters reset = RunServerCounters(base, reader->Read(), {}, 1, 1);
  EXPECT_THAT(Absent(reset, CounterId::kDbRowsRead), HasSubstr("went down, from 100 to 20"));
  EXPECT_EQ(Value(reset, CounterId::kDbSelects), 0);
}

class LocalServersTest : public ServerStatsReaderTest {
 protected:
  void SetUp() override {
    ServerStatsReaderTest::SetUp();
    ASSERT_FALSE(proc_.root().empty());
    ticks_ = static_cast<double>(sysconf(_SC_CLK_TCK));
    // Booted 5000 s ago; both servers started 1000 s ago, as they report.
    proc_.SetBootUptime(5000);
    start_ = static_cast<int64_t>(4000 * ticks_);
    proc_.SetProcess(4242, "mariadbd", 100, 20, start_);
    proc_.SetProcess(4343, "redis-server", 30, 10, start_);
    kv_->set_process_id(4343);
    kv_->set_uptime_s(1000);
    sql_->SetVariable("datadir", proc_.root() + "/data/");
    sql_->SetVariable("pid_file", proc_.WriteFile("db.pid", "4242\n"));
  }

  ServerStatsOptions Local() const {
    return {.cache_local = true, .db_local = true, .proc_root = proc_.root()};
  }

  FakeProc proc_;
  double ticks_ = 100;
  int64_t start_ = 0;
};

TEST_F(LocalServersTest, CpuOfBothServersFromProc) {
  auto reader = MakeReader(Local());
  const ServerSnapshot before = reader->Read();
  EXPECT_EQ(before.db_pid, 4242);
  EXPECT_EQ(before.cache_pid, 4343);
  Select(2);
  proc_.SetProcess(4242, "mariadbd", 150, 30, start_);     // +60 ticks
  proc_.SetProcess(4343, "redis-server", 33, 12, start_);  // +5 ticks
  const ServerSnapshot after = reader->Read();
  const ServerCounters c = RunServerCounters(before, after, {}, /*ops=*/4, 1);
  ExpectEachCounterOnce(c);
  EXPECT_THAT(Value(c, CounterId::kDbCpuMs), DoubleEq(60 * 1000 / ticks_));
  EXPECT_THAT(Value(c, CounterId::kCacheCpuMs), DoubleEq(5 * 1000 / ticks_));
  EXPECT_THAT(Value(c, CounterId::kDbCpuUsPerOp), DoubleEq(60 * 1000 / ticks_ * 1000 / 4));
  // The pid lookup (SHOW GLOBAL VARIABLES, once) is one of the reader's own
  // statements: db_queries stays exact.
  EXPECT_EQ(sql_->calls(SqlMethod::kQueryPairs), 3);
  EXPECT_EQ(Value(c, CounterId::kDbQueries), 2);
  EXPECT_THAT(sql_->statements()[0], HasSubstr("SHOW GLOBAL VARIABLES"));
}

TEST_F(LocalServersTest, RelativePidFileIsInTheDataDirectory) {
  proc_.WriteFile("data/relative.pid", "4242\n");
  sql_->SetVariable("pid_file", "relative.pid");
  auto reader = MakeReader(Local());
  const ServerSnapshot snapshot = reader->Read();
  EXPECT_EQ(snapshot.db_pid, 4242);
  EXPECT_TRUE(snapshot.db_cpu_ms.has_value());
}

TEST_F(LocalServersTest, UnreadablePidsAndOtherProgramsAreAbsent) {
  sql_->SetVariable("pid_file", proc_.root() + "/gone.pid");
  kv_->set_process_id(4242);  // the database's process, not a cache
  auto reader = MakeReader(Local());
  const ServerCounters c = RunServerCounters(reader->Read(), reader->Read(), {}, 1, 1);
  ExpectEachCounterOnce(c);
  EXPECT_THAT(Absent(c, CounterId::kDbCpuMs), AllOf(HasSubstr("pid"), HasSubstr("gone.pid")));
  EXPECT_THAT(Absent(c, CounterId::kCacheCpuMs), HasSubstr("mariadbd, not the server"));
  // The lookup failed for good: it is not repeated every read.
  EXPECT_EQ(sql_->calls(SqlMethod::kQueryPairs), 3);
}

TEST_F(LocalServersTest, ARestartedServerHasNoCpuDelta) {
  auto reader = MakeReader(Local());
  const ServerSnapshot before = reader->Read();
  proc_.SetProcess(5555, "redis-server", 1, 1, static_cast<int64_t>(4990 * ticks_));
  kv_->set_process_id(5555);
  kv_->set_uptime_s(10);
  const ServerCounters c = RunServerCounters(before, reader->Read(), {}, 1, 1);
  EXPECT_EQ(Absent(c, CounterId::kCacheCpuMs), "the cache restarted (uptime 1000 s, then 10 s)");
  EXPECT_TRUE(c.values.count(CounterId::kDbCpuMs));
}

TEST(AbsentReasonsTest, OneLinePerReasonInTableOrder) {
  ServerCounters c;
  c.values[CounterId::kDbQueries] = 1;
  c.absent[CounterId::kCacheCpuMs] = "the cache is not on this machine";
  c.absent[CounterId::kDbCpuMs] = "the database is not on this machine";
  c.absent[CounterId::kDbCpuUsPerOp] = "the database is not on this machine";
  c.absent[CounterId::kCacheCpuUsPerOp] = "the cache is not on this machine";
  EXPECT_THAT(AbsentReasons(c),
              ElementsAre("db_cpu_ms, db_cpu_us_per_op: the database is not on this machine",
                          "cache_cpu_ms, cache_cpu_us_per_op: the cache is not on this machine"));
  EXPECT_THAT(AbsentReasons(ServerCounters()), IsEmpty());
}

// A snapshot read at `epoch_s`, after `own` statements of the reader.
ServerSnapshot At(double epoch_s, int64_t questions, int64_t own, std::optional<double> db_cpu) {
  ServerSnapshot s;
  s.epoch_ns = static_cast<int64_t>(epoch_s * 1e9);
  s.db_questions = questions;
  s.own_db_statements = own;
  s.db_connection = 1;
  s.db_cpu_ms = db_cpu;
  if (!db_cpu.has_value()) s.absent[CounterId::kDbCpuMs] = "unreadable";
  s.absent[CounterId::kCacheCpuMs] = "the cache is not on this machine";
  return s;
}

TEST(ServerSecondsTest, EachChangeGoesToTheSecondItBegan) {
  const ServerSnapshot before = At(100.4, 10, 1, 5.0);
  const std::vector<ServerSnapshot> samples = {At(101.001, 25, 2, 15.0), At(102.002, 40, 3, 20.0),
                                               At(102.5, 45, 4, 21.0)};
  const ServerSnapshot after = At(103.2, 47, 5, 30.0);
  EXPECT_THAT(
      ServerSeconds(before, samples, after),
      ElementsAre(AllOf(testing::Field(&ServerSecond::epoch_s, 100),
                        testing::Field(&ServerSecond::values,
                                       ElementsAre(Pair(SeriesField::kSeriesDbQueries, 14),
                                                   Pair(SeriesField::kSeriesDbCpuMs, 10)))),
                  AllOf(testing::Field(&ServerSecond::epoch_s, 101),
                        testing::Field(&ServerSecond::values,
                                       ElementsAre(Pair(SeriesField::kSeriesDbQueries, 14),
                                                   Pair(SeriesField::kSeriesDbCpuMs, 5)))),
                  // Two changes began in second 102: (45-40-1) + (47-45-1).
                  AllOf(testing::Field(&ServerSecond::epoch_s, 102),
                        testing::Field(&ServerSecond::values,
                                       ElementsAre(Pair(SeriesField::kSeriesDbQueries, 5),
                                                   Pair(SeriesField::kSeriesDbCpuMs, 10))))));
}

TEST(ServerSecondsTest, AFieldMissingFromAnyChangeOfItsSecondIsLeftOut) {
  const ServerSnapshot before = At(100.1, 10, 1, 5.0);
  const std::vector<ServerSnapshot> samples = {At(100.5, 12, 2, std::nullopt)};
  const ServerSnapshot after = At(101.1, 14, 3, 9.0);
  const std::vector<ServerSecond> seconds = ServerSeconds(before, samples, after);
  ASSERT_EQ(seconds.size(), 1u);
  EXPECT_EQ(seconds[0].epoch_s, 100);
  EXPECT_THAT(seconds[0].values, ElementsAre(Pair(SeriesField::kSeriesDbQueries, 2)));
}

TEST(ParseInfoTest, NameValueLinesOfEverySection) {
  EXPECT_THAT(internal::ParseInfo("# Server\r\nredis_version:7.0.15\r\nprocess_id:12\r\n\r\n"
                                  "# Keyspace\r\ndb0:keys=1,expires=1,avg_ttl=0\r\nnot a field\n"
                                  "used_memory:1024"),
              ElementsAre(Pair("redis_version", "7.0.15"), Pair("process_id", "12"),
                          Pair("db0", "keys=1,expires=1,avg_ttl=0"), Pair("used_memory", "1024")));
  EXPECT_THAT(internal::ParseInfo(""), IsEmpty());
}

}  // namespace
}  // namespace cabench
