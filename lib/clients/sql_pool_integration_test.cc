// Integration tests of SqlPool over real MariaDB connections
// (CABENCH_DB_URL + CABENCH_DB_PASSWORD[_FILE]; see tools/servers). Each test
// creates its own schema cabench_it_<pid>_<test> with a few rows and drops it
// at the end; the pool's connections are the only other sessions on that
// schema, which is how the tests count them in the process list.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/clients/sql_client.h"
#include "lib/clients/sql_pool.h"
#include "lib/config/endpoints.h"
#include "lib/mysql/mysql_client.h"
#include "lib/testing/status_matchers.h"
#include "lib/testing/test_db.h"

namespace cabench {
namespace {

using ::testing::_;
using ::testing::HasSubstr;

class SqlPoolIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    endpoint_ = TestDbEndpoint();
    ASSERT_FALSE(endpoint_.host.empty());
    schema_ = TestSchemaName();
    DbEndpoint server = endpoint_;
    server.schema.clear();
    // The admin session stays without a default schema, so that it is not
    // counted among the schema's sessions.
    ASSERT_OK_AND_ASSIGN(admin_, NewMysqlClient(server));
    for (const std::string& sql : {
             absl::StrCat("DROP DATABASE IF EXISTS `", schema_, "`"),
             absl::StrCat("CREATE DATABASE `", schema_, "` CHARACTER SET utf8mb4"),
             absl::StrCat("CREATE TABLE `", schema_,
                          "`.passenger (passenger_id INT NOT NULL PRIMARY KEY, "
                          "firstname VARCHAR(100) NOT NULL, lastname VARCHAR(100) NOT NULL)"),
             absl::StrCat(
                 "CREATE TABLE `", schema_,
                 "`.booking (booking_id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, "
                 "flight_id INT NOT NULL, seat CHAR(4) NULL, passenger_id INT NOT NULL, "
                 "price DECIMAL(10,2) NOT NULL, cabench_run INT UNSIGNED NULL DEFAULT NULL, "
                 "UNIQUE KEY seatplan_unq (flight_id, seat), "
                 "KEY passenger_idx (passenger_id))"),
             absl::StrCat("INSERT INTO `", schema_,
                          "`.passenger VALUES (1, 'Ada', 'Lovelace'), (2, 'Alan', 'Turing')"),
             absl::StrCat("INSERT INTO `", schema_,
                          "`.booking (flight_id, seat, passenger_id, price) VALUES "
                          "(10, '1A', 1, 100.00), (10, '1B', 1, 200.00), (11, '1A', 2, 300.00)"),
         }) {
      ASSERT_THAT(admin_->Execute(sql), IsOk()) << sql;
    }
  }

  void TearDown() override {
    if (admin_ != nullptr) {
      (void)admin_->Reconnect();
      EXPECT_THAT(admin_->Execute(absl::StrCat("DROP DATABASE IF EXISTS `", schema_, "`")), IsOk());
    }
  }

  std::shared_ptr<SqlPool> MakePool(int size, int64_t timeout_ms) {
    DbEndpoint endpoint = endpoint_;
    endpoint.schema = schema_;
    absl::StatusOr<std::shared_ptr<SqlPool>> pool = SqlPool::Create(
        size, [endpoint] { return NewMysqlClient(endpoint); }, {.timeout_ms = timeout_ms});
    EXPECT_THAT(pool, IsOk());
    return pool.ok() ? *pool : nullptr;
  }

  // Sessions whose default schema is the test's (the pool's), as the server
  // lists them; -1 when the query fails.
  int64_t SchemaSessions() {
    auto row = admin_->QueryRow(absl::StrCat(
        "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE DB = '", schema_, "'"));
    if (!row.ok() || !row->has_value() || !(**row)[0].has_value()) return -1;
    return std::stoll(*(**row)[0]);
  }

  static std::string ConnectionId(SqlClient& sql) {
    auto row = sql.QueryRow("SELECT CONNECTION_ID()");
    if (!row.ok() || !row->has_value() || !(**row)[0].has_value()) return "?";
    return *(**row)[0];
  }

  DbEndpoint endpoint_;
  std::string schema_;
  std::unique_ptr<SqlClient> admin_;
};

TEST_F(SqlPoolIntegrationTest, SixteenThreadsShareFourConnections) {
  constexpr int kConnections = 4;
  constexpr int kThreads = 16;
  constexpr int kCalls = 100;
  std::shared_ptr<SqlPool> pool = MakePool(kConnections, 10'000);
  ASSERT_NE(pool, nullptr);
  EXPECT_EQ(SchemaSessions(), kConnections);

  std::atomic<bool> running{true};
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      MysqlThreadScope mysql_thread;
      PooledSqlClient sql(pool);
      BookingCount row;
      for (int i = 0; i < kCalls; ++i) {
        const int64_t id = 1 + (t + i) % 3;  // 3: no such passenger
        if (!sql.QueryBookingCount(id, &row).ok() || row.found != (id != 3) ||
            (id == 1 && (row.lastname != "Lovelace" || row.count != 2))) {
          ++wrong;
        }
      }
    });
  }
  // Meanwhile the server never sees more than the pool's connections.
  int64_t most = 0;
  int samples = 0;
  std::thread monitor([&] {
    MysqlThreadScope mysql_thread;
    while (running.load()) {
      most = std::max(most, SchemaSessions());
      ++samples;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  });
  for (std::thread& thread : threads) thread.join();
  running = false;
  monitor.join();

  EXPECT_EQ(wrong.load(), 0);
  EXPECT_GT(samples, 0);
  EXPECT_EQ(most, kConnections);
  const SqlPoolStats stats = pool->Stats();
  EXPECT_EQ(stats.borrows, kThreads * kCalls);
  EXPECT_EQ(stats.wait_ns.Count(), kThreads * kCalls);
  EXPECT_LE(stats.max_in_use, kConnections);
  EXPECT_GT(stats.wait_ns.Max(), 0);
  EXPECT_EQ(stats.timeouts, 0);
  EXPECT_EQ(stats.connections_broken, 0);
  pool.reset();  // the last owner closes the connections
  const int64_t deadline_ms = 5000;
  for (int waited = 0; SchemaSessions() != 0 && waited < deadline_ms; waited += 10) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(SchemaSessions(), 0);
}

TEST_F(SqlPoolIntegrationTest, AKilledConnectionIsReconnected) {
  std::shared_ptr<SqlPool> pool = MakePool(2, 10'000);
  ASSERT_NE(pool, nullptr);
  PooledSqlClient sql(pool);
  // Idle connections are reused last-in first-out: the same one serves both.
  const std::string victim = ConnectionId(sql);
  ASSERT_NE(victim, "?");
  ASSERT_THAT(admin_->Execute(absl::StrCat("KILL CONNECTION ", victim)), IsOk());

  BookingCount row;
  EXPECT_THAT(sql.QueryBookingCount(1, &row), StatusIs(absl::StatusCode::kUnavailable, _));
  // The other connection serves meanwhile.
  const std::string other = ConnectionId(sql);
  EXPECT_NE(other, "?");
  EXPECT_NE(other, victim);
  ASSERT_THAT(sql.QueryBookingCount(1, &row), IsOk());
  EXPECT_EQ(row.count, 2);

  ASSERT_THAT(sql.Reconnect(), IsOk());
  const std::string reborn = ConnectionId(sql);  // the reconnected one is reused first
  EXPECT_NE(reborn, "?");
  EXPECT_NE(reborn, victim);
  EXPECT_NE(reborn, other);
  EXPECT_EQ(SchemaSessions(), 2);
  EXPECT_THAT(sql.InsertBooking({.flight_id = 20, .seat = "K1", .passenger_id = 2}), IsOk());
  const SqlPoolStats stats = pool->Stats();
  EXPECT_EQ(stats.connections_broken, 1);
  EXPECT_EQ(stats.reconnects, 1);
}

TEST_F(SqlPoolIntegrationTest, ALongQueryMakesOthersTimeOut) {
  std::shared_ptr<SqlPool> pool = MakePool(1, 100);
  ASSERT_NE(pool, nullptr);
  std::atomic<bool> started{false};
  std::thread slow([&] {
    MysqlThreadScope mysql_thread;
    PooledSqlClient sql(pool);
    started = true;
    EXPECT_THAT(sql.QueryRow("SELECT SLEEP(0.6)"), IsOk());
  });
  while (!started.load()) std::this_thread::yield();
  std::this_thread::sleep_for(std::chrono::milliseconds(150));  // SLEEP is running
  PooledSqlClient sql(pool);
  BookingCount row;
  EXPECT_THAT(sql.QueryBookingCount(1, &row),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       HasSubstr("no connection free within 100 ms (1 connection for 2 threads)")));
  slow.join();
  EXPECT_THAT(sql.QueryBookingCount(1, &row), IsOk());
  EXPECT_EQ(pool->Stats().timeouts, 1);
}

}  // namespace
}  // namespace cabench
