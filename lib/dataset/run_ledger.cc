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

constexpr size_t kDeleteBatch = 1000;
constexpr int kRunIdAttempts = 5;

// The dedicated connection idles for the whole run; under the default
// wait_timeout (8 hours) the server would close it and so free the slot. One
// year is the largest value MariaDB and MySQL accept.
constexpr char kKeepAlive[] = "SET SESSION wait_timeout = 31536000";

constexpr char kCreateRuns[] =
    "CREATE TABLE IF NOT EXISTS cabench_runs ("
    "run_id VARCHAR(100) NOT NULL, "
    "slot CHAR(1) NOT NULL, "
    "host VARCHAR(64) NOT NULL, "
    "pid BIGINT NOT NULL, "
    "started_at DATETIME(3) NOT NULL, "
    "booking_floor BIGINT NOT NULL, "
    "state VARCHAR(16) NOT NULL, "
    "ended_at DATETIME(3) NULL, "
    "rows_removed BIGINT NOT NULL DEFAULT 0, "
    "removed_by VARCHAR(100) NULL, "
    "PRIMARY KEY (run_id), "
    "KEY state_slot (state, slot)"
    ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4";

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
  return absl::StrCat(
      "removed ", leftover.rows_removed, " booking(s) left by run ",
      leftover.run_id, " (host ", leftover.host, ", pid ", leftover.pid,
      ", started ", leftover.started_at, " UTC, slot ",
      std::string(1, leftover.slot), "), which ended without cleaning up");
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
        "booking_floor, state) VALUES (",
        SqlQuote(run_id_), ", '", std::string(1, slot_), "', ",
        SqlQuote(SafeHostName(me.host)), ", ", me.pid, ", UTC_TIMESTAMP(3), ",
        floor_, ", 'running')"));
    if (inserted.ok()) return absl::OkStatus();
    if (!absl::IsAlreadyExists(inserted.status()))
      return Annotate(inserted.status(), "recording the run");
  }
  return absl::InternalError(
      absl::StrCat("recording the run: run id ", run_id_, " keeps existing"));
}

absl::Status RunLedger::CleanDeadRuns() {
  // One record per query (SqlClient reads first rows only), in run id order.
  std::string last;
  while (true) {
    absl::StatusOr<std::optional<Row>> row = conn_->QueryRow(absl::StrCat(
        "SELECT run_id, slot, host, pid, started_at, booking_floor "
        "FROM cabench_runs WHERE state = 'running' AND run_id > ",
        SqlQuote(last), " ORDER BY run_id LIMIT 1"));
    if (!row.ok()) return Annotate(row.status(), "reading cabench_runs");
    if (!row->has_value()) return absl::OkStatus();
    if ((*row)->size() != 6 || !(**row)[0].has_value())
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
        !absl::SimpleAtoi(r[5].value_or(""), &dead.booking_floor)) {
      continue;  // this run, or a record cabench did not write: leave it
    }
    dead.slot = slot[0];
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
    absl::StatusOr<int64_t> removed =
        Exec(*conn_,
             absl::StrCat("DELETE FROM booking WHERE ",
                          TaggedAboveFloor(dead.slot, dead.booking_floor)),
             what);
    if (!removed.ok()) return removed.status();
    dead.rows_removed = *removed;
    absl::StatusOr<int64_t> marked = Exec(
        *conn_,
        absl::StrCat("UPDATE cabench_runs SET state = 'cleaned', ended_at = "
                     "UTC_TIMESTAMP(3), rows_removed = rows_removed + ",
                     *removed, ", removed_by = ", SqlQuote(run_id_),
                     " WHERE run_id = ", SqlQuote(dead.run_id),
                     " AND state = 'running'"),
        what);
    if (!marked.ok()) return marked.status();
    if (dead.slot != slot_) {
      if (absl::Status s = Unlock(*conn_, lock_name); !s.ok()) return s;
    }
    leftovers_.push_back(std::move(dead));
  }
}

int64_t RunLedger::rows_removed() const {
  absl::MutexLock lock(&mu_);
  return removed_;
}

absl::StatusOr<int64_t> RunLedger::RemoveBookings(
    SqlClient& sql, const std::vector<int64_t>& ids) {
  int64_t total = 0;
  for (const std::string& statement :
       DeleteBookingsSql(ids, slot_, floor_, kDeleteBatch)) {
    absl::StatusOr<int64_t> removed = Exec(
        sql, statement,
        absl::StrCat("removing ", ids.size(), " bookings of run ", run_id_));
    if (!removed.ok()) return removed.status();
    total += *removed;
    absl::MutexLock lock(&mu_);
    removed_ += *removed;
  }
  return total;
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
    absl::StatusOr<int64_t> kept = Exec(*conn_, kKeepAlive, what);
    if (!kept.ok()) return kept.status();
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

absl::StatusOr<int64_t> RunLedger::SweepTagged() {
  absl::MutexLock lock(&mu_);
  return SweepLocked();
}

absl::StatusOr<int64_t> RunLedger::SweepLocked() {
  if (absl::Status s = CheckOwnershipLocked(); !s.ok()) return s;
  absl::StatusOr<int64_t> removed =
      Exec(*conn_,
           absl::StrCat("DELETE FROM booking WHERE ",
                        TaggedAboveFloor(slot_, floor_)),
           absl::StrCat("sweeping the bookings of run ", run_id_));
  if (!removed.ok()) return removed.status();
  removed_ += *removed;
  return removed;
}

absl::Status RunLedger::Close() {
  absl::MutexLock lock(&mu_);
  if (closed_) return absl::OkStatus();
  absl::StatusOr<int64_t> swept = SweepLocked();
  if (!swept.ok()) return swept.status();
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
