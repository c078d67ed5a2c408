#include "bench/suite_env.h"

#include <cstdio>
#include <ctime>
#include <fstream>
#include <memory>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "cabench_git_rev.h"
#include "lib/dataset/schema_mark.h"
#include "lib/dataset/sql_text.h"
#include "lib/metrics/json.h"
#include "lib/mysql/mysql_client.h"
#include "lib/redis/redis_client.h"
#include "lib/workload/scenario_params.h"

namespace cabench {

const char* GitRevision() { return CABENCH_GIT_REV; }

std::string DefaultOutDir() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  localtime_r(&now, &tm);
  char date[32];
  std::strftime(date, sizeof(date), "%Y%m%d-%H%M%S", &tm);
  return absl::StrCat("results/runs/", date, "_", GitRevision());
}


absl::Status RecordBenchmarkParams(const std::vector<PlannedBenchmark>& plan,
                                   const std::string& out_dir) {
  JsonObject files;
  for (const PlannedBenchmark& p : plan) {
    const std::string json = ScenarioParamsJson(p.scenario, p.threads);
    files.Raw(BenchmarkFileStem(p.name), absl::StrCat(json.substr(0, json.size() - 1),
                                                      ", \"benchmark\": ", JsonQuote(p.name), "}"));
  }
  const std::string path = absl::StrCat(out_dir, "/benchmarks.json");
  std::ofstream out(path, std::ios::trunc);
  out << files.str() << "\n";
  out.close();
  if (!out) return absl::InternalError(absl::StrCat("cannot write ", path));
  return absl::OkStatus();
}




void AddSuiteContext(const RunEnv& env, const std::string& scenarios_dir,
                     const std::vector<Scenario>& scenarios) {
  benchmark::AddCustomContext("cabench_git_rev", GitRevision());
#ifdef NDEBUG
  benchmark::AddCustomContext("cabench_build_type", CABENCH_BUILD_TYPE);
#else
  benchmark::AddCustomContext("cabench_build_type", CABENCH_BUILD_TYPE " (assertions on)");
#endif
  benchmark::AddCustomContext("cache_server", env.cache_server);
  benchmark::AddCustomContext("cache_endpoint", env.cache.ToString());
  benchmark::AddCustomContext("db_server", env.db_server);
  benchmark::AddCustomContext("db_endpoint", env.db.ToString());
  if (env.cache_read.has_value()) {
    benchmark::AddCustomContext("cache_read_endpoint", env.cache_read->ToString());
  }
  if (env.db_read.has_value()) {
    benchmark::AddCustomContext("db_read_endpoint", env.db_read->ToString());
  }
  benchmark::AddCustomContext("data_preset", env.data.preset);
  benchmark::AddCustomContext("data_seed", absl::StrCat(env.data.seed));
  benchmark::AddCustomContext("data_passengers", absl::StrCat(env.data.passengers));
  benchmark::AddCustomContext("data_flights", absl::StrCat(env.data.flights));
  benchmark::AddCustomContext("data_bookings", absl::StrCat(env.data.bookings));
  benchmark::AddCustomContext("scenarios_dir", scenarios_dir);
  benchmark::AddCustomContext("out_dir", env.out_dir);
  if (env.ledger != nullptr) {
    benchmark::AddCustomContext("run_id", env.ledger->run_id());
    benchmark::AddCustomContext("seat_tag", std::string(1, env.ledger->seat_tag()));
  }
  for (const Scenario& scenario : scenarios) {
    benchmark::AddCustomContext(absl::StrCat("scenario_file:", scenario.name),
                                scenario.source_file);
  }
}

}  // namespace cabench
