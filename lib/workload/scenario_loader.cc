#include "lib/workload/scenario_loader.h"

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <map>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "yaml-cpp/depthguard.h"
#include "yaml-cpp/eventhandler.h"
#include "yaml-cpp/parser.h"
#include "yaml-cpp/yaml.h"

namespace cabench {
namespace {

namespace fs = std::filesystem;

constexpr std::uintmax_t kMaxFileBytes = 1 << 20;
constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();
constexpr uint64_t kUint64Max = std::numeric_limits<uint64_t>::max();

constexpr const char* kKnownKeys[] = {
    "name",          "description", "threads",        "queries_per_thread",
    "read_pct",      "cache",       "ttl_ms",         "ttl_jitter_pct",
    "write_policy",  "access",      "pool_size",      "pool_first_id",
    "key_prefix",    "flush",       "warmup_ops",     "clean_end",
    "seed",          "fallback_to_db", "rate_per_s",  "arrival",
    "baseline",      "db_pool_size",   "db_pool_timeout_ms"};

// yaml-cpp tags: "?" is a plain (unquoted) scalar, "!" a quoted one.
constexpr absl::string_view kPlainTag = "?";
constexpr absl::string_view kIntTag = "tag:yaml.org,2002:int";
constexpr absl::string_view kBoolTag = "tag:yaml.org,2002:bool";

// A scalar written as a number or boolean: plain, or with YAML's explicit
// !!int / !!bool tag. A quoted "80" is a string and stays one.
bool IsPlainOrTagged(const YAML::Node& node, absl::string_view tag) {
  return node.IsScalar() && (node.Tag() == kPlainTag || node.Tag() == tag);
}

// Quotes user text for a one-line message: escapes newlines and control
// characters, and cuts long values so the message stays readable.
std::string Quote(absl::string_view text) {
  constexpr size_t kMaxShown = 40;
  std::string shown = absl::CHexEscape(text.substr(0, kMaxShown));
  if (text.size() > kMaxShown) absl::StrAppend(&shown, "...");
  return absl::StrCat("'", shown, "'");
}

// What a value is, for "expected X, got Y" messages.
std::string Describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
      return "nothing (null)";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a map";
    case YAML::NodeType::Scalar:
      if (node.Tag() == kPlainTag) return Quote(node.Scalar());
      if (node.Tag() == "!") return absl::StrCat("the quoted string ", Quote(node.Scalar()));
      return absl::StrCat(Quote(node.Scalar()), " tagged ", node.Tag());
    default:
      return "an undefined value";
  }
}

// A decimal integer as written, before range checks. Keeping sign and
// magnitude apart lets one parser serve both int64 and uint64 fields and
// report "-1" for an unsigned field as out of range rather than as junk.
struct DecimalInt {
  bool negative = false;
  uint64_t magnitude = 0;
  bool overflow = false;  // more than 20 digits' worth: out of every range
};

// Strict: optional '-', then digits with no leading zero. yaml-cpp's as<int>
// would accept "0x10", "+5" and YAML 1.1 octal "010"; a scenario should not.
bool ParseDecimal(absl::string_view text, DecimalInt* out) {
  *out = DecimalInt();
  size_t i = 0;
  if (!text.empty() && text[0] == '-') {
    out->negative = true;
    i = 1;
  }
  if (i == text.size()) return false;
  if (text[i] == '0' && text.size() - i > 1) return false;
  for (; i < text.size(); ++i) {
    const char c = text[i];
    if (c < '0' || c > '9') return false;
    const uint64_t digit = static_cast<uint64_t>(c - '0');
    if (out->magnitude > (kUint64Max - digit) / 10) {
      out->overflow = true;
    } else {
      out->magnitude = out->magnitude * 10 + digit;
    }
  }
  return true;
}

bool InRange(const DecimalInt& v, int64_t lo, uint64_t hi) {
  if (v.overflow) return false;
  if (v.negative && v.magnitude != 0) {
    if (lo >= 0) return false;
    // -(lo + 1) + 1 is |lo| without overflowing at INT64_MIN.
    const uint64_t max_magnitude = static_cast<uint64_t>(-(lo + 1)) + 1;
    return v.magnitude <= max_magnitude;
  }
  return v.magnitude <= hi && (lo <= 0 || v.magnitude >= static_cast<uint64_t>(lo));
}

// Only called after InRange() with hi <= INT64_MAX.
int64_t ToInt64(const DecimalInt& v) {
  if (!v.negative || v.magnitude == 0) return static_cast<int64_t>(v.magnitude);
  return -static_cast<int64_t>(v.magnitude - 1) - 1;
}

// Records where each YAML document starts (yaml-cpp's event interface).
struct DocumentStarts : YAML::EventHandler {
  void OnDocumentStart(const YAML::Mark& mark) override { marks.push_back(mark); }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}

  std::vector<YAML::Mark> marks;
};

// Parses one scenario document. Errors name the file, a 1-based line and
// the key. Values of a map entry are reported at the key's line: yaml-cpp
// marks an empty value at the following line and an alias at its anchor.
class ScenarioParser {
 public:
  explicit ScenarioParser(std::string file) : file_(std::move(file)) {}

  absl::Status Error(int line, absl::string_view message) const {
    return absl::InvalidArgumentError(absl::StrCat(file_, ":", line, ": ", message));
  }

  // 1-based line of `node`, or `fallback` when yaml-cpp has no mark for it.
  static int LineOf(const YAML::Node& node, int fallback) {
    const int line = node.Mark().line;
    return line >= 0 ? line + 1 : fallback;
  }

  absl::StatusOr<Scenario> Parse(absl::string_view text, absl::string_view stem);

 private:
  absl::Status ApplyKey(const std::string& key, const YAML::Node& value, int line,
                        Scenario* scenario);

  // Reads an integer in lo..hi. `expected` completes "expected ..." in the
  // type error ("an integer" or "an integer or a list of integers").
  absl::Status ReadInteger(absl::string_view key, const YAML::Node& value, int line,
                           int64_t lo, uint64_t hi, absl::string_view expected,
                           DecimalInt* out) const;
  absl::Status ReadInt64(absl::string_view key, const YAML::Node& value, int line,
                         int64_t lo, int64_t hi, int64_t* out) const;
  absl::Status ReadInt(absl::string_view key, const YAML::Node& value, int line, int lo,
                       int hi, int* out) const;
  absl::Status ReadBool(absl::string_view key, const YAML::Node& value, int line,
                        bool* out) const;
  absl::Status ReadString(absl::string_view key, const YAML::Node& value, int line,
                          std::string* out) const;
  absl::Status ReadThreads(const YAML::Node& value, int line, std::vector<int>* out) const;

  std::string file_;
};

absl::Status ScenarioParser::ReadInteger(absl::string_view key, const YAML::Node& value,
                                         int line, int64_t lo, uint64_t hi,
                                         absl::string_view expected, DecimalInt* out) const {
  if (!IsPlainOrTagged(value, kIntTag) || !ParseDecimal(value.Scalar(), out)) {
    return Error(line, absl::StrCat(key, ": expected ", expected, ", got ", Describe(value)));
  }
  if (!InRange(*out, lo, hi)) {
    return Error(line, absl::StrCat(key, ": ", value.Scalar(), " is out of range ", lo, "..", hi));
  }
  return absl::OkStatus();
}

absl::Status ScenarioParser::ReadInt64(absl::string_view key, const YAML::Node& value, int line,
                                       int64_t lo, int64_t hi, int64_t* out) const {
  DecimalInt v;
  absl::Status s =
      ReadInteger(key, value, line, lo, static_cast<uint64_t>(hi), "an integer", &v);
  if (!s.ok()) return s;
  *out = ToInt64(v);
  return absl::OkStatus();
}

absl::Status ScenarioParser::ReadInt(absl::string_view key, const YAML::Node& value, int line,
                                     int lo, int hi, int* out) const {
  int64_t v = 0;
  absl::Status s = ReadInt64(key, value, line, lo, hi, &v);
  if (s.ok()) *out = static_cast<int>(v);
  return s;
}

absl::Status ScenarioParser::ReadBool(absl::string_view key, const YAML::Node& value, int line,
                                      bool* out) const {
  // YAML 1.1 (and yaml-cpp's as<bool>) also take yes/no/on/off/y/n; in a
  // benchmark file "no" more often means a typo than a decision.
  if (IsPlainOrTagged(value, kBoolTag)) {
    if (value.Scalar() == "true") {
      *out = true;
      return absl::OkStatus();
    }
    if (value.Scalar() == "false") {
      *out = false;
      return absl::OkStatus();
    }
  }
  return Error(line, absl::StrCat(key, ": expected true or false, got ", Describe(value)));
}

absl::Status ScenarioParser::ReadString(absl::string_view key, const YAML::Node& value, int line,
                                        std::string* out) const {
  if (!value.IsScalar()) {
    return Error(line, absl::StrCat(key, ": expected a string, got ", Describe(value)));
  }
  *out = value.Scalar();
  return absl::OkStatus();
}

absl::Status ScenarioParser::ReadThreads(const YAML::Node& value, int line,
                                         std::vector<int>* out) const {
  constexpr absl::string_view kExpected = "an integer or a list of integers";
  constexpr int kMinThreads = 1;
  constexpr int kMaxThreads = 1024;
  std::vector<int> threads;
  if (value.IsSequence()) {
    if (value.size() == 0) return Error(line, "threads: the list is empty");
    std::map<int, int> first_line;  // thread count -> line it was listed at
    for (const YAML::Node& item : value) {
      const int item_line = LineOf(item, line);
      DecimalInt v;
      absl::Status s =
          ReadInteger("threads", item, item_line, kMinThreads, kMaxThreads, kExpected, &v);
      if (!s.ok()) return s;
      const int n = static_cast<int>(ToInt64(v));
      auto [it, inserted] = first_line.emplace(n, item_line);
      if (!inserted) {
        return Error(item_line,
                     absl::StrCat("threads: ", n, " is listed twice (first at line ",
                                  it->second, ")"));
      }
      threads.push_back(n);
    }
  } else {
    DecimalInt v;
    absl::Status s = ReadInteger("threads", value, line, kMinThreads, kMaxThreads, kExpected, &v);
    if (!s.ok()) return s;
    threads.push_back(static_cast<int>(ToInt64(v)));
  }
  *out = std::move(threads);
  return absl::OkStatus();
}

absl::Status ScenarioParser::ApplyKey(const std::string& key, const YAML::Node& value, int line,
                                      Scenario* sc) {
  if (key == "name") return ReadString(key, value, line, &sc->name);
  if (key == "description") return ReadString(key, value, line, &sc->description);
  if (key == "threads") return ReadThreads(value, line, &sc->threads);
  if (key == "queries_per_thread") {
    return ReadInt64(key, value, line, 1, 1'000'000'000, &sc->queries_per_thread);
  }
  if (key == "read_pct") return ReadInt(key, value, line, 0, 100, &sc->read_pct);
  if (key == "cache") return ReadBool(key, value, line, &sc->cache);
  if (key == "ttl_ms") return ReadInt64(key, value, line, 1, 10'000'000'000, &sc->ttl_ms);
  if (key == "ttl_jitter_pct") return ReadInt(key, value, line, 0, 90, &sc->ttl_jitter_pct);
  if (key == "write_policy" || key == "access") {
    const bool is_policy = key == "write_policy";
    const char* first = is_policy ? "refresh" : "pool";
    const char* second = is_policy ? "invalidate" : "random";
    if (value.IsScalar() && (value.Scalar() == first || value.Scalar() == second)) {
      const bool is_first = value.Scalar() == first;
      if (is_policy) {
        sc->write_policy = is_first ? WritePolicy::kRefresh : WritePolicy::kInvalidate;
      } else {
        sc->access = is_first ? AccessMode::kPool : AccessMode::kRandom;
      }
      return absl::OkStatus();
    }
    return Error(line, absl::StrCat(key, ": expected ", first, " or ", second, ", got ",
                                    Describe(value)));
  }
  if (key == "pool_size") return ReadInt64(key, value, line, 1, kInt64Max, &sc->pool_size);
  if (key == "pool_first_id") {
    return ReadInt64(key, value, line, 1, kInt64Max, &sc->pool_first_id);
  }
  if (key == "key_prefix") {
    std::string prefix;
    absl::Status s = ReadString(key, value, line, &prefix);
    if (!s.ok()) return s;
    constexpr size_t kMaxPrefix = 100;
    if (prefix.empty()) return Error(line, "key_prefix: must not be empty");
    if (prefix.size() > kMaxPrefix) {
      return Error(line, absl::StrCat("key_prefix: ", prefix.size(),
                                      " characters is longer than the limit of ", kMaxPrefix));
    }
    // Printable ASCII without space: the prefix is also a SCAN MATCH
    // pattern and appears in logs, so nothing that needs quoting.
    for (char c : prefix) {
      if (c <= ' ' || c > '~') {
        return Error(line, absl::StrCat("key_prefix: ", Quote(prefix),
                                        " may hold only printable ASCII without spaces"));
      }
    }
    sc->key_prefix = std::move(prefix);
    return absl::OkStatus();
  }
  if (key == "flush") return ReadBool(key, value, line, &sc->flush);
  if (key == "fallback_to_db") return ReadBool(key, value, line, &sc->fallback_to_db);
  if (key == "warmup_ops") return ReadInt64(key, value, line, 0, kInt64Max, &sc->warmup_ops);
  if (key == "clean_end") return ReadBool(key, value, line, &sc->clean_end);
  if (key == "rate_per_s") {
    return ReadInt64(key, value, line, 1, 100'000'000, &sc->rate_per_s);
  }
  if (key == "arrival") {
    if (value.IsScalar() && (value.Scalar() == "poisson" || value.Scalar() == "uniform")) {
      sc->arrival = value.Scalar() == "poisson" ? Arrival::kPoisson : Arrival::kUniform;
      return absl::OkStatus();
    }
    return Error(line, absl::StrCat(key, ": expected poisson or uniform, got ", Describe(value)));
  }
  if (key == "baseline") {
    if (value.IsScalar() && value.Scalar() == "no_cache") {
      sc->baseline_no_cache = true;
      return absl::OkStatus();
    }
    return Error(line, absl::StrCat(key, ": expected no_cache (the only baseline there is), got ",
                                    Describe(value)));
  }
  if (key == "db_pool_size") return ReadInt(key, value, line, 1, 10'000, &sc->db_pool_size);
  if (key == "db_pool_timeout_ms") {
    return ReadInt64(key, value, line, 1, 3'600'000, &sc->db_pool_timeout_ms);
  }
  if (key == "seed") {
    DecimalInt v;
    absl::Status s = ReadInteger(key, value, line, 0, kUint64Max, "an integer", &v);
    if (s.ok()) sc->seed = v.magnitude;
    return s;
  }
  return Error(line, absl::StrCat("unknown key ", Quote(key), " (known keys: ",
                                  absl::StrJoin(kKnownKeys, ", "), ")"));
}

bool IsSnakeName(absl::string_view name) {
  if (name.empty() || name[0] < 'a' || name[0] > 'z') return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

absl::StatusOr<Scenario> ScenarioParser::Parse(absl::string_view text, absl::string_view stem) {
  const std::string owned(text);
  // Documents are counted with a bounded loop of our own, never with
  // YAML::LoadAll(): yaml-cpp 0.7.0 reports a stray ',' at the top level as
  // an endless series of empty documents that start at the same place, and
  // LoadAll() then never returns (yaml-cpp issue #1040, found by
  // bench/fuzz/scenario_fuzzer.cc).
  {
    DocumentStarts starts;
    std::istringstream in(owned);
    YAML::Parser parser(in);
    for (int i = 0; i < 3 && parser.HandleNextDocument(starts); ++i) {
    }
    const std::vector<YAML::Mark>& m = starts.marks;
    for (size_t i = 0; i + 1 < m.size(); ++i) {
      if (m[i].pos == m[i + 1].pos) {  // no progress: a token yaml-cpp cannot place
        const size_t pos = static_cast<size_t>(std::max(0, m[i].pos));
        return Error(m[i].line + 1,
                     absl::StrCat("YAML syntax error: unexpected ",
                                  Quote(pos < owned.size() ? absl::string_view(&owned[pos], 1)
                                                           : absl::string_view("end of file")),
                                  " at the top level"));
      }
    }
    if (m.size() > 1) {
      return Error(m[1].line + 1,
                   "a second YAML document ('---'); a scenario file holds one map");
    }
  }
  const YAML::Node root = YAML::Load(owned);  // one document: bounded
  if (root.IsNull()) {
    return Error(1, "the file is empty; a scenario is a map with at least a 'name' key");
  }
  const int root_line = LineOf(root, 1);
  if (!root.IsMap()) {
    return Error(root_line, absl::StrCat("expected a map of scenario keys at the top level, got ",
                                         Describe(root)));
  }

  Scenario scenario;
  std::map<std::string, int> key_lines;  // key -> line, to find duplicates
  for (auto it = root.begin(); it != root.end(); ++it) {
    // Copies: yaml-cpp's operator-> returns a temporary proxy, so a
    // reference to it->first would dangle. A Node copy is a cheap handle.
    const YAML::Node key_node = it->first;
    const YAML::Node value = it->second;
    const int line = LineOf(key_node, root_line);
    if (!key_node.IsScalar()) {
      return Error(line, absl::StrCat("expected a key name, got ", Describe(key_node)));
    }
    const std::string& key = key_node.Scalar();
    auto [seen, inserted] = key_lines.emplace(key, line);
    if (!inserted) {
      return Error(line, absl::StrCat("duplicate key ", Quote(key), " (first at line ",
                                      seen->second, ")"));
    }
    absl::Status s = ApplyKey(key, value, line, &scenario);
    if (!s.ok()) return s;
  }

  auto name_line = key_lines.find("name");
  if (name_line == key_lines.end()) {
    return Error(root_line, absl::StrCat("name: missing; every scenario needs one",
                                         stem.empty() ? "" : absl::StrCat(" (name: ", stem, ")")));
  }
  if (!IsSnakeName(scenario.name)) {
    return Error(name_line->second,
                 absl::StrCat("name: ", Quote(scenario.name),
                              " must be lowercase letters, digits and '_', starting with a letter"));
  }
  if (!stem.empty() && scenario.name != stem) {
    return Error(name_line->second,
                 absl::StrCat("name: ", Quote(scenario.name), " differs from the file name stem ",
                              Quote(stem)));
  }
  // Keys that contradict each other.
  auto line_of = [&](const char* key) { return key_lines.find(key)->second; };
  if (key_lines.count("arrival") && scenario.rate_per_s == 0) {
    return Error(line_of("arrival"),
                 "arrival: needs rate_per_s (an arrival process is for an open-loop run)");
  }
  if (scenario.baseline_no_cache && !scenario.cache) {
    return Error(line_of("baseline"),
                 "baseline: no_cache compares a run with a cache to its twin without one; this "
                 "scenario has cache: false");
  }
  if (key_lines.count("db_pool_timeout_ms") && scenario.db_pool_size == 0) {
    return Error(line_of("db_pool_timeout_ms"),
                 "db_pool_timeout_ms: needs db_pool_size (without a pool each thread has its own "
                 "connection)");
  }
  if (scenario.db_pool_size > 0) {
    const int fewest = *std::min_element(scenario.threads.begin(), scenario.threads.end());
    if (scenario.db_pool_size > fewest) {
      return Error(line_of("db_pool_size"),
                   absl::StrCat("db_pool_size: ", scenario.db_pool_size,
                                " connections for ", fewest,
                                " thread(s): a pool larger than the threads is no bound"));
    }
  }
  if (scenario.pool_first_id - 1 > kInt64Max - scenario.pool_size) {
    auto where = key_lines.find("pool_size");
    if (where == key_lines.end()) where = key_lines.find("pool_first_id");
    return Error(where->second,
                 absl::StrCat("pool_size: pool_first_id ", scenario.pool_first_id,
                              " + pool_size ", scenario.pool_size,
                              " - 1 does not fit in a 64-bit id"));
  }
  return scenario;
}

// yaml-cpp messages are one line already; this keeps that true whatever a
// future version says.
std::string OneLine(std::string text) {
  std::replace(text.begin(), text.end(), '\n', ' ');
  return text;
}

// This abseil build has its own string_view type, which StrCat takes and
// std::string_view does not convert to.
absl::string_view ToAbsl(std::string_view s) { return absl::string_view(s.data(), s.size()); }

}  // namespace

absl::StatusOr<Scenario> ParseScenario(std::string_view yaml_text, std::string_view file_name) {
  const std::string file = file_name.empty() ? "<string>" : std::string(file_name);
  const std::string stem =
      file_name.empty() ? std::string() : fs::path(std::string(file_name)).stem().string();
  ScenarioParser parser(file);
  try {
    absl::StatusOr<Scenario> scenario = parser.Parse(ToAbsl(yaml_text), stem);
    if (scenario.ok()) scenario->source_file = std::string(file_name);
    return scenario;
  } catch (const YAML::DeepRecursion& e) {
    // yaml-cpp's own text for this is "bad file".
    return parser.Error(e.mark.line >= 0 ? e.mark.line + 1 : 1,
                        absl::StrCat("YAML syntax error: nested more than ", e.depth(),
                                     " levels deep"));
  } catch (const YAML::ParserException& e) {
    return parser.Error(e.mark.line >= 0 ? e.mark.line + 1 : 1,
                        absl::StrCat("YAML syntax error: ", OneLine(e.msg)));
  } catch (const YAML::Exception& e) {
    return parser.Error(e.mark.line >= 0 ? e.mark.line + 1 : 1,
                        absl::StrCat("YAML error: ", OneLine(e.msg)));
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat(file, ": unexpected error while parsing: ", OneLine(e.what())));
  }
}

absl::StatusOr<Scenario> LoadScenarioFile(const std::string& path) {
  try {
    std::error_code ec;
    const fs::file_status status = fs::status(path, ec);
    if (!fs::exists(status)) {
      return absl::InvalidArgumentError(absl::StrCat(path, ": cannot read: no such file"));
    }
    if (!fs::is_regular_file(status)) {
      return absl::InvalidArgumentError(absl::StrCat(path, ": cannot read: not a regular file"));
    }
    const std::uintmax_t size = fs::file_size(path, ec);
    if (!ec && size > kMaxFileBytes) {
      return absl::InvalidArgumentError(absl::StrCat(
          path, ": cannot read: ", size, " bytes is larger than the 1 MiB a scenario may have"));
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": cannot read: ", std::strerror(errno)));
    }
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (in.bad()) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": cannot read: ", std::strerror(errno)));
    }
    return ParseScenario(text, path);
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": cannot read: ", e.what()));
  }
}

absl::StatusOr<std::vector<Scenario>> LoadScenarioDir(const std::string& dir) {
  std::vector<std::string> names;
  try {
    std::error_code ec;
    const fs::file_status status = fs::status(dir, ec);
    if (!fs::exists(status)) {
      return absl::InvalidArgumentError(
          absl::StrCat(dir, ": scenario folder does not exist"));
    }
    if (!fs::is_directory(status)) {
      return absl::InvalidArgumentError(absl::StrCat(dir, ": not a folder"));
    }
    fs::directory_iterator it(dir, ec);
    for (; !ec && it != fs::directory_iterator(); it.increment(ec)) {
      const std::string name = it->path().filename().string();
      if (name.empty() || name[0] == '.' || it->path().extension() != ".yaml") continue;
      std::error_code type_ec;
      if (it->is_directory(type_ec)) continue;
      names.push_back(name);
    }
    if (ec) {
      return absl::InvalidArgumentError(
          absl::StrCat(dir, ": cannot read the scenario folder: ", ec.message()));
    }
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat(dir, ": cannot read the scenario folder: ", e.what()));
  }
  if (names.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(dir, ": no scenario files (*.yaml) in the folder"));
  }
  std::sort(names.begin(), names.end());
  std::vector<Scenario> scenarios;
  scenarios.reserve(names.size());
  for (const std::string& name : names) {
    absl::StatusOr<Scenario> scenario = LoadScenarioFile((fs::path(dir) / name).string());
    if (!scenario.ok()) return scenario.status();
    scenarios.push_back(*std::move(scenario));
  }
  return scenarios;
}

}  // namespace cabench
