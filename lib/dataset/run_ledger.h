// File: lib/dataset/run_ledger.h
//
// RunLedger makes a cabench process own exactly the booking rows it inserts,
// so that several processes can run on one schema at once and a killed run's
// rows are removed later without touching anybody else's.
//
// Ownership. Every process writes a run record (below) whose run_no, an
// AUTO_INCREMENT number of cabench_runs, is never reused within the schema's
// life. Every booking the process inserts carries that number in
// booking.cabench_run (NewBooking::run_no, set by its Workload); loaded
// bookings and other applications' rows have NULL there. A run's rows are
// therefore exactly "booking_id > <its floor> AND cabench_run = <its
// run_no>", and that is all cabench ever deletes from booking: in batches of
// kDeleteBatch rows, at the end of every benchmark run and at Close(), and
// for a dead run at the next Open(). Seats play no part in it.
//
// Run slots. A process takes one of kRunSlots (36) slots of its schema,
// '0'-'9' and 'a'-'z', with GET_LOCK on a dedicated connection that the
// ledger keeps open for the process's life (server-side, a lock lives exactly
// as long as its session): a free slot lock tells that its last holder is
// gone. The slot's character is also the first of every seat the process
// inserts (Workload's `seat_tag`), which keeps the seats of concurrent runs,
// and loaded 2-3 character seats, apart on the unique (flight_id, seat); it
// says nothing about who owns a row.
//
// Run records. Table cabench_runs of the marked schema keeps one row per
// process: run id, run_no, slot, host, pid, started_at, booking_floor
// (MAX(booking_id) when the run opened), state ('running', then 'done' after
// Close(), 'cleaned' when a later run removed its leftovers, or 'abandoned',
// below), ended_at, rows_removed, removed_by, and marks_rows (1: its bookings
// carry its run_no). A 'running' record whose slot lock is free belongs to a
// process that died (killed, crashed, or its lock connection lost): the next
// Open() removes its rows and marks it 'cleaned'.
//
// Older schemas. A schema loaded by an older cabench_load has no
// booking.cabench_run, and its cabench_runs no run_no: Open() adds them (the
// booking column instantly, ALGORITHM=INSTANT, without touching the rows).
// Runs of an older cabench (records with marks_rows 0) inserted rows that
// nothing tells from other applications' rows: when such a run died, Open()
// leaves its rows, marks it 'abandoned' and reports it (DescribeLeftover),
// so that the user can reload the schema.
//
// Typical use, once per process:
//
//   auto ledger = RunLedger::Open(std::move(dedicated_conn),
//                                 CurrentRunIdentity());
//   for (const LeftoverReport& l : (*ledger)->leftovers())
//     print(DescribeLeftover(l));
//   ThreadLoop::Options o;  o.seat_tag = (*ledger)->seat_tag();
//   o.run_no = (*ledger)->run_no();
//   ... before each benchmark run: (*ledger)->CheckOwnership(), stop on
//   Aborted; after it, with no INSERT in flight:
//   (*ledger)->RemoveOwnBookings();
//   ... at exit (also after SIGINT/SIGTERM): (*ledger)->Close();
//
// cabench never writes outside a marked schema: Open() refuses a schema
// without a complete mark (lib/dataset/schema_mark.h) before writing
// anything.
//
// Thread safety: every RunLedger method is safe to call concurrently (one
// internal mutex serialises the dedicated connection).
#ifndef CABENCH_LIB_DATASET_RUN_LEDGER_H_
#define CABENCH_LIB_DATASET_RUN_LEDGER_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "lib/clients/sql_client.h"
#include "lib/workload/data_set.h"

namespace cabench {

// Who runs: written into the run record and the run id. `host` is restricted
// to [A-Za-z0-9._-] when written (see SafeHostName in sql_text.h).
struct RunIdentity {
  std::string host;
  int64_t pid = 0;
};

// This process: gethostname() and getpid(). Never fails ("unknown" host).
RunIdentity CurrentRunIdentity();

// One dead run whose rows Open() removed (or, for a run of an older
// cabench, left: `unmarked`).
struct LeftoverReport {
  std::string run_id;
  int64_t run_no = 0;
  char slot = '0';
  std::string host;
  int64_t pid = 0;
  std::string started_at;  // server time, UTC, "YYYY-MM-DD HH:MM:SS.mmm"
  int64_t booking_floor = 0;
  int64_t rows_removed = 0;
  // The run's rows carry no run number (an older cabench inserted them):
  // nothing was removed, the record is now 'abandoned'.
  bool unmarked = false;
};

// One line for a person: "removed 12 booking(s) left by run h-7-1700-3 (host
// h, pid 7, started 2026-01-01 10:00:00.000 UTC, slot 3, run number 5),
// which ended without cleaning up"; for an `unmarked` run, that its rows were
// left and how to get rid of them. Pure; safe to call concurrently.
std::string DescribeLeftover(const LeftoverReport& leftover);

// One line naming a live cabench process that holds a run slot of the schema
// `sql` is connected to ("run h-7-1700-3 (host h, pid 7, started ... UTC,
// slot 3)"), or nullopt when no slot is held: cabench_load refuses to replace
// a schema in use. Fails with Unavailable or Internal from the client.
// Writes nothing. Not safe for concurrent use of the same client.
absl::StatusOr<std::optional<std::string>> FindLiveRun(SqlClient& sql);

class RunLedger {
 public:
  // Takes `conn`, a dedicated connection to the marked schema (USE-ing it;
  // it may have been created without a default schema, so that it prepares
  // no INSERT that names booking.cabench_run before Open() has added it),
  // kept open for the ledger's life. Checks the mark, creates cabench_runs
  // if missing, adds booking.cabench_run and cabench_runs.run_no when
  // missing (an older schema, see above), takes a free slot, records this
  // run as 'running' with the current MAX(booking_id) as floor (0 for an
  // empty booking table) and removes the leftovers of dead runs.
  //
  // Returns the ledger. Fails with FailedPrecondition when the schema has no
  // complete cabench mark (nothing is written then), when all kRunSlots
  // slots are held (the one-line message names a holder: run id, host, pid,
  // start), or when an older schema cannot be given its new columns (the
  // message says to reload it with cabench_load); InvalidArgument for a null
  // `conn`; Unavailable, Internal or PermissionDenied from the client, with
  // what was being done. Safe to call concurrently, from one process or many
  // (with distinct connections).
  static absl::StatusOr<std::unique_ptr<RunLedger>> Open(
      std::unique_ptr<SqlClient> conn, const RunIdentity& me);

  // Releases the slot (RELEASE_LOCK, then closes the dedicated connection)
  // without marking the record: a ledger destroyed without Close() looks like
  // a killed run, and the next Open() removes its rows.
  ~RunLedger();
  RunLedger(const RunLedger&) = delete;
  RunLedger& operator=(const RunLedger&) = delete;

  // The slot: the first character of every seat this process inserts
  // ('0'-'9', 'a'-'z'), to keep clear of other runs' seats; not an owner
  // mark. Constant; safe to call concurrently.
  char seat_tag() const { return slot_; }
  // "<host>-<pid>-<epoch ms>-<slot>". Constant; safe to call concurrently.
  const std::string& run_id() const { return run_id_; }
  // The record's number (cabench_runs.run_no, >= 1): what every booking this
  // process inserts must carry in booking.cabench_run (NewBooking::run_no).
  // Constant; safe to call concurrently.
  int64_t run_no() const { return run_no_; }
  // MAX(booking_id) when the run opened. Constant; safe to call concurrently.
  int64_t booking_floor() const { return floor_; }
  // The schema's name and its data set, as its mark says (read by Open()).
  // Constant; safe to call concurrently.
  const std::string& schema() const { return schema_; }
  const DataSetInfo& data_set() const { return data_set_; }
  // What Open() removed, one entry per dead run, in run id order, so the
  // caller can print one line each (DescribeLeftover). Constant after Open().
  const std::vector<LeftoverReport>& leftovers() const { return leftovers_; }
  // Rows removed so far by RemoveOwnBookings() (and Close()).
  int64_t rows_removed() const;

  // Deletes every booking this process inserted since Open() (kRunColumn =
  // run_no() above the floor, kDeleteBatch rows per statement), including
  // inserts whose reply was lost (committed by the server, seen by the client
  // as a dropped connection). Only call when none of this process's INSERTs
  // is in flight. Runs on the dedicated connection, reconnecting it when it
  // died (as CheckOwnership() does); a lost slot does not stop it, because
  // the run number is this run's alone. Returns the rows deleted. Fails with
  // Unavailable or Internal (some batches may have run; the next call, or
  // the next Open() after this process ends, removes the rest);
  // FailedPrecondition after Close(). Safe to call concurrently.
  absl::StatusOr<int64_t> RemoveOwnBookings();

  // OK when the slot lock is still ours and the record still 'running'. When
  // the dedicated connection died (a database restart, a KILL, a network
  // failure), reconnects it and takes the lock back. Fails with Aborted when
  // another process took the slot meanwhile, or a later Open() took this run
  // for dead and removed its rows (the message says which run); Unavailable
  // when the database cannot be reached; FailedPrecondition after Close().
  // Call it at every benchmark run's start and after reconnects; stop the
  // process on Aborted. Safe to call concurrently.
  absl::Status CheckOwnership();

  // Removes this run's bookings (RemoveOwnBookings), marks the run 'done'
  // with the rows removed, and releases the slot. Idempotent: OK when
  // already closed. Fails like RemoveOwnBookings(), or with Aborted when the
  // run lost its slot or its record (see CheckOwnership(); its rows are
  // removed all the same); the ledger then stays open and Close() may be
  // retried (or the destructor leaves the cleaning to the next Open()). Safe
  // to call concurrently.
  absl::Status Close();

 private:
  RunLedger(std::unique_ptr<SqlClient> conn, std::string schema,
            DataSetInfo data_set, char slot);

  absl::Status CleanDeadRuns() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status Record(const RunIdentity& me) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status CheckOwnershipLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<int64_t> RemoveLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::string schema_;
  const DataSetInfo data_set_;
  const char slot_;
  const std::string lock_name_;
  std::string run_id_;                     // set by Open(), constant afterwards
  int64_t floor_ = 0;                      // set by Open(), constant afterwards
  int64_t run_no_ = 0;                     // set by Open(), constant afterwards
  std::vector<LeftoverReport> leftovers_;  // set by Open()

  mutable absl::Mutex mu_;
  std::unique_ptr<SqlClient> conn_ ABSL_GUARDED_BY(mu_);
  int64_t removed_ ABSL_GUARDED_BY(mu_) = 0;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace cabench

#endif  // CABENCH_LIB_DATASET_RUN_LEDGER_H_
