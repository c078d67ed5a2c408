// File: lib/cache_aside/key_versions.h
//
// KeyVersions is what the threads of one run share to measure the
// consistency cost of cache-aside -- stale reads -- and its stampedes. cabench
// knows every write it commits, so it can say exactly when a cached value is
// out of date:
//
//   version    per key, the number of writes of the key committed in this
//              run (Commit(), called when the INSERT returned). A fill reads
//              the version BEFORE its SELECT and stores it inside the cached
//              value; a hit whose value carries an older version than the
//              key's latest is stale (IsStale()). This catches cache-aside's
//              known race: a slow miss reads the old row, a write commits and
//              refreshes or deletes the key, then the slow miss stores the old
//              value, which stays until its TTL or the next write.
//              Conservative by construction: a write that commits while a
//              fill's SELECT is in flight may or may not be in what the
//              SELECT read, and the value is then counted stale.
//   stale age  the time from the first write committed after the cached
//              version to the stale read. The commit times of the last
//              kCommitRing versions of a key are kept; when more writes of one
//              key committed since the cached version, the age is that of the
//              oldest one kept (a lower bound).
//   fills      per key, the fills (a read's SELECT + SET) in flight: a fill
//              begun while another of the same key is in flight is a
//              duplicate (a stampede's wasted database read).
//   db reads   over all keys, the database reads (SELECTs) in flight.
//
// Ids outside [first_id, first_id + count) are not tracked: never stale,
// never a duplicate fill (their database reads are still counted in flight).
// Memory: 48 bytes per key, allocated once per run (36,000 keys: 1.7 MB).
//
// Thread safety: safe for concurrent use; lock-free (atomics only).
#ifndef CABENCH_LIB_CACHE_ASIDE_KEY_VERSIONS_H_
#define CABENCH_LIB_CACHE_ASIDE_KEY_VERSIONS_H_

#include <atomic>
#include <cstdint>
#include <memory>

namespace cabench {

class KeyVersions {
 public:
  // The commit times kept per key.
  static constexpr int kCommitRing = 4;

  // Tracks the keys of passenger ids first_id .. first_id + count - 1
  // (count 0: none; only the database reads in flight are counted).
  KeyVersions(int64_t first_id, int64_t count);
  KeyVersions(const KeyVersions&) = delete;
  KeyVersions& operator=(const KeyVersions&) = delete;

  // The latest committed version of `id`: 0 until a write of it commits.
  int64_t Version(int64_t id) const {
    const Key* k = At(id);
    return k == nullptr ? 0 : k->version.load(std::memory_order_acquire);
  }

  // A write of `id` committed, at `now_ns` on the monotonic clock
  // (CacheAside::MonoNowNs). Returns the key's new version.
  int64_t Commit(int64_t id, int64_t now_ns);

  // Whether a value of `id` stored with `cached_version` is stale at
  // `now_ns`: true when a newer version committed; then *age_ns is the time
  // since the first newer commit (see the file comment; >= 0).
  bool IsStale(int64_t id, int64_t cached_version, int64_t now_ns, int64_t* age_ns) const;

  // A fill of `id` begins: returns true when another fill of it was in
  // flight (a duplicate). Every BeginFill() is followed by one EndFill().
  bool BeginFill(int64_t id) {
    Key* k = At(id);
    return k != nullptr && k->fills.fetch_add(1, std::memory_order_relaxed) > 0;
  }
  void EndFill(int64_t id) {
    if (Key* k = At(id)) k->fills.fetch_sub(1, std::memory_order_relaxed);
  }

  // A database read is sent: returns the reads in flight, itself included.
  // Every BeginDbRead() is followed by one EndDbRead().
  int32_t BeginDbRead() { return db_reads_.fetch_add(1, std::memory_order_relaxed) + 1; }
  void EndDbRead() { db_reads_.fetch_sub(1, std::memory_order_relaxed); }

 private:
  struct Key {
    std::atomic<int64_t> version{0};
    std::atomic<int32_t> fills{0};
    // Commit times: (version & 0xffff) << 48 | microseconds on the
    // monotonic clock (48 bits: 8.9 years of uptime).
    std::atomic<uint64_t> commits[kCommitRing] = {};
  };

  Key* At(int64_t id) const {
    const uint64_t i = static_cast<uint64_t>(id - first_id_);
    return i < static_cast<uint64_t>(count_) ? &keys_[i] : nullptr;
  }

  const int64_t first_id_;
  const int64_t count_;
  std::unique_ptr<Key[]> keys_;
  std::atomic<int32_t> db_reads_{0};
};

}  // namespace cabench

#endif  // CABENCH_LIB_CACHE_ASIDE_KEY_VERSIONS_H_
