// File: lib/metrics/recorder.h
//
// LatencyRecorder files the OpResult of every operation of one benchmark
// thread: latency histograms per OpClass and per Step, counts per OpKind,
// errors by ErrorSource, and a per-second time series keyed by the epoch
// second in which each operation STARTED. After the run, the threads' recorders
// are merged into one (Merge), which is exactly what recording every operation
// into a single recorder would have produced; Summarize() (summary.h) and
// TimeSeriesJson() (time_series.h) read the merged recorder.
//
// What counts where:
//   - Class histograms: every operation's total latency under its OpClass,
//     errors included (under kError). The overall distribution (Overall()) is
//     the three non-error classes: a failed operation (a refused connection, a
//     timeout) says nothing about the latency of the pattern, and is reported
//     on its own.
//   - Step histograms: each step that ran, for non-error operations only (an
//     OpResult does not say which step failed, so a failing step's time would
//     pollute its histogram).
//   - reads()/writes(): operations attempted, by OpKind, errors included, so
//     reads() + writes() == ops().
//   - Per second (SecondStats): count, total time, min and max over all
//     operations that started in that second, errors included (so again
//     count == reads + writes, as in the reference's time series); hits,
//     misses, errors, per-class count and total time, and a coarse histogram
//     per non-error class (16 sub-buckets per power of two: percentiles
//     within ~3.2%) for per-second p99.
//   - Events (OpResult::events, the OpEvent bits: stale reads, duplicate
//     fills, early refreshes, fill waits and their timeouts, reads that sent
//     a SELECT): counted per run and per second as the operation reports
//     them, whatever its class (a fill whose SET failed is an error that
//     still sent its SELECT). Also the most SELECTs in flight that any
//     operation saw (OpResult::db_reads_in_flight), and the age of each stale
//     read (OpResult::stale_age_ns) in a Histogram per run and a coarse
//     histogram per second. Most operations carry none of this, so Record()
//     tests it with one branch and files it out of line (RecordEvents).
//
// Memory is flat in the number of operations: thirteen Histograms (about
// 410 KB, allocated at construction) plus one SecondStats (about 11 KB) per
// second of run time. The first stale read adds one more Histogram (about
// 32 KB), lazily, so runs without stale reads do not pay for it; each second
// with stale reads adds a coarse histogram (about 2 KB). Record() takes no
// lock, uses no atomics and allocates only when an operation starts in a
// second the recorder has not seen (amortized: the per-second vector grows
// geometrically) or on such a first. The time series spans at most
// kMaxSeconds; an operation whose start second would stretch it further
// (a bogus clock, in practice) still counts everywhere else and is counted in
// ops_outside_time_series().
//
// Thread safety: thread-compatible. Each benchmark thread owns its own
// recorder; merge them after the threads are done (under the caller's mutex).
#ifndef CABENCH_LIB_METRICS_RECORDER_H_
#define CABENCH_LIB_METRICS_RECORDER_H_

#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "lib/metrics/histogram.h"
#include "lib/metrics/op_types.h"

namespace cabench {

inline constexpr int64_t kNanosPerSecond = 1'000'000'000;

// A coarse latency histogram of one class in one second: 2^4 sub-buckets
// per power of two over the same 0 .. 2^37 ns range as Histogram, plus an
// overflow bucket (percentiles within ~3.2%). Empty (no allocation) until the
// class's first operation in that second, so a second costs memory only for
// the classes it saw. A plain value; thread-compatible.
struct CoarseBuckets {
  static constexpr int kSubBucketBits = 4;
  static constexpr int kOverflowBucket =
      internal::LogLinearIndex<kSubBucketBits>(Histogram::kMaxTrackableNs) + 1;
  static constexpr int kNumBuckets = kOverflowBucket + 1;

  std::vector<uint32_t> counts;  // kNumBuckets once used

  // Adds one latency (>= 0). Allocates on the first call only.
  void Add(int64_t ns) {
    if (counts.empty()) counts.resize(kNumBuckets);
    const int b = ns <= Histogram::kMaxTrackableNs
                      ? internal::LogLinearIndex<kSubBucketBits>(static_cast<uint64_t>(ns))
                      : kOverflowBucket;
    ++counts[static_cast<size_t>(b)];
  }
  void Merge(const CoarseBuckets& other);
  // Equal counts (never allocated equals all zero).
  friend bool operator==(const CoarseBuckets& a, const CoarseBuckets& b) {
    if (a.counts.empty() || b.counts.empty()) {
      const auto& c = a.counts.empty() ? b.counts : a.counts;
      return std::all_of(c.begin(), c.end(), [](uint32_t x) { return x == 0; });
    }
    return a.counts == b.counts;
  }
  // The p-th percentile (nearest rank) of the `n` latencies added, as the
  // bucket midpoint clamped to [lo, hi]; the top rank is `hi` (the exact
  // maximum). 0 when n is 0.
  double Percentile(int64_t n, double p, double lo, double hi) const;
};

// The OpEvent bits as indexes (bit b of OpResult::events counts in
// [b]): kEventStale is 0, kEventDupFill 1, ..., kEventStaleUncertain 6.
inline constexpr int kNumOpEvents = 7;
inline constexpr int EventIndex(OpEvent e) { return std::countr_zero(static_cast<unsigned>(e)); }
static_assert(EventIndex(kEventStaleUncertain) == kNumOpEvents - 1);

// The aggregate of the operations that started in one epoch second. A plain
// value; thread-compatible.
struct SecondStats {
  // Classes with a per-second histogram: every class but kError, which is
  // the last one.
  static constexpr int kNumTimedClasses = kNumOpClasses - 1;
  static_assert(static_cast<int>(OpClass::kError) == kNumOpClasses - 1);

  int64_t min_ns = std::numeric_limits<int64_t>::max();  // over all classes
  int64_t max_ns = 0;
  std::array<int64_t, kNumOpClasses> class_count{};
  std::array<int64_t, kNumOpClasses> class_total_ns{};
  // Exact per-class maximum: bounds the coarse percentiles (with fewer than
  // 100 operations a p99 is the maximum, exactly).
  std::array<int64_t, kNumOpClasses> class_max_ns{};
  // Exact per-class minimum (INT64_MAX while the class has no operation), so
  // that the database path's min/max per second are its own, not all ops'.
  std::array<int64_t, kNumOpClasses> class_min_ns = Filled(std::numeric_limits<int64_t>::max());
  std::array<CoarseBuckets, kNumTimedClasses> class_buckets;

  // Open loop only (all zero or empty otherwise): the response time from the
  // intended start, per class, and the operations sent late.
  std::array<int64_t, kNumOpClasses> intended_total_ns{};
  std::array<int64_t, kNumOpClasses> intended_max_ns{};
  std::array<CoarseBuckets, kNumTimedClasses> intended_buckets;
  int64_t late_ops = 0;
  // Misses by cause, indexed by MissCause - 1 (misses with no cause not
  // counted).
  std::array<int64_t, kNumMissCauses> miss_causes{};
  // Operations of this second that carried each OpEvent, indexed by
  // EventIndex(), whatever their class.
  std::array<int64_t, kNumOpEvents> event_counts{};
  // The most SELECTs in flight that an operation of this second saw (0 when
  // none sent one or none were counted).
  int64_t db_reads_in_flight_max = 0;
  // The ages of this second's stale reads (empty until the first), and the
  // exact oldest, which bounds the coarse percentiles.
  CoarseBuckets stale_age_buckets;
  int64_t stale_age_max_ns = 0;

  // Operations that started in this second, of every class.
  int64_t count() const {
    int64_t n = 0;
    for (int64_t c : class_count) n += c;
    return n;
  }
  // Sum of their total latencies, in nanoseconds.
  int64_t total_ns() const {
    int64_t n = 0;
    for (int64_t t : class_total_ns) n += t;
    return n;
  }
  // Reads and writes that succeeded; count() == reads() + writes() + errors().
  int64_t reads() const { return count() - writes() - errors(); }
  int64_t writes() const { return ClassCount(OpClass::kWrite); }
  int64_t cache_hits() const { return ClassCount(OpClass::kCacheHit); }
  int64_t cache_misses() const { return ClassCount(OpClass::kCacheMiss); }
  int64_t errors() const { return ClassCount(OpClass::kError); }
  int64_t ClassCount(OpClass c) const { return class_count[static_cast<int>(c)]; }
  // Operations of this second that carried event `e` (0 for a value that is
  // not a single OpEvent bit).
  int64_t EventCount(OpEvent e) const {
    const int i = EventIndex(e);
    return std::has_single_bit(static_cast<unsigned>(e)) && i < kNumOpEvents ? event_counts[i] : 0;
  }
  int64_t stale_reads() const { return EventCount(kEventStale); }
  int64_t stale_reads_uncertain() const { return EventCount(kEventStaleUncertain); }
  int64_t dup_fills() const { return EventCount(kEventDupFill); }
  int64_t early_refreshes() const { return EventCount(kEventEarlyRefresh); }
  int64_t fill_waits() const { return EventCount(kEventFillWait); }
  int64_t fill_wait_timeouts() const { return EventCount(kEventWaitTimeout); }
  int64_t read_selects() const { return EventCount(kEventReadSelect); }
  // Min and max latency of the second; 0 when the second is empty.
  int64_t min() const { return count() == 0 ? 0 : min_ns; }
  int64_t max() const { return count() == 0 ? 0 : max_ns; }

  // The p-th percentile (nearest rank, p in [0, 100]) of class `c`'s total
  // latency in this second, in nanoseconds, from the coarse histogram: the
  // bucket midpoint clamped to [min(), the class's exact maximum], within
  // ~3.2% of the exact value; the top rank (p100, or p99 of fewer than 100
  // operations) is the class's exact maximum. Returns 0 when the class had no
  // operation this second, and for kError, which keeps no histogram.
  double ClassPercentile(OpClass c, double p) const;
  // The same for the response time from the intended start (open loop; 0
  // when the second has none).
  double IntendedPercentile(OpClass c, double p) const;
  // The p-th percentile (nearest rank) of the ages of this second's stale
  // reads, in nanoseconds, from the coarse histogram clamped to [0, the exact
  // oldest] (within ~3.2%; the top rank is exact). 0 when the second had no
  // stale read.
  double StaleAgePercentile(double p) const;

 private:
  static constexpr std::array<int64_t, kNumOpClasses> Filled(int64_t v) {
    std::array<int64_t, kNumOpClasses> a{};
    for (int64_t& x : a) x = v;
    return a;
  }
};

class LatencyRecorder {
 public:
  // The longest time series kept: six hours (at most ~145 MB per recorder).
  static constexpr int64_t kMaxSeconds = 6 * 3600;

  // An empty recorder. Allocates its histograms (about 410 KB).
  LatencyRecorder();

  // Copyable and movable (a moved-from recorder may only be destroyed,
  // assigned to or Clear()ed).
  LatencyRecorder(const LatencyRecorder&) = default;
  LatencyRecorder& operator=(const LatencyRecorder&) = default;
  LatencyRecorder(LatencyRecorder&&) noexcept = default;
  LatencyRecorder& operator=(LatencyRecorder&&) noexcept = default;

  // Files one operation that started at `start_epoch_ns` (nanoseconds since
  // the Unix epoch, e.g. absl::GetCurrentTimeNanos()) as described in the
  // file comment. Negative latencies count as 0; an out-of-range class counts
  // as kError rather than being trusted as an index; so do a negative
  // db_reads_in_flight or stale_age_ns (as 0) and event bits beyond the seven
  // OpEvents (ignored). No locks, no atomics, no allocation except when a new
  // second starts (or a class's first operation in a second, or the run's or
  // the second's first stale read). Not safe to call concurrently with anything else
  // on the same recorder.
  inline void Record(const OpResult& op, int64_t start_epoch_ns);

  // The same for an open-loop operation sent `lag_ns` (>= 0) after its
  // intended start: also files its response time from the intended start
  // (op.total_ns + lag_ns) per class, the lag itself, and whether it was
  // late (lag > kLateNs); its events are filed once, by Record(). Allocates
  // the open-loop histograms on first use.
  void RecordOpenLoop(const OpResult& op, int64_t start_epoch_ns, int64_t lag_ns);

  // An open-loop operation is late when sent more than this after its
  // intended start.
  static constexpr int64_t kLateNs = 1'000'000;

  // Adds everything `other` recorded, seconds aligned by epoch second, so that
  // merging per-thread recorders equals recording all operations in one.
  // Allocates when `other` covers seconds this recorder has not seen. Not
  // safe concurrently with mutation of either recorder.
  void Merge(const LatencyRecorder& other);

  // Forgets every operation (and repairs a moved-from recorder).
  void Clear();

  // Counts. ops() counts every operation, errors included; reads() and
  // writes() those that succeeded, so ops() == reads() + writes() + errors().
  int64_t ops() const;
  int64_t reads() const { return ops() - writes() - errors(); }
  int64_t writes() const { return class_count(OpClass::kWrite); }
  int64_t class_count(OpClass c) const { return class_histogram(c).Count(); }
  int64_t cache_hits() const { return class_count(OpClass::kCacheHit); }
  int64_t cache_misses() const { return class_count(OpClass::kCacheMiss); }
  int64_t errors() const { return class_count(OpClass::kError); }
  // Errors by source; kNone counts errors whose source was not set.
  int64_t errors_by_source(ErrorSource s) const { return errors_by_source_[static_cast<int>(s)]; }
  // Sum of every operation's total latency (errors included), nanoseconds.
  int64_t total_ns() const;

  // Latency histograms (nanoseconds).
  const Histogram& class_histogram(OpClass c) const { return class_hist_[static_cast<int>(c)]; }
  const Histogram& step_histogram(Step s) const { return step_hist_[static_cast<int>(s)]; }
  // Every class but kError together; built on each call by merging the
  // class histograms, so call it once, after the run.
  Histogram Overall() const;

  // Open loop: true once RecordOpenLoop() was called (or merged in).
  bool has_intended() const { return !intended_hist_.empty(); }
  // The response time from the intended start of class `c`'s operations, and
  // of every class but kError together; the lag from intended start to send;
  // operations sent late. Empty histograms and 0 without open loop.
  const Histogram& intended_histogram(OpClass c) const;
  Histogram IntendedOverall() const;
  const Histogram& start_lag() const;
  int64_t late_ops() const { return late_ops_; }
  // Misses by cause (MissCause::kCold .. kEvicted); misses with no cause are
  // not counted, so the causes add up to cache_misses() when every miss was
  // classified.
  int64_t miss_cause_count(MissCause c) const {
    const int i = static_cast<int>(c) - 1;
    return i >= 0 && i < kNumMissCauses ? miss_causes_[i] : 0;
  }

  // Operations that carried event `e` (an OpEvent bit; 0 for anything else),
  // whatever their class; ops outside the time series included.
  int64_t event_count(OpEvent e) const {
    const int i = EventIndex(e);
    return std::has_single_bit(static_cast<unsigned>(e)) && i < kNumOpEvents ? event_counts_[i] : 0;
  }
  // Hits certainly stale, and hits that may be stale (key_versions.h).
  int64_t stale_reads() const { return event_count(kEventStale); }
  int64_t stale_reads_uncertain() const { return event_count(kEventStaleUncertain); }
  // Fills begun while another fill of the same key was in flight.
  int64_t dup_fills() const { return event_count(kEventDupFill); }
  // Hits that refreshed their key before the TTL ran out (XFetch).
  int64_t early_refreshes() const { return event_count(kEventEarlyRefresh); }
  // Single flight: misses that waited for another thread's fill, and the
  // waits that ran out.
  int64_t fill_waits() const { return event_count(kEventFillWait); }
  int64_t fill_wait_timeouts() const { return event_count(kEventWaitTimeout); }
  // Reads that sent a SELECT (fills, early refreshes, db reads).
  int64_t read_selects() const { return event_count(kEventReadSelect); }
  // The most SELECTs in flight over all threads that any operation saw when
  // it sent its own (OpResult::db_reads_in_flight); 0 when none reported.
  int64_t db_reads_in_flight_max() const { return db_reads_in_flight_max_; }
  // The ages of the stale reads (OpResult::stale_age_ns, nanoseconds); an
  // empty histogram without stale reads. Ages beyond Histogram's ~137 s land
  // in its overflow bucket (percentiles there report the exact maximum).
  const Histogram& stale_age() const;
  // The earliest and the latest intended start (epoch nanoseconds) of the
  // open-loop operations; both 0 without.
  int64_t first_intended_ns() const { return has_intended() ? first_intended_ns_ : 0; }
  int64_t last_intended_ns() const { return has_intended() ? last_intended_ns_ : 0; }

  // The start of the earliest operation and the end (start + total latency)
  // of the latest-ending one, in epoch nanoseconds; both 0 when empty.
  int64_t first_start_ns() const { return ops() == 0 ? 0 : first_start_ns_; }
  int64_t last_end_ns() const { return ops() == 0 ? 0 : last_end_ns_; }

  // The per-second time series: seconds()[i] is epoch second
  // first_second() + i. Seconds in between in which no operation started are
  // present with count() == 0. Empty (and first_second() 0) when nothing was
  // recorded.
  int64_t first_second() const { return first_second_; }
  const std::vector<SecondStats>& seconds() const { return seconds_; }
  // Operations left out of the time series because of kMaxSeconds.
  int64_t ops_outside_time_series() const { return outside_time_series_; }

  // The counts no histogram holds, as one line: "cbtotals 1 late=N
  // in_flight_max=N outside=N start=NS end=NS intended=FIRST,LAST
  // events=E0,..,E6 causes=C1,..,C4 error_sources=S0,S1,S2" (a run with no
  // operation writes start=0 end=0; one without intended starts intended=0,0).
  std::string TotalsText() const;

  // Adds a record written by HistogramsJson() (its keys and strings, e.g.
  // from ParseFlatJsonStrings()) to this recorder, as Merge() adds another
  // recorder: histograms, counts and spans; no seconds (the record has
  // none). InvalidArgument naming the key for a missing or malformed value;
  // nothing is added then.
  absl::Status AddRecord(const std::map<std::string, std::string>& record);

  // Heap bytes this recorder holds (histograms plus the per-second vector's
  // capacity): grows with seconds of run time, never with operations.
  size_t MemoryBytes() const;

 private:
  // Returns the SecondStats of epoch second `second`, growing the series to
  // reach it; nullptr when that would exceed kMaxSeconds.
  SecondStats* GrowTo(int64_t second);
  // The slow path of Record(): finds or creates the second of
  // `start_epoch_ns` and makes it the cached current second.
  SecondStats* SwitchSecond(int64_t start_epoch_ns);
  // The other slow path of Record(): files `op`'s events, in-flight count
  // and stale age, in the run and in `sec` (nullptr: outside the series).
  // Out of line so that Record() stays small.
  void RecordEvents(const OpResult& op, SecondStats* sec);

  std::array<Histogram, kNumOpClasses> class_hist_;
  std::array<Histogram, kNumSteps> step_hist_;
  // Open loop only: kNumOpClasses histograms of the response time from the
  // intended start, then one of the start lag; empty until first used.
  std::vector<Histogram> intended_hist_;
  int64_t late_ops_ = 0;
  std::array<int64_t, kNumMissCauses> miss_causes_{};
  std::array<int64_t, kNumOpEvents> event_counts_{};
  int64_t db_reads_in_flight_max_ = 0;
  // The stale reads' ages: empty until the first stale read, then one
  // Histogram (a vector, so the recorder stays copyable).
  std::vector<Histogram> stale_age_hist_;
  int64_t first_intended_ns_ = std::numeric_limits<int64_t>::max();
  int64_t last_intended_ns_ = std::numeric_limits<int64_t>::min();
  std::array<int64_t, 3> errors_by_source_{};
  int64_t first_start_ns_ = std::numeric_limits<int64_t>::max();
  int64_t last_end_ns_ = std::numeric_limits<int64_t>::min();
  int64_t outside_time_series_ = 0;

  int64_t first_second_ = 0;
  std::vector<SecondStats> seconds_;
  // The current second, so that Record() finds it with one compare:
  // start - cur_lo_ (mod 2^64) < cur_width_. cur_width_ is 0 while unset.
  uint64_t cur_lo_ = 0;
  uint64_t cur_width_ = 0;
  size_t cur_index_ = 0;
};

// Inline so that callers in other translation units (the benchmark loop)
// get the hot path without a call.
inline void LatencyRecorder::Record(const OpResult& op, int64_t start_epoch_ns) {
  const int raw = static_cast<int>(op.op_class);
  const int cls = raw < kNumOpClasses ? raw : static_cast<int>(OpClass::kError);
  const int64_t ns = op.total_ns < 0 ? 0 : op.total_ns;
  class_hist_[cls].Record(ns);
  if (op.miss_cause != MissCause::kNone) ++miss_causes_[(static_cast<int>(op.miss_cause) - 1) & 3];
  if (cls == static_cast<int>(OpClass::kError)) {
    const int src = static_cast<int>(op.error_source);
    ++errors_by_source_[src < 3 ? src : 0];
  } else {
    unsigned bits = op.steps_run & ((1u << kNumSteps) - 1);
    while (bits != 0) {
      const int s = std::countr_zero(bits);
      bits &= bits - 1;
      step_hist_[s].Record(op.step_ns[s]);
    }
  }
  first_start_ns_ = std::min(first_start_ns_, start_epoch_ns);
  // Unsigned add: wrapping on a bogus start time must not be undefined.
  last_end_ns_ = std::max(last_end_ns_, static_cast<int64_t>(static_cast<uint64_t>(start_epoch_ns) +
                                                             static_cast<uint64_t>(ns)));

  SecondStats* sec;
  if (static_cast<uint64_t>(start_epoch_ns) - cur_lo_ < cur_width_) {
    sec = &seconds_[cur_index_];
  } else {
    sec = SwitchSecond(start_epoch_ns);
  }
  // One test for everything most operations lack (events, SELECTs in flight).
  if ((op.events | op.db_reads_in_flight) != 0) [[unlikely]] {
    RecordEvents(op, sec);
  }
  if (sec == nullptr) return;
  sec->min_ns = std::min(sec->min_ns, ns);
  sec->max_ns = std::max(sec->max_ns, ns);
  ++sec->class_count[cls];
  sec->class_total_ns[cls] += ns;
  sec->class_max_ns[cls] = std::max(sec->class_max_ns[cls], ns);
  sec->class_min_ns[cls] = std::min(sec->class_min_ns[cls], ns);
  if (cls < SecondStats::kNumTimedClasses) sec->class_buckets[cls].Add(ns);
  if (op.miss_cause != MissCause::kNone) {
    ++sec->miss_causes[(static_cast<int>(op.miss_cause) - 1) & 3];
  }
}

}  // namespace cabench

#endif  // CABENCH_LIB_METRICS_RECORDER_H_
