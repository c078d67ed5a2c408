// File: lib/testing/fake_sql_client.h
//
// FakeSqlClient is an in-memory SqlClient over a small model of the
// flughafendb subset, for unit tests of the pattern:
//
//   passenger  ids 1..passengers, named "First<id>" / "Last<id>";
//   booking    a count per passenger: `initial_count(id)` loaded bookings
//              (default id % 4, so every 4th passenger has none and the read
//              query returns no row: the negative case) plus those inserted;
//              and the unique key (flight_id, seat) of inserted bookings,
//              compared case-insensitively as booking.seat's collation does.
//
// QueryBookingCount answers like the real join (no row when the passenger
// has no booking or does not exist), from the bookings held when it runs: a
// later InsertBooking for the passenger raises the count the next query
// returns (a passenger with none gets a row), which is what makes a cached
// count stale. InsertBooking fails with AlreadyExists
// ("mysql 1062: Duplicate entry ...") on a taken (flight, seat) and with
// Internal ("mysql 1452: ...") for an unknown passenger; ids start after
// `first_booking_id`. Execute() and QueryRow() only record the statement.
//
// Statistics, as a server keeps them: every statement a call runs
// (QueryBookingCount, InsertBooking, Execute, QueryRow, QueryPairs; not one
// failed by injection) counts in Questions, QueryBookingCount also in
// Com_select and InsertBooking in Com_insert. QueryPairs answers "SHOW GLOBAL
// STATUS ..." with those three and the rows set by SetStatus(), "SHOW GLOBAL
// VARIABLES ..." with the rows set by SetVariable() (any WHERE or LIKE is
// ignored: every row is returned), and anything else with no rows. The fake
// is also one session of its server: "SHOW SESSION STATUS ..." answers the
// same three counted since the last Reconnect() (a new session, whose id
// Session() gives: 1, then 2, ...; Rows_read counts one per SELECT), the
// global Questions add the other clients' statements (AddOtherClients), a
// query of information_schema.PROCESSLIST answers one (id, "Query") row per
// other active client, and one of information_schema.USER_PRIVILEGES
// answers ("PROCESS", "1"), or "0" without the privilege.
// Every method can fail on demand and take artificial latency (see
// fault_injector.h).
//
// Interleavings: set_after_query() and set_after_insert() install hooks that
// run on the calling thread once the statement has been applied, outside the
// fake's mutex, so a test can hold one thread between its SELECT and what it
// does next (its cache SET) while other threads use the fake, deterministically:
//
//   fake.set_after_query([&](int64_t id) { if (id == 7) latch.Wait(); });
//
// set_before_query() and set_before_insert() do the same just before the
// statement reads or stores the bookings, so that the instant a SELECT's
// snapshot is taken and an INSERT commits (atomically, under the mutex) can
// be placed anywhere inside the call; set_observer() sees each of those
// instants as it happens.
//
// Ownership: the caller owns the fake. Thread safety: unlike the real
// clients, safe for concurrent use (one internal mutex).
#ifndef CABENCH_LIB_TESTING_FAKE_SQL_CLIENT_H_
#define CABENCH_LIB_TESTING_FAKE_SQL_CLIENT_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "lib/clients/sql_client.h"
#include "lib/testing/fault_injector.h"

namespace cabench {

enum class SqlMethod : int {
  kQueryBookingCount = 0,
  kInsertBooking,
  kExecute,
  kQueryRow,
  kPing,
  kReconnect,
  kServerInfo,
  kQueryPairs,
};
inline constexpr int kNumSqlMethods = 8;

class FakeSqlClient : public SqlClient, public FaultTable<SqlMethod, kNumSqlMethods> {
 public:
  struct Options {
    int64_t passengers = 1000;
    // Loaded bookings of a passenger; null means id % 4.
    std::function<int64_t(int64_t)> initial_count;
    int64_t first_booking_id = 1000000;
  };

  FakeSqlClient();
  explicit FakeSqlClient(Options options);

  // SqlClient (see the file comment for the model).
  absl::Status QueryBookingCount(int64_t passenger_id, BookingCount* result) override;
  absl::StatusOr<int64_t> InsertBooking(const NewBooking& booking) override;
  absl::StatusOr<int64_t> Execute(std::string_view sql) override;
  absl::StatusOr<std::optional<std::vector<std::optional<std::string>>>> QueryRow(
      std::string_view sql) override;
  absl::Status Ping() override;
  absl::Status Reconnect() override;
  absl::StatusOr<std::string> ServerInfo() override;
  absl::StatusOr<std::vector<std::pair<std::string, std::string>>> QueryPairs(
      std::string_view sql) override;
  absl::StatusOr<SqlSession> Session() const override;

  // Other clients of the fake's server: `statements` more in the global
  // Questions, and `active` sessions in PROCESSLIST from now on.
  void AddOtherClients(int64_t statements, int64_t active);
  // Whether the user has the PROCESS privilege (default true).
  void set_process_privilege(bool granted);

  // Adds or replaces a row of SHOW GLOBAL STATUS (Questions, Com_select and
  // Com_insert included: the value set replaces the count) or of SHOW GLOBAL
  // VARIABLES.
  void SetStatus(std::string_view name, std::string_view value);
  void SetVariable(std::string_view name, std::string_view value);

  // Error and latency injection per method, and calls(), come from
  // FaultTable (fault_injector.h).
  void ClearFailures() { ClearFaults(); }

  // Hooks for tests of interleavings; an empty function removes the hook.
  // `after_query(passenger_id)` runs at the end of every QueryBookingCount
  // that succeeded, after *result was filled from the bookings as they were
  // when the query ran; `after_insert(booking, booking_id)` at the end of
  // every InsertBooking that succeeded, after the booking was stored (a
  // concurrent query already sees it). Both run on the caller's thread
  // without the fake's mutex held: they may block, and other threads may use
  // the fake (and replace the hooks: a call that has begun keeps the hook it
  // took) meanwhile. Safe to call concurrently.
  void set_after_query(std::function<void(int64_t passenger_id)> after_query);
  void set_after_insert(
      std::function<void(const NewBooking& booking, int64_t booking_id)> after_insert);
  // `before_query(passenger_id)` runs at the start of every QueryBookingCount
  // and `before_insert(booking)` at the start of every InsertBooking (that
  // injection did not fail), before the bookings are read or the booking is
  // checked and stored; as the hooks above, without the mutex held.
  void set_before_query(std::function<void(int64_t passenger_id)> before_query);
  void set_before_insert(std::function<void(const NewBooking& booking)> before_insert);

  // What a statement did to a passenger's bookings, at the instant it did it.
  struct Observed {
    bool insert = false;  // an INSERT stored a booking; else a query read them
    int64_t passenger_id = 0;
    int64_t count = 0;  // the passenger's bookings after the insert / as read
  };
  // `observer` runs under the fake's mutex, at the instant a QueryBookingCount
  // reads the bookings and an InsertBooking stores one (so in the order they
  // happened); it must not block nor call the fake. Empty: none.
  void set_observer(std::function<void(const Observed& event)> observer);

  // Current booking count of `passenger_id` (loaded + inserted).
  int64_t BookingCountOf(int64_t passenger_id) const;
  // Bookings inserted so far.
  int64_t inserted() const;
  // Bookings inserted so far whose NewBooking::run_no was `run_no` (0: those
  // inserted without a run), as booking.cabench_run would hold them.
  int64_t inserted_by_run(int64_t run_no) const;
  // Marks (flight_id, seat) taken, as a loaded or earlier booking would.
  void TakeSeat(int64_t flight_id, std::string_view seat);
  // Statements passed to Execute() and QueryRow(), in order.
  std::vector<std::string> statements() const;

 private:
  // Applies injected faults; when the call goes ahead and runs a statement,
  // counts it in the statistics.
  absl::Status Enter(SqlMethod method);
  int64_t CountLocked(int64_t passenger_id) const;
  static std::pair<int64_t, std::string> SeatKey(int64_t flight_id, std::string_view seat);

  const Options options_;
  // std::mutex, not absl::Mutex: Debian's prebuilt libabsl is not built
  // for ThreadSanitizer, which then cannot see absl::Mutex and reports
  // false races; pthread mutexes are intercepted. Guards everything below.
  mutable std::mutex mu_;
  std::unordered_map<int64_t, int64_t> inserted_per_passenger_;
  std::unordered_map<int64_t, int64_t> inserted_per_run_;
  std::set<std::pair<int64_t, std::string>> seats_;
  int64_t next_booking_id_;
  int64_t inserted_ = 0;
  std::vector<std::string> statements_;
  int64_t questions_ = 0;
  int64_t com_select_ = 0;
  int64_t com_insert_ = 0;
  // The counts of the current session (since the last Reconnect()).
  struct SessionCounts {
    int64_t id = 1;
    int64_t questions = 0;
    int64_t selects = 0;
    int64_t inserts = 0;
  };
  SessionCounts session_;
  int64_t other_statements_ = 0;
  int64_t other_active_ = 0;
  bool process_privilege_ = true;
  std::vector<std::pair<std::string, std::string>> status_;
  std::vector<std::pair<std::string, std::string>> variables_;
  // Held by shared_ptr so that a call copies a pointer, not the function,
  // and runs it after letting go of mu_.
  std::shared_ptr<const std::function<void(int64_t)>> after_query_;
  std::shared_ptr<const std::function<void(const NewBooking&, int64_t)>> after_insert_;
  std::shared_ptr<const std::function<void(int64_t)>> before_query_;
  std::shared_ptr<const std::function<void(const NewBooking&)>> before_insert_;
  std::function<void(const Observed&)> observer_;
};

}  // namespace cabench

#endif  // CABENCH_LIB_TESTING_FAKE_SQL_CLIENT_H_
