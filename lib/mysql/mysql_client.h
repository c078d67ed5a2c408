// File: lib/mysql/mysql_client.h
//
// The SqlClient (lib/clients/sql_client.h) over MariaDB Connector/C, the only
// code in cabench that includes <mysql.h>. NewMysqlClient() opens one TCP
// connection (autocommit on, utf8mb4) and prepares the two statements of the
// cache-aside pattern as server-side prepared statements:
//
//   read   SELECT p.firstname, p.lastname, COUNT(*) ... WHERE p.passenger_id = ?
//   write  INSERT INTO booking (flight_id, seat, passenger_id, price, cabench_run)
//          VALUES (?,?,?,?,?)
//
// Execute(), QueryRow() and QueryPairs() (SHOW GLOBAL STATUS and the like, for
// lib/servers) send plain text statements over the same connection.
//
// Both statements and their parameter and result buffers are set up once per
// connection (again on Reconnect()), so QueryBookingCount() and
// InsertBooking() allocate nothing beyond the caller's own strings.
//
// Timeouts come from DbEndpoint::timeouts: connect_ms sets
// MYSQL_OPT_CONNECT_TIMEOUT and io_ms sets MYSQL_OPT_READ_TIMEOUT and
// MYSQL_OPT_WRITE_TIMEOUT, each rounded up to whole seconds (at least 1),
// because Connector/C only takes seconds.
//
// Error codes follow sql_client.h. A lost connection (client errors 2002,
// 2003, 2006, 2013, 2055, or a server-side kill, 1927) makes the client
// "broken": every call then fails with Unavailable, without touching the
// socket, until Reconnect() succeeds. Messages look like
// "mysql 1062: Duplicate entry '7-12C' for key 'seatplan_unq' (InsertBooking)";
// they never contain the password.
//
// Process and thread set-up: Connector/C wants mysql_library_init() once,
// before any thread uses it, and (for libmysqlclient) mysql_thread_init() in
// every thread that uses a connection. MysqlLibrary and MysqlThreadScope are
// the RAII guards for those calls.
//
// Thread safety: a client returned by NewMysqlClient() is NOT safe for
// concurrent use (one client per thread). NewMysqlClient() itself is safe to
// call from several threads once a MysqlLibrary exists.
#ifndef CABENCH_LIB_MYSQL_MYSQL_CLIENT_H_
#define CABENCH_LIB_MYSQL_MYSQL_CLIENT_H_

#include <memory>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "lib/clients/sql_client.h"
#include "lib/config/endpoints.h"

namespace cabench {

// Connects to `endpoint` (over TCP, even for "localhost") and prepares the
// read and write statements. An empty endpoint.schema connects without a
// default schema; the prepared statements are then not created (they need
// the booking and passenger tables) and QueryBookingCount()/InsertBooking()
// fail with FailedPrecondition, while Execute() and QueryRow() work.
//
// Fails with Unavailable (cannot connect, timeout), PermissionDenied (access
// denied; the message does not contain the password), NotFound (unknown
// schema) or Internal (anything else, such as a missing booking table when
// preparing the statements).
//
// Safe to call concurrently from several threads, once a MysqlLibrary exists
// in the process.
absl::StatusOr<std::unique_ptr<SqlClient>> NewMysqlClient(const DbEndpoint& endpoint);

// Process-wide initialisation of Connector/C: mysql_library_init() in the
// constructor, mysql_library_end() in the destructor. Create exactly one, in
// main(), before any thread starts, and keep it alive until every client is
// destroyed and every thread that used one has finished:
//
//   int main(int argc, char** argv) {
//     cabench::MysqlLibrary mysql_library;
//     if (!mysql_library.status().ok()) { ... }
//     ...
//   }
//
// Not thread-safe: construct and destroy it from the main thread only.
class MysqlLibrary {
 public:
  MysqlLibrary();
  ~MysqlLibrary();
  MysqlLibrary(const MysqlLibrary&) = delete;
  MysqlLibrary& operator=(const MysqlLibrary&) = delete;

  // OK when mysql_library_init() succeeded; Internal otherwise (then no
  // client may be created).
  absl::Status status() const { return status_; }

 private:
  absl::Status status_;
};

// Per-thread initialisation of Connector/C: mysql_thread_init() in the
// constructor, mysql_thread_end() in the destructor. Put one on the stack of
// every thread that creates or uses a SqlClient from NewMysqlClient(), before
// the client, so that it outlives the client:
//
//   void Worker() {
//     cabench::MysqlThreadScope mysql_thread;
//     auto client = cabench::NewMysqlClient(endpoint);
//     ...
//   }
//
// (MariaDB Connector/C no longer needs these calls; libmysqlclient does, and
// they are harmless.) Each scope belongs to the thread that created it; do not
// move it to another thread.
class MysqlThreadScope {
 public:
  MysqlThreadScope();
  ~MysqlThreadScope();
  MysqlThreadScope(const MysqlThreadScope&) = delete;
  MysqlThreadScope& operator=(const MysqlThreadScope&) = delete;
};

}  // namespace cabench

#endif  // CABENCH_LIB_MYSQL_MYSQL_CLIENT_H_
