// File: lib/metrics/op_types.h
//
// The vocabulary shared by the pattern (lib/cache_aside), which produces one
// OpResult per operation, and the metrics recorder (lib/metrics), which files
// it. Plain value types; safe to copy between threads.
#ifndef CABENCH_LIB_METRICS_OP_TYPES_H_
#define CABENCH_LIB_METRICS_OP_TYPES_H_

#include <array>
#include <cstdint>

namespace cabench {

// What one operation turned out to be. Every operation is exactly one class.
enum class OpClass : uint8_t {
  kCacheHit = 0,   // read served from the cache (negative entries included)
  kCacheMiss = 1,  // read that went to the database (and filled the cache)
  kWrite = 2,      // INSERT plus refresh or invalidate
  kError = 3,      // any operation that failed
};
inline constexpr int kNumOpClasses = 4;

// The individual server round trips inside an operation, each timed alone.
enum class Step : uint8_t {
  kCacheGet = 0,
  kDbSelect = 1,
  kCacheSet = 2,
  kDbInsert = 3,
  kCacheDel = 4,
};
inline constexpr int kNumSteps = 5;

// What kind of operation was attempted (an error still has a kind).
enum class OpKind : uint8_t { kRead = 0, kWrite = 1 };

// Which part of the system an error came from, for errors by kind.
enum class ErrorSource : uint8_t { kNone = 0, kCache = 1, kDb = 2 };

// The outcome of one operation. Latencies are in nanoseconds; a step that did
// not run has latency 0 and its bit clear in `steps_run`.
struct OpResult {
  OpKind kind = OpKind::kRead;
  OpClass op_class = OpClass::kCacheHit;
  ErrorSource error_source = ErrorSource::kNone;
  uint8_t steps_run = 0;  // bit (1 << Step) set for each step that ran
  int64_t total_ns = 0;   // the whole operation, start to end
  std::array<int64_t, kNumSteps> step_ns{};

  void SetStep(Step s, int64_t ns) {
    steps_run |= static_cast<uint8_t>(1u << static_cast<int>(s));
    step_ns[static_cast<int>(s)] = ns;
  }
  bool StepRan(Step s) const {
    return (steps_run >> static_cast<int>(s)) & 1u;
  }
};

}  // namespace cabench

#endif  // CABENCH_LIB_METRICS_OP_TYPES_H_
