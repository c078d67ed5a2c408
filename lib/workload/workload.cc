#include "lib/workload/workload.h"

#include <algorithm>
#include <charconv>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace cabench {
namespace {

constexpr char kBase36[] = "0123456789abcdefghijklmnopqrstuvwxyz";

char ValidSeatTag(char tag) {
  const bool ok = (tag >= '0' && tag <= '9') || (tag >= 'a' && tag <= 'z');
  return ok ? tag : kDefaultSeatTag;
}

}  // namespace

absl::Status CheckWorkload(const Scenario& scenario,
                           const DataSetInfo& data_set) {
  if (data_set.passengers < 1 || data_set.flights < 1) {
    return absl::FailedPreconditionError(
        absl::StrCat("data set has ", data_set.passengers, " passengers and ",
                     data_set.flights, " flights: load it with cabench_load"));
  }
  if (scenario.access == AccessMode::kTrace && UsableTrace(scenario) == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("scenario '", scenario.name,
                     "': access: trace without a loaded trace (trace_file '",
                     scenario.trace_file, "'); load the scenario with LoadScenarioFile()"));
  }
  const bool uses_pool = scenario.access == AccessMode::kPool ||
                         scenario.access == AccessMode::kZipf ||
                         scenario.access == AccessMode::kHotspot;
  if (uses_pool) {
    const int64_t last = scenario.pool_first_id + scenario.pool_size - 1;
    if (scenario.pool_first_id < 1 || last > data_set.passengers) {
      return absl::FailedPreconditionError(absl::StrCat(
          "scenario '", scenario.name, "': pool ids ", scenario.pool_first_id,
          "..", last, " are not all inside the data set's passengers 1..",
          data_set.passengers, " (preset '", data_set.preset, "')"));
    }
  }
  // Every point of a cache sized by share must hold some keys.
  const std::vector<int64_t> shares = scenario.cache_keys_pct_sweep.empty()
                                          ? std::vector<int64_t>{scenario.cache_keys_pct}
                                          : scenario.cache_keys_pct_sweep;
  const int64_t universe = EffectivePassengerRange(scenario, data_set).count;
  for (int64_t pct : shares) {
    if (pct <= 0) continue;
    const int64_t keys = universe * pct / 100;
    if (keys < Scenario::kMinCacheKeys) {
      return absl::InvalidArgumentError(absl::StrCat(
          "scenario '", scenario.name, "': cache_keys_pct: ", pct, "% of its ", universe,
          " keys is ", keys, " keys; the smallest cache cabench sizes holds ",
          Scenario::kMinCacheKeys));
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
                   int thread_index, char seat_tag, int threads)
    : rng_(scenario.seed + static_cast<uint64_t>(thread_index)),
      thread_index_(thread_index),
      threads_(std::max(1, threads)),
      seat_tag_(ValidSeatTag(seat_tag)),
      read_pct_(static_cast<uint64_t>(std::clamp(scenario.read_pct, 0, 100))),
      chooser_(scenario, data_set, thread_index, threads_),
      flights_(std::max<int64_t>(1, data_set.flights)) {
  op_.booking.seat.assign(kSeatChars, '0');
  op_.booking.seat[0] = seat_tag_;
}

int64_t Workload::NextPassengerId() {
  if (chooser_.replays_trace()) {
    bool is_read;
    return chooser_.NextTrace(&is_read);
  }
  return chooser_.Next(rng_);
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
  bool read;
  if (ABSL_PREDICT_FALSE(chooser_.replays_trace())) {
    op_.passenger_id = chooser_.NextTrace(&read);
    read = read || read_pct_ == 100;
  } else {
    read = UniformBelow(rng_, 100) < read_pct_;
    op_.passenger_id = chooser_.Next(rng_);
  }
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
