#include "lib/dataset/run_ledger.h"

#include <unistd.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "lib/dataset/schema_mark.h"
#include "lib/dataset/sql_text.h"

namespace cabench {
namespace {

using Row = std::vector<std::optional<std::string>>;

constexpr int kRunIdAttempts = 5;

// The dedicated connection idles for the whole run; under the default
// wait_timeout (8 hours) the server would close it and so free the slot. One
// year is the largest value MariaDB and MySQL accept.
constexpr char kKeepAlive[] = "SET SESSION wait_timeout = 31536000";

// The schema-changing statements below wait for a metadata lock behind any
// open transaction on the table, and meanwhile hold up every new statement
// on it (other runs' included): bounded, in seconds.
constexpr char kShortLockWait[] = "SET SESSION lock_wait_timeout = 10";
constexpr char kDefaultLockWait[] = "SET SESSION lock_wait_timeout = DEFAULT";

// run_no numbers the records (AUTO_INCREMENT: never reused, also across
// server restarts, until the table is dropped with the bookings on a
// reload); marks_rows is 1 for runs whose bookings carry their run_no.
constexpr char kCreateRuns[] =
    "CREATE TABLE IF NOT EXISTS cabench_runs ("
    "run_id VARCHAR(100) NOT NULL, "
    "run_no INT UNSIGNED NOT NULL AUTO_INCREMENT, "
    "slot CHAR(1) NOT NULL, "
    "host VARCHAR(64) NOT NULL, "
    "pid BIGINT NOT NULL, "
    "started_at DATETIME(3) NOT NULL, "
    "booking_floor BIGINT NOT NULL, "
    "state VARCHAR(16) NOT NULL, "
    "ended_at DATETIME(3) NULL, "
    "rows_removed BIGINT NOT NULL DEFAULT 0, "
    "removed_by VARCHAR(100) NULL, "
    "marks_rows TINYINT NOT NULL DEFAULT 0, "
    "PRIMARY KEY (run_id), "
    "UNIQUE KEY run_no (run_no), "
    "KEY state_slot (state, slot)"
    ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4";

// The same columns for a cabench_runs created by an older cabench; its
// records, numbered in the process, keep marks_rows 0.
constexpr char kAddRunNo[] =
    "ALTER TABLE cabench_runs "
    "ADD COLUMN run_no INT UNSIGNED NOT NULL AUTO_INCREMENT, "
    "ADD COLUMN marks_rows TINYINT NOT NULL DEFAULT 0, "
    "ADD UNIQUE KEY run_no (run_no)";

absl::Status Annotate(const absl::Status& status, absl::string_view what) {
  return absl::Status(status.code(),
                      absl::StrCat(what, ": ", status.message()));
}

absl::StatusOr<int64_t> Exec(SqlClient& sql, const std::string& text,
                             absl::string_view what) {
  absl::StatusOr<int64_t> rows = sql.Execute(text);
  if (!rows.ok()) return Annotate(rows.status(), what);
  return rows;
}

// The first row of `text`, which must exist and have `columns` columns.
absl::StatusOr<Row> QueryOne(SqlClient& sql, const std::string& text,
                             size_t columns, absl::string_view what) {
  absl::StatusOr<std::optional<Row>> row = sql.QueryRow(text);
  if (!row.ok()) return Annotate(row.status(), what);
  if (!row->has_value() || (*row)->size() != columns) {
    return absl::InternalError(absl::StrCat(what, ": unexpected reply"));
  }
  return std::move(**row);
}

// Keeps the session alive for the run and makes `schema` its default: a
// reconnected session has neither.
absl::Status SetUpSession(SqlClient& sql, const std::string& schema,
                          absl::string_view what) {
  for (const std::string& text :
       {std::string(kKeepAlive), absl::StrCat("USE ", SqlIdentifier(schema))}) {
    absl::StatusOr<int64_t> done = Exec(sql, text, what);
    if (!done.ok()) return done.status();
  }
  return absl::OkStatus();
}

// What a schema of an older cabench lacks.
struct MissingColumns {
  bool booking_run = false;  // booking.cabench_run
  bool runs_no = false;      // cabench_runs.run_no and marks_rows
  bool any() const { return booking_run || runs_no; }
};

absl::StatusOr<MissingColumns> FindMissingColumns(SqlClient& sql) {
  absl::StatusOr<Row> row = QueryOne(
      sql,
      absl::StrCat(
          "SELECT COALESCE(SUM(table_name = 'booking' AND "
          "column_name = '",
          kRunColumn,
          "'), 0), COALESCE(SUM(table_name = 'cabench_runs' AND "
          "column_name = 'run_no'), 0) FROM information_schema.columns "
          "WHERE table_schema = DATABASE() AND table_name IN "
          "('booking', 'cabench_runs')"),
      2, "looking for the run columns");
  if (!row.ok()) return row.status();
  MissingColumns missing;
  missing.booking_run = (*row)[0].value_or("0") == "0";
  missing.runs_no = (*row)[1].value_or("0") == "0";
  return missing;
}

// Gives a schema loaded by an older cabench_load its run columns. Processes
// may race here: a loser's ALTER fails (a duplicate column, or the lock
// another's ALTER holds), and it looks again, adding what is still missing
// (the winner may have added one column and not yet the other).
absl::Status AddRunColumns(SqlClient& sql, const std::string& schema) {
  constexpr int kAttempts = 5;
  const std::string what =
      absl::StrCat("adding the run columns to schema '", schema,
                   "' (loaded by an older cabench_load)");
  absl::Status last;
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    absl::StatusOr<MissingColumns> missing = FindMissingColumns(sql);
    if (!missing.ok() || !missing->any()) return missing.status();
    absl::StatusOr<int64_t> done = Exec(sql, kShortLockWait, what);
    if (!done.ok()) return done.status();
    if (missing->runs_no) done = Exec(sql, kAddRunNo, what);
    if (done.ok() && missing->booking_run)
      done = Exec(sql, AddRunColumnSql(), what);
    if (absl::IsUnavailable(done.status())) return done.status();
    if (absl::StatusOr<int64_t> reset = Exec(sql, kDefaultLockWait, what);
        !reset.ok()) {
      return reset.status();
    }
    if (done.ok()) return absl::OkStatus();
    last = done.status();
  }
  return absl::FailedPreconditionError(absl::StrCat(
      "schema '", schema,
      "' was loaded by an older cabench_load and its booking table could not "
      "be given the column ",
      kRunColumn, " that marks a run's rows (", last.message(),
      "): try again, or reload the schema with cabench_load"));
}

// Deletes the bookings of run (`run_no`, `run_id`) above `floor`, batch by
// batch, adding each batch's rows to *removed as it commits.
absl::Status DeleteRunRows(SqlClient& sql, int64_t run_no,
                           const std::string& run_id, int64_t floor,
                           absl::string_view what, int64_t* removed) {
  const std::string text = DeleteRunBookingsSql(run_no, run_id, floor);
  while (true) {
    absl::StatusOr<int64_t> batch = Exec(sql, text, what);
    if (!batch.ok()) return batch.status();
    *removed += *batch;
    if (*batch < kDeleteBatch) return absl::OkStatus();
  }
}

// GET_LOCK(name, 0): true when this session now holds it, false when another
// session does.
absl::StatusOr<bool> TryLock(SqlClient& sql, const std::string& name) {
  absl::StatusOr<Row> row =
      QueryOne(sql, absl::StrCat("SELECT GET_LOCK(", SqlQuote(name), ", 0)"), 1,
               absl::StrCat("taking lock ", name));
  if (!row.ok()) return row.status();
  if (!(*row)[0].has_value()) {
    return absl::InternalError(
        absl::StrCat("taking lock ", name, ": GET_LOCK returned NULL"));
  }
  return *(*row)[0] == "1";
}

absl::Status Unlock(SqlClient& sql, const std::string& name) {
  return QueryOne(sql,
                  absl::StrCat("SELECT RELEASE_LOCK(", SqlQuote(name), ")"), 1,
                  absl::StrCat("releasing lock ", name))
      .status();
}

// IS_USED_LOCK of every slot of `schema`: the holder's connection id, or
// nullopt for a free slot.
absl::StatusOr<Row> SlotHolders(SqlClient& sql, const std::string& schema) {
  std::string text = "SELECT ";
  for (int i = 0; i < kRunSlots; ++i) {
    absl::StrAppend(&text, i > 0 ? ", " : "", "IS_USED_LOCK(",
                    SqlQuote(SlotLockName(schema, SlotChar(i))), ")");
  }
  return QueryOne(sql, text, kRunSlots, "reading the run slots");
}

// One line naming the holder of `slot` (whose session is `connection`): its
// newest 'running' record, if cabench_runs exists and has one.
absl::StatusOr<std::string> DescribeHolder(SqlClient& sql, char slot,
                                           const std::string& connection,
                                           bool have_table) {
  if (have_table) {
    absl::StatusOr<std::optional<Row>> row = sql.QueryRow(
        absl::StrCat("SELECT run_id, host, pid, started_at FROM cabench_runs "
                     "WHERE state = 'running' AND slot = '",
                     std::string(1, slot),
                     "' ORDER BY started_at DESC, run_id DESC LIMIT 1"));
    if (!row.ok()) return Annotate(row.status(), "reading cabench_runs");
    if (row->has_value() && (*row)->size() == 4) {
      const Row& r = **row;
      return absl::StrCat("run ", r[0].value_or("?"), " (host ",
                          r[1].value_or("?"), ", pid ", r[2].value_or("?"),
                          ", started ", r[3].value_or("?"), " UTC, slot ",
                          std::string(1, slot), ")");
    }
  }
  return absl::StrCat("slot ", std::string(1, slot), " (connection ",
                      connection, ", no run record)");
}

// The first held slot of `schema` described, or nullopt.
absl::StatusOr<std::optional<std::string>> AnyHolder(SqlClient& sql,
                                                     const std::string& schema,
                                                     bool have_table) {
  absl::StatusOr<Row> holders = SlotHolders(sql, schema);
  if (!holders.ok()) return holders.status();
  for (int i = 0; i < kRunSlots; ++i) {
    if (!(*holders)[i].has_value()) continue;
    absl::StatusOr<std::string> holder =
        DescribeHolder(sql, SlotChar(i), *(*holders)[i], have_table);
    if (!holder.ok()) return holder.status();
    return std::optional<std::string>(*std::move(holder));
  }
  return std::optional<std::string>();
}

}  // namespace

RunIdentity CurrentRunIdentity() {
  char host[256] = {};
  RunIdentity me;
  if (gethostname(host, sizeof(host) - 1) == 0) me.host = host;
  if (me.host.empty()) me.host = "unknown";
  me.pid = getpid();
  return me;
}

std::string DescribeLeftover(const LeftoverReport& leftover) {
  const std::string run = absl::StrCat(
      "run ", leftover.run_id, " (host ", leftover.host, ", pid ", leftover.pid,
      ", started ", leftover.started_at, " UTC, slot ",
      std::string(1, leftover.slot), ", run number ", leftover.run_no, ")");
  if (leftover.unmarked) {
    return absl::StrCat(
        run,
        " ended without cleaning up and its bookings were left in place: an "
        "older cabench inserted them without marking them as its own, so "
        "they cannot be told from other applications' rows (reload the "
        "schema with cabench_load to get rid of them)");
  }
  return absl::StrCat("removed ", leftover.rows_removed, " booking(s) left by ",
                      run, ", which ended without cleaning up");
}

absl::StatusOr<std::optional<std::string>> FindLiveRun(SqlClient& sql) {
  absl::StatusOr<Row> probe = QueryOne(
      sql,
      "SELECT DATABASE(), (SELECT COUNT(*) FROM information_schema.tables "
      "WHERE table_schema = DATABASE() AND table_name = 'cabench_runs')",
      2, "looking for live runs");
  if (!probe.ok()) return probe.status();
  if (!(*probe)[0].has_value()) {
    return absl::FailedPreconditionError(
        "looking for live runs: no schema selected");
  }
  return AnyHolder(sql, *(*probe)[0], (*probe)[1].value_or("0") != "0");
}

RunLedger::RunLedger(std::unique_ptr<SqlClient> conn, std::string schema,
                     DataSetInfo data_set, char slot)
    : schema_(std::move(schema)),
      data_set_(std::move(data_set)),
      slot_(slot),
      lock_name_(SlotLockName(schema_, slot)),
      conn_(std::move(conn)) {}

RunLedger::~RunLedger() {
  absl::MutexLock lock(&mu_);
  // Explicitly, because the server ends a closed session asynchronously: a
  // process that opens right after this one ends must find the slot free.
  if (!closed_ && conn_ != nullptr) Unlock(*conn_, lock_name_).IgnoreError();
}

absl::StatusOr<std::unique_ptr<RunLedger>> RunLedger::Open(
    std::unique_ptr<SqlClient> conn, const RunIdentity& me) {
  if (conn == nullptr)
    return absl::InvalidArgumentError("RunLedger::Open: no connection");
  // The mark first: nothing is written into a schema that is not cabench's.
  absl::StatusOr<DataSetInfo> data_set = ReadDataSetInfo(*conn);
  if (absl::IsFailedPrecondition(data_set.status())) return data_set.status();
  if (!data_set.ok())
    return Annotate(data_set.status(), "reading the schema mark");
  absl::StatusOr<Row> schema =
      QueryOne(*conn, "SELECT DATABASE()", 1, "reading the schema name");
  if (!schema.ok()) return schema.status();
  if (!(*schema)[0].has_value())
    return absl::InternalError("reading the schema name: NULL");
  for (const char* sql : {kKeepAlive, kCreateRuns}) {
    absl::StatusOr<int64_t> done = Exec(*conn, sql, "preparing cabench_runs");
    if (!done.ok()) return done.status();
  }
  if (absl::Status s = AddRunColumns(*conn, *(*schema)[0]); !s.ok()) return s;

  absl::StatusOr<Row> holders = SlotHolders(*conn, *(*schema)[0]);
  if (!holders.ok()) return holders.status();
  int slot = -1;
  for (int i = 0; i < kRunSlots && slot < 0; ++i) {
    if ((*holders)[i].has_value()) continue;
    absl::StatusOr<bool> taken =
        TryLock(*conn, SlotLockName(*(*schema)[0], SlotChar(i)));
    if (!taken.ok()) return taken.status();
    if (*taken) slot = i;
  }
  if (slot < 0) {
    absl::StatusOr<std::optional<std::string>> holder =
        AnyHolder(*conn, *(*schema)[0], /*have_table=*/true);
    if (!holder.ok()) return holder.status();
    return absl::FailedPreconditionError(
        absl::StrCat("no free run slot in schema '", *(*schema)[0], "': all ",
                     kRunSlots, " are held by running cabench processes, e.g. ",
                     holder->value_or("(none left now: try again)")));
  }

  // From here on, a failure destroys the ledger, which frees the slot.
  std::unique_ptr<RunLedger> ledger(new RunLedger(
      std::move(conn), *(*schema)[0], *std::move(data_set), SlotChar(slot)));
  absl::MutexLock lock(&ledger->mu_);
  if (absl::Status s = ledger->Record(me); !s.ok()) return s;
  if (absl::Status s = ledger->CleanDeadRuns(); !s.ok()) return s;
  return ledger;
}

absl::Status RunLedger::Record(const RunIdentity& me) {
  absl::StatusOr<Row> floor =
      QueryOne(*conn_, "SELECT COALESCE(MAX(booking_id), 0) FROM booking", 1,
               "reading the booking floor");
  if (!floor.ok()) return floor.status();
  if (!absl::SimpleAtoi((*floor)[0].value_or(""), &floor_)) {
    return absl::InternalError("reading the booking floor: not a number");
  }
  const int64_t now_ms = absl::ToUnixMillis(absl::Now());
  // The slot is ours, so the id can only repeat when this process reopens the
  // same slot within a millisecond: step the millisecond.
  for (int attempt = 0; attempt < kRunIdAttempts; ++attempt) {
    run_id_ = MakeRunId(me.host, me.pid, now_ms + attempt, slot_);
    absl::StatusOr<int64_t> inserted = conn_->Execute(absl::StrCat(
        "INSERT INTO cabench_runs (run_id, slot, host, pid, started_at, "
        "booking_floor, state, marks_rows) VALUES (",
        SqlQuote(run_id_), ", '", std::string(1, slot_), "', ",
        SqlQuote(SafeHostName(me.host)), ", ", me.pid, ", UTC_TIMESTAMP(3), ",
        floor_, ", 'running', 1)"));
    if (!inserted.ok() && absl::IsAlreadyExists(inserted.status())) continue;
    if (!inserted.ok()) return Annotate(inserted.status(), "recording the run");
    absl::StatusOr<Row> no =
        QueryOne(*conn_,
                 absl::StrCat("SELECT run_no FROM cabench_runs WHERE run_id = ",
                              SqlQuote(run_id_)),
                 1, "reading the run number");
    if (!no.ok()) return no.status();
    if (!absl::SimpleAtoi((*no)[0].value_or(""), &run_no_) || run_no_ <= 0) {
      return absl::InternalError("reading the run number: not a number");
    }
    return absl::OkStatus();
  }
  return absl::InternalError(
      absl::StrCat("recording the run: run id ", run_id_, " keeps existing"));
}

absl::Status RunLedger::CleanDeadRuns() {
  // One record per query (SqlClient reads first rows only), in run id order.
  std::string last;
  while (true) {
    absl::StatusOr<std::optional<Row>> row = conn_->QueryRow(absl::StrCat(
        "SELECT run_id, slot, host, pid, started_at, booking_floor, run_no, "
        "marks_rows FROM cabench_runs WHERE state = 'running' AND run_id > ",
        SqlQuote(last), " ORDER BY run_id LIMIT 1"));
    if (!row.ok()) return Annotate(row.status(), "reading cabench_runs");
    if (!row->has_value()) return absl::OkStatus();
    if ((*row)->size() != 8 || !(**row)[0].has_value())
      return absl::InternalError("reading cabench_runs: unexpected reply");
    const Row& r = **row;
    last = *r[0];
    LeftoverReport dead;
    dead.run_id = *r[0];
    const std::string slot = r[1].value_or("");
    dead.host = r[2].value_or("");
    dead.started_at = r[4].value_or("");
    if (dead.run_id == run_id_ || slot.size() != 1 || SlotIndex(slot[0]) < 0 ||
        !absl::SimpleAtoi(r[3].value_or(""), &dead.pid) ||
        !absl::SimpleAtoi(r[5].value_or(""), &dead.booking_floor) ||
        !absl::SimpleAtoi(r[6].value_or(""), &dead.run_no)) {
      continue;  // this run, or a record cabench did not write: leave it
    }
    dead.slot = slot[0];
    dead.unmarked = r[7].value_or("0") == "0";
    // A free lock means the run's process is gone. Its slot's lock, held
    // while removing, also keeps a new process out of the slot meanwhile.
    const std::string lock_name = SlotLockName(schema_, dead.slot);
    if (dead.slot != slot_) {
      absl::StatusOr<bool> taken = TryLock(*conn_, lock_name);
      if (!taken.ok()) return taken.status();
      if (!*taken) continue;  // a live process holds it
    }
    const std::string what =
        absl::StrCat("removing the rows of dead run ", dead.run_id);
    // A run of an older cabench left rows that carry no run number: they
    // stay (see the file comment).
    if (!dead.unmarked) {
      if (absl::Status s =
              DeleteRunRows(*conn_, dead.run_no, dead.run_id,
                            dead.booking_floor, what, &dead.rows_removed);
          !s.ok()) {
        return s;
      }
    }
    absl::StatusOr<int64_t> marked = Exec(
        *conn_,
        absl::StrCat("UPDATE cabench_runs SET state = ",
                     dead.unmarked ? "'abandoned'" : "'cleaned'",
                     ", ended_at = UTC_TIMESTAMP(3), rows_removed = "
                     "rows_removed + ",
                     dead.rows_removed, ", removed_by = ", SqlQuote(run_id_),
                     " WHERE run_id = ", SqlQuote(dead.run_id),
                     " AND state = 'running'"),
        what);
    if (!marked.ok()) return marked.status();
    if (dead.slot != slot_) {
      if (absl::Status s = Unlock(*conn_, lock_name); !s.ok()) return s;
    }
    // No record changed: another process, which read the record as we did
    // and let go of the lock first, dealt with this run (any rows were gone
    // before our DELETE).
    if (*marked > 0) leftovers_.push_back(std::move(dead));
  }
}

int64_t RunLedger::rows_removed() const {
  absl::MutexLock lock(&mu_);
  return removed_;
}

absl::Status RunLedger::CheckOwnership() {
  absl::MutexLock lock(&mu_);
  return CheckOwnershipLocked();
}

absl::Status RunLedger::CheckOwnershipLocked() {
  if (closed_) {
    return absl::FailedPreconditionError(
        absl::StrCat("run ", run_id_, " is closed"));
  }
  const std::string query = absl::StrCat(
      "SELECT IS_USED_LOCK(", SqlQuote(lock_name_),
      ") = CONNECTION_ID(), state, removed_by FROM cabench_runs WHERE "
      "run_id = ",
      SqlQuote(run_id_));
  const std::string what =
      absl::StrCat("checking that run ", run_id_, " still owns its slot");
  absl::StatusOr<std::optional<Row>> row = conn_->QueryRow(query);
  if (absl::IsUnavailable(row.status())) {
    // The session, and with it the lock, is gone: a new session may take the
    // lock back if no other process took the slot meanwhile.
    if (absl::Status s = conn_->Reconnect(); !s.ok()) {
      return Annotate(
          s, absl::StrCat("reconnecting the lock connection of run ", run_id_));
    }
    if (absl::Status s = SetUpSession(*conn_, schema_, what); !s.ok()) return s;
    row = conn_->QueryRow(query);
  }
  if (!row.ok()) return Annotate(row.status(), what);
  if (!row->has_value() || (*row)->size() != 3) {
    return absl::AbortedError(
        absl::StrCat("run ", run_id_,
                     " has no record in cabench_runs any more (was the "
                     "schema reloaded?)"));
  }
  if ((**row)[0] != std::optional<std::string>("1")) {
    absl::StatusOr<bool> taken = TryLock(*conn_, lock_name_);
    if (!taken.ok()) return taken.status();
    if (!*taken) {
      absl::StatusOr<Row> holder = QueryOne(
          *conn_,
          absl::StrCat("SELECT IS_USED_LOCK(", SqlQuote(lock_name_), ")"), 1,
          what);
      if (!holder.ok()) return holder.status();
      absl::StatusOr<std::string> who = DescribeHolder(
          *conn_, slot_, (*holder)[0].value_or("?"), /*have_table=*/true);
      if (!who.ok()) return who.status();
      return absl::AbortedError(
          absl::StrCat("run ", run_id_, " lost its slot '",
                       std::string(1, slot_), "' in schema '", schema_, "' to ",
                       *who, " while its lock connection was down"));
    }
  }
  if ((**row)[1] != std::optional<std::string>("running")) {
    return absl::AbortedError(absl::StrCat(
        "run ", run_id_, " is '", (**row)[1].value_or("?"), "': run ",
        (**row)[2].value_or("?"),
        " took it for dead while its lock connection was down and removed its "
        "rows"));
  }
  return absl::OkStatus();
}

absl::StatusOr<int64_t> RunLedger::RemoveOwnBookings() {
  absl::MutexLock lock(&mu_);
  return RemoveLocked();
}

absl::StatusOr<int64_t> RunLedger::RemoveLocked() {
  // Reconnects a dead session. A run that lost its slot still removes its
  // rows: their number is its own (and the DELETE checks the record).
  absl::Status owned = CheckOwnershipLocked();
  if (!owned.ok() && !absl::IsAborted(owned)) return owned;
  int64_t removed = 0;
  absl::Status s = DeleteRunRows(
      *conn_, run_no_, run_id_, floor_,
      absl::StrCat("removing the bookings of run ", run_id_), &removed);
  removed_ += removed;
  if (!s.ok()) return s;
  return removed;
}

absl::Status RunLedger::Close() {
  absl::MutexLock lock(&mu_);
  if (closed_) return absl::OkStatus();
  absl::StatusOr<int64_t> removed = RemoveLocked();
  if (!removed.ok()) return removed.status();
  if (absl::Status s = CheckOwnershipLocked(); !s.ok()) return s;
  const std::string what = absl::StrCat("closing run ", run_id_);
  absl::StatusOr<int64_t> marked =
      Exec(*conn_,
           absl::StrCat("UPDATE cabench_runs SET state = 'done', ended_at = "
                        "UTC_TIMESTAMP(3), rows_removed = ",
                        removed_, " WHERE run_id = ", SqlQuote(run_id_),
                        " AND state = 'running'"),
           what);
  if (!marked.ok()) return marked.status();
  if (absl::Status s = Unlock(*conn_, lock_name_); !s.ok()) return s;
  closed_ = true;
  conn_.reset();  // the dedicated connection has done its job
  return absl::OkStatus();
}

}  // namespace cabench
