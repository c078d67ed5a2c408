#include "lib/metrics/names.h"

#include <optional>
#include <string>
#include <string_view>

namespace cabench {
namespace {

constexpr std::string_view kClassNames[] = {
#define CABENCH_CLASS(id, name, spans) name,
#include "lib/metrics/names.def"
};
constexpr std::string_view kClassSpans[] = {
#define CABENCH_CLASS(id, name, spans) spans,
#include "lib/metrics/names.def"
};
constexpr std::string_view kStepNames[] = {
#define CABENCH_STEP(id, name, spans) name,
#include "lib/metrics/names.def"
};
constexpr std::string_view kStepSpans[] = {
#define CABENCH_STEP(id, name, spans) spans,
#include "lib/metrics/names.def"
};
constexpr std::string_view kCounterNames[] = {
#define CABENCH_COUNTER(id, name, unit, better, merge, meaning) name,
#include "lib/metrics/names.def"
};
// Each counter's unit.
enum class Unit { kCount, kS, kMs, kUs, kPerS, kPct, kRatio, kFlag, kMb, kBytes };
#define count Unit::kCount
#define s Unit::kS
#define ms Unit::kMs
#define us Unit::kUs
#define per_s Unit::kPerS
#define pct Unit::kPct
#define ratio Unit::kRatio
#define flag Unit::kFlag
#define mb Unit::kMb
#define bytes Unit::kBytes
constexpr Unit kCounterUnit[] = {
#define CABENCH_COUNTER(id, name, unit, better, merge, meaning) unit,
#include "lib/metrics/names.def"
};
#undef count
#undef s
#undef ms
#undef us
#undef per_s
#undef pct
#undef ratio
#undef flag
#undef mb
#undef bytes
constexpr Better kNone = Better::kNone;
constexpr Better kHigher = Better::kHigher;
constexpr Better kLower = Better::kLower;
#define none kNone
#define higher kHigher
#define lower kLower
constexpr Better kCounterBetter[] = {
#define CABENCH_COUNTER(id, name, unit, better, merge, meaning) better,
#include "lib/metrics/names.def"
};
#undef none
#undef higher
#undef lower
constexpr std::string_view kClassStats[] = {
#define CABENCH_CLASS_STAT(suffix, better, stat, meaning) suffix,
#include "lib/metrics/names.def"
};
constexpr std::string_view kStepStats[] = {
#define CABENCH_STEP_STAT(suffix, better, stat, meaning) suffix,
#include "lib/metrics/names.def"
};
constexpr std::string_view kSeriesNames[] = {
#define CABENCH_SERIES(id, name, when, meaning) name,
#include "lib/metrics/names.def"
};
#define always SeriesWhen::kAlways
#define cache SeriesWhen::kCache
#define open_loop SeriesWhen::kOpenLoop
#define server SeriesWhen::kServer
constexpr SeriesWhen kSeriesWhen[] = {
#define CABENCH_SERIES(id, name, when, meaning) when,
#include "lib/metrics/names.def"
};
#undef always
#undef cache
#undef open_loop
#undef server

static_assert(std::size(kClassNames) == kNumOpClasses);
static_assert(std::size(kStepNames) == kNumSteps);
static_assert(std::size(kCounterNames) == kNumCounters);
static_assert(std::size(kSeriesNames) == kNumSeriesFields);

template <typename Table>
std::string_view At(const Table& table, int i) {
  return i >= 0 && i < static_cast<int>(std::size(table)) ? table[i] : std::string_view("?");
}

// The unit of the counter called `name`; nullopt for another name.
std::optional<Unit> UnitOf(std::string_view name) {
  for (int i = 0; i < kNumCounters; ++i) {
    if (kCounterNames[i] == name) return kCounterUnit[i];
  }
  return std::nullopt;
}

// Whether `name` is <prefix>_<suffix> for a name and a suffix of the lists.
template <typename Names, typename Suffixes>
bool IsStatOf(std::string_view name, const Names& names, const Suffixes& suffixes) {
  for (std::string_view n : names) {
    if (name.size() <= n.size() + 1 || name.substr(0, n.size()) != n || name[n.size()] != '_') {
      continue;
    }
    for (std::string_view suffix : suffixes) {
      if (name.substr(n.size() + 1) == suffix) return true;
    }
  }
  return false;
}

}  // namespace

std::string_view OpClassName(OpClass c) { return At(kClassNames, static_cast<int>(c)); }
std::string_view StepName(Step s) { return At(kStepNames, static_cast<int>(s)); }
std::string_view OpClassSpans(OpClass c) { return At(kClassSpans, static_cast<int>(c)); }
std::string_view StepSpans(Step s) { return At(kStepSpans, static_cast<int>(s)); }
std::string_view CounterName(CounterId id) { return At(kCounterNames, static_cast<int>(id)); }
std::string_view SeriesFieldName(SeriesField f) { return At(kSeriesNames, static_cast<int>(f)); }

SeriesWhen SeriesFieldWhen(SeriesField f) {
  const int i = static_cast<int>(f);
  return i >= 0 && i < kNumSeriesFields ? kSeriesWhen[i] : SeriesWhen::kAlways;
}

bool IsFlagCounter(std::string_view name) { return UnitOf(name) == Unit::kFlag; }

bool IsNonNegativeCounter(std::string_view name) {
  if (const std::optional<Unit> unit = UnitOf(name); unit.has_value()) {
    return *unit != Unit::kPct && *unit != Unit::kRatio;
  }
  return IsStatOf(name, kClassNames, kClassStats) || IsStatOf(name, kStepNames, kStepStats);
}

Better CounterBetter(CounterId id) {
  const int i = static_cast<int>(id);
  return i >= 0 && i < kNumCounters ? kCounterBetter[i] : Better::kNone;
}

std::span<const std::string_view> ClassStatSuffixes() { return kClassStats; }
std::span<const std::string_view> StepStatSuffixes() { return kStepStats; }

std::string ClassStatName(OpClass c, std::string_view suffix) {
  std::string out(OpClassName(c));
  out += '_';
  out += suffix;
  return out;
}

std::string StepStatName(Step s, std::string_view suffix) {
  std::string out(StepName(s));
  out += '_';
  out += suffix;
  return out;
}

}  // namespace cabench
