// File: lib/model/sim_clients.h
//
// The in-memory clients of the model's exact simulation (SimulateHitRate in
// hit_rate_model.h): SimKv, a cache that keeps only what decides hits and
// misses (which keys it holds, their expiry, their use order and counts),
// and SimSql, a database that answers every query and accepts every insert.
// Driven by the real CacheAside (or ThreadLoop), they give the exact hits and
// misses of one seed, against which the hit-rate model is checked. Unlike
// lib/testing's fakes they inject no faults and keep no values: they are
// built to be fast over millions of operations: the one exception is the
// value SetIfAbsent stored (a fill lock's token), kept until the key is SET
// again, for DelIfEquals.
//
// SimKv's time is a caller-owned nanosecond counter (a virtual clock): a key
// SET at time t with TTL d is live while now <= t + d (Redis' rule, as
// lib/testing's FakeKvClient). Expiry is ideal: an expired key never counts
// towards the capacity (it is dropped before anything live is evicted).
//
// With a capacity of C keys, a SET of a key not held into a cache holding C
// live keys first evicts one key by the Eviction rule (eviction.h), exactly:
//   kLru     the least recently used held key (GET hits and SETs are uses)
//   kLfu     the held key with the fewest requests, counted since the cache
//            was built for every key ever seen ("perfect" LFU; a request is a
//            GET or a SET that does not fill the key whose GET just missed);
//            ties go to the least recently used
//   kRandom  a uniformly random held key, from a std::mt19937_64 seeded with
//            Options::seed (Lemire's UniformBelow, so the sequence is the
//            same on every standard library)
//   kTtl     the held key that expires first (ties: the smaller internal id)
//   kNone    none: the SET fails with Internal ("OOM command not allowed"),
//            as Redis' noeviction does
// Redis samples instead (maxmemory-samples); SimKv is the exact rule the
// model predicts.
//
// Cost: O(1) per operation for kLru, kRandom and kNone, O(log C) for kLfu and
// kTtl (and for expiry when bounded), plus one hash lookup of the key. Memory:
// O(distinct keys ever seen).
//
// Ownership: the clock counter belongs to the caller and must outlive the
// client. Thread safety: NOT safe for concurrent use (the simulation runs its
// threads round robin on one thread).
#ifndef CABENCH_LIB_MODEL_SIM_CLIENTS_H_
#define CABENCH_LIB_MODEL_SIM_CLIENTS_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <queue>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "lib/clients/kv_client.h"
#include "lib/clients/sql_client.h"
#include "lib/model/eviction.h"

namespace cabench {

class SimKv : public KvClient {
 public:
  struct Options {
    // Most keys held at once; 0: unbounded (nothing is ever evicted).
    int64_t capacity_keys = 0;
    Eviction eviction = Eviction::kLru;
    // Seeds the generator of kRandom.
    uint64_t seed = 1;
  };

  // `now_ns` is read at every call; it must outlive the client.
  SimKv(const int64_t* now_ns, const Options& options);

  // GET: true (and a one-character value) when the key is held and live.
  // Never fails.
  absl::StatusOr<bool> Get(std::string_view key, std::string* value) override;
  // SET with a TTL of ttl_ms (> 0; anything else is InvalidArgument). Fails
  // with Internal only under kNone, when the key is new and the cache is full.
  absl::Status Set(std::string_view key, std::string_view value, int64_t ttl_ms) override;
  // SET NX: false when the key is held and live (a use of the key, as Redis'
  // NX looks it up for writing: it counts as a request and moves it up the
  // LRU order, unless it is the key whose GET just missed); otherwise exactly
  // Set, eviction included, and true. It forgets the key whose GET just
  // missed only when it is that key, so that in a single-flight fill (GET
  // miss, SET NX of a lock key, SET of the data) the SET still counts as the
  // fill and not as a request. Fails like Set.
  absl::StatusOr<bool> SetIfAbsent(std::string_view key, std::string_view value,
                                   int64_t ttl_ms) override;
  // DEL. Never fails.
  absl::Status Del(std::string_view key) override;
  // As Del when the key is held, live, and holds `value` as stored by
  // SetIfAbsent (a value stored by Set is not kept: it never equals), and
  // true; otherwise false and nothing changes. Never fails.
  absl::StatusOr<bool> DelIfEquals(std::string_view key, std::string_view value) override;
  // Not used by the simulation: returns 0 and drops nothing.
  absl::StatusOr<int64_t> DeletePrefix(std::string_view prefix) override;
  absl::Status Ping() override { return absl::OkStatus(); }
  absl::Status Reconnect() override { return absl::OkStatus(); }
  absl::StatusOr<std::string> ServerInfo() override { return std::string("sim"); }

  // Keys dropped to make room (not counting expired ones).
  int64_t evictions() const { return evictions_; }
  // Keys held now, expired ones not yet dropped included.
  int64_t held_keys() const { return held_count_; }
  // Whether `key` is held and live now.
  bool IsLive(std::string_view key) const;

 private:
  struct Entry {
    int64_t expiry_ns = 0;
    int64_t uses = 0;      // requests (kLfu order)
    int64_t last_use = 0;  // tick of the last use
    int32_t prev = -1;     // LRU list: towards the most recent
    int32_t next = -1;     // towards the least recent
    int64_t slot = -1;     // index in held_; -1: not held
  };
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };
  using LfuKey = std::tuple<int64_t, int64_t, int32_t>;  // uses, last use, id
  using ExpiryKey = std::pair<int64_t, int32_t>;         // expiry, id

  bool bounded() const { return options_.capacity_keys > 0; }
  int32_t Intern(std::string_view key);
  bool Live(const Entry& e) const { return *now_ns_ <= e.expiry_ns; }
  // Counts a request of `id` (uses, last use; re-sorts it for kLfu).
  void Use(int32_t id);
  void LruUnlink(int32_t id);
  void LruPushFront(int32_t id);
  void Hold(int32_t id);
  void Drop(int32_t id);
  // Drops every held key that has expired (bounded caches only).
  void DropExpired();
  // Frees one slot by the eviction rule; false under kNone.
  bool EvictOne();
  void CompactExpiries();

  const int64_t* now_ns_;
  Options options_;
  std::mt19937_64 rng_;
  std::unordered_map<std::string, int32_t, Hash, std::equal_to<>> ids_;
  std::vector<Entry> entries_;
  std::vector<int32_t> held_;  // held ids, in no order (random pick)
  int64_t held_count_ = 0;
  int32_t lru_head_ = -1;  // most recently used
  int32_t lru_tail_ = -1;  // least recently used
  std::set<LfuKey> lfu_;   // held keys, kLfu only
  // Bounded caches only: (expiry, id) of every SET; an element whose entry
  // is no longer held with that expiry is stale and skipped.
  std::priority_queue<ExpiryKey, std::vector<ExpiryKey>, std::greater<ExpiryKey>> expiries_;
  int64_t tick_ = 0;
  int32_t last_missed_ = -1;  // the key whose GET just missed (its fill is no request)
  // The values SetIfAbsent stored, by id, until the key is SET again.
  std::unordered_map<int32_t, std::string> nx_values_;
  int64_t evictions_ = 0;
};

// The simulation's database: every passenger has one booking and every
// insert succeeds with the next booking id. Never fails.
class SimSql : public SqlClient {
 public:
  absl::Status QueryBookingCount(int64_t passenger_id, BookingCount* result) override;
  absl::StatusOr<int64_t> InsertBooking(const NewBooking& booking) override;
  absl::StatusOr<int64_t> Execute(std::string_view sql) override;
  absl::StatusOr<std::optional<std::vector<std::optional<std::string>>>> QueryRow(
      std::string_view sql) override;
  absl::Status Ping() override { return absl::OkStatus(); }
  absl::Status Reconnect() override { return absl::OkStatus(); }
  absl::StatusOr<std::string> ServerInfo() override { return std::string("sim"); }

 private:
  int64_t next_id_ = 0;
};

}  // namespace cabench

#endif  // CABENCH_LIB_MODEL_SIM_CLIENTS_H_
