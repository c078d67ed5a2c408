#include "lib/cache_aside/key_versions.h"

#include <algorithm>

namespace cabench {
namespace {

constexpr int kTimeBits = 48;
constexpr uint64_t kTimeMask = (uint64_t{1} << kTimeBits) - 1;
constexpr uint64_t kTagMask = 0xffff;

uint64_t Micros(int64_t ns) {
  return static_cast<uint64_t>(std::max<int64_t>(ns, 0) / 1000) & kTimeMask;
}

}  // namespace

KeyVersions::KeyVersions(int64_t first_id, int64_t count)
    : first_id_(first_id),
      count_(std::max<int64_t>(count, 0)),
      keys_(count_ > 0 ? std::make_unique<Key[]>(static_cast<size_t>(count_)) : nullptr) {}

void KeyVersions::EndWrite(int64_t id, int64_t seq, bool committed, int64_t now_ns) {
  Key* k = At(id);
  if (k == nullptr) return;
  // Both before the count below, which publishes them: a reader that sees
  // this write done sees its commit time or its unsure count.
  if (committed) {
    k->commits[static_cast<uint64_t>(seq) % kCommitRing].store(
        ((static_cast<uint64_t>(seq) & kTagMask) << kTimeBits) | Micros(now_ns),
        std::memory_order_relaxed);
  } else {
    // No commit time for a write that may not have committed: an age from
    // it could exceed the true one.
    k->unsure.fetch_add(1, std::memory_order_relaxed);
  }
  k->writes.fetch_add(1);
}

KeyVersions::Staleness KeyVersions::ClassifyNotFresh(int64_t id, int64_t hi, int64_t done_before,
                                                     int64_t begun_after, int64_t sent_ns,
                                                     int64_t* age_ns) const {
  const Key* k = At(id);
  if (k == nullptr) return Staleness::kFresh;  // not reached: lo >= 0 == begun_after
  // Read after D (which was read before the GET): at least the failures
  // among the D writes done.
  if (hi + k->unsure.load(std::memory_order_acquire) >= done_before) return Staleness::kUncertain;
  // Certainly stale. The age: from the earliest kept return time of a write
  // the value lacks (sequence in (hi, B]) to the send.
  const uint64_t span = static_cast<uint64_t>(begun_after - hi);
  uint64_t earliest = UINT64_MAX;
  for (const std::atomic<uint64_t>& c : k->commits) {
    const uint64_t e = c.load(std::memory_order_relaxed);
    if (e == 0) continue;
    const uint64_t distance = ((e >> kTimeBits) - static_cast<uint64_t>(hi)) & kTagMask;
    if (distance == 0 || distance > span) continue;
    earliest = std::min(earliest, e & kTimeMask);
  }
  *age_ns = 0;  // none kept (all overwritten since): 0 is a lower bound
  if (earliest != UINT64_MAX) {
    *age_ns = std::max<int64_t>(
                  0, static_cast<int64_t>(Micros(sent_ns)) - static_cast<int64_t>(earliest)) *
              1000;
  }
  return Staleness::kStale;
}

}  // namespace cabench
