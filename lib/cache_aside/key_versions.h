// File: lib/cache_aside/key_versions.h
//
// KeyVersions is what the threads of one run share to measure the
// consistency cost of cache-aside -- stale reads -- and its stampedes.
//
// Definition. A hit is STALE when the value it returned lacks a write of this
// run that committed before the hit's GET was sent. The client cannot see a
// commit instant (somewhere inside the INSERT call), what a SELECT's snapshot
// saw (taken somewhere inside the SELECT call), nor the instant its GET left
// (somewhere inside the GET call). So a hit is counted only when its class is
// certain, whatever those instants were:
//   stale       certainly stale (stale_reads)
//   uncertain   stale for some placements of those instants, fresh for others
//               (stale_reads_uncertain)
//   fresh       certainly fresh (not counted)
// and stale_reads <= true stale reads <= stale_reads + stale_reads_uncertain.
//
// How. Per key, two monotone counters of this run's writes (INSERTs):
//   begun   incremented just BEFORE the INSERT is sent; the new value is the
//           write's sequence number (BeginWrite()).
//   done    incremented just AFTER the INSERT returned (EndWrite()), also
//           when it failed: a failed INSERT may still have committed (a lost
//           reply), so it counts as done and as `unsure` (below).
// A fill (a read's SELECT + SET, or a write's refresh) reads lo = done just
// before sending its SELECT (writes it certainly includes: they committed
// before the SELECT began) and hi = begun just after the SELECT returned
// (writes it may include: no later write began before it ended); the cached
// value carries both (ValueMeta, cache_aside.h). A hit reads D = done just
// before sending its GET and B = begun just after the GET returned; then
//   lo >= B           certainly fresh: the lo writes done before the SELECT
//                     are every write begun before the GET returned, so
//                     every write committed before the GET was sent
//   hi + unsure < D   certainly stale: of the D writes done before the GET,
//                     at most hi began before the SELECT ended, and at most
//                     `unsure` (the key's failed writes so far, read after
//                     D) failed, so at least one committed write began after
//                     the SELECT ended (it is not in the value) and ended
//                     before the GET was sent
//   otherwise         uncertain.
// A failed write (its outcome unknown) is not a sticky flag but a count: a
// hit on its key is certainly stale once the value lacks more done writes
// than the key has failed ones; a certain fresh stays valid (a failed write
// that did commit did so before it was done).
// Reading B late or D early only moves hits into "uncertain", never into a
// wrong certain class: that is why the reads sit where they do. Concurrent
// writes of one key make some certain hits uncertain (the counts cannot say
// which writes are done), never the reverse. A fill that reads a database
// replica (which may lag behind the primary) certainly includes nothing:
// its lo is 0 (CacheAside::Options::fills_may_lag).
//
//   stale age  the time from the first write not in the value (sequence >
//              hi) that was done before the GET, to the GET's send, taking
//              the INSERT's return as its commit time: a lower bound. The
//              return times of the last kCommitRing writes of a key are kept
//              (failed ones are not); when the first such write is no longer
//              kept, the oldest kept one gives the age (a lower bound too).
//   fills      per key, the fills (a read's SELECT + SET) in flight: a fill
//              begun while another of the same key is in flight is a
//              duplicate (a stampede's wasted database read).
//   db reads   over all keys, the database reads (SELECTs) in flight.
//
// Not seen: values cached before the run (flush: false) carry another run's
// counts and are classified as if this run had filled them; in a sharded
// run each process counts only its own writes.
//
// Ids outside [first_id, first_id + count) are not tracked: never stale,
// never a duplicate fill (their database reads are still counted in flight).
// Each counter of a key holds up to 2^32 - 1 writes. Memory: 64 bytes per
// key (a cache line: 48 bytes of counters and padding, see Key), allocated
// once per run (36,000 keys: 2.3 MB; a million: 64 MB).
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

  // A hit's class (see the file comment).
  enum class Staleness : uint8_t { kFresh = 0, kStale, kUncertain };

  // Tracks the keys of passenger ids first_id .. first_id + count - 1
  // (count 0: none; only the database reads in flight are counted).
  KeyVersions(int64_t first_id, int64_t count);
  KeyVersions(const KeyVersions&) = delete;
  KeyVersions& operator=(const KeyVersions&) = delete;

  // The writes of `id` done so far (0 for an untracked id): a fill reads it
  // just before its SELECT (lo), a hit just before its GET (D).
  int64_t Done(int64_t id) const {
    const Key* k = At(id);
    return k == nullptr ? 0 : static_cast<int64_t>(k->writes.load() & kDoneMask);
  }
  // The writes of `id` begun so far (0 for an untracked id): a fill reads it
  // just after its SELECT returned (hi), a hit just after its GET returned
  // (B).
  int64_t Begun(int64_t id) const {
    const Key* k = At(id);
    return k == nullptr ? 0 : static_cast<int64_t>(k->writes.load() >> kBegunShift);
  }
  // Writes of `id` that ended in a failure (their outcome unknown).
  int64_t Unsure(int64_t id) const {
    const Key* k = At(id);
    return k == nullptr ? 0 : k->unsure.load();
  }

  // A write of `id` is about to send its INSERT. Returns its sequence
  // number (Begun() after it; 0 for an untracked id), for EndWrite().
  int64_t BeginWrite(int64_t id) {
    Key* k = At(id);
    return k == nullptr ? 0
                        : static_cast<int64_t>((k->writes.fetch_add(kOneBegun) >> kBegunShift) + 1);
  }
  // Write `seq` of `id` returned from its INSERT at `now_ns` on the monotonic
  // clock (CacheAside::MonoNowNs): `committed` when it succeeded; when not,
  // it counts in Unsure() and keeps no commit time.
  void EndWrite(int64_t id, int64_t seq, bool committed, int64_t now_ns);

  // The class of a hit of `id` on a value filled with `lo` and `hi`, whose
  // GET read `done_before` (D) just before it was sent and `begun_after` (B)
  // just after it returned; `sent_ns`: a monotonic time at or before the
  // send. When stale, *age_ns is the stale age (>= 0; see the file comment).
  // The fresh case, by far the most common, is inline.
  Staleness Classify(int64_t id, int64_t lo, int64_t hi, int64_t done_before, int64_t begun_after,
                     int64_t sent_ns, int64_t* age_ns) const {
    if (lo >= begun_after) return Staleness::kFresh;
    return ClassifyNotFresh(id, hi, done_before, begun_after, sent_ns, age_ns);
  }

  // A hint, no effect on any count: `id`'s counters are about to be used,
  // so start moving them into this thread's cache (another thread's write
  // of the key, or of a neighbour on the same cache line, may have taken
  // them away), in parallel with the other work before the operation.
  void Prefetch(int64_t id) const {
    if (const Key* k = At(id)) __builtin_prefetch(k);
  }

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
  static constexpr int kBegunShift = 32;
  static constexpr uint64_t kOneBegun = uint64_t{1} << kBegunShift;
  static constexpr uint64_t kDoneMask = kOneBegun - 1;

  // A cache line per key (48 bytes of counters, 16 of padding): packed,
  // half the keys would straddle two lines, and a write of one key would
  // take the line holding its neighbour's `writes` from every thread that
  // is about to check a hit on the neighbour.
  struct alignas(64) Key {
    // begun << 32 | done: one word, so that both move in one order (the
    // sequentially consistent default: a read placed after a GET sees every
    // increment made before it).
    std::atomic<uint64_t> writes{0};
    std::atomic<int32_t> fills{0};
    std::atomic<int32_t> unsure{0};
    // Return times of committed writes: (sequence & 0xffff) << 48 |
    // microseconds on the monotonic clock (48 bits: 8.9 years of uptime);
    // slot sequence % kCommitRing; 0: none.
    std::atomic<uint64_t> commits[kCommitRing] = {};
  };
  static_assert(sizeof(Key) == 64, "a cache line per key");

  Key* At(int64_t id) const {
    const uint64_t i = static_cast<uint64_t>(id - first_id_);
    return i < static_cast<uint64_t>(count_) ? &keys_[i] : nullptr;
  }
  Staleness ClassifyNotFresh(int64_t id, int64_t hi, int64_t done_before, int64_t begun_after,
                             int64_t sent_ns, int64_t* age_ns) const;

  const int64_t first_id_;
  const int64_t count_;
  std::unique_ptr<Key[]> keys_;
  // Every thread's SELECT moves it: on a cache line of its own, so that
  // those moves do not evict the fields above from the other threads'
  // caches (every operation reads them), nor a neighbouring allocation.
  alignas(64) std::atomic<int32_t> db_reads_{0};
};

}  // namespace cabench

#endif  // CABENCH_LIB_CACHE_ASIDE_KEY_VERSIONS_H_
