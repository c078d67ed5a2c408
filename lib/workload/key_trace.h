// File: lib/workload/key_trace.h
//
// Reads a recorded key sequence for `access: trace` into a KeyTrace
// (lib/workload/scenario.h): the passenger id of every operation, in order,
// and whether it is a read. The scenario loader calls LoadKeyTrace() for a
// scenario's trace_file; the trace is then shared, read-only, by every
// thread's KeyChooser (lib/workload/key_chooser.h).
//
// Two formats, told apart by the first line that holds data (a line with two
// or more commas is the CSV format; blank lines and lines starting with '#'
// are skipped in both):
//
//   ids   one operation a line: a passenger id (a whole number >= 1), then
//         optionally `r` or `w`, after blanks or a comma: `42`, `42 r`,
//         `42,w`. No column means a read. Ids are kept as written;
//         FoldTraceId() maps those beyond the data set into it at run time.
//   csv   the Twitter cache-trace format (twitter/cache-trace):
//         `timestamp,key,key_size,value_size,client_id,operation,ttl`, with
//         whole numbers for timestamp, key_size, value_size and ttl and a
//         non-empty key and client_id. Keys are numbered 1, 2, 3, ... in order
//         of first appearance (ids 1..distinct_keys; FoldTraceId() wraps them
//         into the data set's passengers at run time). `get` and `gets` are
//         reads; `set`, `add`, `cas`, `replace`, `delete`, `append`,
//         `prepend`, `incr` and `decr` are writes; any other operation is a
//         malformed line.
//
// Limits (KeyTraceLimits): a file of at most 1 GiB and at most 50,000,000
// operations. Memory: 8 bytes of id and 1 bit of kind per operation (400 MB
// at the cap) plus, while a CSV file loads, one hash map entry per distinct
// key (about 80 bytes plus the key beyond 15 characters); counting an ids
// file's distinct ids sorts a copy of its ids.
//
// Errors are InvalidArgument, one line each: "<source>:<line>: <reason>" for
// a malformed line (line 1-based) or a trace with no operation (line 1), and
// "<source>: cannot read: <reason>" for a file that is missing, not a regular
// file, unreadable or too large.
//
// Thread safety: the functions share no state and are safe to call
// concurrently; the KeyTrace they return is immutable.
#ifndef CABENCH_LIB_WORKLOAD_KEY_TRACE_H_
#define CABENCH_LIB_WORKLOAD_KEY_TRACE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "lib/workload/scenario.h"

namespace cabench {

struct KeyTraceLimits {
  int64_t max_bytes = int64_t{1} << 30;  // of the file (LoadKeyTrace)
  int64_t max_ops = 50'000'000;          // operations (lines with data)
  int64_t max_line = 4096;               // characters of one line
};

// Parses the text of a trace (either format above). `source` names it in
// error messages and becomes KeyTrace::source. Returns the trace, with at
// least one operation; fails with InvalidArgument ("<source>:<line>: ...")
// at the first malformed line, when there is no operation, or when a limit
// is passed. Safe to call concurrently.
absl::StatusOr<std::shared_ptr<const KeyTrace>> ParseKeyTrace(
    std::string_view text, std::string_view source, const KeyTraceLimits& limits = {});

// Reads and parses the trace file at `path` (source == path), line by line,
// without holding the whole file in memory. Fails with InvalidArgument
// ("<path>: cannot read: ...") when the file is missing, not a regular file,
// unreadable or larger than limits.max_bytes, or with any error of
// ParseKeyTrace(). Safe to call concurrently.
absl::StatusOr<std::shared_ptr<const KeyTrace>> LoadKeyTrace(const std::string& path,
                                                            const KeyTraceLimits& limits = {});

}  // namespace cabench

#endif  // CABENCH_LIB_WORKLOAD_KEY_TRACE_H_
