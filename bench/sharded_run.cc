#include "bench/sharded_run.h"

#include <fstream>
#include <iterator>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "bench/suite_env.h"
#include "lib/dataset/run_ledger.h"
#include "lib/metrics/json.h"
#include "lib/servers/server_stats.h"

namespace cabench {
namespace {


}  // namespace

absl::Status CheckShardOptions(const ShardSpec& shard, const RunOptions& options,
                               int64_t now_ms) {
  if (!shard.sharded() && (options.start_at_ms || !options.run_id.empty())) {
    return absl::InvalidArgumentError(
        "--start_at and --run_id belong to a sharded run: give --shard_index and "
        "--shard_count (or run under srun)");
  }
  if (shard.sharded() && !options.start_at_ms && shard.count > 1) {
    return absl::InvalidArgumentError(
        "a sharded run needs --start_at=EPOCH_MS, the same for every shard (so that shard "
        "0's flush and warm-up end before any shard measures)");
  }
  if (options.start_at_ms) return CheckStartAt(*options.start_at_ms, now_ms);
  return absl::OkStatus();
}

std::string ShardJsonPath(const ShardSpec& shard, const std::string& out_dir,
                          const std::vector<std::string>& gbench_args) {
  if (!shard.sharded() || out_dir.empty()) return "";
  for (const std::string& arg : gbench_args) {
    if (absl::StartsWith(arg, "--benchmark_out=")) return "";
  }
  return absl::StrCat(out_dir, "/shard-", shard.index, "/cabench.json");
}

int64_t RepetitionsFlag(const std::vector<std::string>& gbench_args) {
  int64_t n = 1;
  for (const std::string& s : gbench_args) {
    absl::string_view arg = s;
    if (absl::ConsumePrefix(&arg, "--benchmark_repetitions=") && !absl::SimpleAtoi(arg, &n)) {
      n = 1;
    }
  }
  return n;
}

absl::Status CheckShardedSelection(const std::vector<PlannedBenchmark>& plan,
                                   const std::vector<bool>& selected, const std::string& filter,
                                   int64_t repetitions, bool has_out_dir) {
  std::vector<const PlannedBenchmark*> chosen;
  for (size_t i = 0; i < plan.size(); ++i) {
    if (selected[i]) chosen.push_back(&plan[i]);
  }
  if (chosen.size() != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("a sharded run measures ONE benchmark; --benchmark_filter='", filter,
                     "' selects ", chosen.size(), " (run one sharded run per benchmark)"));
  }
  if (chosen.front()->scenario.BoundsTheCache()) {
    return absl::InvalidArgumentError(
        absl::StrCat(chosen.front()->scenario.name,
                     " sets the cache's maxmemory/policy for its run, which a sharded run cannot "
                     "(other shards would still be running when one restores them)"));
  }
  if (repetitions > 1) {
    return absl::InvalidArgumentError(
        "a sharded run has one repetition: drop --benchmark_repetitions (run the sharded run "
        "again instead)");
  }
  if (!has_out_dir) {
    return absl::InvalidArgumentError(
        "a sharded run needs --out_dir=OUT (shared by the shards; each writes OUT/shard-I/)");
  }
  return absl::OkStatus();
}

absl::StatusOr<ShardManifest> NewShardManifest(const ShardSpec& shard, int64_t start_at_ms,
                                               const std::string& run_id, bool benchmark_json,
                                               int64_t queries, int64_t rate_per_s,
                                               const std::vector<Scenario>& scenarios) {
  ShardManifest m;
  m.run_id = run_id.empty() ? absl::StrCat("run-", start_at_ms) : run_id;
  m.shard = shard;
  m.start_at_ms = start_at_ms;
  const RunIdentity me = CurrentRunIdentity();
  m.host = me.host;
  m.pid = me.pid;
  m.benchmark_json = benchmark_json ? "cabench.json" : "";
  m.queries = queries;
  m.rate_per_s = rate_per_s;
  for (const Scenario& scenario : scenarios) {
    absl::StatusOr<std::string> id = FileIdentity(scenario.source_file);
    if (!id.ok()) return id.status();
    m.scenario_files.emplace_back(scenario.name, *id);
  }
  return m;
}

absl::Status WriteShardManifest(const std::string& path, const ShardManifest& manifest,
                                const std::vector<const ScenarioRun*>& selected) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << ShardManifestJson(manifest, selected);
  out.close();
  if (!out) return absl::InternalError(absl::StrCat("cannot write ", path));
  return absl::OkStatus();
}

std::string ShardManifestJson(const ShardManifest& m,
                              const std::vector<const ScenarioRun*>& selected) {
#ifdef NDEBUG
  const char* build_type = CABENCH_BUILD_TYPE;
#else
  const char* build_type = CABENCH_BUILD_TYPE " (assertions on)";
#endif
  std::string out = absl::StrCat(
      "{\n  \"cabench_shard_manifest\": 1,\n  \"run_id\": ", JsonQuote(m.run_id),
      ",\n  \"shard_index\": ", m.shard.index, ",\n  \"shard_count\": ", m.shard.count,
      ",\n  \"shard_source\": ", JsonQuote(m.shard.source),
      ",\n  \"git_rev\": ", JsonQuote(GitRevision()), ",\n  \"build_type\": ", JsonQuote(build_type),
      ",\n  \"host\": ", JsonQuote(m.host), ",\n  \"pid\": ", m.pid,
      ",\n  \"start_at_ms\": ", m.start_at_ms, ",\n  \"clock_offset_ms\": ",
      m.clock_offset_ms.has_value() ? absl::StrFormat("%.3f", *m.clock_offset_ms) : "null",
      ",\n  \"clock_reference\": \"cache server INFO server_time_usec\"",
      ",\n  \"benchmark_json\": ", JsonQuote(m.benchmark_json), ",\n  \"queries\": ", m.queries,
      ",\n  \"rate_per_s\": ", m.rate_per_s, ",\n  \"scenario_files\": {");
  for (size_t i = 0; i < m.scenario_files.size(); ++i) {
    absl::StrAppend(&out, i == 0 ? "\n    " : ",\n    ", JsonQuote(m.scenario_files[i].first), ": ",
                    JsonQuote(m.scenario_files[i].second));
  }
  out += "\n  },\n  \"benchmarks\": [";
  for (size_t i = 0; i < selected.size(); ++i) {
    const ScenarioRun& b = *selected[i];
    absl::StrAppend(&out, i == 0 ? "\n    {" : ",\n    {", "\"name\": ", JsonQuote(b.full_name()),
                    ", \"threads\": ", b.threads(), ", \"thread_indexes\": [",
                    absl::StrJoin(b.shard_threads(), ", "), "]");
    if (const auto& r = b.shard_record(); r.has_value()) {
      absl::StrAppend(
          &out, ", \"shard_name\": ", JsonQuote(r->shard_name),
          ", \"histograms\": ", JsonQuote(r->histograms), ", \"series\": ", JsonQuote(r->series),
          ", \"first_start_ns\": ", r->first_start_ns, ", \"last_end_ns\": ", r->last_end_ns,
          ", \"first_intended_ns\": ", r->first_intended_ns,
          ", \"last_intended_ns\": ", r->last_intended_ns,
          ", \"schedule_start_ns\": ", r->schedule_start_ns,
          ", \"schedule_window_ns\": ", r->schedule_window_ns, ", \"start_skew_ms\": ",
          absl::StrFormat(
              "%.3f", m.start_at_ms > 0
                          ? static_cast<double>(r->first_start_ns - m.start_at_ms * 1'000'000) / 1e6
                          : 0.0));
    }
    out += "}";
  }
  out += "\n  ]\n}\n";
  return out;
}

absl::StatusOr<std::string> FileIdentity(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  uint64_t h = 14695981039346656037ULL;
  for (std::istreambuf_iterator<char> it(in), end; it != end; ++it) {
    h = (h ^ static_cast<unsigned char>(*it)) * 1099511628211ULL;
  }
  return absl::StrFormat("fnv1a64:%016x", h);
}

absl::StatusOr<double> ClockOffsetMs(KvClient& kv) {
  const int64_t before = absl::GetCurrentTimeNanos();
  absl::StatusOr<std::string> info = kv.Info("server");
  const int64_t after = absl::GetCurrentTimeNanos();
  if (!info.ok()) return info.status();
  const std::optional<int64_t> server_us = InfoInt(*info, "server_time_usec");
  if (!server_us.has_value()) {
    return absl::UnimplementedError("the cache's INFO server has no server_time_usec");
  }
  const double local_ns = static_cast<double>(before) + static_cast<double>(after - before) / 2;
  return (local_ns - static_cast<double>(*server_us) * 1e3) / 1e6;
}

}  // namespace cabench
