#include "bench/shard_manifest.h"

#include <fstream>
#include <iterator>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "bench/suite_env.h"
#include "lib/servers/server_stats.h"

namespace cabench {
namespace {

// A JSON string literal (quotes, backslashes and control characters escaped).
std::string Quoted(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      absl::StrAppendFormat(&out, "\\u%04x", c);
    } else {
      out += c;
    }
  }
  return out + "\"";
}

}  // namespace

std::string ShardManifestJson(const ShardManifest& m,
                              const std::vector<const ScenarioBenchmark*>& selected) {
#ifdef NDEBUG
  const char* build_type = CABENCH_BUILD_TYPE;
#else
  const char* build_type = CABENCH_BUILD_TYPE " (assertions on)";
#endif
  std::string out = absl::StrCat(
      "{\n  \"cabench_shard_manifest\": 1,\n  \"run_id\": ", Quoted(m.run_id),
      ",\n  \"shard_index\": ", m.shard.index, ",\n  \"shard_count\": ", m.shard.count,
      ",\n  \"shard_source\": ", Quoted(m.shard.source),
      ",\n  \"git_rev\": ", Quoted(GitRevision()), ",\n  \"build_type\": ", Quoted(build_type),
      ",\n  \"host\": ", Quoted(m.host), ",\n  \"pid\": ", m.pid,
      ",\n  \"start_at_ms\": ", m.start_at_ms, ",\n  \"clock_offset_ms\": ",
      m.clock_offset_ms.has_value() ? absl::StrFormat("%.3f", *m.clock_offset_ms) : "null",
      ",\n  \"clock_reference\": \"cache server INFO server_time_usec\"",
      ",\n  \"benchmark_json\": ", Quoted(m.benchmark_json), ",\n  \"queries\": ", m.queries,
      ",\n  \"rate_per_s\": ", m.rate_per_s, ",\n  \"scenario_files\": {");
  for (size_t i = 0; i < m.scenario_files.size(); ++i) {
    absl::StrAppend(&out, i == 0 ? "\n    " : ",\n    ", Quoted(m.scenario_files[i].first), ": ",
                    Quoted(m.scenario_files[i].second));
  }
  out += "\n  },\n  \"benchmarks\": [";
  for (size_t i = 0; i < selected.size(); ++i) {
    const ScenarioBenchmark& b = *selected[i];
    absl::StrAppend(&out, i == 0 ? "\n    {" : ",\n    {", "\"name\": ", Quoted(b.full_name()),
                    ", \"threads\": ", b.threads(), ", \"thread_indexes\": [",
                    absl::StrJoin(b.shard_threads(), ", "), "]");
    if (const auto& r = b.shard_record(); r.has_value()) {
      absl::StrAppend(
          &out, ", \"shard_name\": ", Quoted(r->shard_name),
          ", \"histograms\": ", Quoted(r->histograms), ", \"series\": ", Quoted(r->series),
          ", \"first_start_ns\": ", r->first_start_ns, ", \"last_end_ns\": ", r->last_end_ns,
          ", \"start_skew_ms\": ",
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
