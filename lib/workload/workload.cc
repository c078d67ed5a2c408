#include "lib/workload/workload.h"

#include <algorithm>
#include <charconv>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace cabench {
namespace {

// GCC and Clang both have a 128-bit integer; __extension__ keeps -Wpedantic
// quiet about it.
__extension__ typedef unsigned __int128 Uint128;

constexpr char kBase36[] = "0123456789abcdefghijklmnopqrstuvwxyz";

char ValidSeatTag(char tag) {
  const bool ok = (tag >= '0' && tag <= '9') || (tag >= 'a' && tag <= 'z');
  return ok ? tag : kDefaultSeatTag;
}

}  // namespace

uint64_t UniformBelow(std::mt19937_64& rng, uint64_t bound) {
  if (bound == 0) return 0;
  // Lemire, "Fast Random Integer Generation in an Interval" (2019): the high
  // word of x * bound is uniform once the low word is outside the small
  // biased zone [0, 2^64 mod bound), which is re-drawn.
  Uint128 m = static_cast<Uint128>(rng()) * bound;
  uint64_t low = static_cast<uint64_t>(m);
  if (low < bound) {
    const uint64_t threshold = (0 - bound) % bound;  // 2^64 mod bound
    while (low < threshold) {
      m = static_cast<Uint128>(rng()) * bound;
      low = static_cast<uint64_t>(m);
    }
  }
  return static_cast<uint64_t>(m >> 64);
}

IdRange EffectivePassengerRange(const Scenario& scenario,
                                const DataSetInfo& data_set) {
  const int64_t passengers = std::max<int64_t>(1, data_set.passengers);
  if (scenario.access == AccessMode::kRandom) return IdRange{1, passengers};
  const int64_t size = std::max<int64_t>(1, scenario.pool_size);
  const int64_t lo = std::max<int64_t>(1, scenario.pool_first_id);
  // pool_first_id + pool_size - 1 fits in int64 (the loader checks it).
  const int64_t hi = std::min(passengers, scenario.pool_first_id + size - 1);
  if (lo <= hi) return IdRange{lo, hi - lo + 1};
  return IdRange{1, std::min(size, passengers)};
}

absl::Status CheckWorkload(const Scenario& scenario,
                           const DataSetInfo& data_set) {
  if (data_set.passengers < 1 || data_set.flights < 1) {
    return absl::FailedPreconditionError(
        absl::StrCat("data set has ", data_set.passengers, " passengers and ",
                     data_set.flights, " flights: load it with cabench_load"));
  }
  if (scenario.access == AccessMode::kPool) {
    const int64_t last = scenario.pool_first_id + scenario.pool_size - 1;
    if (scenario.pool_first_id < 1 || last > data_set.passengers) {
      return absl::FailedPreconditionError(absl::StrCat(
          "scenario '", scenario.name, "': pool ids ", scenario.pool_first_id,
          "..", last, " are not all inside the data set's passengers 1..",
          data_set.passengers, " (preset '", data_set.preset, "')"));
    }
  }
  return absl::OkStatus();
}

size_t FormatCacheKey(std::string_view prefix, int64_t id, char* out,
                      size_t out_size) {
  if (out_size < prefix.size()) return 0;
  std::memcpy(out, prefix.data(), prefix.size());
  char* const end = out + out_size;
  const std::to_chars_result r = std::to_chars(out + prefix.size(), end, id);
  if (r.ec != std::errc()) return 0;
  return static_cast<size_t>(r.ptr - out);
}

Workload::Workload(const Scenario& scenario, const DataSetInfo& data_set,
                   int thread_index, char seat_tag)
    : rng_(scenario.seed + static_cast<uint64_t>(thread_index)),
      thread_index_(thread_index),
      seat_tag_(ValidSeatTag(seat_tag)),
      read_pct_(static_cast<uint64_t>(std::clamp(scenario.read_pct, 0, 100))),
      range_(EffectivePassengerRange(scenario, data_set)),
      flights_(std::max<int64_t>(1, data_set.flights)) {
  op_.booking.seat.assign(kSeatChars, '0');
  op_.booking.seat[0] = seat_tag_;
}

int64_t Workload::NextPassengerId() {
  return range_.first_id + static_cast<int64_t>(UniformBelow(
                               rng_, static_cast<uint64_t>(range_.count)));
}

void Workload::NextSeat(std::string* seat) {
  if (seat->size() != kSeatChars) seat->assign(kSeatChars, '0');
  (*seat)[0] = seat_tag_;
  // v = (counter * 36 + t % 36) mod 36^3: the last digit is the thread's.
  int64_t c =
      (seat_counter_ % kSeatsPerThread) * 36 + (thread_index_ % 36 + 36) % 36;
  for (int i = kSeatChars - 1; i >= 1; --i) {
    (*seat)[i] = kBase36[c % 36];
    c /= 36;
  }
  ++seat_counter_;
}

const Op& Workload::Next() {
  // Draw order (kind, passenger, then flight for writes) is part of the
  // reproducibility contract: changing it changes every recorded run.
  const bool read = UniformBelow(rng_, 100) < read_pct_;
  op_.passenger_id = NextPassengerId();
  if (read) {
    op_.kind = OpKind::kRead;
    return op_;
  }
  op_.kind = OpKind::kWrite;
  NewBooking& b = op_.booking;
  b.passenger_id = op_.passenger_id;
  b.flight_id = 1 + static_cast<int64_t>(
                        UniformBelow(rng_, static_cast<uint64_t>(flights_)));
  // 10.00 .. 509.99 in cents, a function of the write counter only.
  b.price_cents = 1000 + (seat_counter_ * 7919) % 50000;
  NextSeat(&b.seat);
  return op_;
}

}  // namespace cabench
