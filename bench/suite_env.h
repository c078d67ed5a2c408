// File: bench/suite_env.h
//
// What main() records about a cabench process besides its runs: the git
// revision, the default output folder, every planned benchmark's parameters
// (OUT/benchmarks.json) and the run's JSON context. What the runs share,
// RunEnv, is lib/run/run_env.h. Call from main, before any benchmark runs.
#ifndef CABENCH_BENCH_SUITE_ENV_H_
#define CABENCH_BENCH_SUITE_ENV_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "lib/clients/kv_client.h"
#include "lib/clients/sql_client.h"
#include "lib/config/endpoints.h"
#include "lib/connect/connectors.h"
#include "lib/dataset/run_ledger.h"
#include "lib/engine/plan.h"
#include "lib/engine/shard.h"
#include "lib/run/run_env.h"
#include "lib/workload/data_set.h"
#include "lib/workload/scenario.h"

namespace cabench {

// The git revision cabench was built from ("unknown" outside a checkout).
const char* GitRevision();

// Where output goes by default: results/runs/<local date-time>_<git rev>.
std::string DefaultOutDir();

// Records every planned benchmark's parameters (lib/workload/scenario_params.h)
// in out_dir/benchmarks.json (the JSON context names out_dir), keyed by the
// stem of its files. Internal when the file cannot be written.
absl::Status RecordBenchmarkParams(const std::vector<PlannedBenchmark>& plan,
                                   const std::string& out_dir);

// Adds the JSON context of the run (benchmark::AddCustomContext): server
// versions, data set, seed, scenario folder, git revision, build type, and
// the read replicas' URLs when reads go to them. Never a password.
// Each scenario's file is added as "scenario_file:<name>".
void AddSuiteContext(const RunEnv& env, const std::string& scenarios_dir,
                     const std::vector<Scenario>& scenarios);

}  // namespace cabench

#endif  // CABENCH_BENCH_SUITE_ENV_H_
