#include "lib/engine/key_states.h"

#include <algorithm>

namespace cabench {

KeyStates::KeyStates(int64_t first_id, int64_t count)
    : first_id_(first_id),
      count_(std::max<int64_t>(0, count)),
      states_(new std::atomic<int64_t>[static_cast<size_t>(count_)]) {
  for (int64_t i = 0; i < count_; ++i) states_[i].store(0, std::memory_order_relaxed);
}

MissCause KeyStates::Classify(int64_t state, int64_t start_mono_ns) {
  if (state == 0) return MissCause::kCold;
  if (state < 0) return MissCause::kInvalidated;
  if (start_mono_ns + kExpiryMarginNs >= state) return MissCause::kExpired;
  return MissCause::kEvicted;
}

void MissCauses::OnOp(const Op& op, OpResult& result, int64_t start_mono_ns) {
  if (result.op_class == OpClass::kCacheMiss) {
    result.miss_cause = KeyStates::Classify(before_, start_mono_ns);
  }
  if (result.op_class == OpClass::kError) return;
  // What the operation left in the cache. The server starts the SET's TTL
  // between the SET's send (the operation's end minus the SET step: the SET
  // is the last step of a miss or a refresh) and its reply; counting from
  // the send, the computed expiry is never later than the server's.
  if (result.StepRan(Step::kCacheSet) && result.ttl_ms > 0) {
    const int64_t sent =
        start_mono_ns + result.total_ns - result.step_ns[static_cast<int>(Step::kCacheSet)];
    const int64_t expiry = sent + result.ttl_ms * 1'000'000;
    states_->Store(op.passenger_id, std::max<int64_t>(1, expiry));
  } else if (result.StepRan(Step::kCacheDel)) {
    // A DEL of a key this run never cached leaves it never cached (cold).
    const int64_t state = states_->Load(op.passenger_id);
    if (state > 0) states_->Store(op.passenger_id, -state);
  }
}

}  // namespace cabench
