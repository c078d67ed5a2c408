// The suite's JSON reporter: the aggregates of a run with repetitions keep a
// flag counter only in their mean.
#include "bench/gbench_init.h"

#include <sstream>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace cabench {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using BenchRun = benchmark::BenchmarkReporter::Run;

BenchRun Aggregate(const std::string& name, double valid, double ops_per_s) {
  BenchRun r;
  r.run_name.function_name = "CacheAside/a";
  r.run_type = BenchRun::RT_Aggregate;
  r.aggregate_name = name;
  r.aggregate_unit = benchmark::StatisticUnit::kTime;
  r.iterations = 5;
  r.counters["valid"] = benchmark::Counter(valid);
  r.counters["ops_per_s"] = benchmark::Counter(ops_per_s);
  return r;
}

// The JSON text of one aggregate's object (from its name to the next '}').
std::string ObjectOf(const std::string& json, const std::string& aggregate) {
  const size_t at = json.find("\"aggregate_name\": \"" + aggregate + "\"");
  if (at == std::string::npos) return "";
  const size_t begin = json.rfind('{', at);
  return json.substr(begin, json.find('}', at) - begin);
}

TEST(SuiteJsonReporterTest, AFlagKeepsOnlyItsMeanAmongTheAggregates) {
  std::ostringstream out, err;
  SuiteJsonReporter reporter;
  reporter.SetOutputStream(&out);
  reporter.SetErrorStream(&err);
  // Half the repetitions valid: the mean is their share; the interval
  // of a 0/1 flag's mean (-0.08 .. 1.28 here) would mean nothing.
  reporter.ReportRuns({Aggregate("mean", 0.5, 1000), Aggregate("ci95_lo", -0.08, 900),
                       Aggregate("stddev", 0.55, 80)});
  reporter.Finalize();
  const std::string json = out.str();
  EXPECT_THAT(ObjectOf(json, "mean"), HasSubstr("\"valid\": 5.0"));
  EXPECT_THAT(ObjectOf(json, "ci95_lo"), Not(HasSubstr("\"valid\"")));
  EXPECT_THAT(ObjectOf(json, "stddev"), Not(HasSubstr("\"valid\"")));
  // Other counters keep every aggregate.
  EXPECT_THAT(ObjectOf(json, "ci95_lo"), HasSubstr("\"ops_per_s\": 9.0"));
  EXPECT_THAT(ObjectOf(json, "stddev"), HasSubstr("\"ops_per_s\": 8.0"));
}

TEST(SuiteJsonReporterTest, TheIntervalOfANonNegativeQuantityEndsAtZero) {
  std::ostringstream out, err;
  SuiteJsonReporter reporter;
  reporter.SetOutputStream(&out);
  reporter.SetErrorStream(&err);
  // Five p99s of 0.2, 0.3, 0.3, 0.4 and 8 ms: the t interval of their mean
  // starts below 0, which no latency is; a reduction may be negative.
  BenchRun lo = Aggregate("ci95_lo", 0, -27);
  lo.counters["p99_us"] = benchmark::Counter(-27);
  lo.counters["hit_p99_us"] = benchmark::Counter(-3);
  lo.counters["db_load_reduction_pct"] = benchmark::Counter(-12);
  BenchRun hi = Aggregate("ci95_hi", 0, 4546);
  hi.counters["p99_us"] = benchmark::Counter(4546);
  reporter.ReportRuns({lo, hi});
  reporter.Finalize();
  const std::string json = out.str();
  EXPECT_THAT(ObjectOf(json, "ci95_lo"), HasSubstr("\"p99_us\": 0.0"));
  EXPECT_THAT(ObjectOf(json, "ci95_lo"), HasSubstr("\"hit_p99_us\": 0.0"));
  EXPECT_THAT(ObjectOf(json, "ci95_lo"), HasSubstr("\"ops_per_s\": 0.0"));
  EXPECT_THAT(ObjectOf(json, "ci95_lo"), HasSubstr("\"db_load_reduction_pct\": -1.2"));
  EXPECT_THAT(ObjectOf(json, "ci95_hi"), HasSubstr("\"p99_us\": 4.546"));
}

TEST(SuiteJsonReporterTest, OnlyForAJsonFile) {
  EXPECT_NE(NewFileReporter({"--benchmark_out=x.json"}), nullptr);
  EXPECT_NE(NewFileReporter({"--benchmark_out=x.json", "--benchmark_out_format=json"}), nullptr);
  EXPECT_EQ(NewFileReporter({"--benchmark_out=x.csv", "--benchmark_out_format=csv"}), nullptr);
  EXPECT_EQ(NewFileReporter({"--benchmark_repetitions=3"}), nullptr);
  EXPECT_EQ(NewFileReporter({"--benchmark_out="}), nullptr);
}

}  // namespace
}  // namespace cabench
