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
  EXPECT_THAT(names, ElementsAre("concurrency", "no_cache_baseline", "pool_exhaustion",
                                 "random_balanced", "read_heavy", "short_ttl", "steady_load",
                                 "thread_sweep"));
}

// One row of the documented scenario values (seed/performance-testing.md).
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
    EXPECT_EQ(s.baseline_no_cache, d.name == "concurrency" || d.name == "read_heavy" ||
                                       d.name == "random_balanced");
    EXPECT_EQ(s.rate_per_s, 0);  // the seed's scenarios stay closed-loop
  }
}

// ---------------------------------------------------------------------------
// Accepted input.

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
    {"pool_end_overflows",
     "name: bad\npool_first_id: 9223372036854775807\npool_size: 2\n", 3, "pool_size"},
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
    {"access_unknown", "name: bad\naccess: zipf\n", 2, "access"},
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

TEST(BadInputTableTest, HasAtLeast25Cases) {
  EXPECT_GE(std::size(kBadInputs), 25u);
}

TEST(ParseScenarioTest, DeepNestingIsAnErrorNotACrash) {
  const std::string text = absl::StrCat("name: bad\nthreads: ", std::string(20000, '['),
                                        std::string(20000, ']'), "\n");
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

}  // namespace
}  // namespace cabench
