// File: lib/workload/scenario_loader.h
//
// Loads and validates the benchmark scenarios of scenarios/*.yaml into
// Scenario values (lib/workload/scenario.h). This is the only code in cabench
// that sees yaml-cpp: yaml-cpp throws, and every exception is caught here and
// turned into an absl::InvalidArgumentError, so nothing escapes these
// functions. The results are plain values owned by the caller.
//
// A scenario file is one YAML document whose top level is a map. Every key is
// optional except `name`, which must equal the file's stem
// (scenarios/concurrency.yaml says `name: concurrency`). Absent keys keep the
// defaults of Scenario. The keys and their accepted values:
//
//   name                 [a-z][a-z0-9_]*, equal to the file stem (required)
//   description          a string: the question answered, the surprising result
//   threads              an integer, or a non-empty list of distinct integers,
//                        each 1..1024
//   queries_per_thread   1..1,000,000,000
//   read_pct             0..100
//   cache                true | false
//   ttl_ms               1..10,000,000,000
//   ttl_jitter_pct       0..90
//   write_policy         refresh | invalidate | ttl_only
//   fallback_to_db       true | false
//   (ttl_ms, cache_max_memory and cache_keys_pct may each be a list: a sweep, one run per
//   value, see SweepPoints())
//   access               pool | random | zipf | hotspot | trace
//   zipf_s               access: zipf only; a number > 0 and <= 10 (0.99)
//   hot_keys_pct         access: hotspot only; a number 0..100 (20): the
//   hot_ops_pct          share of the pool's keys that gets this share of
//                        the operations (80), as YCSB's hotspot. 0% of the
//                        keys with hot operations, or 100% with cold ones,
//                        is an error
//   trace_file           access: trace only, and required by it: the trace
//                        to replay (lib/workload/key_trace.h), a path
//                        relative to the scenario file's folder or absolute;
//                        read_pct may then only be 100 (the trace says which
//                        operations are reads)
//   cache_max_memory     the room in the cache for the run's keys: the run
//                        sets maxmemory to this plus what the server uses
//                        besides keys when it starts (used_memory -
//                        used_memory_dataset). Bytes ("33554432") or a whole
//                        number with a unit b, kb, mb or gb, any case,
//                        powers of 1024 ("32mb", "1GB"), plain or quoted;
//                        16kb..1024gb. Redis's k, m, g
//                        (powers of 1000) are refused as ambiguous. Needs
//                        cache: true
//   cache_keys_pct       1..100: the room in the cache as a share of the
//                        run's keys (its pool, or every passenger); the run
//                        sizes maxmemory so the cache holds about that many
//                        of them (lib/engine/cache_bound.h). Not with
//                        cache_max_memory; needs cache: true
//   eviction_policy      noeviction | allkeys-lru | allkeys-lfu |
//                        allkeys-random | volatile-lru | volatile-lfu |
//                        volatile-random | volatile-ttl (maxmemory-policy);
//                        needs cache_max_memory or cache_keys_pct
//   pool_size            >= 1          pool_first_id  >= 1 (the pool's last id
//                                      must fit in int64)
//   key_prefix           1..100 printable ASCII characters, no spaces
//   flush                true | false
//   warmup_ops           >= 0; with warmup: until_steady it is the cap:
//                        0 (Scenario::kDefaultSteadyCapOps) or at least
//                        3 x warmup_window_ops
//   warmup               ops | until_steady; until_steady needs cache: true
//   warmup_window_ops    warmup: until_steady only; 100..10,000,000 (5000)
//   warmup_steady_pct    warmup: until_steady only; a number > 0 and <= 50 (1)
//   single_flight        true | false; true needs cache: true
//   single_flight_lock_ms single_flight: true only; 1..3,600,000 (1000)
//   single_flight_wait_ms single_flight: true only; 1..3,600,000 (200)
//   single_flight_poll_us single_flight: true only; 10..1,000,000 (500)
//   early_refresh_beta   a number > 0 and <= 1000; needs cache: true. Leave it
//                        out for no early refresh: a written 0 is an error
//   clean_end            true | false
//   seed                 0..18446744073709551615
//   rate_per_s           1..100,000,000: open loop at this total rate
//   arrival              poisson | uniform; needs rate_per_s
//   baseline             no_cache (a twin without the cache); needs cache: true
//   db_pool_size         1..10,000, at most the fewest threads
//   db_pool_timeout_ms   1..3,600,000; needs db_pool_size
//
// Parsing is strict, so that a typo never silently becomes a default:
// unknown and duplicate keys are errors; integers are plain decimal digits
// with an optional '-' (no "1.5", "1e3", "0x10", "+5", "10_000", leading
// zeros or quotes); numbers (zipf_s, the *_pct of a hotspot,
// warmup_steady_pct, early_refresh_beta) are integers or decimals with an
// optional exponent ("0.99", "1.5e-1"; no ".5", "+1", ".inf" or ".nan"); booleans are exactly
// `true` or `false` (YAML 1.1's yes/no/on/off are refused); YAML's explicit !!int, !!float and
// !!bool tags are accepted, a quoted "80" is a string; enum values are lowercase words. A key that
// belongs to another access mode (zipf_s without access: zipf) is an error too, as is access: trace
// without trace_file; so are the keys of a mode the scenario does not turn on
// (single_flight_wait_ms without single_flight: true, warmup_window_ops without warmup:
// until_steady). Contradictions are checked once the whole map is read, so keys may come in any
// order.
//
// The trace of access: trace is loaded with the scenario (LoadKeyTrace()), into
// Scenario::trace, so a bad trace stops the run before anything starts. Its
// errors are reported at the trace_file line, followed by the trace's own
// "<trace file>:<line>: <reason>" for a malformed line or an empty trace.
//
// Every error message is one line that starts with "<file>:<line>: " (line
// 1-based) and names the offending key, e.g.
//   scenarios/concurrency.yaml:4: read_pct: 150 is out of range 0..100
//   x.yaml:3: unknown key 'read_ratio'
//   x.yaml:2: threads: expected an integer or a list of integers, got 'four'
//   x.yaml:5: zipf_s: needs access: zipf (this scenario has access: pool)
//   x.yaml:3: single_flight: true needs a cache (cache: true); this scenario ...
//   x.yaml:4: trace_file: x.trace:7: expected r or w after the passenger id, ...
//
// Thread safety: every function here is safe to call concurrently; they share
// no state.
#ifndef CABENCH_LIB_WORKLOAD_SCENARIO_LOADER_H_
#define CABENCH_LIB_WORKLOAD_SCENARIO_LOADER_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "lib/workload/scenario.h"

namespace cabench {

// Parses and validates the YAML text of one scenario. `file_name` is used in
// error messages and to set Scenario::source_file; its stem (the base name
// without extension) must equal the scenario's `name`. An empty `file_name`
// is reported as "<string>" and skips the stem check.
//
// On success returns the validated Scenario, with every absent key at its
// default. Fails with InvalidArgument for anything else: a YAML syntax error
// (at yaml-cpp's line), an empty file, more than one document, a top level
// that is not a map, an unknown or duplicate key, a value of the wrong type or
// out of range, a missing `name` or one that differs from the file stem,
// contradicting keys, a trace file that cannot be read or is malformed. Reads
// the trace_file of access: trace (relative to the folder of `file_name`, or
// to the working directory when `file_name` has none). Safe to call
// concurrently.
absl::StatusOr<Scenario> ParseScenario(std::string_view yaml_text, std::string_view file_name);

// Reads the file at `path` and parses it with ParseScenario(text, path).
// Returns the Scenario, with source_file == path. Fails with InvalidArgument
// when the file is missing, not a regular file, unreadable or larger than
// 1 MiB ("<path>: cannot read: ..."), or with any error of ParseScenario().
// Safe to call concurrently.
absl::StatusOr<Scenario> LoadScenarioFile(const std::string& path);

// Loads every "*.yaml" file directly inside `dir` (not recursive; names
// starting with '.' such as editor lock files are skipped, as a shell glob
// would), in byte order of the file names. Returns the scenarios in that
// order. Fails with InvalidArgument naming `dir` when it is missing, not a
// folder, unreadable or holds no .yaml file; otherwise with the error of the
// first file (in that order) that fails to load. Safe to call concurrently.
absl::StatusOr<std::vector<Scenario>> LoadScenarioDir(const std::string& dir);


}  // namespace cabench

#endif  // CABENCH_LIB_WORKLOAD_SCENARIO_LOADER_H_
