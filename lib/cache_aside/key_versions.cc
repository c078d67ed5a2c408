#include "lib/cache_aside/key_versions.h"

#include <algorithm>

namespace cabench {
namespace {

constexpr int kTimeBits = 48;
constexpr uint64_t kTimeMask = (uint64_t{1} << kTimeBits) - 1;
constexpr uint64_t kTagMask = 0xffff;

}  // namespace

KeyVersions::KeyVersions(int64_t first_id, int64_t count)
    : first_id_(first_id),
      count_(std::max<int64_t>(count, 0)),
      keys_(count_ > 0 ? std::make_unique<Key[]>(static_cast<size_t>(count_)) : nullptr) {}

int64_t KeyVersions::Commit(int64_t id, int64_t now_ns) {
  Key* k = At(id);
  if (k == nullptr) return 0;
  const int64_t v = k->version.fetch_add(1, std::memory_order_acq_rel) + 1;
  const uint64_t us = static_cast<uint64_t>(std::max<int64_t>(now_ns, 0) / 1000) & kTimeMask;
  k->commits[static_cast<uint64_t>(v) % kCommitRing].store(
      ((static_cast<uint64_t>(v) & kTagMask) << kTimeBits) | us, std::memory_order_release);
  return v;
}

bool KeyVersions::IsStale(int64_t id, int64_t cached_version, int64_t now_ns,
                          int64_t* age_ns) const {
  const Key* k = At(id);
  if (k == nullptr) return false;
  const int64_t latest = k->version.load(std::memory_order_acquire);
  if (cached_version >= latest) return false;
  // The kept commit newest-but-closest after the cached version: the first
  // newer commit when it is still kept, else the oldest newer one kept.
  const uint64_t behind = static_cast<uint64_t>(latest - cached_version);
  uint64_t best_distance = UINT64_MAX;
  uint64_t best_us = 0;
  for (const std::atomic<uint64_t>& c : k->commits) {
    const uint64_t e = c.load(std::memory_order_acquire);
    if (e == 0) continue;
    const uint64_t distance = ((e >> kTimeBits) - static_cast<uint64_t>(cached_version)) & kTagMask;
    if (distance == 0 || distance > behind || distance >= best_distance) continue;
    best_distance = distance;
    best_us = e & kTimeMask;
  }
  *age_ns = 0;  // none kept yet: the newer write is committing right now
  if (best_distance != UINT64_MAX) {
    const int64_t now_us = static_cast<int64_t>(static_cast<uint64_t>(now_ns / 1000) & kTimeMask);
    *age_ns = std::max<int64_t>(0, now_us - static_cast<int64_t>(best_us)) * 1000;
  }
  return true;
}

}  // namespace cabench
