// File: lib/engine/cache_bound.h
//
// CacheBound puts a scenario's memory bound on the cache for one run and
// takes it off afterwards: CONFIG SET maxmemory and maxmemory-policy before
// the run (the old values kept), the old values back after it. The bound is
// the scenario's
//
//   cache_max_memory  bytes of room for the run's keys: maxmemory is that,
//                     plus what the server uses besides keys when the run
//                     starts (used_memory - used_memory_dataset), plus an
//                     allowance for the run's busy connections (96 KB each,
//                     on every primary of a cluster), so that a budget means
//                     about the same on a fresh server and a busy one;
//   cache_keys_pct    a share of the run's keys (its pool, or every
//                     passenger). A byte budget holds an unknown number of
//                     keys (a key's cost depends on its value, the server's
//                     allocator, its hash tables), so the room is measured:
//                     the cache is filled through the pattern with uniform
//                     reads over the run's keys (every miss stores one key)
//                     until it evicts, the run's keys in it are counted
//                     (SCAN), and maxmemory is moved by the difference to the
//                     target times the bytes per key measured so far, up to
//                     kMaxRounds rounds, until it holds the target within
//                     max(2%, 5 keys); then 32 KB per connection of the run
//                     is added for the query buffers of the connections that
//                     were idle meanwhile. The scenario's own warm-up runs
//                     after. The run reports how many keys the cache held at
//                     its end (cache_capacity_keys).
//
// Keys beyond a new limit are evicted before the run, not during it: Apply()
// waits (up to ~3 s) until the server's memory is within the limit.
//
// Ownership: the clients belong to the caller. Thread safety: NOT safe for
// concurrent use; one run's thread 0 applies the bound, its finisher restores
// it, never at the same time.
#ifndef CABENCH_LIB_ENGINE_CACHE_BOUND_H_
#define CABENCH_LIB_ENGINE_CACHE_BOUND_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "lib/clients/kv_client.h"
#include "lib/clients/sql_client.h"
#include "lib/engine/thread_loop.h"
#include "lib/workload/data_set.h"
#include "lib/workload/scenario.h"

namespace cabench {

class CacheBound {
 public:
  // Rounds of filling and measuring for cache_keys_pct.
  static constexpr int kMaxRounds = 8;
  // The fewest keys a cache_keys_pct bound holds.
  static constexpr int64_t kMinKeys = Scenario::kMinCacheKeys;

  // What Apply() did.
  struct Report {
    // The maxmemory set (0: none).
    int64_t max_memory = 0;
    // cache_keys_pct: the keys it aims at, the run's keys the cache held
    // after the last round, and the rounds taken (0 for cache_max_memory).
    int64_t target_keys = 0;
    int64_t held_keys = 0;
    int rounds = 0;
    // cache_keys_pct: keys in the cache's database that are not the run's
    // (DBSIZE - held_keys; -1 unknown). They share the room, and an LRU
    // policy evicts them first, after which the run's keys take it: the
    // share measured is exact only on a cache that holds nothing else.
    int64_t other_keys = -1;
  };

  CacheBound() = default;
  CacheBound(const CacheBound&) = delete;
  CacheBound& operator=(const CacheBound&) = delete;

  // Applies `scenario`'s bound for a run of `threads` threads through `kv`
  // (a connection of the run's) and, for cache_keys_pct, fills the cache
  // through `sql` and the pattern; `fill` is handed to that fill's warm-up
  // (the run's key states learn what it cached). Does nothing for a
  // scenario that bounds nothing. Returns OK, or the first failed command's
  // status (the settings changed so far are still restored by Restore()).
  // FailedPrecondition when the cache cannot say what it uses besides keys.
  absl::Status Apply(KvClient* kv, SqlClient* sql, const Scenario& scenario,
                     const DataSetInfo& data_set, int threads, const WarmUpOptions& fill = {});

  // Sets the settings Apply() replaced back, and forgets them. OK when there
  // is nothing to restore; else the first failed CONFIG SET's status.
  absl::Status Restore(KvClient* kv);

  const Report& report() const { return report_; }

 private:
  absl::Status Set(KvClient* kv, const char* name, const std::string& value);
  // Waits until used_memory <= report_.max_memory (the server evicts on
  // its next commands and its timer).
  absl::Status AwaitWithinLimit(KvClient* kv);
  absl::Status SizeByKeys(KvClient* kv, SqlClient* sql, const Scenario& scenario,
                          const DataSetInfo& data_set, int64_t connections,
                          const WarmUpOptions& fill);

  std::optional<std::string> saved_max_memory_;
  std::optional<std::string> saved_policy_;
  Report report_;
};

// What the cache uses besides its keys: INFO memory's used_memory -
// used_memory_dataset, >= 0. Fails with the client's error, or
// FailedPrecondition when INFO lacks either field.
absl::StatusOr<int64_t> MemoryBesidesKeys(KvClient* kv);

}  // namespace cabench

#endif  // CABENCH_LIB_ENGINE_CACHE_BOUND_H_
