#include "lib/workload/scenario_loader.h"

#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/testing/status_matchers.h"
#include "lib/workload/scenario.h"

namespace cabench {
namespace {

namespace fs = std::filesystem;

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

// True when `dir` is the cabench repository (it holds the scenarios).
bool IsRepoRoot(const fs::path& dir) {
  std::error_code ec;
  return fs::is_regular_file(dir / "scenarios" / "concurrency.yaml", ec);
}

// The source folder a CMake build folder was configured from, read from its
// CMakeCache.txt ("cabench_SOURCE_DIR:STATIC=/work/main").
std::optional<fs::path> SourceDirFromCMakeCache(const fs::path& build_dir) {
  std::ifstream cache(build_dir / "CMakeCache.txt");
  const std::string kKey = "cabench_SOURCE_DIR:STATIC=";
  for (std::string line; std::getline(cache, line);) {
    if (line.rfind(kKey, 0) == 0) return fs::path(line.substr(kKey.size()));
  }
  return std::nullopt;
}

// Finds the repository without help from CMake: the test binary runs from
// its build folder, which may sit inside the repository or beside it. Walks
// up from the working directory, from the binary and from this source file's
// compile-time path; a build folder's CMakeCache.txt also names the source.
std::optional<fs::path> FindRepoRoot(std::vector<std::string>* tried) {
  std::vector<fs::path> starts;
  std::error_code ec;
  starts.push_back(fs::current_path(ec));
  starts.push_back(fs::read_symlink("/proc/self/exe", ec).parent_path());
  starts.push_back(fs::path(__FILE__).parent_path());
  for (const fs::path& start : starts) {
    if (start.empty()) continue;
    tried->push_back(start.string());
    for (fs::path dir = fs::absolute(start, ec);; dir = dir.parent_path()) {
      if (IsRepoRoot(dir)) return dir;
      std::optional<fs::path> source = SourceDirFromCMakeCache(dir);
      if (source && IsRepoRoot(*source)) return *source;
      if (dir == dir.parent_path()) break;
    }
  }
  return std::nullopt;
}

std::string ScenariosDir() {
  std::vector<std::string> tried;
  std::optional<fs::path> root = FindRepoRoot(&tried);
  if (!root) {
    ADD_FAILURE() << "cannot find the cabench repository (a folder holding "
                     "scenarios/concurrency.yaml) above any of: "
                  << absl::StrJoin(tried, ", ");
    return "";
  }
  return (*root / "scenarios").string();
}

// ---------------------------------------------------------------------------
// The committed scenarios.

TEST(ScenarioFilesTest, EveryScenarioFileLoads) {
  const std::string dir = ScenariosDir();
  ASSERT_FALSE(dir.empty());
  ASSERT_OK_AND_ASSIGN(std::vector<Scenario> scenarios, LoadScenarioDir(dir));
  std::vector<std::string> names;
  std::set<std::string> prefixes;
  for (const Scenario& s : scenarios) {
    names.push_back(s.name);
    EXPECT_THAT(s.source_file, EndsWith(absl::StrCat("/", s.name, ".yaml")));
    EXPECT_GT(s.description.size(), 100u) << s.name << ": say what it answers and what surprises";
    EXPECT_EQ(s.key_prefix, absl::StrCat("cabench:", s.name, ":bookings:"));
    EXPECT_TRUE(prefixes.insert(s.key_prefix).second) << "shared key_prefix " << s.key_prefix;
  }
  EXPECT_THAT(names, ElementsAre("cache_size_sweep", "concurrency", "hotspot", "no_cache_baseline",
                                 "pool_exhaustion", "random_balanced", "read_heavy", "short_ttl",
                                 "stale_invalidate", "stale_refresh", "stale_ttl_sweep", "stampede",
                                 "stampede_jitter", "stampede_single_flight", "stampede_xfetch",
                                 "steady_load", "thread_sweep", "ttl_sweep", "warm_until_steady",
                                 "write_heavy", "zipf_lru"));
}

// One row of the documented scenario values (each file's header comment).
struct Documented {
  std::string name;
  std::vector<int> threads;
  int read_pct;
  bool cache;
  int64_t ttl_ms;
  AccessMode access;
  bool flush;
  int64_t warmup_ops;
};

TEST(ScenarioFilesTest, ScenariosHaveTheDocumentedValues) {
  const std::string dir = ScenariosDir();
  ASSERT_FALSE(dir.empty());
  const std::vector<Documented> documented = {
      {"concurrency", {4}, 80, true, 300000, AccessMode::kPool, true, 0},
      {"read_heavy", {4}, 99, true, 300000, AccessMode::kPool, true, 40000},
      {"random_balanced", {4}, 60, true, 300000, AccessMode::kRandom, true, 0},
      {"short_ttl", {4}, 90, true, 100, AccessMode::kRandom, true, 0},
      {"no_cache_baseline", {4}, 80, false, 300000, AccessMode::kPool, true, 0},
      {"thread_sweep", {1, 2, 4, 8, 16}, 80, true, 300000, AccessMode::kPool, true, 0},
      {"write_heavy", {10}, 30, true, 300000, AccessMode::kPool, true, 0},
  };
  for (const Documented& d : documented) {
    SCOPED_TRACE(d.name);
    const std::string path = (fs::path(dir) / (d.name + ".yaml")).string();
    ASSERT_OK_AND_ASSIGN(Scenario s, LoadScenarioFile(path));
    EXPECT_EQ(s.name, d.name);
    EXPECT_EQ(s.source_file, path);
    EXPECT_EQ(s.threads, d.threads);
    EXPECT_EQ(s.queries_per_thread, 10000);
    EXPECT_EQ(s.read_pct, d.read_pct);
    EXPECT_EQ(s.cache, d.cache);
    EXPECT_EQ(s.ttl_ms, d.ttl_ms);
    EXPECT_EQ(s.access, d.access);
    EXPECT_EQ(s.flush, d.flush);
    EXPECT_EQ(s.warmup_ops, d.warmup_ops);
    // Not stated by the reference: the Scenario defaults hold.
    EXPECT_EQ(s.write_policy, WritePolicy::kRefresh);
    EXPECT_EQ(s.ttl_jitter_pct, 0);
    EXPECT_EQ(s.pool_size, 10000);
    EXPECT_EQ(s.pool_first_id, 4);
    EXPECT_FALSE(s.clean_end);
    // Issue 11: the seed's "without cache / with cache-aside" comparison.
    EXPECT_EQ(s.baseline_no_cache,
              d.name == "concurrency" || d.name == "read_heavy" || d.name == "random_balanced");
    EXPECT_EQ(s.rate_per_s, 0);  // the seed's scenarios stay closed-loop
  }
}

// ---------------------------------------------------------------------------
// Accepted input.

TEST(ParseScenarioTest, SweepsRunOncePerValue) {
  ASSERT_OK_AND_ASSIGN(Scenario s, ParseScenario("name: sw\n"
                                                 "ttl_ms: [100, 5000]\n"
                                                 "cache_max_memory: [2mb, 1536kb, 3mb]\n"
                                                 "eviction_policy: allkeys-lru\n",
                                                 "sw.yaml"));
  EXPECT_EQ(s.ttl_ms, 100);
  EXPECT_EQ(s.cache_max_memory, 2 << 20);
  const std::vector<Scenario> points = SweepPoints(s);
  ASSERT_EQ(points.size(), 6u);
  EXPECT_EQ(points[0].ttl_ms, 100);
  EXPECT_EQ(points[0].cache_max_memory, 2 << 20);
  EXPECT_EQ(points[1].cache_max_memory, 1536 << 10);
  EXPECT_EQ(points[3].ttl_ms, 5000);
  EXPECT_EQ(points[5].cache_max_memory, 3 << 20);
  for (const Scenario& p : points) {
    EXPECT_TRUE(p.ttl_sweep_ms.empty());
    EXPECT_TRUE(p.cache_max_memory_sweep.empty());
    EXPECT_EQ(p.eviction_policy, "allkeys-lru");
  }
  // A cache sized as a share of the keys sweeps the same way.
  ASSERT_OK_AND_ASSIGN(Scenario k, ParseScenario("name: k\n"
                                                 "cache_keys_pct: [1, 5, 50]\n"
                                                 "eviction_policy: allkeys-lru\n",
                                                 "k.yaml"));
  const std::vector<Scenario> shares = SweepPoints(k);
  ASSERT_EQ(shares.size(), 3u);
  EXPECT_EQ(shares[0].cache_keys_pct, 1);
  EXPECT_EQ(shares[2].cache_keys_pct, 50);
  for (const Scenario& p : shares) {
    EXPECT_TRUE(p.cache_keys_pct_sweep.empty());
    EXPECT_EQ(p.cache_max_memory, 0);
    EXPECT_TRUE(p.BoundsTheCache());
  }
  // Without a list, the scenario alone.
  ASSERT_OK_AND_ASSIGN(Scenario one, ParseScenario("name: one\nttl_ms: 7\n", "one.yaml"));
  ASSERT_EQ(SweepPoints(one).size(), 1u);
  EXPECT_EQ(SweepPoints(one)[0].ttl_ms, 7);
}

TEST(ParseScenarioTest, AbsentKeysKeepTheDefaults) {
  ASSERT_OK_AND_ASSIGN(Scenario s, ParseScenario("name: minimal\n", "dir/minimal.yaml"));
  const Scenario defaults;
  EXPECT_EQ(s.name, "minimal");
  EXPECT_EQ(s.source_file, "dir/minimal.yaml");
  EXPECT_EQ(s.description, "");
  EXPECT_EQ(s.threads, std::vector<int>({4}));
  EXPECT_EQ(s.queries_per_thread, 10000);
  EXPECT_EQ(s.read_pct, 80);
  EXPECT_TRUE(s.cache);
  EXPECT_EQ(s.ttl_ms, 300000);
  EXPECT_EQ(s.ttl_jitter_pct, 0);
  EXPECT_EQ(s.write_policy, WritePolicy::kRefresh);
  EXPECT_EQ(s.access, AccessMode::kPool);
  EXPECT_EQ(s.pool_size, 10000);
  EXPECT_EQ(s.pool_first_id, 4);
  EXPECT_EQ(s.key_prefix, defaults.key_prefix);
  EXPECT_TRUE(s.flush);
  EXPECT_EQ(s.warmup_ops, 0);
  EXPECT_FALSE(s.clean_end);
  EXPECT_EQ(s.seed, 42u);
  EXPECT_FALSE(s.fallback_to_db);
  EXPECT_EQ(s.warmup, WarmupMode::kOps);
  EXPECT_EQ(s.warmup_window_ops, defaults.warmup_window_ops);
  EXPECT_EQ(s.warmup_steady_pct, defaults.warmup_steady_pct);
  EXPECT_FALSE(s.single_flight);
  EXPECT_EQ(s.single_flight_lock_ms, defaults.single_flight_lock_ms);
  EXPECT_EQ(s.single_flight_wait_ms, defaults.single_flight_wait_ms);
  EXPECT_EQ(s.single_flight_poll_us, defaults.single_flight_poll_us);
  EXPECT_EQ(s.early_refresh_beta, 0);  // off
}

TEST(ParseScenarioTest, EveryKeyIsRead) {
  const char* kText =
      "# every key, none at its default\n"
      "name: full\n"
      "description: |\n"
      "  two\n"
      "  lines\n"
      "threads:\n"
      "  - 3\n"
      "  - 1\n"
      "queries_per_thread: 1000000000\n"
      "read_pct: 0\n"
      "cache: false\n"
      "ttl_ms: 10000000000\n"
      "ttl_jitter_pct: 90\n"
      "write_policy: invalidate\n"
      "access: random\n"
      "pool_size: 1\n"
      "pool_first_id: 9223372036854775807\n"
      "key_prefix: 'x:{}[]*?:'\n"
      "flush: false\n"
      "warmup_ops: 0\n"
      "clean_end: true\n"
      "seed: 18446744073709551615\n"
      "fallback_to_db: true\n"
      "rate_per_s: 100000000\n"
      "arrival: uniform\n"
      "db_pool_size: 1\n"
      "db_pool_timeout_ms: 3600000\n";
  ASSERT_OK_AND_ASSIGN(Scenario s, ParseScenario(kText, "full.yaml"));
  EXPECT_EQ(s.rate_per_s, 100000000);
  EXPECT_EQ(s.arrival, Arrival::kUniform);
  EXPECT_EQ(s.db_pool_size, 1);
  EXPECT_EQ(s.db_pool_timeout_ms, 3600000);
  EXPECT_EQ(s.description, "two\nlines\n");
  EXPECT_EQ(s.threads, std::vector<int>({3, 1}));  // order kept
  EXPECT_EQ(s.queries_per_thread, 1000000000);
  EXPECT_EQ(s.read_pct, 0);
  EXPECT_FALSE(s.cache);
  EXPECT_EQ(s.ttl_ms, 10000000000);
  EXPECT_EQ(s.ttl_jitter_pct, 90);
  EXPECT_EQ(s.write_policy, WritePolicy::kInvalidate);
  EXPECT_EQ(s.access, AccessMode::kRandom);
  EXPECT_EQ(s.pool_size, 1);
  EXPECT_EQ(s.pool_first_id, INT64_MAX);
  EXPECT_EQ(s.key_prefix, "x:{}[]*?:");
  EXPECT_FALSE(s.flush);
  EXPECT_EQ(s.warmup_ops, 0);
  EXPECT_TRUE(s.clean_end);
  EXPECT_EQ(s.seed, UINT64_MAX);
  EXPECT_TRUE(s.fallback_to_db);
}

TEST(ParseScenarioTest, AcceptsFlowListsAliasesAndBoundaryValues) {
  ASSERT_OK_AND_ASSIGN(Scenario s, ParseScenario("name: edge\n"
                                                 "threads: [1024, 1]\n"
                                                 "read_pct: 100\n"
                                                 "ttl_jitter_pct: &j 7\n"
                                                 "warmup_ops: *j\n"
                                                 "ttl_ms: 1\n"
                                                 "seed: 0\n"
                                                 "queries_per_thread: !!int 5\n"
                                                 "clean_end: !!bool true\n",
                                                 "edge.yaml"));
  EXPECT_EQ(s.threads, std::vector<int>({1024, 1}));
  EXPECT_EQ(s.read_pct, 100);
  EXPECT_EQ(s.ttl_jitter_pct, 7);
  EXPECT_EQ(s.warmup_ops, 7);
  EXPECT_EQ(s.ttl_ms, 1);
  EXPECT_EQ(s.seed, 0u);
  EXPECT_EQ(s.queries_per_thread, 5);
  EXPECT_TRUE(s.clean_end);
}

TEST(ParseScenarioTest, EmptyFileNameSkipsTheStemCheck) {
  ASSERT_OK_AND_ASSIGN(Scenario s, ParseScenario("name: anything\n", ""));
  EXPECT_EQ(s.name, "anything");
  EXPECT_EQ(s.source_file, "");
  EXPECT_THAT(ParseScenario("read_pct: 200\nname: x\n", ""),
              StatusIs(absl::StatusCode::kInvalidArgument, StartsWith("<string>:1: read_pct:")));
}

// The exact messages quoted in the loader's contract.
TEST(ParseScenarioTest, MessagesHaveTheDocumentedShape) {
  EXPECT_THAT(ParseScenario("name: concurrency\nthreads: 4\nqueries_per_thread: 10\n"
                            "read_pct: 150\n",
                            "scenarios/concurrency.yaml"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "scenarios/concurrency.yaml:4: read_pct: 150 is out of range 0..100"));
  EXPECT_THAT(ParseScenario("name: x\n\nread_ratio: 80\n", "x.yaml"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       StartsWith("x.yaml:3: unknown key 'read_ratio'")));
  EXPECT_THAT(ParseScenario("name: x\nthreads: four\n", "x.yaml"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "x.yaml:2: threads: expected an integer or a list of integers, got 'four'"));
}

// Issue 12: access modes zipf, hotspot and trace; a memory-bounded cache.

TEST(ScenarioLoaderAccessTest, ZipfAndHotspotKeysAreRead) {
  ASSERT_OK_AND_ASSIGN(Scenario s, ParseScenario("name: z\naccess: zipf\nzipf_s: 1.5\n", "z.yaml"));
  EXPECT_EQ(s.access, AccessMode::kZipf);
  EXPECT_EQ(s.zipf_s, 1.5);
  ASSERT_OK_AND_ASSIGN(s, ParseScenario("name: z\naccess: zipf\n", "z.yaml"));
  EXPECT_EQ(s.zipf_s, 0.99);  // the default
  ASSERT_OK_AND_ASSIGN(
      s, ParseScenario("name: h\naccess: hotspot\nhot_keys_pct: 0.5\nhot_ops_pct: 99\n", "h.yaml"));
  EXPECT_EQ(s.access, AccessMode::kHotspot);
  EXPECT_EQ(s.hot_keys_pct, 0.5);
  EXPECT_EQ(s.hot_ops_pct, 99);
  ASSERT_OK_AND_ASSIGN(s, ParseScenario("name: h\naccess: hotspot\n", "h.yaml"));
  EXPECT_EQ(s.hot_keys_pct, 20);
  EXPECT_EQ(s.hot_ops_pct, 80);
  EXPECT_EQ(s.cache_max_memory, 0);
  EXPECT_EQ(s.eviction_policy, "");
  EXPECT_EQ(s.trace, nullptr);
}

TEST(ScenarioLoaderAccessTest, NumbersAcceptTheirWholeRange) {
  struct Case {
    const char* text;
    double value;
  };
  for (const Case& c : {Case{"0.99", 0.99}, Case{"1", 1}, Case{"2.7", 2.7}, Case{"10", 10},
                        Case{"1e-3", 0.001}, Case{"1.5E+0", 1.5}, Case{"!!float 0.6", 0.6},
                        Case{"!!int 2", 2}, Case{"0.000001", 1e-6}}) {
    ASSERT_OK_AND_ASSIGN(
        Scenario s,
        ParseScenario(absl::StrCat("name: z\naccess: zipf\nzipf_s: ", c.text, "\n"), "z.yaml"));
    EXPECT_EQ(s.zipf_s, c.value) << c.text;
  }
  for (const char* pct : {"0", "100", "0.0", "33.3", "!!float 50"}) {
    EXPECT_THAT(ParseScenario(absl::StrCat("name: h\naccess: hotspot\nhot_keys_pct: ", pct,
                                           "\nhot_ops_pct: ", pct, "\n"),
                              "h.yaml"),
                IsOk())
        << pct;
  }
}

TEST(ScenarioLoaderAccessTest, MemorySizesReadAsRedisDoes) {
  struct Case {
    const char* text;
    int64_t bytes;
  };
  for (const Case& c :
       {Case{"1048576", 1048576}, Case{"2097152b", 2097152}, Case{"2097152B", 2097152},
        Case{"1024kb", 1048576}, Case{"1mb", 1048576}, Case{"32mb", 33554432},
        Case{"32MB", 33554432}, Case{"32Mb", 33554432}, Case{"1gb", 1073741824},
        Case{"1GB", 1073741824}, Case{"\"64mb\"", 67108864}, Case{"'1gb'", 1073741824},
        Case{"1024gb", int64_t{1} << 40}, Case{"1099511627776", int64_t{1} << 40}}) {
    ASSERT_OK_AND_ASSIGN(
        Scenario s,
        ParseScenario(absl::StrCat("name: m\ncache_max_memory: ", c.text, "\n"), "m.yaml"));
    EXPECT_EQ(s.cache_max_memory, c.bytes) << c.text;
    EXPECT_EQ(s.eviction_policy, "") << "the server's policy stays untouched";
  }
}

TEST(ScenarioLoaderAccessTest, EveryRedisEvictionPolicyIsAccepted) {
  for (const char* policy : {"noeviction", "allkeys-lru", "allkeys-lfu", "allkeys-random",
                             "volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl"}) {
    ASSERT_OK_AND_ASSIGN(Scenario s, ParseScenario(absl::StrCat("name: m\ncache_max_memory: 32mb\n"
                                                                "eviction_policy: ",
                                                                policy, "\n"),
                                                   "m.yaml"));
    EXPECT_EQ(s.eviction_policy, policy);
    EXPECT_EQ(s.cache_max_memory, 32 << 20);
  }
}

// Issue 13: write_policy ttl_only, warm-up until steady, stampede mitigations.

TEST(ScenarioLoaderStampedeTest, NewKeysAreReadInAnyOrder) {
  // The keys that need another come before it: contradictions are checked
  // on the whole map.
  ASSERT_OK_AND_ASSIGN(Scenario s, ParseScenario("name: s\n"
                                                 "single_flight_lock_ms: 3600000\n"
                                                 "single_flight_wait_ms: 1\n"
                                                 "single_flight_poll_us: 10\n"
                                                 "single_flight: true\n"
                                                 "warmup_window_ops: 100\n"
                                                 "warmup_steady_pct: 50\n"
                                                 "warmup_ops: 300\n"
                                                 "warmup: until_steady\n"
                                                 "early_refresh_beta: 1.5\n"
                                                 "write_policy: ttl_only\n",
                                                 "s.yaml"));
  EXPECT_EQ(s.write_policy, WritePolicy::kTtlOnly);
  EXPECT_EQ(s.warmup, WarmupMode::kUntilSteady);
  EXPECT_EQ(s.warmup_window_ops, 100);
  EXPECT_EQ(s.warmup_steady_pct, 50);
  EXPECT_EQ(s.warmup_ops, 300);  // exactly three windows
  EXPECT_TRUE(s.single_flight);
  EXPECT_EQ(s.single_flight_lock_ms, 3600000);
  EXPECT_EQ(s.single_flight_wait_ms, 1);
  EXPECT_EQ(s.single_flight_poll_us, 10);
  EXPECT_EQ(s.early_refresh_beta, 1.5);

  ASSERT_OK_AND_ASSIGN(s, ParseScenario("name: s\n"
                                        "warmup: until_steady\n"
                                        "warmup_window_ops: 10000000\n"
                                        "warmup_steady_pct: 1e-3\n"
                                        "single_flight: true\n"
                                        "single_flight_lock_ms: 1\n"
                                        "single_flight_wait_ms: 3600000\n"
                                        "single_flight_poll_us: 1000000\n"
                                        "early_refresh_beta: 1000\n",
                                        "s.yaml"));
  EXPECT_EQ(s.warmup_window_ops, 10000000);
  EXPECT_EQ(s.warmup_steady_pct, 0.001);
  EXPECT_EQ(s.warmup_ops, 0);  // the engine caps at Scenario::kDefaultSteadyCapOps
  EXPECT_EQ(s.single_flight_lock_ms, 1);
  EXPECT_EQ(s.single_flight_wait_ms, 3600000);
  EXPECT_EQ(s.single_flight_poll_us, 1000000);
  EXPECT_EQ(s.early_refresh_beta, 1000);
}

TEST(ScenarioLoaderStampedeTest, ModesMayBeWrittenAtTheirDefaults) {
  ASSERT_OK_AND_ASSIGN(Scenario s, ParseScenario("name: s\n"
                                                 "warmup: ops\n"
                                                 "warmup_ops: 7\n"
                                                 "single_flight: false\n"
                                                 "write_policy: refresh\n",
                                                 "s.yaml"));
  EXPECT_EQ(s.warmup, WarmupMode::kOps);
  EXPECT_EQ(s.warmup_ops, 7);  // no window rule without until_steady
  EXPECT_FALSE(s.single_flight);
  EXPECT_EQ(s.write_policy, WritePolicy::kRefresh);
  // Without a cache, the modes that act on one may still be written off.
  EXPECT_THAT(ParseScenario("name: s\ncache: false\nsingle_flight: false\nwarmup: ops\n"
                            "write_policy: ttl_only\n",
                            "s.yaml"),
              IsOk());
  EXPECT_THAT(ParseScenario("name: s\nearly_refresh_beta: !!float 0.5\n", "s.yaml"), IsOk());
  EXPECT_THAT(ParseScenario("name: s\nearly_refresh_beta: !!int 2\n", "s.yaml"), IsOk());
}

// The messages the issue asks for, whole.
TEST(ScenarioLoaderStampedeTest, MessagesSayWhatToDo) {
  const auto bad = [](const char* yaml) {
    return ParseScenario(absl::StrCat("name: x\n", yaml), "x.yaml").status();
  };
  EXPECT_THAT(bad("write_policy: ttl\n"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "x.yaml:2: write_policy: expected refresh, invalidate or ttl_only, got "
                       "'ttl'"));
  EXPECT_THAT(bad("warmup: steady\n"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "x.yaml:2: warmup: expected ops or until_steady, got 'steady'"));
  EXPECT_THAT(bad("single_flight: true\nsingle_flight_lock_ms: 0\n"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "x.yaml:3: single_flight_lock_ms: 0: a lock TTL must be > 0 "
                       "(range 1..3600000)"));
  EXPECT_THAT(bad("early_refresh_beta: 0\n"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "x.yaml:2: early_refresh_beta: 0 must be > 0 (leave it out to turn early "
                       "refresh off)"));
  EXPECT_THAT(bad("single_flight: true\ncache: false\n"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "x.yaml:2: single_flight: true needs a cache (cache: true); this scenario "
                       "has cache: false"));
  EXPECT_THAT(bad("cache: false\nearly_refresh_beta: 0.5\n"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "x.yaml:3: early_refresh_beta: needs a cache (cache: true); this scenario "
                       "has cache: false"));
  EXPECT_THAT(bad("single_flight_wait_ms: 50\nsingle_flight: false\n"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "x.yaml:2: single_flight_wait_ms: needs single_flight: true (this "
                       "scenario has single_flight: false)"));
  EXPECT_THAT(bad("warmup_steady_pct: 2\n"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "x.yaml:2: warmup_steady_pct: needs warmup: until_steady (this scenario "
                       "has warmup: ops)"));
  EXPECT_THAT(bad("warmup: until_steady\nwarmup_ops: 14999\n"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "x.yaml:3: warmup_ops: 14999 is too short to compare three windows of "
                       "warmup_window_ops: 5000 (warmup: until_steady needs at least 15000, or 0 "
                       "for the default cap of 1000000)"));
  EXPECT_THAT(bad("unknown_knob: 1\n"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("warmup_steady_pct"), HasSubstr("single_flight_poll_us"),
                             HasSubstr("early_refresh_beta"))));
}

// ---------------------------------------------------------------------------
// Rejected input: every error names the file, the line and the field.

struct BadInput {
  const char* label;
  const char* yaml;
  int line;
  const char* field;  // or, for whole-file errors, what the message must name
};

const BadInput kBadInputs[] = {
    // Not a scenario map at all.
    {"syntax_unclosed_flow", "name: bad\nthreads: [1, 2\n", 3, "syntax"},
    {"syntax_bad_indent", "name: bad\nread_pct: 1\n  ttl_ms: 2\n", 3, "syntax"},
    {"syntax_tab", "name: bad\n\tread_pct: 1\n", 2, "syntax"},
    {"undefined_alias", "name: bad\nread_pct: *nope\n", 2, "anchor"},
    {"empty_file", "", 1, "name"},
    {"only_comments", "# nothing here\n\n", 1, "name"},
    {"top_level_list", "- name: bad\n", 1, "top level"},
    {"top_level_scalar", "\nbad\n", 2, "top level"},
    {"two_documents", "name: bad\n---\nname: bad\n", 2, "document"},  // the --- line
    // yaml-cpp 0.7.0's LoadAll() never returns on these (issue #1040).
    {"stray_comma", ",", 1, "unexpected ','"},
    {"stray_comma_after_scalar", "\"a\",", 1, "unexpected ','"},
    {"stray_comma_after_tag", "!,n", 1, "unexpected ','"},
    // Keys.
    {"unknown_key", "name: bad\nread_ratio: 80\n", 2, "read_ratio"},
    {"duplicate_key", "name: bad\nread_pct: 80\nread_pct: 90\n", 3, "read_pct"},
    {"duplicate_key_flow", "{name: bad, flush: true, flush: false}", 1, "flush"},
    {"name_missing", "read_pct: 80\n", 1, "name"},
    {"name_missing_after_comments", "# c\n\nread_pct: 80\n", 3, "name"},
    {"name_differs_from_stem", "read_pct: 80\nname: other\n", 2, "name"},
    {"name_not_snake", "name: Bad\n", 1, "name"},
    {"name_list", "name: [bad]\n", 1, "name"},
    {"name_null", "name:\nread_pct: 1\n", 1, "name"},
    {"description_map", "name: bad\ndescription: {a: b}\n", 2, "description"},
    // Integers written wrong.
    {"threads_word", "name: bad\nthreads: four\n", 2, "threads"},
    {"int_float", "name: bad\nread_pct: 1.5\n", 2, "read_pct"},
    {"int_exponent", "name: bad\nqueries_per_thread: 1e3\n", 2, "queries_per_thread"},
    {"int_hex", "name: bad\npool_size: 0x10\n", 2, "pool_size"},
    {"int_plus_only", "name: bad\nwarmup_ops: +\n", 2, "warmup_ops"},
    {"int_plus_sign", "name: bad\nwarmup_ops: +5\n", 2, "warmup_ops"},
    {"int_empty_quoted", "name: bad\nttl_ms: \"\"\n", 2, "ttl_ms"},
    {"int_quoted", "name: bad\nread_pct: \"80\"\n", 2, "read_pct"},
    {"int_trailing_junk", "name: bad\nread_pct: 80%\n", 2, "read_pct"},
    {"int_leading_zero", "name: bad\nttl_jitter_pct: 010\n", 2, "ttl_jitter_pct"},
    {"int_underscores", "name: bad\nqueries_per_thread: 10_000\n", 2, "queries_per_thread"},
    {"int_null", "name: bad\nread_pct:\nflush: true\n", 2, "read_pct"},
    {"int_list", "name: bad\nread_pct: [80]\n", 2, "read_pct"},
    {"int_map", "name: bad\nttl_ms: {ms: 5}\n", 2, "ttl_ms"},
    {"int_bool", "name: bad\nread_pct: true\n", 2, "read_pct"},
    // Out of range, negative for unsigned, overflow.
    {"read_pct_high", "name: bad\nread_pct: 150\n", 2, "read_pct"},
    {"read_pct_negative", "name: bad\nread_pct: -1\n", 2, "read_pct"},
    {"ttl_zero", "name: bad\nttl_ms: 0\n", 2, "ttl_ms"},
    {"ttl_too_long", "name: bad\nttl_ms: 10000000001\n", 2, "ttl_ms"},
    {"jitter_high", "name: bad\nttl_jitter_pct: 91\n", 2, "ttl_jitter_pct"},
    {"queries_zero", "name: bad\nqueries_per_thread: 0\n", 2, "queries_per_thread"},
    {"queries_high", "name: bad\nqueries_per_thread: 1000000001\n", 2, "queries_per_thread"},
    {"pool_size_zero", "name: bad\npool_size: 0\n", 2, "pool_size"},
    {"pool_size_negative", "name: bad\npool_size: -5\n", 2, "pool_size"},
    {"pool_first_id_zero", "name: bad\n\npool_first_id: 0\n", 3, "pool_first_id"},
    {"pool_end_overflows", "name: bad\npool_first_id: 9223372036854775807\npool_size: 2\n", 3,
     "pool_size"},
    {"warmup_negative", "name: bad\nwarmup_ops: -1\n", 2, "warmup_ops"},
    {"warmup_overflow", "name: bad\nwarmup_ops: 9223372036854775808\n", 2, "warmup_ops"},
    {"seed_negative", "name: bad\nseed: -1\n", 2, "seed"},
    {"seed_overflow", "name: bad\nseed: 18446744073709551616\n", 2, "seed"},
    {"seed_huge", "name: bad\nseed: 123456789012345678901234567890\n", 2, "seed"},
    // Thread lists.
    {"threads_zero", "name: bad\nthreads: 0\n", 2, "threads"},
    {"threads_too_many", "name: bad\nthreads: 1025\n", 2, "threads"},
    {"threads_empty_list", "name: bad\nthreads: []\n", 2, "threads"},
    {"threads_duplicate", "name: bad\nthreads:\n  - 1\n  - 2\n  - 1\n", 5, "threads"},
    {"threads_bad_item", "name: bad\nthreads:\n  - 1\n  - x\n", 4, "threads"},
    {"threads_float_item", "name: bad\nthreads: [1, 2.5]\n", 2, "threads"},
    {"threads_nested", "name: bad\nthreads:\n  - [1]\n", 3, "threads"},
    {"threads_map", "name: bad\nthreads: {n: 4}\n", 2, "threads"},
    // Booleans: only true and false.
    {"bool_int", "name: bad\ncache: 1\n", 2, "cache"},
    {"bool_yes", "name: bad\nflush: yes\n", 2, "flush"},
    {"bool_on", "name: bad\nclean_end: on\n", 2, "clean_end"},
    {"bool_fallback_no", "name: bad\nfallback_to_db: no\n", 2, "fallback_to_db"},
    {"bool_quoted", "name: bad\ncache: \"true\"\n", 2, "cache"},
    {"bool_wrong_tag", "name: bad\ncache: !!str true\n", 2, "cache"},
    {"int_wrong_tag", "name: bad\nread_pct: !!float 5\n", 2, "read_pct"},
    // Enums and strings.
    {"write_policy_unknown", "name: bad\nwrite_policy: delete\n", 2, "write_policy"},
    {"access_unknown", "name: bad\naccess: zipfian\n", 2, "access"},
    {"access_list", "name: bad\naccess: [pool]\n", 2, "access"},
    {"key_prefix_empty", "name: bad\nkey_prefix: ''\n", 2, "key_prefix"},
    {"key_prefix_space", "name: bad\nkey_prefix: 'a b:'\n", 2, "key_prefix"},
    {"key_prefix_non_ascii", "name: bad\nkey_prefix: \"caf\xC3\xA9:\"\n", 2, "key_prefix"},
    {"key_prefix_control", "name: bad\nkey_prefix: \"a\\tb\"\n", 2, "key_prefix"},
    // Open loop, twins and pools (issue 11): out of range, misspelt or
    // contradictory.
    {"rate_zero", "name: bad\nrate_per_s: 0\n", 2, "rate_per_s"},
    {"rate_negative", "name: bad\nrate_per_s: -5\n", 2, "rate_per_s"},
    {"rate_word", "name: bad\nrate_per_s: fast\n", 2, "rate_per_s"},
    {"arrival_misspelt", "name: bad\nrate_per_s: 10\narrival: poison\n", 3, "arrival"},
    {"arrival_without_rate", "name: bad\narrival: uniform\n", 2, "arrival"},
    {"baseline_unknown", "name: bad\nbaseline: nocache\n", 2, "baseline"},
    {"baseline_without_cache", "name: bad\ncache: false\nbaseline: no_cache\n", 3, "baseline"},
    {"pool_zero", "name: bad\ndb_pool_size: 0\n", 2, "db_pool_size"},
    {"pool_larger_than_threads", "name: bad\nthreads: [2, 8]\ndb_pool_size: 4\n", 3,
     "db_pool_size"},
    {"pool_timeout_without_pool", "name: bad\ndb_pool_timeout_ms: 10\n", 2, "db_pool_timeout_ms"},
    {"pool_timeout_zero", "name: bad\ndb_pool_size: 1\ndb_pool_timeout_ms: 0\n", 3,
     "db_pool_timeout_ms"},
    {"key_prefix_too_long",
     "name: bad\nkey_prefix: "
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     "aaaaaaaaaaaa\n",
     2, "key_prefix"},
    // Issue 12: key popularity and a memory-bounded cache.
    // zipf_s <= 0 or absurd, or not a number.
    {"zipf_s_zero", "name: bad\naccess: zipf\nzipf_s: 0\n", 3, "zipf_s: 0 is out of range"},
    {"zipf_s_zero_point", "name: bad\naccess: zipf\nzipf_s: 0.0\n", 3, "zipf_s"},
    {"zipf_s_negative", "name: bad\naccess: zipf\nzipf_s: -0.5\n", 3, "zipf_s"},
    {"zipf_s_negative_zero", "name: bad\naccess: zipf\nzipf_s: -0\n", 3, "zipf_s"},
    {"zipf_s_absurd", "name: bad\naccess: zipf\nzipf_s: 10.5\n", 3, "zipf_s: 10.5 is out of range"},
    {"zipf_s_huge", "name: bad\naccess: zipf\nzipf_s: 1e999\n", 3, "zipf_s"},
    {"zipf_s_inf", "name: bad\naccess: zipf\nzipf_s: .inf\n", 3, "zipf_s"},
    {"zipf_s_nan", "name: bad\naccess: zipf\nzipf_s: .nan\n", 3, "zipf_s"},
    {"zipf_s_word", "name: bad\naccess: zipf\nzipf_s: steep\n", 3, "zipf_s: expected a number"},
    {"zipf_s_quoted", "name: bad\naccess: zipf\nzipf_s: \"1.2\"\n", 3, "zipf_s"},
    {"zipf_s_leading_dot", "name: bad\naccess: zipf\nzipf_s: .5\n", 3, "zipf_s"},
    {"zipf_s_trailing_dot", "name: bad\naccess: zipf\nzipf_s: 5.\n", 3, "zipf_s"},
    {"zipf_s_comma", "name: bad\naccess: zipf\nzipf_s: 0,99\n", 3, "zipf_s"},
    {"zipf_s_list", "name: bad\naccess: zipf\nzipf_s: [1]\n", 3, "zipf_s"},
    {"zipf_s_null", "name: bad\naccess: zipf\nzipf_s:\n", 3, "zipf_s"},
    // Percentages outside 0..100.
    {"hot_keys_pct_negative", "name: bad\naccess: hotspot\nhot_keys_pct: -1\n", 3,
     "hot_keys_pct: -1 is out of range 0..100"},
    {"hot_keys_pct_high", "name: bad\naccess: hotspot\nhot_keys_pct: 100.5\n", 3, "hot_keys_pct"},
    {"hot_ops_pct_high", "name: bad\naccess: hotspot\nhot_ops_pct: 101\n", 3, "hot_ops_pct"},
    {"hot_ops_pct_negative", "name: bad\naccess: hotspot\nhot_ops_pct: -0.1\n", 3, "hot_ops_pct"},
    {"hot_ops_pct_percent_sign", "name: bad\naccess: hotspot\nhot_ops_pct: 80%\n", 3,
     "hot_ops_pct"},
    {"hot_ops_pct_fraction", "name: bad\naccess: hotspot\nhot_ops_pct: 1/2\n", 3, "hot_ops_pct"},
    // Shares that cannot both hold.
    {"hot_keys_pct_zero_with_hot_ops", "name: bad\naccess: hotspot\nhot_keys_pct: 0\n", 3,
     "hot_keys_pct: 0 leaves no hot key for the 80% of the operations"},
    {"hot_keys_pct_all_with_cold_ops",
     "name: bad\naccess: hotspot\nhot_ops_pct: 90\nhot_keys_pct: 100\n", 4,
     "hot_keys_pct: 100 leaves no cold key for the 10% of the operations"},
    // Unknown policies.
    {"policy_unknown", "name: bad\ncache_max_memory: 32mb\neviction_policy: lru\n", 3,
     "eviction_policy: expected one of noeviction, allkeys-lru"},
    {"policy_underscore", "name: bad\ncache_max_memory: 32mb\neviction_policy: allkeys_lru\n", 3,
     "eviction_policy"},
    {"policy_uppercase", "name: bad\ncache_max_memory: 32mb\neviction_policy: ALLKEYS-LRU\n", 3,
     "eviction_policy"},
    {"policy_list", "name: bad\ncache_max_memory: 32mb\neviction_policy: [allkeys-lru]\n", 3,
     "eviction_policy"},
    {"policy_without_memory", "name: bad\n\neviction_policy: allkeys-lru\n", 3,
     "eviction_policy: needs cache_max_memory or cache_keys_pct"},
    // A cache sized as a share of the keys.
    {"keys_pct_zero", "name: bad\ncache_keys_pct: 0\n", 2, "cache_keys_pct: 0 is out of range"},
    {"keys_pct_above_100", "name: bad\ncache_keys_pct: [5, 101]\n", 2,
     "cache_keys_pct: 101 is out of range"},
    {"keys_pct_fraction", "name: bad\ncache_keys_pct: 0.5\n", 2, "cache_keys_pct"},
    {"keys_pct_and_bytes", "name: bad\ncache_max_memory: 1mb\ncache_keys_pct: 5\n", 3,
     "cache_keys_pct: give the cache's room either in bytes"},
    {"keys_pct_without_cache", "name: bad\ncache: false\ncache_keys_pct: 5\n", 3,
     "cache_keys_pct: needs cache: true"},
    // Memory sizes that do not parse or are out of range.
    {"memory_word", "name: bad\ncache_max_memory: lots\n", 2, "cache_max_memory: 'lots'"},
    {"memory_blank_before_unit", "name: bad\ncache_max_memory: 32 mb\n", 2, "cache_max_memory"},
    {"memory_ambiguous_m", "name: bad\ncache_max_memory: 32m\n", 2, "cache_max_memory"},
    {"memory_ambiguous_g", "name: bad\ncache_max_memory: 1G\n", 2, "cache_max_memory"},
    {"memory_unknown_unit", "name: bad\ncache_max_memory: 1tb\n", 2, "unknown unit"},
    {"memory_mib", "name: bad\ncache_max_memory: 32mib\n", 2, "cache_max_memory"},
    {"memory_fraction", "name: bad\ncache_max_memory: 1.5gb\n", 2, "cache_max_memory"},
    {"memory_negative", "name: bad\ncache_max_memory: -5mb\n", 2, "cache_max_memory"},
    {"memory_plus", "name: bad\ncache_max_memory: +5mb\n", 2, "cache_max_memory"},
    {"memory_empty_quoted", "name: bad\ncache_max_memory: ''\n", 2, "cache_max_memory"},
    {"memory_null", "name: bad\ncache_max_memory:\nflush: true\n", 2, "cache_max_memory"},
    {"memory_list_twice", "name: bad\ncache_max_memory: [32mb, 32mb]\n", 2,
     "cache_max_memory: 32mb is listed twice"},
    {"memory_list_empty", "name: bad\ncache_max_memory: []\n", 2,
     "cache_max_memory: the list is empty"},
    {"memory_list_nested", "name: bad\ncache_max_memory: [[32mb]]\n", 2,
     "cache_max_memory: a list item must be a single value"},
    {"memory_list_bad_item", "name: bad\ncache_max_memory:\n  - 32mb\n  - lots\n", 4,
     "cache_max_memory"},
    {"ttl_list_twice", "name: bad\nttl_ms: [100, 100]\n", 2, "ttl_ms: 100 is listed twice"},
    {"ttl_list_zero", "name: bad\nttl_ms: [100, 0]\n", 2, "ttl_ms: 0 is out of range"},
    {"memory_zero", "name: bad\ncache_max_memory: 0\n", 2, "cache_max_memory: 0 is out of range"},
    {"memory_below_16kb", "name: bad\ncache_max_memory: 16383\n", 2, "out of range 16kb"},
    {"memory_15kb", "name: bad\ncache_max_memory: 15kb\n", 2, "out of range"},
    {"memory_above_1tb", "name: bad\ncache_max_memory: 1025gb\n", 2, "out of range"},
    {"memory_overflow", "name: bad\ncache_max_memory: 99999999999999999999gb\n", 2, "out of range"},
    {"memory_without_cache", "name: bad\ncache: false\ncache_max_memory: 32mb\n", 3,
     "cache_max_memory: needs cache: true"},
    // A key of another access mode.
    {"zipf_s_under_pool", "name: bad\nzipf_s: 1.2\n", 2,
     "zipf_s: needs access: zipf (this scenario has access: pool)"},
    {"zipf_s_under_hotspot", "name: bad\naccess: hotspot\nzipf_s: 1.2\n", 3, "zipf_s"},
    {"hot_keys_pct_under_zipf", "name: bad\naccess: zipf\nhot_keys_pct: 10\n", 3,
     "hot_keys_pct: needs access: hotspot"},
    {"hot_ops_pct_under_random", "name: bad\naccess: random\nhot_ops_pct: 10\n", 3,
     "hot_ops_pct: needs access: hotspot"},
    {"trace_file_under_zipf", "name: bad\naccess: zipf\ntrace_file: x.trace\n", 3,
     "trace_file: needs access: trace"},
    // Trace mode without a trace, or with a read_pct it would ignore.
    {"trace_without_file", "name: bad\naccess: trace\n", 2, "needs trace_file"},
    {"trace_file_empty", "name: bad\naccess: trace\ntrace_file: ''\n", 3, "trace_file"},
    {"trace_file_list", "name: bad\naccess: trace\ntrace_file: [a]\n", 3, "trace_file"},
    {"trace_file_missing", "name: bad\naccess: trace\ntrace_file: no_such.trace\n", 3,
     "trace_file: 'scenarios/no_such.trace': no such file"},
    {"trace_read_pct", "name: bad\naccess: trace\nread_pct: 80\ntrace_file: x.trace\n", 3,
     "read_pct"},
    // Issue 13: values of the new keys.
    {"write_policy_ttl", "name: bad\nwrite_policy: ttl\n", 2,
     "write_policy: expected refresh, invalidate or ttl_only"},
    {"write_policy_list", "name: bad\nwrite_policy: [ttl_only]\n", 2, "write_policy"},
    {"warmup_unknown", "name: bad\nwarmup: Until_Steady\n", 2,
     "warmup: expected ops or until_steady"},
    {"warmup_window_99", "name: bad\nwarmup: until_steady\nwarmup_window_ops: 99\n", 3,
     "warmup_window_ops: 99 is out of range 100..10000000"},
    {"warmup_window_too_big", "name: bad\nwarmup: until_steady\nwarmup_window_ops: 10000001\n", 3,
     "warmup_window_ops: 10000001 is out of range"},
    {"warmup_window_float", "name: bad\nwarmup: until_steady\nwarmup_window_ops: 1e3\n", 3,
     "warmup_window_ops: expected an integer"},
    {"warmup_steady_pct_zero", "name: bad\nwarmup: until_steady\nwarmup_steady_pct: 0\n", 3,
     "warmup_steady_pct: 0 is out of range (0, 50]"},
    {"warmup_steady_pct_above_50", "name: bad\nwarmup: until_steady\nwarmup_steady_pct: 50.5\n", 3,
     "warmup_steady_pct: 50.5 is out of range (0, 50]"},
    {"warmup_steady_pct_word", "name: bad\nwarmup: until_steady\nwarmup_steady_pct: one\n", 3,
     "warmup_steady_pct: expected a number"},
    {"single_flight_yes", "name: bad\nsingle_flight: yes\n", 2,
     "single_flight: expected true or false"},
    {"lock_ms_zero", "name: bad\nsingle_flight: true\nsingle_flight_lock_ms: 0\n", 3,
     "single_flight_lock_ms: 0: a lock TTL must be > 0"},
    {"lock_ms_negative", "name: bad\nsingle_flight: true\nsingle_flight_lock_ms: -5\n", 3,
     "single_flight_lock_ms: -5: a lock TTL must be > 0"},
    {"lock_ms_above_an_hour", "name: bad\nsingle_flight: true\nsingle_flight_lock_ms: 3600001\n", 3,
     "single_flight_lock_ms: 3600001 is out of range 1..3600000"},
    {"lock_ms_quoted", "name: bad\nsingle_flight: true\nsingle_flight_lock_ms: '0'\n", 3,
     "single_flight_lock_ms: expected an integer"},
    {"wait_ms_zero", "name: bad\nsingle_flight: true\nsingle_flight_wait_ms: 0\n", 3,
     "single_flight_wait_ms: 0 is out of range 1..3600000"},
    {"wait_ms_above_an_hour", "name: bad\nsingle_flight: true\nsingle_flight_wait_ms: 3600001\n", 3,
     "single_flight_wait_ms: 3600001 is out of range"},
    {"poll_us_9", "name: bad\nsingle_flight: true\nsingle_flight_poll_us: 9\n", 3,
     "single_flight_poll_us: 9 is out of range 10..1000000"},
    {"poll_us_above_a_second", "name: bad\nsingle_flight: true\nsingle_flight_poll_us: 1000001\n",
     3, "single_flight_poll_us: 1000001 is out of range"},
    {"beta_zero", "name: bad\nearly_refresh_beta: 0\n", 2,
     "early_refresh_beta: 0 must be > 0 (leave it out to turn early refresh off)"},
    {"beta_zero_point_zero", "name: bad\nearly_refresh_beta: 0.0\n", 2,
     "early_refresh_beta: 0.0 must be > 0"},
    {"beta_negative", "name: bad\nearly_refresh_beta: -1.5\n", 2,
     "early_refresh_beta: -1.5 must be > 0"},
    {"beta_above_1000", "name: bad\nearly_refresh_beta: 1000.5\n", 2,
     "early_refresh_beta: 1000.5 is out of range (0, 1000]"},
    {"beta_infinite", "name: bad\nearly_refresh_beta: .inf\n", 2,
     "early_refresh_beta: expected a number"},
    // Issue 13: contradictions, whatever the order of the keys.
    {"single_flight_without_cache", "name: bad\nsingle_flight: true\ncache: false\n", 2,
     "single_flight: true needs a cache (cache: true)"},
    {"beta_without_cache", "name: bad\nearly_refresh_beta: 1\ncache: false\n", 2,
     "early_refresh_beta: needs a cache (cache: true)"},
    {"until_steady_without_cache", "name: bad\ncache: false\nwarmup: until_steady\n", 3,
     "warmup: until_steady needs a cache (cache: true)"},
    {"lock_ms_without_single_flight", "name: bad\nsingle_flight_lock_ms: 500\n", 2,
     "single_flight_lock_ms: needs single_flight: true"},
    {"wait_ms_with_single_flight_false",
     "name: bad\nsingle_flight_wait_ms: 50\nsingle_flight: false\n", 2,
     "single_flight_wait_ms: needs single_flight: true (this scenario has single_flight: false)"},
    {"poll_us_without_single_flight", "name: bad\nsingle_flight_poll_us: 100\n", 2,
     "single_flight_poll_us: needs single_flight: true"},
    {"window_without_until_steady", "name: bad\nwarmup_window_ops: 1000\n", 2,
     "warmup_window_ops: needs warmup: until_steady (this scenario has warmup: ops)"},
    {"steady_pct_with_warmup_ops", "name: bad\nwarmup_steady_pct: 2\nwarmup: ops\n", 2,
     "warmup_steady_pct: needs warmup: until_steady"},
    {"until_steady_one_window", "name: bad\nwarmup_ops: 5000\nwarmup: until_steady\n", 2,
     "warmup_ops: 5000 is too short to compare three windows"},
    {"until_steady_short_custom_window",
     "name: bad\nwarmup_ops: 250\nwarmup: until_steady\nwarmup_window_ops: 100\n", 2,
     "warmup_ops: 250 is too short to compare three windows of warmup_window_ops: 100"},
};

class BadInputTest : public ::testing::TestWithParam<BadInput> {};

TEST_P(BadInputTest, IsInvalidArgumentNamingFileLineAndField) {
  const BadInput& bad = GetParam();
  absl::StatusOr<Scenario> result = ParseScenario(bad.yaml, "scenarios/bad.yaml");
  ASSERT_FALSE(result.ok()) << "accepted: " << bad.yaml;
  const std::string message(result.status().message());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument) << message;
  EXPECT_THAT(message, StartsWith(absl::StrCat("scenarios/bad.yaml:", bad.line, ": ")));
  EXPECT_THAT(message, HasSubstr(bad.field));
  EXPECT_THAT(message, Not(HasSubstr("\n")));
}

INSTANTIATE_TEST_SUITE_P(Table, BadInputTest, ::testing::ValuesIn(kBadInputs),
                         [](const ::testing::TestParamInfo<BadInput>& param_info) {
                           return std::string(param_info.param.label);
                         });

TEST(BadInputTableTest, HasAtLeast25Cases) { EXPECT_GE(std::size(kBadInputs), 25u); }

TEST(ParseScenarioTest, DeepNestingIsAnErrorNotACrash) {
  const std::string text =
      absl::StrCat("name: bad\nthreads: ", std::string(20000, '['), std::string(20000, ']'), "\n");
  EXPECT_THAT(ParseScenario(text, "bad.yaml"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(StartsWith("bad.yaml:2: YAML syntax error"), HasSubstr("nested"))));
}

TEST(ParseScenarioTest, LongJunkIsShortenedAndEscaped) {
  const std::string junk(500, 'z');
  absl::StatusOr<Scenario> result =
      ParseScenario(absl::StrCat("name: bad\nread_pct: \"a\\nb", junk, "\"\n"), "bad.yaml");
  ASSERT_FALSE(result.ok());
  EXPECT_THAT(result.status().message(), AllOf(HasSubstr("a\\nb"), HasSubstr("...")));
  EXPECT_LT(result.status().message().size(), 200u);
}

// ---------------------------------------------------------------------------
// Files and folders.

class ScenarioDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) /
           absl::StrCat("scenario_loader_test_", getpid(), "_",
                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    ASSERT_TRUE(fs::create_directories(dir_));
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  void Write(const std::string& name, const std::string& text) {
    std::ofstream out(dir_ / name, std::ios::binary);
    out << text;
    ASSERT_TRUE(out.good()) << name;
  }
  std::string Path(const std::string& name) const { return (dir_ / name).string(); }

  fs::path dir_;
};

TEST_F(ScenarioDirTest, LoadsYamlFilesSortedByName) {
  Write("b_two.yaml", "name: b_two\nread_pct: 2\n");
  Write("a_one.yaml", "name: a_one\nread_pct: 1\n");
  Write("c_three.yaml", "name: c_three\nread_pct: 3\n");
  Write("notes.txt", "not a scenario");
  Write("d.yml", "not: loaded");
  Write(".#a_one.yaml", "editor lock file: skipped");
  ASSERT_TRUE(fs::create_directory(dir_ / "folder.yaml"));
  ASSERT_OK_AND_ASSIGN(std::vector<Scenario> scenarios, LoadScenarioDir(dir_.string()));
  ASSERT_EQ(scenarios.size(), 3u);
  EXPECT_EQ(scenarios[0].name, "a_one");
  EXPECT_EQ(scenarios[1].name, "b_two");
  EXPECT_EQ(scenarios[2].name, "c_three");
  EXPECT_EQ(scenarios[0].read_pct, 1);
  EXPECT_EQ(scenarios[2].read_pct, 3);
  EXPECT_EQ(scenarios[1].source_file, Path("b_two.yaml"));
}

TEST_F(ScenarioDirTest, MissingFolderIsAnErrorNamingIt) {
  const std::string missing = Path("no_such_folder");
  EXPECT_THAT(LoadScenarioDir(missing),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr(missing), HasSubstr("does not exist"))));
}

TEST_F(ScenarioDirTest, FileInsteadOfFolderIsAnError) {
  Write("a.yaml", "name: a\n");
  EXPECT_THAT(LoadScenarioDir(Path("a.yaml")),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr(Path("a.yaml")), HasSubstr("not a folder"))));
}

TEST_F(ScenarioDirTest, FolderWithoutYamlIsAnErrorNamingIt) {
  EXPECT_THAT(LoadScenarioDir(dir_.string()),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr(dir_.string()), HasSubstr("no scenario files"))));
  Write("readme.txt", "hello");
  Write("x.yml", "name: x\n");
  EXPECT_THAT(LoadScenarioDir(dir_.string()),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(dir_.string())));
}

TEST_F(ScenarioDirTest, FirstBadFileAmongGoodOnesIsReported) {
  Write("a_good.yaml", "name: a_good\n");
  Write("b_bad.yaml", "name: b_bad\nthreads: 4\nread_pct: 101\n");
  Write("c_also_bad.yaml", "name: c_also_bad\nflush: maybe\n");
  Write("d_good.yaml", "name: d_good\n");
  EXPECT_THAT(LoadScenarioDir(dir_.string()),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       StartsWith(absl::StrCat(Path("b_bad.yaml"), ":3: read_pct: 101"))));
}

TEST_F(ScenarioDirTest, StemMismatchInAFolderNamesTheFile) {
  Write("copy_of_x.yaml", "name: x\n");
  EXPECT_THAT(LoadScenarioDir(dir_.string()),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(StartsWith(absl::StrCat(Path("copy_of_x.yaml"), ":1: name:")),
                             HasSubstr("'copy_of_x'"))));
}

TEST_F(ScenarioDirTest, LoadScenarioFileErrors) {
  EXPECT_THAT(LoadScenarioFile(Path("absent.yaml")),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr(Path("absent.yaml")), HasSubstr("no such file"))));
  EXPECT_THAT(LoadScenarioFile(dir_.string()),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not a regular file")));
  Write("huge.yaml", absl::StrCat("name: huge\ndescription: ", std::string(2 << 20, 'x'), "\n"));
  EXPECT_THAT(LoadScenarioFile(Path("huge.yaml")),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("larger than")));
  Write("ok.yaml", "name: ok\nseed: 7\n");
  ASSERT_OK_AND_ASSIGN(Scenario s, LoadScenarioFile(Path("ok.yaml")));
  EXPECT_EQ(s.seed, 7u);
  EXPECT_EQ(s.source_file, Path("ok.yaml"));
}

// Trace files, found beside the scenario file x.yaml of the test's folder.
class ScenarioLoaderTraceTest : public ScenarioDirTest {
 protected:
  void SetUp() override {
    ScenarioDirTest::SetUp();
    ASSERT_TRUE(fs::create_directories(dir_ / "traces"));
  }
  absl::StatusOr<Scenario> Parse(const std::string& yaml) const {
    return ParseScenario(yaml, Path("x.yaml"));
  }
};

TEST_F(ScenarioLoaderTraceTest, RelativeAndAbsolutePathsLoadTheTrace) {
  Write("traces/ops.trace", "5\n6 w\n5 r\n");
  ASSERT_OK_AND_ASSIGN(Scenario s, Parse("name: x\naccess: trace\ntrace_file: traces/ops.trace\n"));
  ASSERT_NE(s.trace, nullptr);
  EXPECT_THAT(s.trace->passenger_ids, ElementsAre(5, 6, 5));
  EXPECT_THAT(s.trace->is_read, ElementsAre(true, false, true));
  EXPECT_EQ(s.trace->source, Path("traces/ops.trace"));
  EXPECT_EQ(s.trace_file, "traces/ops.trace");  // as written

  ASSERT_OK_AND_ASSIGN(s, Parse(absl::StrCat("name: x\naccess: trace\nread_pct: 100\n",
                                             "trace_file: ", Path("traces/ops.trace"), "\n")));
  EXPECT_EQ(s.read_pct, 100);
  EXPECT_EQ(s.trace->passenger_ids.size(), 3u);

  // LoadScenarioFile() resolves against the file's folder as well.
  Write("x.yaml", "name: x\naccess: trace\ntrace_file: traces/ops.trace\n");
  ASSERT_OK_AND_ASSIGN(s, LoadScenarioFile(Path("x.yaml")));
  EXPECT_EQ(s.trace->distinct_keys, 2);
}

TEST_F(ScenarioLoaderTraceTest, TwitterTraceLoads) {
  Write("t.csv", "0,a,1,1,1,get,0\n1,b,1,1,1,set,0\n2,a,1,1,1,gets,0\n");
  ASSERT_OK_AND_ASSIGN(Scenario s, Parse("name: x\naccess: trace\ntrace_file: t.csv\n"));
  EXPECT_THAT(s.trace->passenger_ids, ElementsAre(1, 2, 1));
  EXPECT_THAT(s.trace->is_read, ElementsAre(true, false, true));
}

TEST_F(ScenarioLoaderTraceTest, MissingEmptyAndMalformedTracesAreOneLineErrors) {
  const std::string x = Path("x.yaml");
  EXPECT_THAT(
      Parse("name: x\naccess: trace\n\ntrace_file: gone.trace\n"),
      StatusIs(absl::StatusCode::kInvalidArgument,
               absl::StrCat(x, ":4: trace_file: '", Path("gone.trace"), "': no such file")));
  EXPECT_THAT(
      Parse("name: x\naccess: trace\ntrace_file: traces\n"),
      StatusIs(absl::StatusCode::kInvalidArgument,
               absl::StrCat(x, ":3: trace_file: '", Path("traces"), "': not a regular file")));
  Write("empty.trace", "");
  EXPECT_THAT(
      Parse("name: x\naccess: trace\ntrace_file: empty.trace\n"),
      StatusIs(absl::StatusCode::kInvalidArgument,
               AllOf(StartsWith(absl::StrCat(x, ":3: trace_file: ", Path("empty.trace"), ":1: ")),
                     HasSubstr("no operations"), Not(HasSubstr("\n")))));
  Write("bad.trace", "1\n2\n3 maybe\n4\n");
  EXPECT_THAT(Parse("name: x\ntrace_file: bad.trace\naccess: trace\n"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(StartsWith(absl::StrCat(x, ":2: trace_file: ", Path("bad.trace"),
                                                     ":3: expected r or w")),
                             HasSubstr("'maybe'"), Not(HasSubstr("\n")))));
  Write("bad.csv", "0,a,1,1,1,get,0\n0,a,1,1,1,touch,0\n");
  EXPECT_THAT(Parse("name: x\naccess: trace\ntrace_file: bad.csv\n"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       StartsWith(absl::StrCat(x, ":3: trace_file: ", Path("bad.csv"),
                                               ":2: operation: unknown 'touch'"))));
}

}  // namespace
}  // namespace cabench
