// File: lib/metrics/op_types.h
//
// The vocabulary shared by the pattern (lib/cache_aside), which produces one
// OpResult per operation, the engine (lib/engine), which runs the operations,
// and the metrics recorder (lib/metrics), which files them. The classes and
// steps are declared in lib/metrics/names.def, the one table of names; their
// names and what each latency spans are there too (and in names.h).
// Plain value types; safe to copy between threads.
#ifndef CABENCH_LIB_METRICS_OP_TYPES_H_
#define CABENCH_LIB_METRICS_OP_TYPES_H_

#include <array>
#include <cstdint>

namespace cabench {

// What one operation turned out to be. Every operation is exactly one class:
// kCacheHit, kCacheMiss, kDbRead (a read without a cache), kFallback (a read
// the database served after the GET failed), kWrite, kError.
enum class OpClass : uint8_t {
#define CABENCH_CLASS(id, name, spans) id,
#include "lib/metrics/names.def"
};
inline constexpr int kNumOpClasses = 0
#define CABENCH_CLASS(id, name, spans) +1
#include "lib/metrics/names.def"
    ;
// The classes that are reads (every class but kWrite and kError).
inline constexpr bool IsReadClass(OpClass c) {
  return c != OpClass::kWrite && c != OpClass::kError;
}
// The classes whose operations reached the database.
inline constexpr bool IsDbClass(OpClass c) {
  return c == OpClass::kCacheMiss || c == OpClass::kDbRead ||
         c == OpClass::kFallback || c == OpClass::kWrite;
}

// The individual server round trips inside an operation, each timed alone.
enum class Step : uint8_t {
#define CABENCH_STEP(id, name, spans) id,
#include "lib/metrics/names.def"
};
inline constexpr int kNumSteps = 0
#define CABENCH_STEP(id, name, spans) +1
#include "lib/metrics/names.def"
    ;

// What kind of operation was attempted (an error still has a kind).
enum class OpKind : uint8_t { kRead = 0, kWrite = 1 };

// Which part of the system an error came from, for errors by kind.
enum class ErrorSource : uint8_t { kNone = 0, kCache = 1, kDb = 2 };

// Why a read missed (lib/engine/key_states.h classifies it; kNone when no
// one did, or for anything but a miss).
enum class MissCause : uint8_t {
  kNone = 0,
  kCold = 1,         // never cached in this run
  kExpired = 2,      // its TTL had passed
  kInvalidated = 3,  // a write deleted it
  kEvicted = 4,      // none of these: the server dropped it for memory
};
inline constexpr int kNumMissCauses = 4;  // kCold .. kEvicted

// What else happened inside one operation, for the consistency and stampede
// counters (bits of OpResult::events; lib/cache_aside/key_versions.h says
// how each is decided). Most operations have none.
enum OpEvent : uint8_t {
  kEventStale = 1,            // a hit certainly stale: its value lacks a write committed
                              // before its GET was sent
  kEventDupFill = 2,          // a fill (SELECT + SET of a read) began while another
                              // fill of the same key was in flight
  kEventEarlyRefresh = 4,     // a hit that refreshed its key before the TTL ran out (XFetch)
  kEventFillWait = 8,         // single flight: a miss that waited for another thread's fill
  kEventWaitTimeout = 16,     // ... and whose wait ran out (it then filled the key itself)
  kEventReadSelect = 32,      // a read that sent a SELECT: a fill, an early refresh, or a
                              // read without a cache (not a fallback read)
  kEventStaleUncertain = 64,  // a hit that may be stale: whether its value lacks a write
                              // committed before its GET was sent depends on instants the
                              // client cannot see (a commit or a snapshot in flight)
};

// The outcome of one operation. Latencies are in nanoseconds; a step that did
// not run has latency 0 and its bit clear in `steps_run`.
struct OpResult {
  OpKind kind = OpKind::kRead;
  OpClass op_class = OpClass::kCacheHit;
  ErrorSource error_source = ErrorSource::kNone;
  uint8_t steps_run = 0;  // bit (1 << Step) set for each step that ran
  MissCause miss_cause = MissCause::kNone;
  uint8_t events = 0;  // OpEvent bits
  // Database reads (SELECTs) in flight over all threads when this
  // operation's SELECT was sent, itself included (0: no SELECT, or no one
  // counted them).
  int32_t db_reads_in_flight = 0;
  int64_t ttl_ms = 0;    // the TTL the operation's SET gave, when one ran
  int64_t total_ns = 0;  // the whole operation, start to end
  // kEventStale: the time from the first write the value lacks to this
  // read's GET, in nanoseconds (a lower bound; key_versions.h).
  int64_t stale_age_ns = 0;
  std::array<int64_t, kNumSteps> step_ns{};

  void SetStep(Step s, int64_t ns) {
    steps_run |= static_cast<uint8_t>(1u << static_cast<int>(s));
    step_ns[static_cast<int>(s)] = ns;
  }
  bool StepRan(Step s) const { return (steps_run >> static_cast<int>(s)) & 1u; }
  bool Has(OpEvent e) const { return (events & e) != 0; }
};

}  // namespace cabench

#endif  // CABENCH_LIB_METRICS_OP_TYPES_H_
