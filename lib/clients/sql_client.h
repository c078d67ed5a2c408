// File: lib/clients/sql_client.h
//
// SqlClient is the small interface cabench uses to talk to the database
// (MySQL or MariaDB) holding the flughafendb subset of fixtures/. It exposes
// the two statements the cache-aside pattern runs, as server-side prepared
// statements, plus generic calls for set-up, clean-up and the server's own
// statistics (QueryPairs, for lib/servers):
//
//   QueryBookingCount  the reference's read query:
//                        SELECT p.firstname, p.lastname, COUNT(*)
//                        FROM passenger p JOIN booking b
//                          ON p.passenger_id = b.passenger_id
//                        WHERE p.passenger_id = ?
//                        GROUP BY p.firstname, p.lastname
//   InsertBooking      INSERT INTO booking (flight_id, seat, passenger_id,
//                      price, cabench_run), committed (autocommit on).
//
// The real implementation over MariaDB Connector/C lives in lib/mysql and is
// built by NewMysqlClient() (lib/mysql/mysql_client.h); lib/testing has an
// in-memory fake for unit tests of the pattern.
//
// Ownership: a SqlClient owns exactly one connection and its prepared
// statements. Thread safety: NOT safe for concurrent use; one client per
// thread (and a MysqlThreadScope in that thread, see lib/mysql).
//
// Errors: absl::Status with canonical codes:
//   Unavailable         cannot connect, connection lost or timed out (MySQL
//                       errors 2002, 2003, 2006, 2013). The client is broken
//                       until Reconnect() succeeds.
//   PermissionDenied    access denied (wrong user or password). The message
//                       never contains the password.
//   NotFound            unknown database (schema) on connect.
//   AlreadyExists       a duplicate key on INSERT (MySQL 1062).
//   Internal            any other server error.
//   Unimplemented       QueryPairs or Session, on a client that does not
//                       offer it.
// Messages carry the server's errno and message, e.g. "mysql 1045: Access
// denied for user 'cabench'@'localhost'".
#ifndef CABENCH_LIB_CLIENTS_SQL_CLIENT_H_
#define CABENCH_LIB_CLIENTS_SQL_CLIENT_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace cabench {

// One row of the read query. `found` is false when the query returned no row
// (a passenger with no bookings, or no such passenger): cabench caches that
// empty result too (negative caching), as the reference does.
struct BookingCount {
  bool found = false;
  std::string firstname;
  std::string lastname;
  int64_t count = 0;
};

// A booking to insert. `seat` is at most 4 characters (booking.seat is
// CHAR(4)); the (flight_id, seat) pair must be unique. `run_no` goes into
// booking.cabench_run: the number of the cabench run that inserts the row
// (RunLedger::run_no()), by which that run, or a later one after a crash,
// removes exactly its rows; 0 writes NULL (no run: tests).
struct NewBooking {
  int64_t flight_id = 0;
  std::string seat;
  int64_t passenger_id = 0;
  int64_t price_cents = 0;
  int64_t run_no = 0;
};

// A connection's session on its server (SqlClient::Session).
struct SqlSession {
  // The server the connection went to: "host:port" as its endpoint names it.
  std::string server;
  // The server's id of the session (CONNECTION_ID()). A reconnect starts a
  // new session, with a new id and session counters from zero.
  int64_t id = 0;
};

class SqlClient {
 public:
  SqlClient() = default;
  SqlClient(const SqlClient&) = delete;
  SqlClient& operator=(const SqlClient&) = delete;
  virtual ~SqlClient() = default;

  // Runs the read query for `passenger_id` and fills *result (reusing its
  // string buffers). Fails with Unavailable or Internal.
  virtual absl::Status QueryBookingCount(int64_t passenger_id, BookingCount* result) = 0;

  // Inserts `booking` and commits it. Returns the new booking_id.
  // Fails with AlreadyExists (duplicate (flight_id, seat)), Unavailable or
  // Internal.
  virtual absl::StatusOr<int64_t> InsertBooking(const NewBooking& booking) = 0;

  // Runs one statement that returns no rows (DDL, DELETE, multi-row INSERT).
  // Returns the number of affected rows.
  virtual absl::StatusOr<int64_t> Execute(std::string_view sql) = 0;

  // Runs a query and returns its first row as strings (NULL as nullopt), or
  // nullopt when it returned no row.
  virtual absl::StatusOr<std::optional<std::vector<std::optional<std::string>>>> QueryRow(
      std::string_view sql) = 0;

  // Pings the server. Fails with Unavailable when the connection is gone.
  virtual absl::Status Ping() = 0;

  // Closes the connection (if any), connects again and re-prepares the
  // statements. Fails like the factory.
  virtual absl::Status Reconnect() = 0;

  // A one-line description of the server, such as "mariadb 10.11.19".
  virtual absl::StatusOr<std::string> ServerInfo() = 0;

  // Runs a query whose rows are (name, value) pairs, such as SHOW GLOBAL
  // STATUS or SHOW GLOBAL VARIABLES, and returns them in the server's order
  // (NULL as ""). An optional capability, for lib/servers: the default fails
  // with Unimplemented (as leveldb's Env::NewAppendableFile defaults to
  // NotSupported), and the statistics are then reported as absent.
  // Fails with InvalidArgument (the result does not have exactly two
  // columns), Unavailable, Internal or Unimplemented.
  virtual absl::StatusOr<std::vector<std::pair<std::string, std::string>>> QueryPairs(
      std::string_view sql);

  // The session of the connection, for lib/servers: to tell this process's
  // sessions from other clients' and to see that a connection reconnected.
  // Sends nothing. An optional capability: the default fails with
  // Unimplemented. Fails with Unavailable while the connection is broken.
  virtual absl::StatusOr<SqlSession> Session() const;
};

inline absl::StatusOr<std::vector<std::pair<std::string, std::string>>> SqlClient::QueryPairs(
    std::string_view) {
  return absl::UnimplementedError("this SqlClient does not run QueryPairs");
}

inline absl::StatusOr<SqlSession> SqlClient::Session() const {
  return absl::UnimplementedError("this SqlClient does not name its session");
}

}  // namespace cabench

#endif  // CABENCH_LIB_CLIENTS_SQL_CLIENT_H_
