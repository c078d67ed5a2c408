#include "lib/cache_aside/reconnector.h"

#include <algorithm>
#include <chrono>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "lib/metrics/clock.h"

namespace cabench {
namespace {

constexpr int64_t kNsPerMs = 1'000'000;

void SleepNs(int64_t ns) {
  std::this_thread::sleep_for(std::chrono::nanoseconds(ns));
}

}  // namespace

Reconnector::Reconnector(KvClient* kv, SqlClient* sql, Options options)
    : kv_(kv), sql_(sql), options_(std::move(options)) {
  if (!options_.now_ns) options_.now_ns = SteadyNowNs;
  if (!options_.sleep_ns) options_.sleep_ns = SleepNs;
  options_.min_backoff_ms = std::max<int64_t>(1, options_.min_backoff_ms);
  options_.max_backoff_ms =
      std::max(options_.min_backoff_ms, options_.max_backoff_ms);
  options_.max_outage_ms = std::max<int64_t>(1, options_.max_outage_ms);
}

absl::Status Reconnector::Attempt(CacheAside& pattern, uint8_t bit,
                                  Backoff& backoff, bool wait) {
  int64_t now = options_.now_ns();
  if (backoff.down_since_ns == 0) backoff.down_since_ns = now;
  if (backoff.next_attempt_ns > now) {
    if (!wait) return absl::UnavailableError("reconnect not due yet");
    options_.sleep_ns(backoff.next_attempt_ns - now);
    stats_.wait_ns += backoff.next_attempt_ns - now;
  }
  absl::Status status;
  if (bit == CacheAside::kCacheUnavailable) {
    status = kv_ == nullptr ? absl::FailedPreconditionError("no cache client")
                            : kv_->Reconnect();
  } else {
    status = sql_ == nullptr
                 ? absl::FailedPreconditionError("no database client")
                 : sql_->Reconnect();
  }
  if (status.ok()) {
    ++stats_.reconnects;
    backoff = Backoff();
    pattern.ClearUnavailable(bit);
    return status;
  }
  ++stats_.reconnect_failures;
  backoff.backoff_ms =
      backoff.backoff_ms == 0
          ? options_.min_backoff_ms
          : std::min(2 * backoff.backoff_ms, options_.max_backoff_ms);
  // From the end of the attempt: a reconnect that itself timed out does not
  // eat into the pause before the next one.
  backoff.next_attempt_ns = options_.now_ns() + backoff.backoff_ms * kNsPerMs;
  return status;
}

absl::Status Reconnector::CheckOutage(const Backoff& backoff, const char* what,
                                      const absl::Status& last) const {
  if (backoff.down_since_ns == 0) return absl::OkStatus();
  const int64_t down_ns = options_.now_ns() - backoff.down_since_ns;
  if (down_ns <= options_.max_outage_ms * kNsPerMs) return absl::OkStatus();
  return absl::UnavailableError(
      absl::StrCat(what, " unavailable for ", down_ns / kNsPerMs,
                   " ms (more than the allowed ", options_.max_outage_ms,
                   " ms); last error: ", last.message()));
}

absl::Status Reconnector::Recover(CacheAside& pattern) {
  const uint8_t down = pattern.unavailable();
  if ((down & CacheAside::kDbUnavailable) != 0) {
    absl::Status s =
        Attempt(pattern, CacheAside::kDbUnavailable, db_, /*wait=*/true);
    if (!s.ok()) {
      if (absl::Status outage = CheckOutage(db_, "database", s); !outage.ok())
        return outage;
    }
  }
  if ((down & CacheAside::kCacheUnavailable) != 0) {
    const bool db_ok =
        (pattern.unavailable() & CacheAside::kDbUnavailable) == 0;
    const bool fallback = options_.cache_fallback && db_ok;
    absl::Status s =
        Attempt(pattern, CacheAside::kCacheUnavailable, cache_, !fallback);
    if (!s.ok() && !options_.cache_fallback) {
      if (absl::Status outage = CheckOutage(cache_, "cache server", s);
          !outage.ok()) {
        return outage;
      }
    }
  }
  return absl::OkStatus();
}

absl::Status Reconnector::ReconnectWithin(CacheAside& pattern, uint8_t bit,
                                          Backoff& backoff,
                                          int64_t patience_ms) {
  const int64_t deadline = options_.now_ns() + patience_ms * kNsPerMs;
  absl::Status status;
  do {
    status = Attempt(pattern, bit, backoff, /*wait=*/true);
  } while (!status.ok() && backoff.next_attempt_ns <= deadline);
  return status;
}

absl::Status Reconnector::ReconnectDb(CacheAside& pattern,
                                      int64_t patience_ms) {
  return ReconnectWithin(pattern, CacheAside::kDbUnavailable, db_, patience_ms);
}

absl::Status Reconnector::ReconnectCache(CacheAside& pattern,
                                         int64_t patience_ms) {
  return ReconnectWithin(pattern, CacheAside::kCacheUnavailable, cache_,
                         patience_ms);
}

}  // namespace cabench
