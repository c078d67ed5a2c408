#include "lib/engine/cache_bound.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <thread>

#include "absl/strings/str_cat.h"
#include "lib/servers/server_stats.h"
#include "lib/workload/key_chooser.h"

namespace cabench {
namespace {

// The run's connections (threads, the statistics reader) grow their buffers
// once busy; what they will take is not in used_memory yet when the bound is
// set. On a cluster, each of them connects to every primary.
constexpr int64_t kPerConnection = 96 * 1024;
// What a busy connection's buffers take in Redis 7.0: its reply buffer and
// query buffer (16 KB each, in 20 KB allocations), which the server shrinks
// when a connection idles (measured: 5 connections, +190 KB when busy).
constexpr int64_t kBusyConnection = 26 * 1024;
// A first guess of a key's cost (a flughafendb row cached with its header is
// ~175 bytes in Redis 7.0); the rounds replace it with what they measure.
constexpr int64_t kGuessBytesPerKey = 200;
// What a measured cost per key may be: outside, the measurement was noise
// (the server's tables grow and shrink in steps).
constexpr double kMinBytesPerKey = 64;
constexpr double kMaxBytesPerKey = 4096;

absl::StatusOr<int64_t> InfoField(KvClient* kv, const char* section, const char* field) {
  absl::StatusOr<std::string> info = kv->Info(section);
  if (!info.ok()) return info.status();
  const std::optional<int64_t> v = InfoInt(*info, field);
  if (!v.has_value()) {
    return absl::FailedPreconditionError(
        absl::StrCat("the cache's INFO ", section, " has no ", field, ": cannot bound its memory"));
  }
  return *v;
}

// The cache's memory now: used_memory without the normal clients' buffers
// (mem_clients_normal), those buffers, and evicted_keys.
struct MemoryNow {
  int64_t other = 0;
  int64_t clients = 0;
  int64_t evicted = 0;
};

absl::StatusOr<MemoryNow> ReadMemory(KvClient* kv) {
  absl::StatusOr<std::string> info = kv->Info("");
  if (!info.ok()) return info.status();
  MemoryNow m;
  for (auto [field, out] : {std::pair<const char*, int64_t*>{"used_memory", &m.other},
                            {"mem_clients_normal", &m.clients},
                            {"evicted_keys", &m.evicted}}) {
    const std::optional<int64_t> v = InfoInt(*info, field);
    if (!v.has_value()) {
      return absl::FailedPreconditionError(
          absl::StrCat("the cache's INFO has no ", field, ": cannot size it by keys"));
    }
    *out = *v;
  }
  m.other -= m.clients;
  return m;
}

// ReadMemory() once the server has finished freeing what a flush unlinked
// (lazyfree_pending_objects 0) and shrinking its tables (the memory without
// clients steady within 1 KB over three reads 50 ms apart), at most ~2 s:
// the base the keys' memory is measured from.
absl::StatusOr<MemoryNow> SettledMemory(KvClient* kv) {
  absl::StatusOr<MemoryNow> last = ReadMemory(kv);
  int steady = 0;
  for (int i = 0; i < 40 && last.ok() && steady < 3; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    absl::StatusOr<MemoryNow> now = ReadMemory(kv);
    if (!now.ok()) return now.status();
    absl::StatusOr<std::string> info = kv->Info("memory");
    if (!info.ok()) return info.status();
    const bool freeing = InfoInt(*info, "lazyfree_pending_objects").value_or(0) > 0;
    steady = !freeing && std::abs(now->other - last->other) <= 1024 ? steady + 1 : 0;
    last = now;
  }
  return last;
}

}  // namespace

absl::StatusOr<int64_t> MemoryBesidesKeys(KvClient* kv) {
  absl::StatusOr<int64_t> used = InfoField(kv, "memory", "used_memory");
  if (!used.ok()) return used.status();
  absl::StatusOr<int64_t> dataset = InfoField(kv, "memory", "used_memory_dataset");
  if (!dataset.ok()) return dataset.status();
  return std::max<int64_t>(0, *used - *dataset);
}

absl::Status CacheBound::Set(KvClient* kv, const char* name, const std::string& value) {
  std::optional<std::string>& saved =
      std::string_view(name) == "maxmemory" ? saved_max_memory_ : saved_policy_;
  if (!saved.has_value()) {  // a repetition keeps the first
    absl::StatusOr<std::string> old = kv->ConfigGet(name);
    if (!old.ok()) return old.status();
    saved = *old;
  }
  return kv->ConfigSet(name, value);
}

absl::Status CacheBound::AwaitWithinLimit(KvClient* kv) {
  for (int i = 0; i < 150; ++i) {
    absl::StatusOr<int64_t> used = InfoField(kv, "memory", "used_memory");
    if (!used.ok()) return used.status();
    if (*used <= report_.max_memory) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return absl::OkStatus();
}

absl::Status CacheBound::Apply(KvClient* kv, SqlClient* sql, const Scenario& scenario,
                               const DataSetInfo& data_set, int threads,
                               const WarmUpOptions& fill) {
  report_ = Report();
  if (kv == nullptr || !scenario.BoundsTheCache()) return absl::OkStatus();
  if (!scenario.eviction_policy.empty()) {
    if (absl::Status s = Set(kv, "maxmemory-policy", scenario.eviction_policy); !s.ok()) return s;
  }
  if (scenario.cache_max_memory <= 0 && scenario.cache_keys_pct <= 0) return absl::OkStatus();
  const absl::StatusOr<KvRouting> routing = kv->Routing();
  const int64_t nodes = routing.ok() ? std::max<int64_t>(1, routing->primaries) : 1;
  if (scenario.cache_keys_pct > 0) {
    // Busy in the run: every thread's connection and the statistics
    // reader's.
    return SizeByKeys(kv, sql, scenario, data_set, (std::max(1, threads) + 1) * nodes, fill);
  }
  const int64_t allowance = kPerConnection * (std::max(1, threads) + 2) * nodes;
  absl::StatusOr<int64_t> besides = MemoryBesidesKeys(kv);
  if (!besides.ok()) return besides.status();
  report_.max_memory = *besides + scenario.cache_max_memory + allowance;
  if (absl::Status s = Set(kv, "maxmemory", absl::StrCat(report_.max_memory)); !s.ok()) return s;
  return AwaitWithinLimit(kv);
}

absl::Status CacheBound::SizeByKeys(KvClient* kv, SqlClient* sql, const Scenario& scenario,
                                    const DataSetInfo& data_set, int64_t connections,
                                    const WarmUpOptions& fill) {
  const IdRange range = EffectivePassengerRange(scenario, data_set);
  report_.target_keys = std::max<int64_t>(
      kMinKeys, std::llround(static_cast<double>(range.count) * scenario.cache_keys_pct / 100.0));
  const int64_t target = report_.target_keys;
  const int64_t tolerance = std::max<int64_t>(5, target / 50);
  // Memory is counted without the clients' buffers, which grow and shrink
  // with each connection's traffic by more than a small cache's room.
  absl::StatusOr<MemoryNow> base = SettledMemory(kv);
  if (!base.ok()) return base.status();
  double bytes_per_key = kGuessBytesPerKey;
  int64_t room = target * kGuessBytesPerKey;  // beyond base->other
  int64_t evicted_so_far = base->evicted;

  // Uniform reads over the run's keys, through the pattern: every miss
  // stores a key, so the cache fills fastest and with the run's own values.
  Scenario filler = scenario;
  filler.access = AccessMode::kPool;
  filler.pool_first_id = range.first_id;
  filler.pool_size = range.count;
  filler.warmup = WarmupMode::kOps;
  int64_t held = 0;
  int64_t clients = base->clients;
  bool settled = false;
  for (int round = 1; round <= kMaxRounds && !settled; ++round) {
    report_.rounds = round;
    report_.max_memory = base->other + room + clients;
    if (absl::Status s = Set(kv, "maxmemory", absl::StrCat(report_.max_memory)); !s.ok()) return s;
    if (absl::Status s = AwaitWithinLimit(kv); !s.ok()) return s;
    // Enough reads to bring the cache past its room: the keys missing, each
    // found with probability (universe - held) / universe, twice over.
    const double fresh =
        std::max(0.05, 1.0 - static_cast<double>(held) / static_cast<double>(range.count));
    filler.warmup_ops = std::max<int64_t>(
        100, std::llround(2.0 * static_cast<double>(std::max<int64_t>(tolerance, target - held)) /
                          fresh));
    filler.seed = scenario.seed + static_cast<uint64_t>(round);  // new keys each round
    if (absl::Status s = WarmUp(kv, sql, filler, data_set, fill); !s.ok()) return s;
    absl::StatusOr<int64_t> count = kv->CountPrefix(scenario.key_prefix);
    if (!count.ok()) return count.status();
    held = *count;
    report_.held_keys = held;
    absl::StatusOr<MemoryNow> now = ReadMemory(kv);
    if (!now.ok()) return now.status();
    clients = now->clients;
    const int64_t keys_memory = now->other - base->other;
    if (held > 0 && keys_memory > 0) {
      bytes_per_key =
          std::clamp(static_cast<double>(keys_memory) / held, kMinBytesPerKey, kMaxBytesPerKey);
    }
    // Full: the limit bound during this round's fill.
    const bool full = now->evicted > evicted_so_far;
    evicted_so_far = now->evicted;
    settled = full && std::abs(held - target) <= tolerance;
    if (settled || (!full && held < target)) continue;  // done, or room left: keep filling
    // What the keys use now, moved by the difference to the target.
    room = std::max<int64_t>(
        0, keys_memory + std::llround(static_cast<double>(target - held) * bytes_per_key));
  }
  if (absl::StatusOr<int64_t> all = kv->DbSize(); all.ok()) {
    report_.other_keys = std::max<int64_t>(0, *all - held);
  }
  // In the run every connection is busy: room for their buffers, so that
  // they do not take it from the keys. Out of rounds, the last estimate
  // stands (the run reports what the cache held).
  report_.max_memory = base->other + room + kBusyConnection * connections;
  return Set(kv, "maxmemory", absl::StrCat(report_.max_memory));
}

absl::Status CacheBound::Restore(KvClient* kv) {
  absl::Status result;
  for (auto [name, saved] :
       {std::pair<const char*, std::optional<std::string>*>{"maxmemory", &saved_max_memory_},
        {"maxmemory-policy", &saved_policy_}}) {
    if (!saved->has_value()) continue;
    if (kv != nullptr) {
      if (absl::Status s = kv->ConfigSet(name, **saved); !s.ok() && result.ok()) result = s;
    }
    saved->reset();
  }
  report_ = Report();
  return result;
}

}  // namespace cabench
