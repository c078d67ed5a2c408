// File: lib/testing/fake_kv_client.h
//
// FakeKvClient is an in-memory KvClient for unit tests of the pattern: a map
// from key to value with Redis' expiry rule (a key SET with PX ttl at time t
// is live while now <= t + ttl), on a VirtualClock when one is given (else the
// real steady clock). Every method can be made to fail (FailNext/FailEvery per
// method, see fault_injector.h) and to take artificial real-time latency.
//
// With set_emulate_broken(true), an injected Unavailable breaks the fake like
// a real connection: every later call fails fast with Unavailable until
// Reconnect() succeeds.
//
// Interleavings: set_before() installs a hook that runs at the start of every
// key command (Get, Set, SetIfAbsent, Del, DelIfEquals) on the calling
// thread, outside the fake's mutex, after injected faults and latency; the
// command then runs atomically. A test can hold a thread just before its
// command reaches the "server", deterministically. set_after_get() sees what
// each Get returned.
//
// Statistics, as a server keeps them: Get counts keyspace_hits and
// keyspace_misses; Info() reports them with expired_keys and evicted_keys
// (always 0), used_memory (the bytes of the keys and values held),
// uptime_in_seconds and, when set, process_id, in the server's INFO format;
// DbSize() counts the keys held, expired ones not yet overwritten included
// (as DBSIZE counts keys the server has not yet collected). The fake is also
// its server's one client: every call that goes ahead (not Reconnect) is a
// command, which Commands() counts as sent and INFO's
// total_commands_processed counts once it has run (an INFO does not count
// itself), with the other clients' commands (AddOtherClients); INFO all has
// an empty Commandstats section; ClientList() lists this client (named
// OwnCacheClientName(), idle=0) and one idle=0 line per other active client.
//
// Ownership: the caller owns the fake and the clock (which must outlive it).
// Thread safety: unlike the real clients, safe for concurrent use (one
// internal mutex), so a multi-threaded test may share one fake.
#ifndef CABENCH_LIB_TESTING_FAKE_KV_CLIENT_H_
#define CABENCH_LIB_TESTING_FAKE_KV_CLIENT_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "lib/clients/kv_client.h"
#include "lib/testing/fault_injector.h"
#include "lib/testing/virtual_clock.h"

namespace cabench {

enum class KvMethod : int {
  kGet = 0,
  kSet,
  kDel,
  kDeletePrefix,
  kPing,
  kReconnect,
  kServerInfo,
  kInfo,
  kDbSize,
  kCountPrefix,
  kConfigGet,
  kConfigSet,
  kSetIfAbsent,
  kClientList,
  kDelIfEquals,
};
inline constexpr int kNumKvMethods = 15;

class FakeKvClient : public KvClient, public FaultTable<KvMethod, kNumKvMethods> {
 public:
  // `clock` may be null: time is then the real steady clock.
  explicit FakeKvClient(VirtualClock* clock = nullptr);

  // KvClient. Same contract as the interface; injected failures return the
  // injected status before doing anything (the call is still counted).
  absl::StatusOr<bool> Get(std::string_view key, std::string* value) override;
  absl::Status Set(std::string_view key, std::string_view value, int64_t ttl_ms) override;
  // Stores as Set does only when `key` holds no live value (an expired one
  // counts as absent), under the one mutex: of threads racing on a key, one
  // gets true. The check-and-set is atomic, but injected latency is waited
  // before it, as for every method.
  absl::StatusOr<bool> SetIfAbsent(std::string_view key, std::string_view value,
                                   int64_t ttl_ms) override;
  absl::Status Del(std::string_view key) override;
  // Erases a live `key` holding exactly `value`, under the one mutex.
  absl::StatusOr<bool> DelIfEquals(std::string_view key, std::string_view value) override;
  absl::StatusOr<int64_t> DeletePrefix(std::string_view prefix) override;
  absl::Status Ping() override;
  absl::Status Reconnect() override;
  absl::StatusOr<std::string> ServerInfo() override;
  absl::StatusOr<std::string> Info(std::string_view section) override;
  absl::StatusOr<int64_t> DbSize() override;
  // Live keys under the prefix.
  absl::StatusOr<int64_t> CountPrefix(std::string_view prefix) override;
  // A map of parameters: maxmemory "0" and maxmemory-policy "noeviction" to
  // begin with; other names are NotFound. The fake never evicts.
  absl::StatusOr<std::string> ConfigGet(std::string_view name) override;
  absl::Status ConfigSet(std::string_view name, std::string_view value) override;
  absl::StatusOr<std::string> ClientList() override;
  absl::StatusOr<KvCommands> Commands() const override;

  // Other clients of the fake's server: `commands` more in INFO's
  // total_commands_processed, and `active` connections in CLIENT LIST from
  // now on.
  void AddOtherClients(int64_t commands, int64_t active);

  // What INFO server reports: process_id (none when nullopt, the default) and
  // uptime_in_seconds (default 100).
  void set_process_id(std::optional<int64_t> pid);
  void set_uptime_s(int64_t uptime_s);

  // Error and latency injection per method, and calls()/total_calls(), come
  // from FaultTable (fault_injector.h). ClearFailures() also mends a broken
  // connection.
  void ClearFailures();
  void set_emulate_broken(bool on);

  // Hooks for tests of interleavings; an empty function removes the hook.
  // `before(method, key)` runs at the start of every Get, Set, SetIfAbsent,
  // Del and DelIfEquals that was not failed by injection, before the command
  // looks at the map; `after_get(key, value)` at the end of every Get that
  // was not failed, with the value returned (nullptr: a miss). Both run on
  // the caller's thread without the fake's mutex held: they may block, and
  // other threads may use the fake (a call that has begun keeps the hook it
  // took). Safe to call concurrently.
  void set_before(std::function<void(KvMethod method, std::string_view key)> before);
  void set_after_get(std::function<void(std::string_view key, const std::string* value)> after_get);

  // Inspection for tests, all honouring expiry at the current time:
  bool Contains(std::string_view key) const;
  std::optional<std::string> Peek(std::string_view key) const;
  // The ttl_ms given by the last SET of `key` (nullopt if not live).
  std::optional<int64_t> LastTtlMs(std::string_view key) const;
  // Live keys.
  int64_t size() const;
  // Stores a value as Set would, without counting a call or injecting faults.
  void Put(std::string_view key, std::string_view value, int64_t ttl_ms);

 private:
  struct Entry {
    std::string value;
    int64_t expire_at_ns;
    int64_t ttl_ms;
  };
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };
  using Map = std::unordered_map<std::string, Entry, Hash, std::equal_to<>>;

  int64_t NowNs() const;
  // Counts the call, applies faults and latency, then runs the before hook
  // for a key command (`key`); OK means "go ahead".
  absl::Status Enter(KvMethod method, std::string_view key = {});
  const Entry* FindLive(std::string_view key) const;
  // Put with mu_ held.
  void PutLocked(std::string_view key, std::string_view value, int64_t ttl_ms);

  VirtualClock* const clock_;
  // std::mutex, not absl::Mutex: Debian's prebuilt libabsl is not built
  // for ThreadSanitizer, which then cannot see absl::Mutex and reports
  // false races; pthread mutexes are intercepted. Guards everything below.
  mutable std::mutex mu_;
  Map map_;
  bool emulate_broken_ = false;
  bool broken_ = false;
  int64_t keyspace_hits_ = 0;
  int64_t keyspace_misses_ = 0;
  int64_t commands_ = 0;
  int64_t other_commands_ = 0;
  int64_t other_active_ = 0;
  std::optional<int64_t> process_id_;
  int64_t uptime_s_ = 100;
  std::unordered_map<std::string, std::string> config_ = {{"maxmemory", "0"},
                                                          {"maxmemory-policy", "noeviction"}};
  // By shared_ptr, so that a call copies a pointer and runs the hook after
  // letting go of mu_.
  std::shared_ptr<const std::function<void(KvMethod, std::string_view)>> before_;
  std::shared_ptr<const std::function<void(std::string_view, const std::string*)>> after_get_;
};

}  // namespace cabench

#endif  // CABENCH_LIB_TESTING_FAKE_KV_CLIENT_H_
