// File: lib/engine/key_states.h
//
// KeyStates is what a run knows about each of its keys, shared by the run's
// threads: whether this run ever cached the key, when the TTL of its last SET
// runs out, and whether a write deleted it since. MissCauses, an observer of
// the per-thread loop, reads it to say why each miss happened and keeps it up
// to date from every operation's SET and DEL:
//
//   miss_cold         the key was never cached in this run
//   miss_invalidated  a write deleted it (invalidate) after its last SET
//   miss_expired      its last SET's TTL had passed when the GET was sent
//   miss_evicted      none of these: the server dropped it for memory
//
// The state of a key is read before its operation is sent (BeforeOp), so a
// SET by another thread while the GET is in flight does not change the
// verdict. One std::atomic<int64_t> per key, relaxed loads and stores, no lock:
// two threads racing on one key may leave either's state, which can shift a
// rare miss between causes, never lose one (every miss gets exactly one
// cause, so the causes add up to cache_misses). Expiry is computed from the
// SET's send time, never later than the server's own; a margin of
// kExpiryMarginNs (the server keeps TTLs in milliseconds) counts a miss just
// before the computed expiry as expired.
//
// Memory: 8 bytes per key of the scenario's range (36,000 passengers:
// 288 KB), allocated once per run.
//
// Thread safety: KeyStates is safe for concurrent use; a MissCauses belongs
// to one thread (it remembers the state it read before the thread's
// operation).
#ifndef CABENCH_LIB_ENGINE_KEY_STATES_H_
#define CABENCH_LIB_ENGINE_KEY_STATES_H_

#include <atomic>
#include <cstdint>
#include <memory>

#include "lib/engine/schedule.h"
#include "lib/metrics/op_types.h"

namespace cabench {

// alignas(64): the object has its cache line(s) to itself. Every operation
// of every thread reads its fields; a neighbouring heap object that one
// thread writes (the allocator mixes the threads' small objects) would take
// that line from all the others at each write.
class alignas(64) KeyStates {
 public:
  // A miss this close before the computed expiry counts as expired.
  static constexpr int64_t kExpiryMarginNs = 1'000'000;

  // Keys of passenger ids first_id .. first_id + count - 1 (ids outside are
  // not tracked: their misses are cold).
  KeyStates(int64_t first_id, int64_t count);

  // The state of `id`: 0 never cached in this run; > 0 the monotonic time
  // its last SET's TTL runs out; < 0 deleted by a write after a SET.
  int64_t Load(int64_t id) const {
    const std::atomic<int64_t>* s = At(id);
    return s == nullptr ? 0 : s->load(std::memory_order_relaxed);
  }
  void Store(int64_t id, int64_t state) {
    if (std::atomic<int64_t>* s = At(id)) s->store(state, std::memory_order_relaxed);
  }

  // A hint, no effect on the state: `id`'s state is about to be loaded, so
  // start moving it into this thread's cache (see KeyVersions::Prefetch).
  void Prefetch(int64_t id) const {
    if (const std::atomic<int64_t>* s = At(id)) __builtin_prefetch(s);
  }

  // The cause of a miss sent at `start_mono_ns` on a key whose state, read
  // before the operation, was `state`.
  static MissCause Classify(int64_t state, int64_t start_mono_ns);

 private:
  std::atomic<int64_t>* At(int64_t id) const {
    const uint64_t i = static_cast<uint64_t>(id - first_id_);
    return i < static_cast<uint64_t>(count_) ? &states_[i] : nullptr;
  }

  const int64_t first_id_;
  const int64_t count_;
  std::unique_ptr<std::atomic<int64_t>[]> states_;
};

// One thread's observer: classifies its misses (result.miss_cause) and keeps
// the shared KeyStates up to date from its SETs and DELs.
// alignas(64) for the same reason: it stores before_ at every operation,
// which must not take a line other threads read (another thread's objects,
// the run's KeyStates) from their caches.
class alignas(64) MissCauses : public OpObserver {
 public:
  // `states` must outlive the observer.
  explicit MissCauses(KeyStates* states) : states_(states) {}

  void BeforeOp(const Op& op) override { before_ = states_->Load(op.passenger_id); }
  void OnOp(const Op& op, OpResult& result, int64_t start_mono_ns) override;

 private:
  KeyStates* states_;
  int64_t before_ = 0;
};

}  // namespace cabench

#endif  // CABENCH_LIB_ENGINE_KEY_STATES_H_
