// Integration tests of the MariaDB Connector/C SqlClient against a real
// server (CABENCH_DB_URL + CABENCH_DB_PASSWORD; see tools/servers). Each test
// creates its own schema cabench_it_<pid>_<test> with known rows and drops it
// at the end.
#include <unistd.h>

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
#include "lib/config/endpoints.h"
#include "lib/mysql/mysql_client.h"
#include "lib/testing/status_matchers.h"

namespace cabench {
namespace {

using ::testing::_;
using ::testing::HasSubstr;
using ::testing::Not;

// The server under test, from the environment. Fails (never skips) when the
// environment does not name one.
DbEndpoint TestEndpoint() {
  absl::StatusOr<DbEndpoint> endpoint = DbEndpointFromEnv();
  EXPECT_TRUE(endpoint.ok()) << endpoint.status()
                             << "; start the test servers: eval \"$(tools/servers start)\"";
  return endpoint.ok() ? *endpoint : DbEndpoint{};
}

class MysqlClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    endpoint_ = TestEndpoint();
    ASSERT_FALSE(endpoint_.host.empty());
    // Schema names have at most 64 characters.
    const std::string test_name =
        std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()).substr(0, 32);
    schema_ = absl::StrCat("cabench_it_", getpid(), "_", test_name);
    DbEndpoint server = endpoint_;
    server.schema.clear();
    ASSERT_OK_AND_ASSIGN(admin_, NewMysqlClient(server));
    for (const std::string& sql : {
             absl::StrCat("DROP DATABASE IF EXISTS `", schema_, "`"),
             absl::StrCat("CREATE DATABASE `", schema_, "` CHARACTER SET utf8mb4"),
             absl::StrCat("USE `", schema_, "`"),
             // Names wider than flughafendb's VARCHAR(100), to test long
             // values.
             std::string("CREATE TABLE passenger (passenger_id INT NOT NULL "
                         "PRIMARY KEY, "
                         "firstname VARCHAR(2000) NOT NULL, lastname "
                         "VARCHAR(2000) NOT NULL)"),
             std::string("CREATE TABLE booking (booking_id INT NOT NULL "
                         "AUTO_INCREMENT PRIMARY KEY, "
                         "flight_id INT NOT NULL, seat CHAR(4) NULL, "
                         "passenger_id INT NOT NULL, "
                         "price DECIMAL(10,2) NOT NULL, "
                         "cabench_run INT UNSIGNED NULL DEFAULT NULL, "
                         "UNIQUE KEY seatplan_unq (flight_id, seat), KEY "
                         "passenger_idx (passenger_id))"),
             absl::StrCat("INSERT INTO passenger VALUES (1, 'Ada', 'Lovelace'), "
                          "(2, 'Nobody', 'Booked'), (3, '",
                          LongName('f'), "', '", LongName('l'), "')"),
             std::string("INSERT INTO booking (flight_id, seat, passenger_id, "
                         "price) VALUES "
                         "(10, '1A', 1, 100.00), (10, '1B', 1, 200.00), (11, "
                         "'1A', 1, 300.00), "
                         "(12, '2C', 3, 50.00)"),
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

  // An endpoint for the test's own schema.
  DbEndpoint SchemaEndpoint() const {
    DbEndpoint endpoint = endpoint_;
    endpoint.schema = schema_;
    return endpoint;
  }

  static std::string LongName(char c) { return std::string(1500, c) + "end"; }

  DbEndpoint endpoint_;
  std::string schema_;
  std::unique_ptr<SqlClient> admin_;  // connected without a schema, then USE
};

TEST_F(MysqlClientTest, ReadQueryReturnsNamesAndCount) {
  ASSERT_OK_AND_ASSIGN(auto client, NewMysqlClient(SchemaEndpoint()));
  BookingCount result;
  ASSERT_THAT(client->QueryBookingCount(1, &result), IsOk());
  EXPECT_TRUE(result.found);
  EXPECT_EQ(result.firstname, "Ada");
  EXPECT_EQ(result.lastname, "Lovelace");
  EXPECT_EQ(result.count, 3);
}

TEST_F(MysqlClientTest, EmptyResultIsNotFound) {
  ASSERT_OK_AND_ASSIGN(auto client, NewMysqlClient(SchemaEndpoint()));
  BookingCount result;
  ASSERT_THAT(client->QueryBookingCount(1, &result), IsOk());
  ASSERT_TRUE(result.found);
  // A passenger without bookings, then no passenger at all: the reused
  // result must be reset.
  ASSERT_THAT(client->QueryBookingCount(2, &result), IsOk());
  EXPECT_FALSE(result.found);
  EXPECT_EQ(result.count, 0);
  EXPECT_EQ(result.firstname, "");
  ASSERT_THAT(client->QueryBookingCount(999, &result), IsOk());
  EXPECT_FALSE(result.found);
}

TEST_F(MysqlClientTest, LongNamesAreReadWhole) {
  ASSERT_OK_AND_ASSIGN(auto client, NewMysqlClient(SchemaEndpoint()));
  BookingCount result;
  for (int round = 0; round < 2; ++round) {
    ASSERT_THAT(client->QueryBookingCount(3, &result), IsOk());
    EXPECT_TRUE(result.found);
    EXPECT_EQ(result.firstname, LongName('f'));
    EXPECT_EQ(result.lastname, LongName('l'));
    EXPECT_EQ(result.count, 1);
    // A short name after a long one, on the same statement and buffers.
    ASSERT_THAT(client->QueryBookingCount(1, &result), IsOk());
    EXPECT_EQ(result.firstname, "Ada");
    EXPECT_EQ(result.lastname, "Lovelace");
    EXPECT_EQ(result.count, 3);
  }
}

TEST_F(MysqlClientTest, InsertIsCommittedAndVisibleFromAnotherConnection) {
  ASSERT_OK_AND_ASSIGN(auto writer, NewMysqlClient(SchemaEndpoint()));
  ASSERT_OK_AND_ASSIGN(auto reader, NewMysqlClient(SchemaEndpoint()));
  ASSERT_OK_AND_ASSIGN(int64_t id, writer->InsertBooking({.flight_id = 10,
                                                          .seat = "W01A",
                                                          .passenger_id = 2,
                                                          .price_cents = 12345,
                                                          .run_no = 4000000000}));
  EXPECT_GT(id, 4);
  ASSERT_OK_AND_ASSIGN(int64_t cheap,
                       writer->InsertBooking(
                           {.flight_id = 10, .seat = "W01B", .passenger_id = 2, .price_cents = 5}));
  EXPECT_EQ(cheap, id + 1);

  ASSERT_OK_AND_ASSIGN(auto row, reader->QueryRow(absl::StrCat(
                                     "SELECT flight_id, seat, passenger_id, price FROM booking "
                                     "WHERE booking_id = ",
                                     id)));
  ASSERT_TRUE(row.has_value());
  EXPECT_EQ(*row, (std::vector<std::optional<std::string>>{"10", "W01A", "2", "123.45"}));
  ASSERT_OK_AND_ASSIGN(auto price,
                       reader->QueryRow(absl::StrCat(
                           "SELECT price, cabench_run FROM booking WHERE booking_id = ", cheap)));
  ASSERT_TRUE(price.has_value());
  // Run 0 is no run: NULL, as loaded and other applications' rows have.
  EXPECT_EQ(*price, (std::vector<std::optional<std::string>>{"0.05", std::nullopt}));
  ASSERT_OK_AND_ASSIGN(auto run, reader->QueryRow(absl::StrCat(
                                     "SELECT cabench_run FROM booking WHERE booking_id = ", id)));
  ASSERT_TRUE(run.has_value());
  EXPECT_EQ((*run)[0], "4000000000");  // the whole INT UNSIGNED range

  // The read query sees the new bookings too.
  BookingCount result;
  ASSERT_THAT(reader->QueryBookingCount(2, &result), IsOk());
  EXPECT_TRUE(result.found);
  EXPECT_EQ(result.count, 2);
}

TEST_F(MysqlClientTest, DuplicateSeatIsAlreadyExists) {
  ASSERT_OK_AND_ASSIGN(auto client, NewMysqlClient(SchemaEndpoint()));
  NewBooking booking{.flight_id = 10, .seat = "1A", .passenger_id = 2, .price_cents = 100};
  EXPECT_THAT(client->InsertBooking(booking),
              StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr("mysql 1062")));
  // The connection stays usable after a duplicate.
  booking.seat = "D99Z";
  EXPECT_THAT(client->InsertBooking(booking), IsOk());
  EXPECT_THAT(client->InsertBooking(booking), StatusIs(absl::StatusCode::kAlreadyExists, _));
}

TEST_F(MysqlClientTest, ClosedPortIsUnavailableWithinTheTimeout) {
  DbEndpoint endpoint = SchemaEndpoint();
  endpoint.host = "127.0.0.1";
  endpoint.port = 1;  // nothing listens on port 1
  endpoint.timeouts.connect_ms = 1000;
  const auto start = std::chrono::steady_clock::now();
  EXPECT_THAT(NewMysqlClient(endpoint),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("mysql 200")));
  // Generous slack over the 1 s timeout: the point is that it does not hang.
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
}

TEST_F(MysqlClientTest, WrongPasswordIsPermissionDeniedWithoutThePassword) {
  DbEndpoint endpoint = SchemaEndpoint();
  const std::string real_password = endpoint.password;
  endpoint.password = "not-the-password-7c1e";
  absl::StatusOr<std::unique_ptr<SqlClient>> client = NewMysqlClient(endpoint);
  EXPECT_THAT(client, StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("mysql 1045")));
  EXPECT_THAT(std::string(client.status().message()), Not(HasSubstr(endpoint.password)));
  if (!real_password.empty()) {
    EXPECT_THAT(std::string(client.status().message()), Not(HasSubstr(real_password)));
  }
}

TEST_F(MysqlClientTest, UnknownSchemaIsNotFound) {
  DbEndpoint endpoint = SchemaEndpoint();
  endpoint.schema = schema_ + "_missing";
  EXPECT_THAT(NewMysqlClient(endpoint),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("mysql 1049")));
}

TEST_F(MysqlClientTest, KilledConnectionIsUnavailableUntilReconnect) {
  ASSERT_OK_AND_ASSIGN(auto client, NewMysqlClient(SchemaEndpoint()));
  ASSERT_OK_AND_ASSIGN(auto id_row, client->QueryRow("SELECT CONNECTION_ID()"));
  ASSERT_TRUE(id_row.has_value() && (*id_row)[0].has_value());
  ASSERT_THAT(admin_->Execute(absl::StrCat("KILL ", *(*id_row)[0])), IsOk());

  BookingCount result;
  EXPECT_THAT(client->QueryBookingCount(1, &result),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("mysql ")));
  // Broken until Reconnect(): every call fails fast.
  EXPECT_THAT(client->InsertBooking({.flight_id = 20, .seat = "K1", .passenger_id = 1}),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("Reconnect")));
  EXPECT_THAT(client->Ping(), StatusIs(absl::StatusCode::kUnavailable, _));
  EXPECT_THAT(client->Execute("SELECT 1"), StatusIs(absl::StatusCode::kUnavailable, _));

  ASSERT_THAT(client->Reconnect(), IsOk());
  EXPECT_THAT(client->Ping(), IsOk());
  ASSERT_THAT(client->QueryBookingCount(1, &result), IsOk());
  EXPECT_EQ(result.count, 3);
  EXPECT_THAT(
      client->InsertBooking({.flight_id = 20, .seat = "K001", .passenger_id = 1, .price_cents = 1}),
      IsOk());
  ASSERT_OK_AND_ASSIGN(auto new_id, client->QueryRow("SELECT CONNECTION_ID()"));
  EXPECT_NE(new_id, id_row);
}

TEST_F(MysqlClientTest, ExecuteAndQueryRow) {
  ASSERT_OK_AND_ASSIGN(auto client, NewMysqlClient(SchemaEndpoint()));
  ASSERT_OK_AND_ASSIGN(
      int64_t updated,
      client->Execute("UPDATE booking SET price = price + 1 WHERE passenger_id = 1"));
  EXPECT_EQ(updated, 3);
  ASSERT_OK_AND_ASSIGN(auto row, client->QueryRow("SELECT NULL, 'x', SUM(price) FROM booking"));
  ASSERT_TRUE(row.has_value());
  EXPECT_EQ(*row, (std::vector<std::optional<std::string>>{std::nullopt, "x", "653.00"}));
  ASSERT_OK_AND_ASSIGN(auto none, client->QueryRow("SELECT 1 FROM booking WHERE 1 = 0"));
  EXPECT_FALSE(none.has_value());
  EXPECT_THAT(client->Execute("SELECT * FROM no_such_table"),
              StatusIs(absl::StatusCode::kInternal, HasSubstr("mysql 1146")));
  // A plain server error does not break the connection.
  EXPECT_THAT(client->Ping(), IsOk());
}

TEST_F(MysqlClientTest, QueryPairsReturnsNameValueRows) {
  ASSERT_OK_AND_ASSIGN(auto client, NewMysqlClient(SchemaEndpoint()));
  ASSERT_OK_AND_ASSIGN(
      auto status,
      client->QueryPairs("SHOW GLOBAL STATUS WHERE Variable_name IN ('Questions', 'Uptime')"));
  ASSERT_EQ(status.size(), 2u);
  for (const auto& [name, value] : status) {
    EXPECT_THAT(name, ::testing::AnyOf("Questions", "Uptime"));
    EXPECT_THAT(value, ::testing::MatchesRegex("[0-9]+"));
  }
  ASSERT_OK_AND_ASSIGN(auto rows, client->QueryPairs("SELECT 'a', 'b' UNION ALL SELECT 'c', NULL"));
  EXPECT_EQ(rows, (std::vector<std::pair<std::string, std::string>>{{"a", "b"}, {"c", ""}}));
  ASSERT_OK_AND_ASSIGN(auto empty, client->QueryPairs("SHOW GLOBAL STATUS LIKE 'no_such_%'"));
  EXPECT_TRUE(empty.empty());
  EXPECT_THAT(client->QueryPairs("SELECT 1"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("1 columns")));
  EXPECT_THAT(client->QueryPairs("DO 1"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("0 columns")));
  EXPECT_THAT(client->QueryPairs("SHOW NO SUCH THING"),
              StatusIs(absl::StatusCode::kInternal, HasSubstr("mysql 1064")));
  // None of these broke the connection.
  EXPECT_THAT(client->QueryPairs("SHOW GLOBAL VARIABLES LIKE 'pid_file'"), IsOk());
  EXPECT_THAT(client->Ping(), IsOk());
}

TEST_F(MysqlClientTest, ServerInfoNamesTheServer) {
  ASSERT_OK_AND_ASSIGN(auto client, NewMysqlClient(SchemaEndpoint()));
  ASSERT_OK_AND_ASSIGN(std::string info, client->ServerInfo());
  EXPECT_THAT(info, ::testing::MatchesRegex("(mariadb|mysql) [0-9]+\\.[0-9]+\\.[0-9]+"));
}

TEST_F(MysqlClientTest, ClientWithoutSchemaHasNoStatements) {
  DbEndpoint endpoint = SchemaEndpoint();
  endpoint.schema.clear();
  ASSERT_OK_AND_ASSIGN(auto client, NewMysqlClient(endpoint));
  BookingCount result;
  EXPECT_THAT(client->QueryBookingCount(1, &result),
              StatusIs(absl::StatusCode::kFailedPrecondition, _));
  EXPECT_THAT(client->QueryRow("SELECT 1"), IsOk());
}

TEST_F(MysqlClientTest, ClientsWorkInThreadsWithThreadScopes) {
  std::vector<std::thread> threads;
  std::vector<int64_t> counts(2, -1);
  for (int i = 0; i < 2; ++i) {
    threads.emplace_back([&, i] {
      MysqlThreadScope mysql_thread;
      absl::StatusOr<std::unique_ptr<SqlClient>> client = NewMysqlClient(SchemaEndpoint());
      if (!client.ok()) return;
      BookingCount result;
      if ((*client)->QueryBookingCount(1, &result).ok()) counts[i] = result.count;
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(counts, (std::vector<int64_t>{3, 3}));
}

}  // namespace
}  // namespace cabench
