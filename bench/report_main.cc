// cabench_report: the counters of one run from its records, computed by the
// same code as a run (lib/engine/run.h), for tools that join runs (tools/merge
// joins a sharded run's shards) and must not compute them a second way.
//
//   cabench_report [--FACT=VALUE ...] [--out=MERGED.json] RECORD.json...
//
// Adds the records (each a benchmark's histograms file, as HistogramsJson
// writes it) into one recorder and prints, as one JSON object on stdout, the
// counters one process running all of them would report (RunCounters), given
// the facts of the run:
//   --cache=0|1 (1)            the run had a cache
//   --key_versions=0|1 (1)     stale reads and duplicate fills were tracked
//   --single_flight=0|1 (0)    --early_refresh=0|1 (0)
//   --target_rate_per_s=R      open loop: the target, all threads together
//   --schedule_start_ns=N --schedule_window_ns=N  the open-loop schedule
// Records of a cluster run carry its routing ("routing"): the nodes'
// commands are added up and the routing counters (lib/clients/kv_routing.h)
// printed with the others. --out writes the merged record (the same format)
// to MERGED.json.
//
//   cabench_report --stats=P1,P2,... FILE.json
//
// Prints each histogram of a histograms file (any key but "totals" and
// "routing") as
// {"key": {"count": N, "mean_ns": X, "min_ns": N, "max_ns": N, "p": [ns of
// P1, ns of P2, ...], "p_ci": [[lo, hi] of P1 or null, ...]}}, the
// percentiles as Histogram::Percentile() computes them and their 95%
// intervals as Histogram::PercentileInterval() does (null where the samples
// cannot bound one), for tools that draw or tabulate a run's latencies
// (tools/plot).
//
//   cabench_report --steady_start=PCT RATES
//
// Prints {"steady_start": I} (null when never), the first window at which
// the hit rates RATES (comma-separated %, an empty entry for a window without
// reads) are steady by the warm-up's rule with threshold PCT points
// (lib/metrics/steady.h), for tools that mark it on a run's series
// (tools/plot).
//
//   cabench_report --cache_url=URL      cabench_report --db_url=URL
//
// Prints the endpoint URL as cabench reads it (lib/config/endpoints.h):
// {"host": H, "port": P, "db": D, "cluster": B} or {"user": U, "host": H,
// "port": P, "schema": S}; a URL cabench refuses is exit 2 with its reason,
// for tools that connect where cabench does (tools/limits, bisect-check).
//
// Exit status: 0 printed; 2 usage or bad input (an unknown flag, a record that
// cannot be read or parsed), one line naming the file.
#include <cstdio>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "lib/clients/kv_routing.h"
#include "lib/config/endpoints.h"
#include "lib/engine/run.h"
#include "lib/metrics/histogram.h"
#include "lib/metrics/json.h"
#include "lib/metrics/steady.h"
#include "lib/metrics/summary.h"
#include "lib/metrics/time_series.h"

namespace cabench {
namespace {

[[noreturn]] void Usage(const std::string& message) {
  std::fprintf(stderr, "cabench_report: %s\n", message.c_str());
  std::exit(2);
}

std::map<std::string, std::string> ReadRecord(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  if (!in) Usage(absl::StrCat(path, ": cannot read"));
  absl::StatusOr<std::map<std::string, std::string>> record = ParseFlatJsonStrings(text.str());
  if (!record.ok()) Usage(absl::StrCat(path, ": ", record.status().message()));
  return *std::move(record);
}

void PrintStats(const std::string& path, const std::map<std::string, std::string>& record,
                const std::vector<double>& percentiles) {
  JsonObject all;
  for (const auto& [key, text] : record) {
    if (key == "totals" || key == "routing") continue;
    absl::StatusOr<Histogram> h = Histogram::Deserialize(text);
    if (!h.ok()) Usage(absl::StrCat(path, ": '", key, "': ", h.status().message()));
    std::string p = "[";
    for (size_t i = 0; i < percentiles.size(); ++i) {
      absl::StrAppend(&p, i == 0 ? "" : ", ",
                      absl::StrFormat("%.17g", h->Percentile(percentiles[i])));
    }
    p += "]";
    // Each percentile's 95% interval (order statistics), null where the
    // samples cannot bound it (and for 0 and 100, which are the min and max).
    std::string ci = "[";
    for (size_t i = 0; i < percentiles.size(); ++i) {
      absl::StrAppend(&ci, i == 0 ? "" : ", ");
      const double q = percentiles[i];
      const std::optional<std::pair<double, double>> r =
          q > 0 && q < 100 ? h->PercentileInterval(q) : std::nullopt;
      absl::StrAppend(&ci, r.has_value() ? absl::StrFormat("[%.17g, %.17g]", r->first, r->second)
                                         : std::string("null"));
    }
    ci += "]";
    JsonObject one;
    one.Add("count", h->Count())
        .Add("mean_ns", h->Mean())
        .Add("min_ns", h->Min())
        .Add("max_ns", h->Max())
        .Raw("p", p)
        .Raw("p_ci", ci);
    all.Raw(key, one.str());
  }
  std::printf("%s\n", all.str().c_str());
}

// --cache_url=URL or --db_url=URL (see the top of the file).
void PrintEndpoint(const std::string& name, const std::string& url) {
  JsonObject out;
  if (name == "cache_url") {
    absl::StatusOr<CacheEndpoint> cache = ParseCacheUrl(url);
    if (!cache.ok()) Usage(std::string(cache.status().message()));
    out.Add("host", cache->host).Add("port", cache->port).Add("db", cache->db);
    out.Add("cluster", cache->cluster);
  } else {
    absl::StatusOr<DbEndpoint> db = ParseDbUrl(url);
    if (!db.ok()) Usage(std::string(db.status().message()));
    out.Add("user", db->user).Add("host", db->host).Add("port", db->port);
    out.Add("schema", db->schema);
  }
  std::printf("%s\n", out.str().c_str());
}

// --steady_start=PCT RATES (see the top of the file); `left` is how many
// arguments follow the flag (exactly RATES).
void PrintSteadyStart(const std::string& pct_text, const char* rates_text, int left) {
  double pct = 0;
  if (!absl::SimpleAtod(pct_text, &pct) || pct <= 0) {
    Usage(absl::StrCat("--steady_start: '", pct_text, "' is not a positive number of points"));
  }
  if (left != 1) Usage("--steady_start takes one argument after it: the rates, comma-separated");
  std::vector<double> rates;
  for (absl::string_view r : absl::StrSplit(rates_text, ',')) {
    double v = 0;
    if (r.empty()) {
      v = 0;  // a window without reads
    } else if (!absl::SimpleAtod(r, &v) || v < 0 || v > 100) {
      Usage(absl::StrCat("--steady_start: '", r, "' is not a hit rate 0..100"));
    }
    rates.push_back(v);
  }
  const std::optional<size_t> start = SteadyStart(rates, pct);
  std::printf("{\"steady_start\": %s}\n", start ? absl::StrCat(*start).c_str() : "null");
}

int Main(int argc, char** argv) {
  std::map<std::string, double> facts = {{"cache", 1},
                                         {"key_versions", 1},
                                         {"single_flight", 0},
                                         {"early_refresh", 0},
                                         {"target_rate_per_s", 0},
                                         {"schedule_start_ns", 0},
                                         {"schedule_window_ns", 0}};
  std::string out_path;
  std::vector<double> stats;  // --stats: percentiles to print
  bool stats_mode = false;
  std::vector<std::string> records;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (!absl::StartsWith(arg, "--")) {
      records.push_back(arg);
      continue;
    }
    const size_t eq = arg.find('=');
    const std::string name = arg.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
    const std::string value = eq == std::string::npos ? "" : arg.substr(eq + 1);
    if (name == "out") {
      out_path = value;
      continue;
    }
    if (name == "cache_url" || name == "db_url") {
      PrintEndpoint(name, value);
      return 0;
    }
    if (name == "steady_start") {
      PrintSteadyStart(value, i + 1 < argc ? argv[i + 1] : nullptr, argc - i - 1);
      return 0;
    }
    if (name == "stats") {
      stats_mode = true;
      for (absl::string_view p : absl::StrSplit(value, ',', absl::SkipEmpty())) {
        double v = 0;
        if (!absl::SimpleAtod(p, &v) || v < 0 || v > 100) {
          Usage(absl::StrCat("--stats: '", p, "' is not a percentile 0..100"));
        }
        stats.push_back(v);
      }
      continue;
    }
    double v = 0;
    if (facts.count(name) == 0) Usage(absl::StrCat("unknown flag '", arg, "'"));
    if (!absl::SimpleAtod(value, &v)) Usage(absl::StrCat(arg, ": expected a number"));
    facts[name] = v;
  }
  if (records.empty()) Usage("no record given (usage: cabench_report [--FACT=V] RECORD.json...)");
  if (stats_mode) {
    if (records.size() != 1) Usage("--stats reads one histograms file");
    PrintStats(records[0], ReadRecord(records[0]), stats);
    return 0;
  }
  ThreadResult totals;
  std::optional<KvRouting> routing;
  for (const std::string& path : records) {
    const std::map<std::string, std::string> record = ReadRecord(path);
    if (absl::Status s = totals.recorder.AddRecord(record); !s.ok()) {
      Usage(absl::StrCat(path, ": ", s.message()));
    }
    if (auto it = record.find("routing"); it != record.end()) {
      absl::StatusOr<KvRouting> part = ParseRoutingText(it->second);
      if (!part.ok()) Usage(absl::StrCat(path, ": 'routing': ", part.status().message()));
      if (!routing.has_value()) routing.emplace();
      AddRouting(*part, &*routing);
    }
  }
  RunFacts run;
  run.cache = facts["cache"] != 0;
  run.key_versions = facts["key_versions"] != 0;
  run.single_flight = facts["single_flight"] != 0;
  run.early_refresh = facts["early_refresh"] != 0;
  run.target_rate_per_s = facts["target_rate_per_s"];
  run.schedule_start_epoch_ns = static_cast<int64_t>(facts["schedule_start_ns"]);
  run.schedule_window_s = facts["schedule_window_ns"] / 1e9;
  if (routing.has_value()) run.measured = RoutingCounters(*routing);
  JsonObject counters;
  for (const auto& [name, value] : RunCounters(totals, Summarize(totals.recorder), run)) {
    counters.Add(name, value);
  }
  std::printf("%s\n", counters.str().c_str());
  if (!out_path.empty()) {
    std::ofstream out(out_path, std::ios::binary | std::ios::trunc);
    std::map<std::string, std::string> more;
    if (routing.has_value()) more["routing"] = RoutingText(*routing);
    out << HistogramsJson(totals.recorder, more) << "\n";
    out.close();
    if (!out) {
      std::fprintf(stderr, "cabench_report: cannot write %s\n", out_path.c_str());
      return 1;
    }
  }
  return 0;
}

}  // namespace
}  // namespace cabench

int main(int argc, char** argv) { return cabench::Main(argc, argv); }
