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

// Every counter lib/servers reports: names.def's "What the servers spent"
// and the other clients' work.
const std::vector<CounterId>& ServerCounterIds() {
  static const auto* ids = new std::vector<CounterId>{
      CounterId::kDbQueries,         CounterId::kDbSelects,
      CounterId::kDbInserts,         CounterId::kDbQueriesPerOp,
      CounterId::kDbQueriesPerS,     CounterId::kDbRowsRead,
      CounterId::kDbDiskReads,       CounterId::kDbConnections,
      CounterId::kCacheServerHits,   CounterId::kCacheServerMisses,
      CounterId::kCacheExpiredKeys,  CounterId::kCacheEvictedKeys,
      CounterId::kCacheUsedMemoryMb, CounterId::kCacheKeys,
      CounterId::kDbCpuMs,           CounterId::kCacheCpuMs,
      CounterId::kClientCpuMs,       CounterId::kDbCpuUsPerOp,
      CounterId::kCacheCpuUsPerOp,   CounterId::kClientCpuUsPerOp,
      CounterId::kDbForeignQueries,  CounterId::kCacheForeignCommands,
      CounterId::kForeignClientsMax, CounterId::kServerFiguresShared,
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

// The other clients' figures: db_foreign_queries, cache_foreign_commands,
// foreign_clients_max and server_figures_shared.
void ExpectForeign(const ServerCounters& c, double db, double cache, double clients,
                   double shared) {
  EXPECT_EQ(Value(c, CounterId::kDbForeignQueries), db);
  EXPECT_EQ(Value(c, CounterId::kCacheForeignCommands), cache);
  EXPECT_EQ(Value(c, CounterId::kForeignClientsMax), clients);
  EXPECT_EQ(Value(c, CounterId::kServerFiguresShared), shared);
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

TEST_F(ServerStatsReaderTest, OtherClientsWorkIsCountedApartFromOurs) {
  auto reader = MakeReader({.key_prefix = "run:"});
  const ServerSnapshot before = reader->Read();

  // Work on the database that no session of the run did: another client's
  // (the run's own work is given to RunServerCounters, here none).
  Select(3);
  ASSERT_TRUE(sql_->InsertBooking({1, "1A", 1, 100}).ok());
  ASSERT_TRUE(sql_->InsertBooking({1, "1B", 2, 100}).ok());
  sql_->AddOtherClients(/*statements=*/7, /*active=*/2);
  // Commands sent through the reader's own cache client are the reader's;
  // others are the other clients'.
  ASSERT_TRUE(kv_->Set("run:k", "vv", kTtlMs).ok());
  std::string value;
  ASSERT_TRUE(kv_->Get("run:k", &value).ok());
  ASSERT_TRUE(kv_->Get("x", &value).ok());
  kv_->AddOtherClients(/*commands=*/5, /*active=*/1);
  std::vector<ServerSnapshot> samples;
  samples.push_back(reader->Read());
  sql_->SetStatus("Threads_connected", "9");
  sql_->AddOtherClients(0, 0);
  kv_->AddOtherClients(0, 0);
  samples.push_back(reader->Read());
  sql_->SetStatus("Threads_connected", "4");
  sql_->SetStatus("Innodb_buffer_pool_reads", "10");
  const ServerSnapshot after = reader->Read(/*last=*/true);

  // From before's SHOW GLOBAL STATUS (excluded) to after's (included): the
  // privilege check and PROCESSLIST of before, two per sample, after's
  // status.
  EXPECT_EQ(after.own_db_statements - before.own_db_statements, 7);
  const ServerCounters c = RunServerCounters(before, after, samples, OwnTotals(), 10, 2);
  ExpectEachCounterOnce(c);
  ExpectForeign(c, 3 + 2 + 7, 5, /*clients: 2 sessions + 1 connection*/ 3, 1);
  EXPECT_EQ(Absent(c, CounterId::kCacheServerHits), "other clients used the cache during the run");
  EXPECT_EQ(Absent(c, CounterId::kCacheServerMisses),
            "other clients used the cache during the run");
  // The run's own figures: none of this.
  EXPECT_EQ(Value(c, CounterId::kDbQueries), 0);
  EXPECT_EQ(Value(c, CounterId::kDbSelects), 0);
  EXPECT_EQ(Value(c, CounterId::kDbInserts), 0);
  EXPECT_EQ(Value(c, CounterId::kDbRowsRead), 0);
  EXPECT_EQ(Value(c, CounterId::kDbQueriesPerS), 0);
  // Whole-server figures.
  EXPECT_EQ(Value(c, CounterId::kDbDiskReads), 3);
  EXPECT_EQ(Value(c, CounterId::kDbConnections), 8);  // 9 less the reader's own
  EXPECT_EQ(Value(c, CounterId::kCacheExpiredKeys), 0);
  EXPECT_EQ(Value(c, CounterId::kCacheEvictedKeys), 0);
  EXPECT_EQ(Value(c, CounterId::kCacheKeys), 1);  // under "run:"
  EXPECT_THAT(Value(c, CounterId::kCacheUsedMemoryMb), DoubleEq(7.0 / (1024 * 1024)));
  EXPECT_GE(Value(c, CounterId::kClientCpuMs), 0);
  // Not local (the default): no server CPU.
  EXPECT_EQ(Absent(c, CounterId::kDbCpuMs), "the database is not on this machine");
  EXPECT_EQ(Absent(c, CounterId::kDbCpuUsPerOp), "the database is not on this machine");
  EXPECT_EQ(Absent(c, CounterId::kCacheCpuMs), "the cache is not on this machine");
}

TEST_F(ServerStatsReaderTest, AQuietServerIsTheRunsAlone) {
  auto reader = MakeReader({.key_prefix = "run:"});
  const ServerSnapshot before = reader->Read();
  std::string value;
  ASSERT_TRUE(kv_->Set("run:a", "v", kTtlMs).ok());
  ASSERT_TRUE(kv_->Set("run:b", "v", kTtlMs).ok());
  ASSERT_TRUE(kv_->Set("other:c", "v", kTtlMs).ok());
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(kv_->Get("run:a", &value).ok());
  ASSERT_TRUE(kv_->Get("run:none", &value).ok());
  const ServerSnapshot after = reader->Read(/*last=*/true);
  const ServerCounters c = RunServerCounters(before, after, {}, OwnTotals(), 5, 1);
  ExpectEachCounterOnce(c);
  ExpectForeign(c, 0, 0, 0, 0);
  EXPECT_EQ(Value(c, CounterId::kCacheServerHits), 4);
  EXPECT_EQ(Value(c, CounterId::kCacheServerMisses), 1);
  EXPECT_EQ(Value(c, CounterId::kCacheKeys), 2);  // not other:c
}

TEST_F(ServerStatsReaderTest, NoOperationsOrNoTimeLeaveTheRatiosOut) {
  auto reader = MakeReader();
  const ServerSnapshot before = reader->Read();
  const ServerSnapshot after = reader->Read();
  const ServerCounters c = RunServerCounters(before, after, {}, OwnTotals(), 0, 0);
  ExpectEachCounterOnce(c);
  EXPECT_EQ(Value(c, CounterId::kDbQueries), 0);
  EXPECT_EQ(Absent(c, CounterId::kDbQueriesPerOp), "the run had no operations");
  EXPECT_EQ(Absent(c, CounterId::kDbQueriesPerS), "the run took no time");
  EXPECT_EQ(Absent(c, CounterId::kClientCpuUsPerOp), "the run had no operations");
  EXPECT_EQ(Absent(c, CounterId::kCacheKeys), "counted at the run's last read only");
}

TEST_F(ServerStatsReaderTest, SendsWhatEachReadNeedsAndCountsKeysOnlyAtTheEnd) {
  auto reader = MakeReader({.key_prefix = "run:"});
  reader->Read();
  reader->Read(/*last=*/true);
  EXPECT_EQ(sql_->calls(SqlMethod::kQueryPairs), 5);
  EXPECT_EQ(sql_->calls(SqlMethod::kQueryRow), 0);
  EXPECT_EQ(kv_->calls(KvMethod::kInfo), 2);
  EXPECT_EQ(kv_->calls(KvMethod::kClientList), 2);
  EXPECT_EQ(kv_->calls(KvMethod::kDbSize), 0);
  EXPECT_EQ(kv_->calls(KvMethod::kCountPrefix), 1);
  EXPECT_EQ(kv_->calls(KvMethod::kGet), 0);
  EXPECT_THAT(sql_->statements(),
              ElementsAre(HasSubstr("SHOW GLOBAL STATUS WHERE"), HasSubstr("USER_PRIVILEGES"),
                          HasSubstr("PROCESSLIST"), HasSubstr("SHOW GLOBAL STATUS WHERE"),
                          HasSubstr("PROCESSLIST")));
}

TEST_F(ServerStatsReaderTest, WithoutThePrivilegeOtherUsersSessionsAreUnknown) {
  sql_->set_process_privilege(false);
  auto reader = MakeReader();
  const ServerSnapshot before = reader->Read();
  const ServerCounters c = RunServerCounters(before, reader->Read(), {}, OwnTotals(), 1, 1);
  EXPECT_EQ(Value(c, CounterId::kDbForeignQueries), 0);
  EXPECT_THAT(Absent(c, CounterId::kForeignClientsMax), HasSubstr("PROCESS privilege"));
  EXPECT_THAT(Absent(c, CounterId::kServerFiguresShared),
              AllOf(HasSubstr("cannot tell"), HasSubstr("foreign_clients_max")));
  // Checked once, not at every read.
  EXPECT_EQ(sql_->calls(SqlMethod::kQueryPairs), 3);
}

TEST(ServerStatsReaderAbsentTest, NoClientsNothingButTheClientAndTheRunsOwn) {
  ServerStatsReader reader(nullptr, nullptr, {});
  const ServerSnapshot before = reader.Read();
  EXPECT_FALSE(before.db_questions.has_value());
  EXPECT_FALSE(before.cache_hits.has_value());
  EXPECT_EQ(before.absent.at(CounterId::kDbDiskReads), "no database connection");
  EXPECT_EQ(before.absent.at(CounterId::kCacheKeys), "no cache connection");
  const ServerCounters c = RunServerCounters(before, reader.Read(), {}, OwnTotals(), 10, 1);
  ExpectEachCounterOnce(c);
  // The run's own figures do not need the reader.
  EXPECT_THAT(c.values,
              ElementsAre(Key(CounterId::kDbQueries), Key(CounterId::kDbSelects),
                          Key(CounterId::kDbInserts), Key(CounterId::kDbQueriesPerOp),
                          Key(CounterId::kDbQueriesPerS), Key(CounterId::kDbRowsRead),
                          Key(CounterId::kClientCpuMs), Key(CounterId::kClientCpuUsPerOp)));
  EXPECT_EQ(Absent(c, CounterId::kDbForeignQueries), "no database connection");
  EXPECT_EQ(Absent(c, CounterId::kCacheUsedMemoryMb), "no cache connection");
  EXPECT_EQ(Absent(c, CounterId::kForeignClientsMax),
            "the database's sessions: no database connection");
}

TEST(ServerStatsReaderAbsentTest, ClientsWithoutStatisticsAreAbsent) {
  ServerStatsReader reader(std::make_unique<NoInfoKv>(), std::make_unique<NoStatsSql>(),
                           {.cache_local = true, .db_local = true, .key_prefix = "run:"});
  const ServerSnapshot before = reader.Read();
  const ServerCounters c =
      RunServerCounters(before, reader.Read(/*last=*/true), {}, OwnTotals(), 10, 1);
  ExpectEachCounterOnce(c);
  EXPECT_THAT(Absent(c, CounterId::kDbForeignQueries),
              AllOf(HasSubstr("SHOW GLOBAL STATUS"), HasSubstr("QueryPairs")));
  EXPECT_THAT(Absent(c, CounterId::kDbCpuMs), HasSubstr("pid"));
  EXPECT_THAT(Absent(c, CounterId::kCacheForeignCommands), HasSubstr("INFO"));
  EXPECT_THAT(Absent(c, CounterId::kCacheServerHits), HasSubstr("INFO"));
  EXPECT_THAT(Absent(c, CounterId::kCacheKeys), HasSubstr("count keys"));
  EXPECT_THAT(Absent(c, CounterId::kCacheCpuMs), HasSubstr("INFO"));
  EXPECT_THAT(Absent(c, CounterId::kForeignClientsMax), HasSubstr("QueryPairs"));
}

TEST(ServerStatsReaderAbsentTest, MissingAndMalformedFieldsAreAbsentNotZero) {
  auto sql = std::make_unique<FakeSqlClient>();
  sql->SetStatus("Innodb_buffer_pool_reads", "lots");  // no Threads_connected at all
  ServerStatsReader reader(std::make_unique<NullKvClient>(), std::move(sql), {});
  const ServerSnapshot before = reader.Read();
  EXPECT_TRUE(before.db_questions.has_value());
  EXPECT_EQ(before.absent.at(CounterId::kDbDiskReads),
            "SHOW GLOBAL STATUS Innodb_buffer_pool_reads is not an integer: 'lots'");
  EXPECT_EQ(before.absent.at(CounterId::kDbConnections),
            "SHOW GLOBAL STATUS has no Threads_connected");
  // NullKvClient's INFO is empty.
  EXPECT_EQ(before.absent.at(CounterId::kCacheServerHits), "INFO has no keyspace_hits");
  EXPECT_EQ(before.absent.at(CounterId::kCacheForeignCommands),
            "INFO has no total_commands_processed");
  const ServerCounters c = RunServerCounters(before, reader.Read(), {}, OwnTotals(), 10, 1);
  ExpectEachCounterOnce(c);
  EXPECT_EQ(Value(c, CounterId::kDbForeignQueries), 0);
  EXPECT_EQ(Absent(c, CounterId::kDbDiskReads),
            "SHOW GLOBAL STATUS Innodb_buffer_pool_reads is not an integer: 'lots'");
  EXPECT_EQ(Absent(c, CounterId::kDbConnections), "SHOW GLOBAL STATUS has no Threads_connected");
}

TEST_F(ServerStatsReaderTest, ALostConnectionIsReconnectedOnceAndCostsOnlyTheForeignCount) {
  auto reader = MakeReader();
  const ServerSnapshot before = reader->Read();
  Select(2);
  sql_->FailNext(SqlMethod::kQueryPairs, 1, absl::UnavailableError("connection reset"));
  kv_->FailNext(KvMethod::kInfo, 1, absl::UnavailableError("connection reset"));
  const ServerSnapshot lost = reader->Read();
  EXPECT_THAT(lost.absent.at(CounterId::kDbDiskReads), HasSubstr("connection reset"));
  EXPECT_THAT(lost.absent.at(CounterId::kCacheServerHits), HasSubstr("connection reset"));
  EXPECT_EQ(sql_->calls(SqlMethod::kReconnect), 0);
  const ServerSnapshot after = reader->Read();
  EXPECT_EQ(sql_->calls(SqlMethod::kReconnect), 1);
  EXPECT_EQ(kv_->calls(KvMethod::kReconnect), 1);
  EXPECT_EQ(after.db_connection, before.db_connection + 1);

  const ServerCounters c = RunServerCounters(before, after, {lost}, OwnTotals(), 2, 1);
  ExpectEachCounterOnce(c);
  EXPECT_THAT(Absent(c, CounterId::kDbForeignQueries), HasSubstr("reconnected"));
  EXPECT_EQ(Value(c, CounterId::kDbDiskReads), 0);
  EXPECT_EQ(Value(c, CounterId::kCacheServerHits), 0);
  // The read that lost its connections saw nobody: the most is unknown.
  EXPECT_THAT(Absent(c, CounterId::kForeignClientsMax), HasSubstr("connection broke"));
  // Between two reads on the new connection, the count is exact again.
  Select(4);
  const ServerCounters later = RunServerCounters(after, reader->Read(), {}, OwnTotals(), 4, 1);
  EXPECT_EQ(Value(later, CounterId::kDbForeignQueries), 4);
}

TEST_F(ServerStatsReaderTest, ARestartOrAResetIsAbsentNotNegative) {
  sql_->SetStatus("Innodb_buffer_pool_reads", "100");
  auto reader = MakeReader();
  const ServerSnapshot before = reader->Read();
  sql_->SetStatus("Uptime", "3");
  kv_->set_uptime_s(2);
  const ServerCounters restarted = RunServerCounters(before, reader->Read(), {}, OwnTotals(), 1, 1);
  ExpectEachCounterOnce(restarted);
  EXPECT_EQ(Absent(restarted, CounterId::kDbDiskReads),
            "the database restarted (uptime 1000 s, then 3 s)");
  EXPECT_EQ(Absent(restarted, CounterId::kDbForeignQueries),
            "the database restarted (uptime 1000 s, then 3 s)");
  EXPECT_EQ(Absent(restarted, CounterId::kCacheExpiredKeys),
            "the cache restarted (uptime 100 s, then 2 s)");
  EXPECT_EQ(Absent(restarted, CounterId::kCacheServerMisses),
            "the cache restarted (uptime 100 s, then 2 s)");
  EXPECT_EQ(Absent(restarted, CounterId::kCacheForeignCommands),
            "the cache restarted (uptime 100 s, then 2 s)");
  // Levels at the end and the run's own figures are still reported.
  EXPECT_EQ(Value(restarted, CounterId::kDbConnections), 4);
  EXPECT_EQ(Value(restarted, CounterId::kDbQueries), 0);

  const ServerSnapshot base = reader->Read();
  sql_->SetStatus("Innodb_buffer_pool_reads", "20");  // was 100: FLUSH STATUS
  const ServerCounters reset = RunServerCounters(base, reader->Read(), {}, OwnTotals(), 1, 1);
  EXPECT_THAT(Absent(reset, CounterId::kDbDiskReads), HasSubstr("went down, from 100 to 20"));
  EXPECT_EQ(Value(reset, CounterId::kDbForeignQueries), 0);
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
  const ServerCounters c = RunServerCounters(before, after, {}, OwnTotals(), /*ops=*/4, 1);
  ExpectEachCounterOnce(c);
  EXPECT_THAT(Value(c, CounterId::kDbCpuMs), DoubleEq(60 * 1000 / ticks_));
  EXPECT_THAT(Value(c, CounterId::kCacheCpuMs), DoubleEq(5 * 1000 / ticks_));
  EXPECT_THAT(Value(c, CounterId::kDbCpuUsPerOp), DoubleEq(60 * 1000 / ticks_ * 1000 / 4));
  // The pid lookup (SHOW GLOBAL VARIABLES, once) is one of the reader's own
  // statements: the foreign count stays exact.
  EXPECT_EQ(sql_->calls(SqlMethod::kQueryPairs), 6);
  EXPECT_EQ(Value(c, CounterId::kDbForeignQueries), 2);
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
  const ServerCounters c = RunServerCounters(reader->Read(), reader->Read(), {}, OwnTotals(), 1, 1);
  ExpectEachCounterOnce(c);
  EXPECT_THAT(Absent(c, CounterId::kDbCpuMs), AllOf(HasSubstr("pid"), HasSubstr("gone.pid")));
  EXPECT_THAT(Absent(c, CounterId::kCacheCpuMs), HasSubstr("mariadbd, not the server"));
  // The lookup failed for good: it is not repeated every read (pid file,
  // privilege, then status and PROCESSLIST per read).
  EXPECT_EQ(sql_->calls(SqlMethod::kQueryPairs), 6);
}

TEST_F(LocalServersTest, ARestartedServerHasNoCpuDelta) {
  auto reader = MakeReader(Local());
  const ServerSnapshot before = reader->Read();
  proc_.SetProcess(5555, "redis-server", 1, 1, static_cast<int64_t>(4990 * ticks_));
  kv_->set_process_id(5555);
  kv_->set_uptime_s(10);
  const ServerCounters c = RunServerCounters(before, reader->Read(), {}, OwnTotals(), 1, 1);
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

// Planted snapshots: the arithmetic of the run's own figures and the other
// clients', with answers known in advance.
ServerSnapshot Planted(int64_t questions, int64_t reader_statements, int64_t commands,
                       int64_t replication, int64_t reader_sent, int64_t db_active,
                       int64_t cache_active) {
  ServerSnapshot s;
  s.db_questions = questions;
  s.own_db_statements = reader_statements;
  s.db_connection = 1;
  s.db_foreign_active = db_active;
  s.has_cache = true;
  s.cache_commands = commands;
  s.cache_replication = replication;
  s.own_cache = KvCommands{.sent = reader_sent, .refused = 0, .unsure = 0};
  s.cache_foreign_active = cache_active;
  s.cache_hits = 100;
  s.cache_misses = 10;
  s.cache_expired_keys = 0;
  return s;
}

OwnTotals PlantedOwn() {
  OwnTotals own;
  own.db_sessions = 3;
  own.db_questions = 103;  // 100 statements, 3 after-marks
  own.db_selects = 60;
  own.db_inserts = 40;
  own.db_rows_read = 500;
  own.cache_commands = 900;
  return own;
}

TEST(RunServerCountersTest, TheRunsOwnFiguresAreItsSessionsLessTheirMarks) {
  const ServerCounters c =
      RunServerCounters(Planted(1000, 10, 5000, 7, 20, 0, 0), Planted(1107, 14, 5907, 9, 25, 0, 0),
                        {}, PlantedOwn(), /*ops=*/200, /*wall_s=*/4);
  ExpectEachCounterOnce(c);
  EXPECT_EQ(Value(c, CounterId::kDbQueries), 100);
  EXPECT_EQ(Value(c, CounterId::kDbSelects), 60);
  EXPECT_EQ(Value(c, CounterId::kDbInserts), 40);
  EXPECT_EQ(Value(c, CounterId::kDbRowsRead), 500);
  EXPECT_THAT(Value(c, CounterId::kDbQueriesPerOp), DoubleEq(0.5));
  EXPECT_THAT(Value(c, CounterId::kDbQueriesPerS), DoubleEq(25));
}

TEST(RunServerCountersTest, OtherClientsWorkIsTheServersCountLessEverythingOfOurs) {
  ServerSnapshot before = Planted(1000, 10, 5000, 7, 20, 0, 0);
  ServerSnapshot sample = Planted(1100, 12, 5500, 8, 22, 2, 1);
  ServerSnapshot after = Planted(1250, 14, 6000, 9, 25, 0, 0);
  after.cache_hits = 300;
  const ServerCounters c = RunServerCounters(before, after, {sample}, PlantedOwn(), 200, 4);
  ExpectEachCounterOnce(c);
  // 250 statements: 4 the reader's, 103 the run's sessions' (their marks
  // included).
  EXPECT_EQ(Value(c, CounterId::kDbForeignQueries), 143);
  // 1000 commands: 2 the replicas', 5 the reader's, 900 the run's.
  EXPECT_EQ(Value(c, CounterId::kCacheForeignCommands), 93);
  EXPECT_EQ(Value(c, CounterId::kForeignClientsMax), 3);
  EXPECT_EQ(Value(c, CounterId::kServerFiguresShared), 1);
  EXPECT_EQ(Absent(c, CounterId::kCacheServerHits), "other clients used the cache during the run");
  EXPECT_EQ(Absent(c, CounterId::kCacheServerMisses),
            "other clients used the cache during the run");
  // The run's own figures stay what its sessions counted.
  EXPECT_EQ(Value(c, CounterId::kDbQueries), 100);
}

TEST(RunServerCountersTest, AQuietRunIsNotSharedAndItsHitsAreTheServers) {
  ServerSnapshot after = Planted(1000 + 4 + 103, 14, 5000 + 2 + 5 + 900, 9, 25, 0, 0);
  after.cache_hits = 300;
  after.cache_misses = 15;
  const ServerCounters c =
      RunServerCounters(Planted(1000, 10, 5000, 7, 20, 0, 0), after,
                        {Planted(1050, 12, 5400, 8, 22, 0, 0)}, PlantedOwn(), 200, 4);
  ExpectEachCounterOnce(c);
  ExpectForeign(c, 0, 0, 0, 0);
  EXPECT_EQ(Value(c, CounterId::kCacheServerHits), 200);
  EXPECT_EQ(Value(c, CounterId::kCacheServerMisses), 5);
}

TEST(RunServerCountersTest, AClientSeenActiveIsEnoughToShare) {
  // Its statements were counted before the run (a long one running), but it
  // was busy on the server during it.
  const ServerCounters c =
      RunServerCounters(Planted(1000, 10, 5000, 7, 20, 0, 0), Planted(1107, 14, 5907, 9, 25, 0, 0),
                        {Planted(1050, 12, 5400, 8, 22, 1, 0)}, PlantedOwn(), 200, 4);
  ExpectForeign(c, 0, 0, 1, 1);
  EXPECT_EQ(Value(c, CounterId::kCacheServerHits), 0);  // no other cache command
}

TEST(RunServerCountersTest, UnknownOwnWorkIsAbsentNeverAGuess) {
  OwnTotals own = PlantedOwn();
  own.db_questions.reset();
  own.db_why[CounterId::kDbQueries] = "a database connection of the run reconnected during it";
  const ServerCounters quiet = RunServerCounters(
      Planted(1000, 10, 5000, 7, 20, 0, 0), Planted(1107, 14, 5907, 9, 25, 0, 0), {}, own, 200, 4);
  ExpectEachCounterOnce(quiet);
  EXPECT_EQ(Absent(quiet, CounterId::kDbQueries),
            "a database connection of the run reconnected during it");
  EXPECT_EQ(Absent(quiet, CounterId::kDbQueriesPerS),
            "a database connection of the run reconnected during it");
  EXPECT_EQ(Absent(quiet, CounterId::kDbForeignQueries),
            "a database connection of the run reconnected during it");
  EXPECT_EQ(Value(quiet, CounterId::kDbSelects), 60);  // known on its own
  // Nothing else shows other clients, but the database might have had some.
  EXPECT_THAT(Absent(quiet, CounterId::kServerFiguresShared),
              AllOf(HasSubstr("cannot tell"), HasSubstr("db_foreign_queries: a database "
                                                        "connection of the run reconnected")));
  // Other clients' cache commands settle it.
  const ServerCounters busy = RunServerCounters(
      Planted(1000, 10, 5000, 7, 20, 0, 0), Planted(1107, 14, 5917, 9, 25, 0, 0), {}, own, 200, 4);
  EXPECT_EQ(Value(busy, CounterId::kCacheForeignCommands), 10);
  EXPECT_EQ(Value(busy, CounterId::kServerFiguresShared), 1);
}

TEST(RunServerCountersTest, CommandsWhoseCountIsUnknownMakeTheCachesFiguresAbsent) {
  ServerSnapshot after = Planted(1107, 14, 5907, 9, 25, 0, 0);
  after.own_cache->unsure = 1;  // the reader's INFO timed out once
  const ServerCounters c =
      RunServerCounters(Planted(1000, 10, 5000, 7, 20, 0, 0), after, {}, PlantedOwn(), 200, 4);
  EXPECT_THAT(Absent(c, CounterId::kCacheForeignCommands),
              HasSubstr("1 of the statistics reader's cache commands got an error reply"));
  EXPECT_THAT(Absent(c, CounterId::kCacheServerHits),
              AllOf(HasSubstr("cannot tell whether other clients used the cache"),
                    HasSubstr("statistics reader's")));
  EXPECT_EQ(Value(c, CounterId::kDbForeignQueries), 0);

  OwnTotals own = PlantedOwn();
  own.cache_commands.reset();
  own.cache_why = "2 of the run's cache commands got an error reply or no reply";
  const ServerCounters run = RunServerCounters(
      Planted(1000, 10, 5000, 7, 20, 0, 0), Planted(1107, 14, 5907, 9, 25, 0, 0), {}, own, 200, 4);
  EXPECT_EQ(Absent(run, CounterId::kCacheForeignCommands),
            "2 of the run's cache commands got an error reply or no reply");
}

TEST(RunServerCountersTest, CountsBelowOurOwnAreAbsentNotNegative) {
  OwnTotals own = PlantedOwn();
  own.db_questions = 500;
  own.cache_commands = 5000;
  const ServerCounters c = RunServerCounters(Planted(1000, 10, 5000, 7, 20, 0, 0),
                                             Planted(1107, 14, 5907, 9, 25, 0, 0), {}, own, 1, 1);
  EXPECT_THAT(Absent(c, CounterId::kDbForeignQueries), HasSubstr("less than the run's"));
  EXPECT_THAT(Absent(c, CounterId::kCacheForeignCommands), HasSubstr("fewer than this process's"));
}

TEST(RunServerCountersTest, ACacheWhosePrimariesChangedHasNoCounts) {
  ServerSnapshot before = Planted(1000, 10, 5000, 7, 20, 0, 0);
  ServerSnapshot after = Planted(1107, 14, 5907, 9, 25, 0, 0);
  before.cache_nodes = "10.0.0.1:7000,10.0.0.2:7000";
  after.cache_nodes = "10.0.0.1:7000,10.0.0.3:7000";  // a replica took over
  const ServerCounters c = RunServerCounters(before, after, {}, PlantedOwn(), 200, 4);
  const std::string why =
      "the cache's primaries changed (10.0.0.1:7000,10.0.0.2:7000, then "
      "10.0.0.1:7000,10.0.0.3:7000)";
  EXPECT_EQ(Absent(c, CounterId::kCacheForeignCommands), why);
  EXPECT_EQ(Absent(c, CounterId::kCacheServerHits), why);
  EXPECT_EQ(Absent(c, CounterId::kCacheExpiredKeys), why);
  EXPECT_EQ(Value(c, CounterId::kDbForeignQueries), 0);
}

TEST(RunServerCountersTest, WithoutACacheTheCacheIsLeftOutOfShared) {
  ServerSnapshot before = Planted(1000, 10, 0, 0, 0, 0, 0);
  ServerSnapshot after = Planted(1107, 14, 0, 0, 0, 0, 0);
  for (ServerSnapshot* s : {&before, &after}) {
    s->has_cache = false;
    s->cache_commands.reset();
    s->cache_foreign_active.reset();
    s->own_cache.reset();
    s->absent[CounterId::kCacheForeignCommands] = "no cache connection";
  }
  const ServerCounters c = RunServerCounters(before, after, {}, PlantedOwn(), 200, 4);
  EXPECT_EQ(Absent(c, CounterId::kCacheForeignCommands), "no cache connection");
  EXPECT_EQ(Value(c, CounterId::kDbForeignQueries), 0);
  EXPECT_EQ(Value(c, CounterId::kForeignClientsMax), 0);
  EXPECT_EQ(Value(c, CounterId::kServerFiguresShared), 0);
}

TEST(RunServerCountersTest, AReadThatMissedTheActiveClientsMakesTheMostUnknown) {
  ServerSnapshot sample = Planted(1050, 12, 5400, 8, 22, 0, 0);
  sample.cache_foreign_active.reset();
  sample.cache_foreign_active_why = "CLIENT LIST: timed out";
  const ServerCounters c =
      RunServerCounters(Planted(1000, 10, 5000, 7, 20, 0, 0), Planted(1107, 14, 5907, 9, 25, 0, 0),
                        {sample}, PlantedOwn(), 200, 4);
  EXPECT_EQ(Absent(c, CounterId::kForeignClientsMax),
            "the cache's connections: CLIENT LIST: timed out");
  // Nothing else shows other clients: whether they shared is unknown.
  EXPECT_THAT(Absent(c, CounterId::kServerFiguresShared), HasSubstr("foreign_clients_max"));
}

TEST(ForeignActiveClientsTest, OthersActiveInTheLastSecondNotOursNorReplicationLinks) {
  const std::string own = "cabench-7-0000abcd";
  const std::string list =
      "id=3 addr=127.0.0.1:1 laddr=x fd=8 name=cabench-7-0000abcd age=9 idle=0 flags=N db=0 "
      "cmd=info\n"
      "id=4 addr=127.0.0.1:2 laddr=x fd=9 name= age=9 idle=0 flags=N db=0 cmd=get\n"
      "id=5 addr=127.0.0.1:3 laddr=x fd=10 name=app age=9 idle=0 flags=N db=0 cmd=set\n"
      "id=6 addr=127.0.0.1:4 laddr=x fd=11 name= age=9 idle=2 flags=N db=0 cmd=get\n"
      "id=9 addr=127.0.0.1:7 laddr=x fd=14 name= age=9 idle=1 flags=N db=0 cmd=get\n"
      "id=7 addr=127.0.0.1:5 laddr=x fd=12 name= age=9 idle=0 flags=S db=0 cmd=replconf\n"
      "id=8 addr=127.0.0.1:6 laddr=x fd=13 name=cabench-8-00000000 age=9 idle=0 flags=N db=0 "
      "cmd=get\n";
  absl::StatusOr<int64_t> n = internal::ForeignActiveClients(list, own);
  ASSERT_TRUE(n.ok()) << n.status();
  // id 4, 5, 8 (another cabench process is another client) and 9 (a command
  // in the previous second); not 6 (idle for two seconds or more).
  EXPECT_EQ(*n, 4);
  EXPECT_EQ(*internal::ForeignActiveClients("", own), 0);
  EXPECT_FALSE(internal::ForeignActiveClients("id=1 name=x\n", own).ok());
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
