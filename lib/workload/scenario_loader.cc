#include "lib/workload/scenario_loader.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <map>
#include <memory>
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
#include "lib/workload/key_trace.h"
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

// clang-format off
constexpr const char* kKnownKeys[] = {
    "name",              "description",           "threads",               "queries_per_thread",
    "read_pct",          "cache",                 "ttl_ms",                "ttl_jitter_pct",
    "write_policy",      "access",                "pool_size",             "pool_first_id",
    "key_prefix",        "flush",                 "warmup_ops",            "clean_end",
    "seed",              "fallback_to_db",        "rate_per_s",            "arrival",
    "baseline",          "db_pool_size",          "db_pool_timeout_ms",    "zipf_s",
    "hot_keys_pct",      "hot_ops_pct",           "trace_file",            "cache_max_memory",
    "cache_keys_pct",
    "eviction_policy",   "warmup",                "warmup_window_ops",     "warmup_steady_pct",
    "single_flight",     "single_flight_lock_ms", "single_flight_wait_ms", "single_flight_poll_us",
    "early_refresh_beta"};
// clang-format on

// Redis's maxmemory-policy values (redis.conf).
constexpr const char* kEvictionPolicies[] = {"noeviction",      "allkeys-lru",  "allkeys-lfu",
                                             "allkeys-random",  "volatile-lru", "volatile-lfu",
                                             "volatile-random", "volatile-ttl"};

// The word for `mode` in scenario files and messages.
const char* WarmupName(WarmupMode mode) {
  return mode == WarmupMode::kUntilSteady ? "until_steady" : "ops";
}

// cache_max_memory, the room for a run's keys: below 16 KiB it holds fewer
// than ~100 keys; above 1 TiB is a typo.
constexpr int64_t kMinMaxMemory = int64_t{16} << 10;
constexpr int64_t kMaxMaxMemory = int64_t{1} << 40;

// yaml-cpp tags: "?" is a plain (unquoted) scalar, "!" a quoted one.
constexpr absl::string_view kPlainTag = "?";
constexpr absl::string_view kIntTag = "tag:yaml.org,2002:int";
constexpr absl::string_view kBoolTag = "tag:yaml.org,2002:bool";
constexpr absl::string_view kFloatTag = "tag:yaml.org,2002:float";

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

// Strict decimal: optional '-', digits without a leading zero, an optional
// fraction and an optional exponent ("0.99", "2", "1.5e-3"). No "+1", ".5",
// "5.", "0x1p3", ".inf" or ".nan": a benchmark parameter is a plain number.
// std::from_chars reads it exactly as the C locale would, whatever the
// process's locale.
bool ParseDecimalDouble(absl::string_view text, double* out) {
  size_t i = 0;
  const auto digits = [&]() {
    const size_t start = i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
    return i - start;
  };
  if (i < text.size() && text[i] == '-') ++i;
  const size_t int_start = i;
  const size_t int_digits = digits();
  if (int_digits == 0 || (int_digits > 1 && text[int_start] == '0')) return false;
  if (i < text.size() && text[i] == '.') {
    ++i;
    if (digits() == 0) return false;
  }
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    if (i < text.size() && (text[i] == '-' || text[i] == '+')) ++i;
    if (digits() == 0) return false;
  }
  if (i != text.size()) return false;
  const std::from_chars_result r = std::from_chars(text.data(), text.data() + text.size(), *out);
  // Out of double's range (1e999) parses as no number at all: out of every
  // range a key has.
  if (r.ec == std::errc::result_out_of_range) *out = std::numeric_limits<double>::infinity();
  return r.ptr == text.data() + text.size();
}

// A memory size as redis.conf writes one: digits, then optionally a unit b,
// kb, mb or gb in any case ("32mb", "1GB", "100000"), with no blanks or
// sign. The units are powers of 1024. Redis's k, m and g mean powers of 1000;
// they are refused rather than guessed (*why says so). Sets *bytes (clamped
// to INT64_MAX on overflow, which is out of every range).
bool ParseMemorySize(absl::string_view text, int64_t* bytes, std::string* why) {
  size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  if (digits == 0) {
    *why = "expected a size in bytes, or a whole number with a unit b, kb, mb or gb";
    return false;
  }
  std::string unit(text.substr(digits));
  for (char& c : unit) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  int shift;
  if (unit.empty() || unit == "b") {
    shift = 0;
  } else if (unit == "kb") {
    shift = 10;
  } else if (unit == "mb") {
    shift = 20;
  } else if (unit == "gb") {
    shift = 30;
  } else if (unit == "k" || unit == "m" || unit == "g") {
    *why = absl::StrCat("unit '", unit, "' is ambiguous (Redis reads it as a power of 1000); ",
                        "write ", unit, "b for a power of 1024");
    return false;
  } else {
    *why = absl::StrCat("unknown unit ", Quote(text.substr(digits)), " (b, kb, mb or gb)");
    return false;
  }
  uint64_t v = 0;
  bool overflow = false;
  for (size_t i = 0; i < digits; ++i) {
    const uint64_t digit = static_cast<uint64_t>(text[i] - '0');
    if (v > (static_cast<uint64_t>(kInt64Max) - digit) / 10) {
      overflow = true;
      break;
    }
    v = v * 10 + digit;
  }
  if (overflow || v > (static_cast<uint64_t>(kInt64Max) >> shift)) {
    *bytes = kInt64Max;
  } else {
    *bytes = static_cast<int64_t>(v << shift);
  }
  return true;
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
  // `dir`: the folder relative trace_file paths start from ("" for the
  // working directory).
  ScenarioParser(std::string file, fs::path dir) : file_(std::move(file)), dir_(std::move(dir)) {}

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
  absl::Status ReadInteger(absl::string_view key, const YAML::Node& value, int line, int64_t lo,
                           uint64_t hi, absl::string_view expected, DecimalInt* out) const;
  absl::Status ReadInt64(absl::string_view key, const YAML::Node& value, int line, int64_t lo,
                         int64_t hi, int64_t* out) const;
  absl::Status ReadInt(absl::string_view key, const YAML::Node& value, int line, int lo, int hi,
                       int* out) const;
  // Reads a number (integer or decimal fraction) in (lo, hi] when
  // `lo_open`, else in [lo, hi].
  absl::Status ReadDouble(absl::string_view key, const YAML::Node& value, int line, double lo,
                          bool lo_open, double hi, double* out) const;
  absl::Status ReadBool(absl::string_view key, const YAML::Node& value, int line, bool* out) const;
  absl::Status ReadString(absl::string_view key, const YAML::Node& value, int line,
                          std::string* out) const;
  absl::Status ReadThreads(const YAML::Node& value, int line, std::vector<int>* out) const;
  // A key that may also be a list of values (a sweep: ttl_ms,
  // cache_max_memory): each item is read as ApplyKey reads the key, into
  // *first; the list goes to *all and its first item stays in *first.
  absl::Status ReadSweep(const std::string& key, const YAML::Node& value, int line, Scenario* sc,
                         int64_t* first, std::vector<int64_t>* all);
  // The keys of access modes: contradictions, then the trace.
  absl::Status CheckAccess(const std::map<std::string, int>& key_lines, Scenario* sc) const;
  // The keys of warm-up until steady and of the stampede mitigations
  // (single_flight, early_refresh_beta): keys without the mode they belong
  // to, modes without a cache, a warm-up cap shorter than three windows.
  absl::Status CheckWarmupAndStampede(const std::map<std::string, int>& key_lines,
                                      const Scenario& sc) const;

  std::string file_;
  fs::path dir_;
};

absl::Status ScenarioParser::ReadInteger(absl::string_view key, const YAML::Node& value, int line,
                                         int64_t lo, uint64_t hi, absl::string_view expected,
                                         DecimalInt* out) const {
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
  absl::Status s = ReadInteger(key, value, line, lo, static_cast<uint64_t>(hi), "an integer", &v);
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

absl::Status ScenarioParser::ReadDouble(absl::string_view key, const YAML::Node& value, int line,
                                        double lo, bool lo_open, double hi, double* out) const {
  const bool tagged = IsPlainOrTagged(value, kFloatTag) || IsPlainOrTagged(value, kIntTag);
  double v = 0;
  if (!tagged || !ParseDecimalDouble(value.Scalar(), &v)) {
    return Error(line, absl::StrCat(key, ": expected a number, got ", Describe(value)));
  }
  if ((lo_open ? v <= lo : v < lo) || v > hi) {
    return Error(line, absl::StrCat(key, ": ", value.Scalar(), " is out of range ",
                                    lo_open ? absl::StrCat("(", lo, ", ", hi, "]")
                                            : absl::StrCat(lo, "..", hi)));
  }
  *out = v;
  return absl::OkStatus();
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
        return Error(item_line, absl::StrCat("threads: ", n, " is listed twice (first at line ",
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

absl::Status ScenarioParser::ReadSweep(const std::string& key, const YAML::Node& value, int line,
                                       Scenario* sc, int64_t* first, std::vector<int64_t>* all) {
  if (!value.IsSequence()) return ApplyKey(key, value, line, sc);
  if (value.size() == 0) return Error(line, absl::StrCat(key, ": the list is empty"));
  std::map<int64_t, int> first_line;  // value -> line it was listed at
  std::vector<int64_t> values;
  for (const YAML::Node& item : value) {
    const int item_line = LineOf(item, line);
    if (item.IsSequence() || item.IsMap()) {
      return Error(item_line,
                   absl::StrCat(key, ": a list item must be a single value, got ", Describe(item)));
    }
    if (absl::Status s = ApplyKey(key, item, item_line, sc); !s.ok()) return s;
    auto [it, inserted] = first_line.emplace(*first, item_line);
    if (!inserted) {
      return Error(item_line, absl::StrCat(key, ": ", item.Scalar(),
                                           " is listed twice (first at line ", it->second, ")"));
    }
    values.push_back(*first);
  }
  *first = values.front();
  *all = std::move(values);
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
  if (key == "write_policy") {
    struct Named {
      const char* word;
      WritePolicy policy;
    };
    constexpr Named kPolicies[] = {{"refresh", WritePolicy::kRefresh},
                                   {"invalidate", WritePolicy::kInvalidate},
                                   {"ttl_only", WritePolicy::kTtlOnly}};
    for (const Named& named : kPolicies) {
      if (value.IsScalar() && value.Scalar() == named.word) {
        sc->write_policy = named.policy;
        return absl::OkStatus();
      }
    }
    return Error(line, absl::StrCat(key, ": expected refresh, invalidate or ttl_only, got ",
                                    Describe(value)));
  }
  if (key == "warmup") {
    for (WarmupMode mode : {WarmupMode::kOps, WarmupMode::kUntilSteady}) {
      if (value.IsScalar() && value.Scalar() == WarmupName(mode)) {
        sc->warmup = mode;
        return absl::OkStatus();
      }
    }
    return Error(line, absl::StrCat(key, ": expected ops or until_steady, got ", Describe(value)));
  }
  // Below 100 reads a window's hit rate moves by whole points from one read.
  if (key == "warmup_window_ops") {
    return ReadInt64(key, value, line, 100, 10'000'000, &sc->warmup_window_ops);
  }
  // A change of more than 50 points between windows is no steady state.
  if (key == "warmup_steady_pct") {
    return ReadDouble(key, value, line, 0, true, 50, &sc->warmup_steady_pct);
  }
  if (key == "single_flight") return ReadBool(key, value, line, &sc->single_flight);
  if (key == "single_flight_lock_ms") {
    // Its own message for 0: Redis refuses SET PX 0, and a lock that never
    // expires would outlive a reader that dies holding it.
    DecimalInt v;
    if (IsPlainOrTagged(value, kIntTag) && ParseDecimal(value.Scalar(), &v) &&
        (v.negative || v.magnitude == 0)) {
      return Error(line, absl::StrCat(key, ": ", value.Scalar(),
                                      ": a lock TTL must be > 0 (range 1..3600000)"));
    }
    return ReadInt64(key, value, line, 1, 3'600'000, &sc->single_flight_lock_ms);
  }
  if (key == "single_flight_wait_ms") {
    return ReadInt64(key, value, line, 1, 3'600'000, &sc->single_flight_wait_ms);
  }
  // Polls closer than 10 us are a busy loop on the cache server.
  if (key == "single_flight_poll_us") {
    return ReadInt64(key, value, line, 10, 1'000'000, &sc->single_flight_poll_us);
  }
  if (key == "early_refresh_beta") {
    // 0 is the default that turns early refresh off; written out, it (or a
    // negative) is a mistake rather than a way to say "off".
    double v = 0;
    if ((IsPlainOrTagged(value, kFloatTag) || IsPlainOrTagged(value, kIntTag)) &&
        ParseDecimalDouble(value.Scalar(), &v) && v <= 0) {
      return Error(line, absl::StrCat(key, ": ", value.Scalar(),
                                      " must be > 0 (leave it out to turn early refresh off)"));
    }
    return ReadDouble(key, value, line, 0, true, 1000, &sc->early_refresh_beta);
  }
  if (key == "access") {
    constexpr AccessMode kModes[] = {AccessMode::kPool, AccessMode::kRandom, AccessMode::kZipf,
                                     AccessMode::kHotspot, AccessMode::kTrace};
    for (AccessMode mode : kModes) {
      if (value.IsScalar() && value.Scalar() == AccessName(mode)) {
        sc->access = mode;
        return absl::OkStatus();
      }
    }
    return Error(line, absl::StrCat(key, ": expected pool, random, zipf, hotspot or trace, got ",
                                    Describe(value)));
  }
  // Exponents above 10 put all but 1e-3 of the operations on one key
  // (1 / H(N, 10) > 0.999): not a popularity anyone measures.
  if (key == "zipf_s") return ReadDouble(key, value, line, 0, true, 10, &sc->zipf_s);
  if (key == "hot_keys_pct") return ReadDouble(key, value, line, 0, false, 100, &sc->hot_keys_pct);
  if (key == "hot_ops_pct") return ReadDouble(key, value, line, 0, false, 100, &sc->hot_ops_pct);
  if (key == "trace_file") {
    absl::Status s = ReadString(key, value, line, &sc->trace_file);
    if (s.ok() && sc->trace_file.empty()) return Error(line, "trace_file: must not be empty");
    return s;
  }
  if (key == "cache_max_memory") {
    // Plain or quoted: "32mb" is a string either way.
    const bool scalar = value.IsScalar() &&
                        (value.Tag() == kPlainTag || value.Tag() == "!" || value.Tag() == kIntTag);
    int64_t bytes = 0;
    std::string why;
    if (!scalar) {
      return Error(
          line, absl::StrCat(key, ": expected a memory size such as 32mb, got ", Describe(value)));
    }
    if (!ParseMemorySize(value.Scalar(), &bytes, &why)) {
      return Error(line, absl::StrCat(key, ": ", Quote(value.Scalar()), ": ", why));
    }
    if (bytes < kMinMaxMemory || bytes > kMaxMaxMemory) {
      return Error(line,
                   absl::StrCat(key, ": ", value.Scalar(), " is out of range 16kb..1024gb (16384..",
                                kMaxMaxMemory, " bytes)"));
    }
    sc->cache_max_memory = bytes;
    return absl::OkStatus();
  }
  if (key == "cache_keys_pct") return ReadInt64(key, value, line, 1, 100, &sc->cache_keys_pct);
  if (key == "eviction_policy") {
    for (const char* policy : kEvictionPolicies) {
      if (value.IsScalar() && value.Scalar() == policy) {
        sc->eviction_policy = policy;
        return absl::OkStatus();
      }
    }
    return Error(line,
                 absl::StrCat(key, ": expected one of ", absl::StrJoin(kEvictionPolicies, ", "),
                              ", got ", Describe(value)));
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
  return Error(line, absl::StrCat("unknown key ", Quote(key),
                                  " (known keys: ", absl::StrJoin(kKnownKeys, ", "), ")"));
}

absl::Status ScenarioParser::CheckAccess(const std::map<std::string, int>& key_lines,
                                         Scenario* sc) const {
  // A key that belongs to another access mode is a contradiction, not a
  // default: `zipf_s: 1.2` under `access: pool` would otherwise be ignored.
  struct Owned {
    const char* key;
    AccessMode mode;
  };
  constexpr Owned kOwned[] = {{"zipf_s", AccessMode::kZipf},
                              {"hot_keys_pct", AccessMode::kHotspot},
                              {"hot_ops_pct", AccessMode::kHotspot},
                              {"trace_file", AccessMode::kTrace}};
  for (const Owned& owned : kOwned) {
    auto it = key_lines.find(owned.key);
    if (it != key_lines.end() && sc->access != owned.mode) {
      return Error(it->second,
                   absl::StrCat(owned.key, ": needs access: ", AccessName(owned.mode),
                                " (this scenario has access: ", AccessName(sc->access), ")"));
    }
  }
  if (sc->access == AccessMode::kHotspot) {
    // Shares that cannot both hold: no hot key to take the hot operations,
    // or no cold key to take the rest. (Only a written hot_keys_pct can be
    // 0 or 100.)
    const bool no_hot = sc->hot_keys_pct == 0 && sc->hot_ops_pct > 0;
    const bool no_cold = sc->hot_keys_pct == 100 && sc->hot_ops_pct < 100;
    if (no_hot || no_cold) {
      return Error(
          key_lines.find("hot_keys_pct")->second,
          absl::StrCat("hot_keys_pct: ", sc->hot_keys_pct, " leaves no ", no_hot ? "hot" : "cold",
                       " key for the ", no_hot ? sc->hot_ops_pct : 100 - sc->hot_ops_pct,
                       "% of the operations that hot_ops_pct: ", sc->hot_ops_pct, " sends there"));
    }
  }
  if (sc->access != AccessMode::kTrace) return absl::OkStatus();
  auto access_line = key_lines.find("access");
  auto trace_line = key_lines.find("trace_file");
  if (trace_line == key_lines.end()) {
    return Error(access_line->second,
                 "access: trace needs trace_file (the recorded keys to replay)");
  }
  if (auto read_line = key_lines.find("read_pct");
      read_line != key_lines.end() && sc->read_pct != 100) {
    return Error(read_line->second,
                 "read_pct: with access: trace the trace says which operations are reads; only "
                 "100 (replay every operation as a read) may be set");
  }
  fs::path path(sc->trace_file);
  if (path.is_relative()) path = dir_ / path;
  std::error_code ec;
  const fs::file_status status = fs::status(path, ec);
  if (!fs::is_regular_file(status)) {
    return Error(trace_line->second,
                 // The whole path (Quote() would cut it): it says where
                 // a relative trace_file was looked for.
                 absl::StrCat("trace_file: '", absl::CHexEscape(path.string()),
                              "': ", fs::exists(status) ? "not a regular file" : "no such file"));
  }
  absl::StatusOr<std::shared_ptr<const KeyTrace>> trace = LoadKeyTrace(path.string());
  if (!trace.ok()) {
    // The trace's own "<trace>:<line>: <reason>" after the key: that line
    // is what to fix.
    return Error(trace_line->second, absl::StrCat("trace_file: ", trace.status().message()));
  }
  sc->trace = *std::move(trace);
  return absl::OkStatus();
}

absl::Status ScenarioParser::CheckWarmupAndStampede(const std::map<std::string, int>& key_lines,
                                                    const Scenario& sc) const {
  // Keys of a mode the scenario does not use would be ignored silently.
  struct Owned {
    const char* key;
    bool in_use;
    std::string needs;
    std::string has;
  };
  const std::string single_flight_has =
      absl::StrCat("single_flight: ", sc.single_flight ? "true" : "false");
  const std::string warmup_has = absl::StrCat("warmup: ", WarmupName(sc.warmup));
  const bool steady = sc.warmup == WarmupMode::kUntilSteady;
  const Owned owned_keys[] = {
      {"single_flight_lock_ms", sc.single_flight, "single_flight: true", single_flight_has},
      {"single_flight_wait_ms", sc.single_flight, "single_flight: true", single_flight_has},
      {"single_flight_poll_us", sc.single_flight, "single_flight: true", single_flight_has},
      {"warmup_window_ops", steady, "warmup: until_steady", warmup_has},
      {"warmup_steady_pct", steady, "warmup: until_steady", warmup_has}};
  for (const Owned& owned : owned_keys) {
    auto it = key_lines.find(owned.key);
    if (it != key_lines.end() && !owned.in_use) {
      return Error(it->second, absl::StrCat(owned.key, ": needs ", owned.needs,
                                            " (this scenario has ", owned.has, ")"));
    }
  }
  if (!sc.cache) {
    // Each of these acts on the cache: without one it would measure nothing.
    constexpr absl::string_view kNoCache =
        " needs a cache (cache: true); this scenario has "
        "cache: false";
    if (sc.single_flight)
      return Error(key_lines.at("single_flight"), absl::StrCat("single_flight: true", kNoCache));
    if (key_lines.count("early_refresh_beta")) {
      return Error(key_lines.at("early_refresh_beta"),
                   absl::StrCat("early_refresh_beta:", kNoCache));
    }
    if (steady) {
      return Error(key_lines.at("warmup"),
                   absl::StrCat("warmup: until_steady", kNoCache,
                                " (without one every read misses: the hit rate has nothing to "
                                "settle on)"));
    }
  }
  // warmup_ops is the cap of until_steady (0: kDefaultSteadyCapOps); steady
  // means two changes in a row below warmup_steady_pct, which takes three
  // windows: a shorter cap could never get there.
  if (steady && sc.warmup_ops > 0 && sc.warmup_ops < 3 * sc.warmup_window_ops) {
    return Error(key_lines.at("warmup_ops"),
                 absl::StrCat("warmup_ops: ", sc.warmup_ops,
                              " is too short to compare three windows of warmup_window_ops: ",
                              sc.warmup_window_ops, " (warmup: until_steady needs at least ",
                              3 * sc.warmup_window_ops, ", or 0 for the default cap of ",
                              Scenario::kDefaultSteadyCapOps, ")"));
  }
  return absl::OkStatus();
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
      return Error(m[1].line + 1, "a second YAML document ('---'); a scenario file holds one map");
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
      return Error(
          line, absl::StrCat("duplicate key ", Quote(key), " (first at line ", seen->second, ")"));
    }
    absl::Status s;
    if (key == "ttl_ms") {
      s = ReadSweep(key, value, line, &scenario, &scenario.ttl_ms, &scenario.ttl_sweep_ms);
    } else if (key == "cache_max_memory") {
      s = ReadSweep(key, value, line, &scenario, &scenario.cache_max_memory,
                    &scenario.cache_max_memory_sweep);
    } else if (key == "cache_keys_pct") {
      s = ReadSweep(key, value, line, &scenario, &scenario.cache_keys_pct,
                    &scenario.cache_keys_pct_sweep);
    } else {
      s = ApplyKey(key, value, line, &scenario);
    }
    if (!s.ok()) return s;
  }

  auto name_line = key_lines.find("name");
  if (name_line == key_lines.end()) {
    return Error(root_line, absl::StrCat("name: missing; every scenario needs one",
                                         stem.empty() ? "" : absl::StrCat(" (name: ", stem, ")")));
  }
  if (!IsSnakeName(scenario.name)) {
    return Error(
        name_line->second,
        absl::StrCat("name: ", Quote(scenario.name),
                     " must be lowercase letters, digits and '_', starting with a letter"));
  }
  if (!stem.empty() && scenario.name != stem) {
    return Error(name_line->second, absl::StrCat("name: ", Quote(scenario.name),
                                                 " differs from the file name stem ", Quote(stem)));
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
                   absl::StrCat("db_pool_size: ", scenario.db_pool_size, " connections for ",
                                fewest, " thread(s): a pool larger than the threads is no bound"));
    }
  }
  if (key_lines.count("cache_max_memory") && key_lines.count("cache_keys_pct")) {
    return Error(line_of("cache_keys_pct"),
                 "cache_keys_pct: give the cache's room either in bytes "
                 "(cache_max_memory) or as "
                 "a share of the keys (cache_keys_pct), not both");
  }
  if (key_lines.count("eviction_policy") && scenario.cache_max_memory == 0 &&
      scenario.cache_keys_pct == 0) {
    return Error(line_of("eviction_policy"),
                 "eviction_policy: needs cache_max_memory or cache_keys_pct (a "
                 "policy acts only "
                 "under a memory limit, and a run states the limit it is "
                 "measured under)");
  }
  for (const char* key : {"cache_max_memory", "cache_keys_pct"}) {
    if (key_lines.count(key) && !scenario.cache) {
      return Error(line_of(key),
                   absl::StrCat(key, ": needs cache: true (this scenario uses no cache)"));
    }
  }
  if (absl::Status s = CheckAccess(key_lines, &scenario); !s.ok()) return s;
  if (absl::Status s = CheckWarmupAndStampede(key_lines, scenario); !s.ok()) return s;
  if (scenario.pool_first_id - 1 > kInt64Max - scenario.pool_size) {
    auto where = key_lines.find("pool_size");
    if (where == key_lines.end()) where = key_lines.find("pool_first_id");
    return Error(where->second,
                 absl::StrCat("pool_size: pool_first_id ", scenario.pool_first_id, " + pool_size ",
                              scenario.pool_size, " - 1 does not fit in a 64-bit id"));
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
  ScenarioParser parser(
      file, file_name.empty() ? fs::path() : fs::path(std::string(file_name)).parent_path());
  try {
    absl::StatusOr<Scenario> scenario = parser.Parse(ToAbsl(yaml_text), stem);
    if (scenario.ok()) scenario->source_file = std::string(file_name);
    return scenario;
  } catch (const YAML::DeepRecursion& e) {
    // yaml-cpp's own text for this is "bad file".
    return parser.Error(
        e.mark.line >= 0 ? e.mark.line + 1 : 1,
        absl::StrCat("YAML syntax error: nested more than ", e.depth(), " levels deep"));
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
      return absl::InvalidArgumentError(absl::StrCat(dir, ": scenario folder does not exist"));
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
