// File: lib/metrics/time_series.h
//
// JSON exports of a (merged) LatencyRecorder, written beside the benchmark's
// JSON output: the per-second time series in the reference script's schema
// (plus cabench's per-class fields), and the run's histograms in their
// serialized form so runs from several load machines can be merged later.
// The JSON is produced by hand (no JSON library in the dependencies); it is
// always valid: no NaN or infinity, strings are plain ASCII with nothing to
// escape.
//
// Thread safety: pure functions of a recorder; they only read it, so they may
// run concurrently with other readers, but not with Record() or Merge().
#ifndef CABENCH_LIB_METRICS_TIME_SERIES_H_
#define CABENCH_LIB_METRICS_TIME_SERIES_H_

#include <map>
#include <string>

#include "lib/metrics/names.h"
#include "lib/metrics/recorder.h"

namespace cabench {

// The per-second time series as one JSON object keyed by epoch second (a
// decimal string), seconds in ascending order, indented by two spaces:
//
//   {
//     "1764081507": {
//       "count": 5590,            operations that STARTED in this second
//       "total_time_us": 3849376.0,
//       "avg_time_us": 688.62,
//       "min_time_us": 89.0,
//       "max_time_us": 118364.0,
//       "reads": 4461,            reads that succeeded
//       "writes": 1129,           writes that succeeded
//       "cache_hits": 3662,
//       "cache_misses": 799,
//       "errors": 0,
//       "db_reads": 0,            reads of a run without a cache
//       "fallback_reads": 0,      reads served by the database after a failed GET
//       "db_avg_us": 3070.1,      misses, db reads, fallback reads and writes
//       "db_min_us": 85.0,        exact min and max of the same
//       "db_max_us": 118364.0,
//       "hit_min_us": 85.0,       exact min and max of cache hits
//       "hit_max_us": 291.0,
//       "hit_avg_us": 150.2,      then, per class (hit, miss, db_read,
//       "hit_p99_us": 410.5,      fallback, write), the mean and the p99
//       ...                       from a coarse histogram (~3% error)
//     }
//   }
//
// The names and their order come from lib/metrics/names.def (the
// CABENCH_SERIES lines, then the per-class fields). The first nine keys are
// the reference's, with the same meaning (but `reads` is counted; the
// reference always wrote 0); count, total, avg, min and max cover every
// operation, errors included, so count == reads + writes + errors. Every
// second object has every key. A per-class key is null when that class had no
// operation in the second; a second between the first and the last in which
// no operation started is present with count 0 and null avg/min/max (a stall
// shows as a zero, not as a gap). Latencies are in microseconds with up to
// three decimals (nanosecond resolution); counts are integers. An empty
// recorder gives "{}". Never fails.
//
// Every second also has db_reads_in_flight_max (the most SELECTs in flight
// that an operation of the second saw; 0 when none reported). Runs with a
// cache whose every miss was classified by cause (cache hits or misses, and
// miss_cause_count() adding up to cache_misses(), as for the counters miss_*)
// add the miss causes (miss_cold, miss_expired, miss_invalidated,
// miss_evicted) and the stampede and staleness fields: dup_fills, fill_waits,
// early_refreshes, stale_reads and stale_reads_uncertain (counts),
// stale_read_pct (stale_reads / cache_hits x 100, 0.0 without hits) and
// stale_age_p50_ms / stale_age_p99_ms (from a coarse per-second histogram,
// within about 3%, in milliseconds with up to three decimals; 0.0 without
// stale reads).
//
// Open-loop runs (recorder.has_intended()) add intended_avg_us, late_ops and
// per class <class>_intended_avg_us and <class>_intended_p99_us. `extras`,
// when given and not empty, adds the server-side fields it holds (db_queries,
// db_cpu_ms, cache_cpu_ms: every field any second has, to every second, null
// where a second lacks it).
using SeriesExtras = std::map<int64_t, std::map<SeriesField, double>>;
std::string TimeSeriesJson(const LatencyRecorder& recorder, const SeriesExtras* extras = nullptr);

// The recorder's histograms as one JSON object of Histogram::Serialize()
// strings: "overall", then one key per OpClass ("hit", "miss", "db_read",
// "fallback", "write", "error") and one per Step ("get", "select", ...), the
// names of lib/metrics/names.h. An open-loop run (recorder.has_intended())
// adds the response times from the intended start, "intended_<class>" per
// OpClass, and "start_lag", so that the runs of several load machines can be
// merged into exact intended-time percentiles too (tools/merge). Then
// "stale_age" (the stale reads' ages) and "totals"
// (LatencyRecorder::TotalsText(): the counts no histogram holds), so that
// the file is the run's whole record bar its seconds:
// LatencyRecorder::AddRecord() reads it back into a recorder. Last, the
// entries of `more` (key, one-line text), records of the run that are not the
// recorder's (a cluster's routing: "routing"), which AddRecord() ignores.
// Never fails.
std::string HistogramsJson(const LatencyRecorder& recorder,
                           const std::map<std::string, std::string>& more = {});

}  // namespace cabench

#endif  // CABENCH_LIB_METRICS_TIME_SERIES_H_
