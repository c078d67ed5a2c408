// File: lib/dataset/sql_text.h
//
// The SQL text of cabench's schema housekeeping (lib/dataset), as pure
// functions, so that what reaches the server can be unit-tested without one:
// quoting, the names of the run-slot locks, run ids, the booking column that
// names the run that inserted a row, and the DELETE that removes a run's
// bookings.
//
// Run slots: a cabench process holds one of kRunSlots server-wide user locks
// (GET_LOCK) per schema for its whole life; the slot's character ('0'-'9',
// 'a'-'z') is the first character of every seat it inserts (see
// lib/workload/workload.h), which only keeps concurrent runs' seats apart on
// the unique (flight_id, seat): ownership is the run column (kRunColumn),
// never a seat. Seats are compared case-insensitively (booking.seat's
// collation), so slots use lower case only.
//
// Thread safety: every function here is pure and safe to call concurrently.
#ifndef CABENCH_LIB_DATASET_SQL_TEXT_H_
#define CABENCH_LIB_DATASET_SQL_TEXT_H_

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace cabench {

// Slots per schema, and so the most cabench processes one schema serves at a
// time.
inline constexpr int kRunSlots = 36;

// The character of slot `index` (0 <= index < kRunSlots): '0'..'9', 'a'..'z'.
char SlotChar(int index);

// The index of slot character `c`, or -1 when `c` is not a slot character
// (upper case included).
int SlotIndex(char c);

// The booking column that names the run that inserted a row:
// cabench_runs.run_no of the inserting cabench process (an AUTO_INCREMENT
// number, never reused within the schema's life), NULL for loaded bookings
// and other applications' rows. fixtures/schema.sql declares it as
// "<kRunColumn> <kRunColumnType>", and AddRunColumnSql() adds it so.
inline constexpr char kRunColumn[] = "cabench_run";
inline constexpr char kRunColumnType[] = "INT UNSIGNED NULL DEFAULT NULL";

// Rows one DELETE of DeleteRunBookingsSql removes at most: a run that
// inserted millions of rows is removed in many short transactions.
inline constexpr int64_t kDeleteBatch = 10000;

// `value` as a single-quoted SQL string literal, with backslash, quote and
// NUL escaped (safe under the default sql_mode and NO_BACKSLASH_ESCAPES
// alike, because only these characters are touched: a quote is doubled).
std::string SqlQuote(absl::string_view value);

// The name of the server-wide lock of slot `slot` of `schema`:
// "cabench:<schema>:<slot>". Lock names are server-wide, at most 64
// characters, and compared case-insensitively, while schema names are
// case-sensitive on Linux and up to 64 characters: a schema name that is long
// or not all lower case is written as its first characters (lower-cased)
// followed by '~' and 16 hex digits of a fixed FNV-1a hash of the exact name,
// so distinct schemas never share a lock. Stable across builds and processes.
std::string SlotLockName(absl::string_view schema, char slot);

// `host` restricted to [A-Za-z0-9._-] (anything else becomes '_'), at most 60
// characters, "unknown" when empty: safe to write into SQL and run ids.
std::string SafeHostName(absl::string_view host);

// A run id, unique per (schema, slot, millisecond):
// "<SafeHostName(host)>-<pid>-<epoch_ms>-<slot>".
std::string MakeRunId(absl::string_view host, int64_t pid, int64_t epoch_ms,
                      char slot);

// `name` as a back-quoted identifier (a back quote inside doubled), e.g. for
// USE.
std::string SqlIdentifier(absl::string_view name);

// Adds kRunColumn to a booking table that lacks it (a schema loaded by an
// older cabench_load): a trailing nullable column, which MariaDB 10.3+ and
// MySQL 8.0.12+ add instantly, without touching the rows. ALGORITHM=INSTANT
// makes the server refuse rather than copy the table when it cannot.
std::string AddRunColumnSql();

// One batch of the removal of run `run_no`'s bookings: at most `batch`
// (>= 1) rows above `floor` (the run's booking_floor: a primary key range,
// so the statement never scans the loaded rows below it) whose kRunColumn is
// `run_no`, in booking_id order (deterministic, for statement-based
// replication). It deletes nothing unless cabench_runs still holds the
// record (`run_no`, `run_id`): in a schema reloaded meanwhile, the number
// may belong to another run. Repeat until it deletes fewer than `batch`.
std::string DeleteRunBookingsSql(int64_t run_no, absl::string_view run_id,
                                 int64_t floor, int64_t batch = kDeleteBatch);

}  // namespace cabench

#endif  // CABENCH_LIB_DATASET_SQL_TEXT_H_
