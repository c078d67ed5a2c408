#include "lib/metrics/recorder.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "lib/metrics/names.h"

namespace cabench {
namespace {

// Most runs last seconds to minutes; reserving a little avoids the first few
// reallocations without costing much per thread (~110 KB).
constexpr size_t kInitialSeconds = 16;

// Floor division, so that negative (bogus) start times still land in a
// well-defined second.
int64_t FloorSecond(int64_t epoch_ns) {
  int64_t q = epoch_ns / kNanosPerSecond;
  if (epoch_ns % kNanosPerSecond < 0) --q;
  return q;
}

}  // namespace

void CoarseBuckets::Merge(const CoarseBuckets& other) {
  if (other.counts.empty()) return;
  if (counts.empty()) counts.resize(kNumBuckets);
  for (int b = 0; b < kNumBuckets; ++b) counts[b] += other.counts[b];
}

double CoarseBuckets::Percentile(int64_t n, double p, double lo, double hi) const {
  if (n <= 0 || counts.empty()) return 0.0;
  if (std::isnan(p)) p = 0.0;
  p = std::clamp(p, 0.0, 100.0);
  int64_t rank =
      static_cast<int64_t>(std::ceil(p / 100.0 * static_cast<double>(n) * (1.0 - 1e-12)));
  rank = std::clamp<int64_t>(rank, 1, n);
  lo = std::min(lo, hi);
  // The top rank is the exact maximum (any p99 with < 100 samples).
  if (rank == n) return hi;
  int64_t seen = 0;
  for (int i = 0; i < kNumBuckets; ++i) {
    seen += counts[i];
    if (seen < rank) continue;
    if (i == kOverflowBucket) return hi;
    const double lower = static_cast<double>(internal::LogLinearLower<kSubBucketBits>(i));
    const double width = static_cast<double>(internal::LogLinearWidth<kSubBucketBits>(i));
    return std::clamp(lower + (width - 1.0) / 2.0, lo, hi);
  }
  return hi;
}

double SecondStats::ClassPercentile(OpClass c, double p) const {
  const int cls = static_cast<int>(c);
  if (cls < 0 || cls >= kNumTimedClasses) return 0.0;
  return class_buckets[cls].Percentile(class_count[cls], p, static_cast<double>(min()),
                                       static_cast<double>(class_max_ns[cls]));
}

double SecondStats::IntendedPercentile(OpClass c, double p) const {
  const int cls = static_cast<int>(c);
  if (cls < 0 || cls >= kNumTimedClasses) return 0.0;
  return intended_buckets[cls].Percentile(class_count[cls], p, 0.0,
                                          static_cast<double>(intended_max_ns[cls]));
}

double SecondStats::StaleAgePercentile(double p) const {
  return stale_age_buckets.Percentile(stale_reads(), p, 0.0, static_cast<double>(stale_age_max_ns));
}

LatencyRecorder::LatencyRecorder() = default;

int64_t LatencyRecorder::ops() const {
  int64_t n = 0;
  for (const Histogram& h : class_hist_) n += h.Count();
  return n;
}

int64_t LatencyRecorder::total_ns() const {
  int64_t n = 0;
  for (const Histogram& h : class_hist_) n += h.Sum();
  return n;
}

size_t LatencyRecorder::MemoryBytes() const {
  constexpr size_t kHistogramBytes = sizeof(int64_t) * Histogram::kNumBuckets;
  size_t bytes =
      (class_hist_.size() + step_hist_.size() + intended_hist_.size() + stale_age_hist_.size()) *
          kHistogramBytes +
      seconds_.capacity() * sizeof(SecondStats);
  for (const SecondStats& sec : seconds_) {
    for (const auto* buckets : {&sec.class_buckets, &sec.intended_buckets}) {
      for (const CoarseBuckets& b : *buckets) bytes += b.counts.capacity() * sizeof(uint32_t);
    }
    bytes += sec.stale_age_buckets.counts.capacity() * sizeof(uint32_t);
  }
  return bytes;
}

namespace {
const Histogram& EmptyHistogram() {
  static const Histogram* const empty = new Histogram();
  return *empty;
}
}  // namespace

const Histogram& LatencyRecorder::intended_histogram(OpClass c) const {
  const int cls = static_cast<int>(c);
  if (intended_hist_.empty() || cls < 0 || cls >= kNumOpClasses) return EmptyHistogram();
  return intended_hist_[static_cast<size_t>(cls)];
}

const Histogram& LatencyRecorder::start_lag() const {
  return intended_hist_.empty() ? EmptyHistogram() : intended_hist_[kNumOpClasses];
}

const Histogram& LatencyRecorder::stale_age() const {
  return stale_age_hist_.empty() ? EmptyHistogram() : stale_age_hist_[0];
}

void LatencyRecorder::RecordEvents(const OpResult& op, SecondStats* sec) {
  unsigned bits = op.events & ((1u << kNumOpEvents) - 1);
  while (bits != 0) {
    const int e = std::countr_zero(bits);
    bits &= bits - 1;
    ++event_counts_[e];
    if (sec != nullptr) ++sec->event_counts[e];
  }
  const int64_t in_flight = std::max<int64_t>(0, op.db_reads_in_flight);
  db_reads_in_flight_max_ = std::max(db_reads_in_flight_max_, in_flight);
  if (sec != nullptr)
    sec->db_reads_in_flight_max = std::max(sec->db_reads_in_flight_max, in_flight);
  if ((op.events & kEventStale) == 0) return;
  const int64_t age = std::max<int64_t>(0, op.stale_age_ns);
  if (stale_age_hist_.empty()) stale_age_hist_.resize(1);
  stale_age_hist_[0].Record(age);
  if (sec == nullptr) return;
  sec->stale_age_buckets.Add(age);
  sec->stale_age_max_ns = std::max(sec->stale_age_max_ns, age);
}

Histogram LatencyRecorder::IntendedOverall() const {
  Histogram all;
  if (intended_hist_.empty()) return all;
  for (int c = 0; c < kNumOpClasses; ++c) {
    if (c != static_cast<int>(OpClass::kError)) all.Merge(intended_hist_[static_cast<size_t>(c)]);
  }
  return all;
}

void LatencyRecorder::RecordOpenLoop(const OpResult& op, int64_t start_epoch_ns, int64_t lag_ns) {
  Record(op, start_epoch_ns);
  if (intended_hist_.empty()) intended_hist_.resize(kNumOpClasses + 1);
  const int raw = static_cast<int>(op.op_class);
  const int cls = raw < kNumOpClasses ? raw : static_cast<int>(OpClass::kError);
  const int64_t lag = std::max<int64_t>(0, lag_ns);
  const int64_t ns = std::max<int64_t>(0, op.total_ns) + lag;
  intended_hist_[static_cast<size_t>(cls)].Record(ns);
  intended_hist_[kNumOpClasses].Record(lag);
  const bool late = lag > kLateNs;
  late_ops_ += late;
  const int64_t intended_start = start_epoch_ns - lag;
  first_intended_ns_ = std::min(first_intended_ns_, intended_start);
  last_intended_ns_ = std::max(last_intended_ns_, intended_start);
  // Record() made the operation's second the current one, unless the second
  // was outside the series.
  if (static_cast<uint64_t>(start_epoch_ns) - cur_lo_ >= cur_width_) return;
  SecondStats& sec = seconds_[cur_index_];
  sec.intended_total_ns[cls] += ns;
  sec.intended_max_ns[cls] = std::max(sec.intended_max_ns[cls], ns);
  if (cls < SecondStats::kNumTimedClasses) sec.intended_buckets[cls].Add(ns);
  sec.late_ops += late;
}

Histogram LatencyRecorder::Overall() const {
  Histogram all = class_hist_[0];
  for (int c = 1; c < kNumOpClasses; ++c) {
    if (c != static_cast<int>(OpClass::kError)) all.Merge(class_hist_[c]);
  }
  return all;
}

SecondStats* LatencyRecorder::GrowTo(int64_t second) {
  if (seconds_.empty()) {
    seconds_.reserve(kInitialSeconds);
    seconds_.emplace_back();
    first_second_ = second;
    return &seconds_.back();
  }
  const int64_t size = static_cast<int64_t>(seconds_.size());
  if (second >= first_second_ + size) {
    if (second - first_second_ >= kMaxSeconds) return nullptr;
    seconds_.resize(static_cast<size_t>(second - first_second_ + 1));
  } else if (second < first_second_) {
    if (first_second_ + size - second > kMaxSeconds) return nullptr;
    // Rare (an operation that started before every other one recorded so
    // far, or a merge): shift the series. Indexes change, so the cached
    // current second is dropped.
    seconds_.insert(seconds_.begin(), static_cast<size_t>(first_second_ - second), SecondStats{});
    first_second_ = second;
    cur_width_ = 0;
  }
  return &seconds_[static_cast<size_t>(second - first_second_)];
}

SecondStats* LatencyRecorder::SwitchSecond(int64_t start_epoch_ns) {
  const int64_t second = FloorSecond(start_epoch_ns);
  SecondStats* sec = GrowTo(second);
  if (sec == nullptr) {
    ++outside_time_series_;
    return nullptr;
  }
  cur_index_ = static_cast<size_t>(second - first_second_);
  // Modular arithmetic: the window test in Record() is done mod 2^64, so a
  // wrapped product for an absurd second still describes the right window.
  cur_lo_ = static_cast<uint64_t>(second) * static_cast<uint64_t>(kNanosPerSecond);
  cur_width_ = static_cast<uint64_t>(kNanosPerSecond);
  return sec;
}

void LatencyRecorder::Merge(const LatencyRecorder& other) {
  for (int c = 0; c < kNumOpClasses; ++c) class_hist_[c].Merge(other.class_hist_[c]);
  for (int s = 0; s < kNumSteps; ++s) step_hist_[s].Merge(other.step_hist_[s]);
  if (!other.intended_hist_.empty()) {
    if (intended_hist_.empty()) intended_hist_.resize(kNumOpClasses + 1);
    for (size_t h = 0; h < intended_hist_.size(); ++h) {
      intended_hist_[h].Merge(other.intended_hist_[h]);
    }
  }
  late_ops_ += other.late_ops_;
  for (int c = 0; c < kNumMissCauses; ++c) miss_causes_[c] += other.miss_causes_[c];
  for (int e = 0; e < kNumOpEvents; ++e) event_counts_[e] += other.event_counts_[e];
  db_reads_in_flight_max_ = std::max(db_reads_in_flight_max_, other.db_reads_in_flight_max_);
  if (!other.stale_age_hist_.empty()) {
    if (stale_age_hist_.empty()) stale_age_hist_.resize(1);
    stale_age_hist_[0].Merge(other.stale_age_hist_[0]);
  }
  first_intended_ns_ = std::min(first_intended_ns_, other.first_intended_ns_);
  last_intended_ns_ = std::max(last_intended_ns_, other.last_intended_ns_);
  for (size_t e = 0; e < errors_by_source_.size(); ++e) {
    errors_by_source_[e] += other.errors_by_source_[e];
  }
  first_start_ns_ = std::min(first_start_ns_, other.first_start_ns_);
  last_end_ns_ = std::max(last_end_ns_, other.last_end_ns_);
  outside_time_series_ += other.outside_time_series_;

  // Copy what is needed first: `other` may be *this.
  const int64_t other_first = other.first_second_;
  const size_t other_size = other.seconds_.size();
  for (size_t i = 0; i < other_size; ++i) {
    const SecondStats& from = other.seconds_[i];
    const int64_t n = from.count();
    if (n == 0) continue;
    SecondStats* to = GrowTo(other_first + static_cast<int64_t>(i));
    if (to == nullptr) {
      outside_time_series_ += n;
      continue;
    }
    to->min_ns = std::min(to->min_ns, from.min_ns);
    to->max_ns = std::max(to->max_ns, from.max_ns);
    for (int c = 0; c < kNumOpClasses; ++c) {
      to->class_count[c] += from.class_count[c];
      to->class_total_ns[c] += from.class_total_ns[c];
      to->class_max_ns[c] = std::max(to->class_max_ns[c], from.class_max_ns[c]);
      to->class_min_ns[c] = std::min(to->class_min_ns[c], from.class_min_ns[c]);
    }
    for (int c = 0; c < kNumOpClasses; ++c) {
      to->intended_total_ns[c] += from.intended_total_ns[c];
      to->intended_max_ns[c] = std::max(to->intended_max_ns[c], from.intended_max_ns[c]);
    }
    for (int c = 0; c < SecondStats::kNumTimedClasses; ++c) {
      to->class_buckets[c].Merge(from.class_buckets[c]);
      to->intended_buckets[c].Merge(from.intended_buckets[c]);
    }
    to->late_ops += from.late_ops;
    for (int c = 0; c < kNumMissCauses; ++c) to->miss_causes[c] += from.miss_causes[c];
    for (int e = 0; e < kNumOpEvents; ++e) to->event_counts[e] += from.event_counts[e];
    to->db_reads_in_flight_max = std::max(to->db_reads_in_flight_max, from.db_reads_in_flight_max);
    to->stale_age_buckets.Merge(from.stale_age_buckets);
    to->stale_age_max_ns = std::max(to->stale_age_max_ns, from.stale_age_max_ns);
  }
  cur_width_ = 0;
}

void LatencyRecorder::Clear() {
  for (Histogram& h : class_hist_) h.Clear();
  for (Histogram& h : step_hist_) h.Clear();
  intended_hist_.clear();
  late_ops_ = 0;
  miss_causes_ = {};
  event_counts_ = {};
  db_reads_in_flight_max_ = 0;
  stale_age_hist_.clear();
  first_intended_ns_ = std::numeric_limits<int64_t>::max();
  last_intended_ns_ = std::numeric_limits<int64_t>::min();
  errors_by_source_ = {};
  first_start_ns_ = std::numeric_limits<int64_t>::max();
  last_end_ns_ = std::numeric_limits<int64_t>::min();
  outside_time_series_ = 0;
  first_second_ = 0;
  seconds_.clear();
  cur_lo_ = 0;
  cur_width_ = 0;
  cur_index_ = 0;
}

}  // namespace cabench

namespace cabench {
namespace {

constexpr char kTotalsMagic[] = "cbtotals";
constexpr int kTotalsVersion = 1;

// Parses "a,b,c" into exactly `out.size()` integers.
template <size_t N>
bool ParseList(absl::string_view text, std::array<int64_t, N>* out) {
  std::vector<absl::string_view> parts = absl::StrSplit(text, ',');
  if (parts.size() != N) return false;
  for (size_t i = 0; i < N; ++i) {
    if (!absl::SimpleAtoi(parts[i], &(*out)[i])) return false;
  }
  return true;
}

}  // namespace

std::string LatencyRecorder::TotalsText() const {
  const bool any = ops() > 0;
  return absl::StrCat(
      kTotalsMagic, " ", kTotalsVersion, " late=", late_ops_,
      " in_flight_max=", db_reads_in_flight_max_, " outside=", outside_time_series_,
      " start=", any ? first_start_ns_ : 0, " end=", any ? last_end_ns_ : 0,
      " intended=", first_intended_ns(), ",", last_intended_ns(),
      " events=", absl::StrJoin(event_counts_, ","), " causes=", absl::StrJoin(miss_causes_, ","),
      " error_sources=", absl::StrJoin(errors_by_source_, ","));
}

absl::Status LatencyRecorder::AddRecord(const std::map<std::string, std::string>& record) {
  auto bad = [](absl::string_view key, absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat("record: '", key, "': ", why));
  };
  LatencyRecorder part;
  auto histogram = [&](const std::string& key, Histogram* into) -> absl::Status {
    auto it = record.find(key);
    if (it == record.end()) return bad(key, "missing");
    absl::StatusOr<Histogram> h = Histogram::Deserialize(it->second);
    if (!h.ok()) return bad(key, h.status().message());
    into->Merge(*h);
    return absl::OkStatus();
  };
  for (int c = 0; c < kNumOpClasses; ++c) {
    const std::string name(OpClassName(static_cast<OpClass>(c)));
    if (absl::Status s = histogram(name, &part.class_hist_[c]); !s.ok()) return s;
  }
  for (int st = 0; st < kNumSteps; ++st) {
    const std::string name(StepName(static_cast<Step>(st)));
    if (absl::Status s = histogram(name, &part.step_hist_[st]); !s.ok()) return s;
  }
  if (record.count("start_lag") > 0) {
    part.intended_hist_.resize(kNumOpClasses + 1);
    for (int c = 0; c < kNumOpClasses; ++c) {
      const std::string name = "intended_" + std::string(OpClassName(static_cast<OpClass>(c)));
      if (absl::Status s = histogram(name, &part.intended_hist_[c]); !s.ok()) return s;
    }
    if (absl::Status s = histogram("start_lag", &part.intended_hist_[kNumOpClasses]); !s.ok()) {
      return s;
    }
  }
  Histogram stale_age;
  if (absl::Status s = histogram("stale_age", &stale_age); !s.ok()) return s;
  if (stale_age.Count() > 0) part.stale_age_hist_.assign(1, stale_age);

  auto totals = record.find("totals");
  if (totals == record.end()) {
    return bad("totals", "missing (a file written before cabench recorded its totals)");
  }
  std::vector<absl::string_view> words = absl::StrSplit(totals->second, ' ', absl::SkipEmpty());
  if (words.size() < 2 || words[0] != kTotalsMagic || words[1] != absl::StrCat(kTotalsVersion)) {
    return bad("totals", absl::StrCat("not '", kTotalsMagic, " ", kTotalsVersion, " ...'"));
  }
  std::map<absl::string_view, absl::string_view> fields;
  for (size_t i = 2; i < words.size(); ++i) {
    const size_t eq = words[i].find('=');
    if (eq == absl::string_view::npos) return bad("totals", absl::StrCat("'", words[i], "'"));
    fields[words[i].substr(0, eq)] = words[i].substr(eq + 1);
  }
  std::array<int64_t, 2> intended{};
  bool ok = fields.size() == 9 && absl::SimpleAtoi(fields["late"], &part.late_ops_) &&
            absl::SimpleAtoi(fields["in_flight_max"], &part.db_reads_in_flight_max_) &&
            absl::SimpleAtoi(fields["outside"], &part.outside_time_series_) &&
            absl::SimpleAtoi(fields["start"], &part.first_start_ns_) &&
            absl::SimpleAtoi(fields["end"], &part.last_end_ns_) &&
            ParseList(fields["intended"], &intended) &&
            ParseList(fields["events"], &part.event_counts_) &&
            ParseList(fields["causes"], &part.miss_causes_) &&
            ParseList(fields["error_sources"], &part.errors_by_source_);
  if (!ok) return bad("totals", absl::StrCat("malformed: '", totals->second, "'"));
  if (part.ops() == 0) {
    part.first_start_ns_ = std::numeric_limits<int64_t>::max();
    part.last_end_ns_ = std::numeric_limits<int64_t>::min();
  }
  if (!part.intended_hist_.empty()) {
    part.first_intended_ns_ = intended[0];
    part.last_intended_ns_ = intended[1];
  }
  Merge(part);
  return absl::OkStatus();
}

}  // namespace cabench
