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
//   write_policy         refresh | invalidate
//   fallback_to_db       true | false
//   access               pool | random
//   pool_size            >= 1          pool_first_id  >= 1 (the pool's last id
//                                      must fit in int64)
//   key_prefix           1..100 printable ASCII characters, no spaces
//   flush                true | false
//   warmup_ops           >= 0
//   clean_end            true | false
//   seed                 0..18446744073709551615
//
// Parsing is strict, so that a typo never silently becomes a default:
// unknown and duplicate keys are errors; integers are plain decimal digits
// with an optional '-' (no "1.5", "1e3", "0x10", "+5", "10_000", leading
// zeros or quotes); booleans are exactly `true` or `false` (YAML 1.1's
// yes/no/on/off are refused); YAML's explicit !!int and !!bool tags are
// accepted, a quoted "80" is a string; enum values are lowercase words.
//
// Every error message is one line that starts with "<file>:<line>: " (line
// 1-based) and names the offending key, e.g.
//   scenarios/concurrency.yaml:4: read_pct: 150 is out of range 0..100
//   x.yaml:3: unknown key 'read_ratio'
//   x.yaml:2: threads: expected an integer or a list of integers, got 'four'
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
// out of range, a missing `name` or one that differs from the file stem.
// Safe to call concurrently.
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
