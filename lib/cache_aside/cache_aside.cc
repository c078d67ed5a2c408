#include "lib/cache_aside/cache_aside.h"

#include <charconv>
#include <utility>

namespace cabench {
namespace {

constexpr char kNegativeValue[] = "-";

// Realtime minus monotonic, measured once per process, so that every
// thread's operations land on one time line (ops_per_s divides by the span
// from the first start to the last end over all threads).
int64_t EpochOffsetNs() {
  static const int64_t offset = [] {
    const int64_t real = std::chrono::duration_cast<std::chrono::nanoseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
    return real - CacheAside::MonoNowNs();
  }();
  return offset;
}

// A distinct stream from the Workload's (seed + thread_index): splitmix64's
// finalizer over the pair, so jitter draws never line up with op draws.
uint64_t JitterSeed(uint64_t seed, int thread_index) {
  uint64_t z = seed + 0x9e3779b97f4a7c15ULL * (static_cast<uint64_t>(thread_index) + 1);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

}  // namespace

void EncodeBookingCount(const BookingCount& row, std::string* out) {
  out->clear();
  if (!row.found) {
    out->append(kNegativeValue);
    return;
  }
  char digits[kMaxIdChars];
  const auto r = std::to_chars(digits, digits + sizeof(digits), row.count);
  out->append(digits, r.ptr);
  out->push_back('|');
  out->append(row.firstname);
  out->push_back('|');
  out->append(row.lastname);
}

bool DecodeBookingCount(std::string_view value, BookingCount* row) {
  if (value == kNegativeValue) {
    row->found = false;
    row->count = 0;
    row->firstname.clear();
    row->lastname.clear();
    return true;
  }
  const size_t bar1 = value.find('|');
  if (bar1 == std::string_view::npos) return false;
  const size_t bar2 = value.find('|', bar1 + 1);
  if (bar2 == std::string_view::npos) return false;
  int64_t count = 0;
  const auto r = std::from_chars(value.data(), value.data() + bar1, count);
  if (r.ec != std::errc() || r.ptr != value.data() + bar1) return false;
  row->found = true;
  row->count = count;
  row->firstname.assign(value.substr(bar1 + 1, bar2 - bar1 - 1));
  row->lastname.assign(value.substr(bar2 + 1));
  return true;
}

CacheAside::CacheAside(KvClient* kv, SqlClient* sql, const Scenario& scenario)
    : CacheAside(kv, sql, scenario, Options()) {}

CacheAside::CacheAside(KvClient* kv, SqlClient* sql, const Scenario& scenario, Options options)
    : kv_(kv),
      sql_(sql),
      cache_(scenario.cache),
      ttl_ms_(scenario.ttl_ms),
      ttl_jitter_pct_(scenario.ttl_jitter_pct),
      write_policy_(scenario.write_policy),
      options_(options),
      jitter_rng_(JitterSeed(scenario.seed, options.thread_index)),
      key_(scenario.key_prefix),
      prefix_len_(scenario.key_prefix.size()),
      epoch_offset_ns_(EpochOffsetNs()) {
  // Room for any id after the prefix, so KeyFor() never reallocates.
  key_.resize(prefix_len_ + kMaxIdChars);
  value_.reserve(128);
  row_.firstname.reserve(64);
  row_.lastname.reserve(64);
  retry_booking_.seat.reserve(kSeatChars);
}

std::string_view CacheAside::KeyFor(int64_t passenger_id) {
  char* const digits = key_.data() + prefix_len_;
  const auto r = std::to_chars(digits, digits + kMaxIdChars, passenger_id);
  return std::string_view(key_.data(), static_cast<size_t>(r.ptr - key_.data()));
}

int64_t CacheAside::TtlForSet() {
  if (ttl_jitter_pct_ <= 0) return ttl_ms_;
  const int64_t span = ttl_ms_ * ttl_jitter_pct_ / 100;
  if (span <= 0) return ttl_ms_;
  const int64_t offset =
      static_cast<int64_t>(UniformBelow(jitter_rng_, static_cast<uint64_t>(2 * span + 1)));
  const int64_t ttl = ttl_ms_ - span + offset;
  return ttl > 0 ? ttl : 1;
}

void CacheAside::Fail(OpResult& r, ErrorSource source, absl::Status status) {
  r.op_class = OpClass::kError;
  r.error_source = source;
  if (absl::IsUnavailable(status)) {
    unavailable_ |= source == ErrorSource::kCache ? kCacheUnavailable : kDbUnavailable;
  }
  last_error_ = std::move(status);
  ++errors_;
}

int64_t CacheAside::SelectAndSet(int64_t passenger_id, int64_t t_start, OpResult& r) {
  absl::Status st = sql_->QueryBookingCount(passenger_id, &row_);
  const int64_t t_selected = MonoNowNs();
  r.SetStep(Step::kDbSelect, t_selected - t_start);
  if (!st.ok()) {
    Fail(r, ErrorSource::kDb, std::move(st));
    return t_selected;
  }
  EncodeBookingCount(row_, &value_);
  r.ttl_ms = TtlForSet();
  st = kv_->Set(std::string_view(key_.data(), key_len_), value_, r.ttl_ms);
  const int64_t t_set = MonoNowNs();
  r.SetStep(Step::kCacheSet, t_set - t_selected);
  if (!st.ok()) Fail(r, ErrorSource::kCache, std::move(st));
  return t_set;
}

bool CacheAside::Begin(OpResult& r) {
  start_mono_ns_ = MonoNowNs();
  if (sql_ != nullptr && (!cache_ || kv_ != nullptr)) return true;
  Fail(r, sql_ == nullptr ? ErrorSource::kDb : ErrorSource::kCache,
       absl::FailedPreconditionError("CacheAside: missing client"));
  return false;
}

OpResult CacheAside::Read(int64_t passenger_id) {
  OpResult r;
  r.kind = OpKind::kRead;
  if (!Begin(r)) return r;
  const int64_t t0 = start_mono_ns_;
  if (!cache_) {
    absl::Status st = sql_->QueryBookingCount(passenger_id, &row_);
    const int64_t t1 = MonoNowNs();
    r.SetStep(Step::kDbSelect, t1 - t0);
    r.total_ns = t1 - t0;
    r.op_class = OpClass::kDbRead;
    if (!st.ok()) Fail(r, ErrorSource::kDb, std::move(st));
    return r;
  }

  key_len_ = KeyFor(passenger_id).size();
  absl::StatusOr<bool> got = kv_->Get(std::string_view(key_.data(), key_len_), &value_);
  const int64_t t1 = MonoNowNs();
  r.SetStep(Step::kCacheGet, t1 - t0);
  if (!got.ok()) {
    if (!options_.fallback_to_db_on_cache_error) {
      Fail(r, ErrorSource::kCache, std::move(got).status());
      r.total_ns = t1 - t0;
      return r;
    }
    last_error_ = std::move(got).status();
    if (absl::IsUnavailable(last_error_)) unavailable_ |= kCacheUnavailable;
    absl::Status st = sql_->QueryBookingCount(passenger_id, &row_);
    const int64_t t2 = MonoNowNs();
    r.SetStep(Step::kDbSelect, t2 - t1);
    r.total_ns = t2 - t0;
    r.op_class = OpClass::kFallback;
    if (!st.ok()) Fail(r, ErrorSource::kDb, std::move(st));
    return r;
  }
  if (*got) {
    r.op_class = OpClass::kCacheHit;
    r.total_ns = t1 - t0;
    return r;
  }
  r.op_class = OpClass::kCacheMiss;
  const int64_t t_end = SelectAndSet(passenger_id, t1, r);
  r.total_ns = t_end - t0;
  return r;
}

OpResult CacheAside::Write(const NewBooking& booking) {
  OpResult r;
  r.kind = OpKind::kWrite;
  r.op_class = OpClass::kWrite;
  if (!Begin(r)) return r;
  const int64_t t0 = start_mono_ns_;

  const NewBooking* attempt = &booking;
  absl::StatusOr<int64_t> inserted = sql_->InsertBooking(*attempt);
  for (int retry = 0;
       !inserted.ok() && options_.seat_source != nullptr && retry < options_.max_insert_retries &&
       absl::IsAlreadyExists(inserted.status());
       ++retry) {
    if (attempt == &booking) {
      retry_booking_ = booking;  // a 4-char seat: no allocation
      attempt = &retry_booking_;
    }
    options_.seat_source->NextSeat(&retry_booking_.seat);
    ++insert_retries_;
    inserted = sql_->InsertBooking(*attempt);
  }
  const int64_t t1 = MonoNowNs();
  r.SetStep(Step::kDbInsert, t1 - t0);
  if (!inserted.ok()) {
    Fail(r, ErrorSource::kDb, std::move(inserted).status());
    r.total_ns = t1 - t0;
    return r;
  }
  // Reserved ahead by the caller: a push_back that does not allocate.
  if (options_.inserted_ids != nullptr) options_.inserted_ids->push_back(*inserted);
  if (!cache_) {
    r.total_ns = t1 - t0;
    return r;
  }

  key_len_ = KeyFor(booking.passenger_id).size();
  if (write_policy_ == WritePolicy::kRefresh) {
    const int64_t t_end = SelectAndSet(booking.passenger_id, t1, r);
    r.total_ns = t_end - t0;
    return r;
  }
  absl::Status st = kv_->Del(std::string_view(key_.data(), key_len_));
  const int64_t t2 = MonoNowNs();
  r.SetStep(Step::kCacheDel, t2 - t1);
  r.total_ns = t2 - t0;
  if (!st.ok()) Fail(r, ErrorSource::kCache, std::move(st));
  return r;
}

}  // namespace cabench
