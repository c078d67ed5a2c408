#include "lib/cache_aside/cache_aside.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <thread>
#include <utility>

namespace cabench {
namespace {

constexpr char kNegativeValue[] = "-";
constexpr char kLockSuffix[] = ":lock";

void AppendInt(int64_t v, std::string* out) {
  char digits[kMaxIdChars + 1];
  const auto r = std::to_chars(digits, digits + sizeof(digits), v);
  out->append(digits, r.ptr);
}

void AppendBookingCount(const BookingCount& row, std::string* out) {
  if (!row.found) {
    out->append(kNegativeValue);
    return;
  }
  AppendInt(row.count, out);
  out->push_back('|');
  out->append(row.firstname);
  out->push_back('|');
  out->append(row.lastname);
}

// A distinct stream from the Workload's (seed + thread_index): splitmix64's
// finalizer over the pair, so jitter draws never line up with op draws.
uint64_t JitterSeed(uint64_t seed, int thread_index) {
  uint64_t z = seed + 0x9e3779b97f4a7c15ULL * (static_cast<uint64_t>(thread_index) + 1);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// Parses the ValueMeta header at the start of `value` into *meta and returns
// its length, '#' included; 0 when there is none (a plain row: its first
// non-digit is '|', or it is the negative entry) or a malformed one. One
// pass, no search, no allocation: this runs on every hit.
// "<lo>,<hi - lo>#" or "<lo>,<hi - lo>,<d>,<e>#".
size_t ParseMeta(std::string_view value, ValueMeta* meta) {
  const char* const begin = value.data();
  const char* const end = begin + value.size();
  const char* p = begin;
  uint64_t fields[4];
  int n = 0;
  while (true) {
    // One number in a register (unsigned: wrapping is defined; its length
    // is checked after).
    const char* const digits = p;
    uint64_t v = 0;
    unsigned d;
    while (p != end && (d = static_cast<unsigned char>(*p) - '0') < 10) {
      v = v * 10 + d;
      ++p;
    }
    if (p == digits || p - digits > 18 || p == end) return 0;  // no int64 overflow
    fields[n++] = v;
    if (*p == '#') {
      if (n != 2 && n != 4) return 0;
      meta->lo = static_cast<int64_t>(fields[0]);
      meta->hi = static_cast<int64_t>(fields[0] + fields[1]);  // < 2 x 10^18: no overflow
      meta->delta_us = n == 4 ? static_cast<int64_t>(fields[2]) : -1;
      meta->expiry_ms = n == 4 ? static_cast<int64_t>(fields[3]) : -1;
      return static_cast<size_t>(p - begin) + 1;
    }
    if (*p != ',' || n == 4) return 0;
    ++p;
  }
}

// A prefix of fill-lock tokens unique to this process: 64 random bits in
// hex, drawn once, so that two processes sharing a cache (a sharded run)
// never hold the same token.
const std::string& ProcessLockPrefix() {
  static const std::string* const prefix = [] {
    std::random_device rd;
    const uint64_t nonce = (static_cast<uint64_t>(rd()) << 32) ^ rd();
    char hex[17];
    const auto r = std::to_chars(hex, hex + sizeof(hex), nonce, 16);
    return new std::string(hex, r.ptr);
  }();
  return *prefix;
}

}  // namespace

void EncodeBookingCount(const BookingCount& row, std::string* out) {
  out->clear();
  AppendBookingCount(row, out);
}

void EncodeCachedValue(const ValueMeta& meta, const BookingCount& row, std::string* out) {
  out->clear();
  AppendInt(meta.lo, out);
  out->push_back(',');
  AppendInt(meta.hi - meta.lo, out);  // mostly 0: a short value, a short parse
  if (meta.delta_us >= 0) {
    out->push_back(',');
    AppendInt(meta.delta_us, out);
    out->push_back(',');
    AppendInt(meta.expiry_ms, out);
  }
  out->push_back('#');
  AppendBookingCount(row, out);
}

bool ParseValueMeta(std::string_view value, ValueMeta* meta) { return ParseMeta(value, meta) != 0; }

bool DecodeBookingCount(std::string_view value, BookingCount* row) {
  ValueMeta meta;
  value.remove_prefix(ParseMeta(value, &meta));
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
      single_flight_(scenario.single_flight),
      lock_ms_(scenario.single_flight_lock_ms),
      wait_ns_(scenario.single_flight_wait_ms * 1'000'000),
      poll_ns_(scenario.single_flight_poll_us * 1'000),
      beta_(scenario.early_refresh_beta),
      meta_(options.versions != nullptr || scenario.early_refresh_beta > 0),
      options_(options),
      jitter_rng_(JitterSeed(scenario.seed, options.thread_index)),
      key_(scenario.key_prefix),
      prefix_len_(scenario.key_prefix.size()),
      epoch_offset_ns_(EpochOffsetNs()) {
  // Room for any id after the prefix, so KeyFor() never reallocates.
  key_.resize(prefix_len_ + kMaxIdChars);
  lock_key_.reserve(key_.size() + sizeof(kLockSuffix));
  value_.reserve(128);
  row_.firstname.reserve(64);
  row_.lastname.reserve(64);
  retry_booking_.seat.reserve(kSeatChars);
  if (single_flight_) {
    lock_token_ = ProcessLockPrefix();
    lock_token_.push_back(':');
    AppendInt(options_.thread_index, &lock_token_);
    lock_token_.push_back(':');
    lock_prefix_len_ = lock_token_.size();
    lock_token_.reserve(lock_prefix_len_ + kMaxIdChars + 1);
  }
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

absl::Status CacheAside::Select(int64_t passenger_id, OpResult& r) {
  KeyVersions* const versions = options_.versions;
  if (versions == nullptr) return sql_->QueryBookingCount(passenger_id, &row_);
  r.db_reads_in_flight = std::max(r.db_reads_in_flight, versions->BeginDbRead());
  absl::Status st = sql_->QueryBookingCount(passenger_id, &row_);
  versions->EndDbRead();
  return st;
}

int64_t CacheAside::SelectAndSet(int64_t passenger_id, int64_t t_start, OpResult& r) {
  KeyVersions* const versions = options_.versions;
  ValueMeta meta;
  // Writes certainly in the row: done before the SELECT is sent (none when
  // it may read a lagging replica).
  if (versions != nullptr && !options_.fills_may_lag) meta.lo = versions->Done(passenger_id);
  absl::Status st = Select(passenger_id, r);
  // Writes possibly in the row: begun before the SELECT returned.
  if (versions != nullptr) meta.hi = versions->Begun(passenger_id);
  const int64_t t_selected = MonoNowNs();
  r.SetStep(Step::kDbSelect, t_selected - t_start);
  if (!st.ok()) {
    Fail(r, ErrorSource::kDb, std::move(st));
    return t_selected;
  }
  r.ttl_ms = TtlForSet();
  if (!meta_) {
    EncodeBookingCount(row_, &value_);
  } else {
    if (beta_ > 0) {
      meta.delta_us = std::max<int64_t>(1, (t_selected - t_start) / 1000);
      meta.expiry_ms = (t_selected + epoch_offset_ns_) / 1'000'000 + r.ttl_ms;
    }
    EncodeCachedValue(meta, row_, &value_);
  }
  st = kv_->Set(std::string_view(key_.data(), key_len_), value_, r.ttl_ms);
  const int64_t t_set = MonoNowNs();
  r.SetStep(Step::kCacheSet, t_set - t_selected);
  if (!st.ok()) Fail(r, ErrorSource::kCache, std::move(st));
  return t_set;
}

int64_t CacheAside::Fill(int64_t passenger_id, int64_t t_start, OpResult& r) {
  r.events |= kEventReadSelect;
  KeyVersions* const versions = options_.versions;
  if (versions == nullptr) return SelectAndSet(passenger_id, t_start, r);
  if (versions->BeginFill(passenger_id)) r.events |= kEventDupFill;
  const int64_t t_end = SelectAndSet(passenger_id, t_start, r);
  versions->EndFill(passenger_id);
  return t_end;
}

absl::StatusOr<bool> CacheAside::Get(int64_t passenger_id, int64_t sent_ns, GetWindow* w) {
  KeyVersions* const versions = options_.versions;
  const std::string_view key(key_.data(), key_len_);
  if (versions == nullptr) return kv_->Get(key, &value_);
  w->sent_ns = sent_ns;
  w->done_before = versions->Done(passenger_id);
  absl::StatusOr<bool> got = kv_->Get(key, &value_);
  if (got.ok() && *got) w->begun_after = versions->Begun(passenger_id);
  return got;
}

int64_t CacheAside::OnHit(int64_t passenger_id, const GetWindow& w, int64_t t_hit, bool may_refresh,
                          OpResult& r) {
  ValueMeta meta;
  if (!meta_ || !ParseValueMeta(value_, &meta)) return t_hit;
  if (options_.versions != nullptr) {
    int64_t age_ns = 0;
    switch (options_.versions->Classify(passenger_id, meta.lo, meta.hi, w.done_before,
                                        w.begun_after, w.sent_ns, &age_ns)) {
      case KeyVersions::Staleness::kFresh:
        break;
      case KeyVersions::Staleness::kStale:
        r.events |= kEventStale;
        r.stale_age_ns = age_ns;
        break;
      case KeyVersions::Staleness::kUncertain:
        r.events |= kEventStaleUncertain;
        break;
    }
  }
  if (!may_refresh || beta_ <= 0 || meta.delta_us <= 0) return t_hit;
  // XFetch: refresh when -beta * delta * ln(u) >= the remaining TTL, u in (0, 1].
  const double remaining_ms =
      static_cast<double>(meta.expiry_ms) - static_cast<double>(t_hit + epoch_offset_ns_) / 1e6;
  const double u = (static_cast<double>(jitter_rng_() >> 11) + 1.0) * 0x1.0p-53;
  if (-beta_ * (static_cast<double>(meta.delta_us) / 1000.0) * std::log(u) < remaining_ms) {
    return t_hit;
  }
  r.events |= kEventEarlyRefresh;
  return Fill(passenger_id, t_hit, r);
}

int64_t CacheAside::MissSingleFlight(int64_t passenger_id, int64_t t_get, OpResult& r) {
  lock_key_.assign(key_.data(), key_len_);
  lock_key_.append(kLockSuffix);
  // A token of this acquisition alone, so that the release below deletes
  // this lock and never a later holder's.
  lock_token_.resize(lock_prefix_len_);
  AppendInt(++locks_taken_, &lock_token_);
  absl::StatusOr<bool> took = kv_->SetIfAbsent(lock_key_, lock_token_, lock_ms_);
  const int64_t t_lock = MonoNowNs();
  r.SetStep(Step::kCacheLock, t_lock - t_get);
  if (!took.ok()) {
    Fail(r, ErrorSource::kCache, std::move(took).status());
    return t_lock;
  }
  GetWindow w;
  if (*took) {
    // The key may have been filled between our GET and the lock (by the
    // holder that just released it): look again before reading the row.
    absl::StatusOr<bool> got = Get(passenger_id, t_lock, &w);
    const int64_t t_checked = MonoNowNs();
    r.SetStep(Step::kCacheLock, t_checked - t_get);
    if (!got.ok()) {
      Fail(r, ErrorSource::kCache, std::move(got).status());
      return t_checked;
    }
    const int64_t t_filled = *got ? OnHit(passenger_id, w, t_checked, /*may_refresh=*/false, r)
                                  : Fill(passenger_id, t_checked, r);
    if (r.op_class == OpClass::kError) return t_filled;
    // Release the lock for the key's next miss, if it is still ours: should
    // the fill have outlasted the lock, another reader may hold it by now.
    absl::StatusOr<bool> released = kv_->DelIfEquals(lock_key_, lock_token_);
    const int64_t t_end = MonoNowNs();
    r.SetStep(Step::kCacheLock, r.step_ns[static_cast<int>(Step::kCacheLock)] + t_end - t_filled);
    if (!released.ok()) Fail(r, ErrorSource::kCache, std::move(released).status());
    return t_end;
  }
  // Another reader fills the key: re-read the cache until it is there.
  r.events |= kEventFillWait;
  const int64_t deadline = t_lock + wait_ns_;
  int64_t now = t_lock;
  while (true) {
    std::this_thread::sleep_for(std::chrono::nanoseconds(std::min(poll_ns_, deadline - now)));
    const int64_t sent = MonoNowNs();
    absl::StatusOr<bool> got = Get(passenger_id, sent, &w);
    now = MonoNowNs();
    if (!got.ok()) {
      r.SetStep(Step::kFillWait, now - t_lock);
      Fail(r, ErrorSource::kCache, std::move(got).status());
      return now;
    }
    if (*got) {
      r.SetStep(Step::kFillWait, now - t_lock);
      return OnHit(passenger_id, w, now, /*may_refresh=*/false, r);
    }
    if (now >= deadline) break;
  }
  r.SetStep(Step::kFillWait, now - t_lock);
  r.events |= kEventWaitTimeout;
  return Fill(passenger_id, now, r);
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
    r.events |= kEventReadSelect;
    absl::Status st = Select(passenger_id, r);
    const int64_t t1 = MonoNowNs();
    r.SetStep(Step::kDbSelect, t1 - t0);
    r.total_ns = t1 - t0;
    r.op_class = OpClass::kDbRead;
    if (!st.ok()) Fail(r, ErrorSource::kDb, std::move(st));
    return r;
  }

  key_len_ = KeyFor(passenger_id).size();
  GetWindow w;
  absl::StatusOr<bool> got = Get(passenger_id, t0, &w);
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
    absl::Status st = Select(passenger_id, r);
    const int64_t t2 = MonoNowNs();
    r.SetStep(Step::kDbSelect, t2 - t1);
    r.total_ns = t2 - t0;
    r.op_class = OpClass::kFallback;
    if (!st.ok()) Fail(r, ErrorSource::kDb, std::move(st));
    return r;
  }
  if (*got) {
    r.op_class = OpClass::kCacheHit;
    r.total_ns = (meta_ ? OnHit(passenger_id, w, t1, /*may_refresh=*/true, r) : t1) - t0;
    return r;
  }
  r.op_class = OpClass::kCacheMiss;
  const int64_t t_end =
      single_flight_ ? MissSingleFlight(passenger_id, t1, r) : Fill(passenger_id, t1, r);
  r.total_ns = t_end - t0;
  return r;
}

OpResult CacheAside::Write(const NewBooking& booking) {
  OpResult r;
  r.kind = OpKind::kWrite;
  r.op_class = OpClass::kWrite;
  if (!Begin(r)) return r;
  const int64_t t0 = start_mono_ns_;

  KeyVersions* const versions = options_.versions;
  // Begun just before the INSERT is sent (its sequence number)...
  const int64_t seq = versions != nullptr ? versions->BeginWrite(booking.passenger_id) : 0;
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
  // ... and done just after it returned, also when it failed: a failed
  // INSERT may have committed (a lost reply), so it counts as unsure.
  if (versions != nullptr) versions->EndWrite(booking.passenger_id, seq, inserted.ok(), t1);
  r.SetStep(Step::kDbInsert, t1 - t0);
  if (!inserted.ok()) {
    Fail(r, ErrorSource::kDb, std::move(inserted).status());
    r.total_ns = t1 - t0;
    return r;
  }
  if (!cache_ || write_policy_ == WritePolicy::kTtlOnly) {
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
