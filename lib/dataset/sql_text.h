// File: lib/dataset/sql_text.h
//
// The SQL text of cabench's schema housekeeping (lib/dataset), as pure
// functions, so that what reaches the server can be unit-tested without one:
// quoting, the names of the run-slot locks, run ids, and the DELETE
// statements that remove a run's bookings.
//
// Run slots: a cabench process holds one of kRunSlots server-wide user locks
// (GET_LOCK) per schema for its whole life; the slot's character ('0'-'9',
// 'a'-'z') is the first character of every seat it inserts (see
// lib/workload/workload.h). Seats are compared case-insensitively
// (booking.seat's collation), so slots use lower case only.
//
// Thread safety: every function here is pure and safe to call concurrently.
#ifndef CABENCH_LIB_DATASET_SQL_TEXT_H_
#define CABENCH_LIB_DATASET_SQL_TEXT_H_

#include <cstdint>
#include <string>
#include <vector>

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

// The WHERE condition that selects bookings of slot `slot` inserted after
// `floor`: loaded bookings have 2-3 character seats, a run's exactly 4.
std::string TaggedAboveFloor(char slot, int64_t floor);

// DELETE statements that remove the bookings `ids`, at most `batch` ids each
// (batch >= 1), and only those that also satisfy TaggedAboveFloor(slot,
// floor): a wrong id can never remove a loaded booking or another run's.
std::vector<std::string> DeleteBookingsSql(const std::vector<int64_t>& ids,
                                           char slot, int64_t floor,
                                           size_t batch);

}  // namespace cabench

#endif  // CABENCH_LIB_DATASET_SQL_TEXT_H_
