// File: lib/model/eviction.h
//
// What a memory-bounded cache drops when a new key does not fit: the
// replacement rule the hit-rate model (hit_rate_model.h) predicts for and the
// simulation cache (sim_clients.h) carries out exactly. One value per kind of
// rule, not per Redis policy name: every cabench key has a TTL, so Redis'
// volatile-lru/-lfu/-random pick among the same keys as their allkeys-*
// twins and map to the same value.
//
// Redis and Valkey approximate LRU and LFU by sampling (maxmemory-samples
// keys per eviction, 5 by default) and LFU uses a decaying logarithmic
// counter; the values below name the exact rules, which the model predicts
// and the simulation implements.
//
// Thread safety: plain values and pure functions; safe to use concurrently.
#ifndef CABENCH_LIB_MODEL_EVICTION_H_
#define CABENCH_LIB_MODEL_EVICTION_H_

#include <string_view>

#include "absl/status/statusor.h"

namespace cabench {

enum class Eviction : int {
  // Least recently used key (GET and SET both count as a use).
  kLru = 0,
  // Least frequently used key, "perfect" LFU: requests are counted for every
  // key ever seen, evicted or not; ties go to the least recently used.
  kLfu = 1,
  // A uniformly random key.
  kRandom = 2,
  // The key that expires first (volatile-ttl). With a constant TTL that is
  // the key SET longest ago: FIFO by SET time.
  kTtl = 3,
  // Nothing is evicted: a SET of a new key into a full cache fails (Redis
  // answers "OOM command not allowed"), so the keys that got in first stay
  // until they expire or are deleted.
  kNone = 4,
};

// The Eviction of a Redis/Valkey maxmemory-policy name: "allkeys-lru",
// "volatile-lru" -> kLru; "allkeys-lfu", "volatile-lfu" -> kLfu;
// "allkeys-random", "volatile-random" -> kRandom; "volatile-ttl" -> kTtl;
// "noeviction" and "" (the server's default policy) -> kNone. Fails with
// InvalidArgument for any other name. Case-sensitive, as the servers are.
absl::StatusOr<Eviction> EvictionFromPolicy(std::string_view policy);

// A short word for `eviction`: "lru", "lfu", "random", "ttl", "none".
const char* EvictionName(Eviction eviction);

}  // namespace cabench

#endif  // CABENCH_LIB_MODEL_EVICTION_H_
