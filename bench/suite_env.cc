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

void UseEndpoints(const SuiteEndpoints& endpoints, const Connectors& connect, SuiteEnv* env) {
  env->cache = endpoints.cache;
  env->db = endpoints.db;
  env->cache_read = endpoints.cache_read;
  env->db_read = endpoints.db_read;
  env->new_kv = connect.new_kv;
  env->new_sql = connect.new_sql;
  env->new_db_replica = connect.new_db_replica;
}

absl::Status RecordBenchmarkParams(const std::vector<PlannedBenchmark>& plan,
                                   const std::string& out_dir) {
  JsonObject params;
  JsonObject files;
  for (const PlannedBenchmark& p : plan) {
    const std::string json = ScenarioParamsJson(p.scenario, p.threads);
    params.Raw(p.name, json);
    files.Raw(BenchmarkFileStem(p.name), absl::StrCat(json.substr(0, json.size() - 1),
                                                      ", \"benchmark\": ", JsonQuote(p.name), "}"));
  }
  benchmark::AddCustomContext("cabench_benchmarks", params.str());
  const std::string path = absl::StrCat(out_dir, "/benchmarks.json");
  std::ofstream out(path, std::ios::trunc);
  out << files.str() << "\n";
  out.close();
  if (!out) return absl::InternalError(absl::StrCat("cannot write ", path));
  return absl::OkStatus();
}

namespace {

absl::Status WithEndpoint(const absl::Status& s, const std::string& what,
                          const std::string& endpoint) {
  return absl::Status(s.code(), absl::StrCat(what, " at ", endpoint, ": ", s.message()));
}

}  // namespace

absl::Status CheckServers(SuiteEnv* env) {
  const std::string cache_name = env->cache.ToString();
  absl::StatusOr<std::unique_ptr<KvClient>> kv = NewKvClient(env->cache);
  if (!kv.ok()) return WithEndpoint(kv.status(), "cache server", cache_name);
  absl::StatusOr<std::string> cache_info = (*kv)->ServerInfo();
  if (!cache_info.ok()) return WithEndpoint(cache_info.status(), "cache server", cache_name);
  env->cache_server = *cache_info;

  const std::string db_name = env->db.ToString();
  // Connected without a default schema, then USE: the mark is checked before
  // anything else looks for the cabench tables, so a foreign schema is
  // reported as such, not as a missing table.
  DbEndpoint no_schema = env->db;
  no_schema.schema.clear();
  absl::StatusOr<std::unique_ptr<SqlClient>> sql = NewMysqlClient(no_schema);
  if (!sql.ok()) return WithEndpoint(sql.status(), "database", db_name);
  // The schema name was validated as [A-Za-z0-9_]+ (ParseDbUrl).
  if (absl::StatusOr<int64_t> used = (*sql)->Execute(absl::StrCat("USE `", env->db.schema, "`"));
      !used.ok()) {
    return WithEndpoint(used.status(), "database", db_name);
  }
  absl::StatusOr<std::string> db_info = (*sql)->ServerInfo();
  if (!db_info.ok()) return WithEndpoint(db_info.status(), "database", db_name);
  env->db_server = *db_info;

  absl::StatusOr<DataSetInfo> data = ReadDataSetInfo(**sql);
  if (!data.ok()) return WithEndpoint(data.status(), "database", db_name);
  env->data = *data;
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<RunLedger>> OpenRunLedger(const SuiteEnv& env) {
  const std::string db_name = env.db.ToString();
  // Without a default schema, so without prepared statements: on a schema
  // loaded by an older cabench_load, preparing the INSERT would fail on the
  // column booking.cabench_run that Open() is about to add. The ledger
  // selects its schema itself (USE), also after reconnecting.
  DbEndpoint no_schema = env.db;
  no_schema.schema.clear();
  absl::StatusOr<std::unique_ptr<SqlClient>> conn = NewMysqlClient(no_schema);
  if (!conn.ok()) return WithEndpoint(conn.status(), "database", db_name);
  if (absl::StatusOr<int64_t> used =
          (*conn)->Execute(absl::StrCat("USE ", SqlIdentifier(env.db.schema)));
      !used.ok()) {
    return WithEndpoint(used.status(), "database", db_name);
  }
  absl::StatusOr<std::unique_ptr<RunLedger>> ledger =
      RunLedger::Open(*std::move(conn), CurrentRunIdentity());
  if (!ledger.ok()) return WithEndpoint(ledger.status(), "database", db_name);
  for (const LeftoverReport& left : (*ledger)->leftovers()) {
    std::fprintf(stderr, "cabench: %s\n", DescribeLeftover(left).c_str());
  }
  return ledger;
}

void AddSuiteContext(const SuiteEnv& env, const std::string& scenarios_dir,
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
