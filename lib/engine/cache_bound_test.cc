#include "lib/engine/cache_bound.h"

#include <cstdlib>
#include <map>
#include <string>
#include <string_view>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/testing/fake_sql_client.h"
#include "lib/testing/status_matchers.h"

namespace cabench {
namespace {

// A cache that evicts like Redis under maxmemory, with costs a byte budget
// cannot know in advance: each key costs its name, its value and
// `overhead` bytes; the server uses `base` bytes besides keys. Over
// maxmemory, every command first evicts the oldest keys, as Redis does
// before it serves a command (allkeys-lru, reads not counted as uses).
class MemoryKv : public KvClient {
 public:
  MemoryKv(int64_t base, int64_t overhead) : base_(base), overhead_(overhead) {}

  absl::StatusOr<bool> Get(std::string_view key, std::string* value) override {
    Evict();
    auto it = keys_.find(std::string(key));
    if (it == keys_.end()) return false;
    *value = it->second.value;
    return true;
  }
  absl::Status Set(std::string_view key, std::string_view value, int64_t) override {
    Erase(std::string(key));
    keys_[std::string(key)] = {std::string(value), ++clock_};
    used_ += Cost(key, value);
    Evict();
    return absl::OkStatus();
  }
  absl::StatusOr<bool> SetIfAbsent(std::string_view, std::string_view, int64_t) override {
    return absl::UnimplementedError("not here");
  }
  absl::Status Del(std::string_view key) override {
    Erase(std::string(key));
    return absl::OkStatus();
  }
  absl::StatusOr<bool> DelIfEquals(std::string_view, std::string_view) override {
    return absl::UnimplementedError("not here");
  }
  absl::StatusOr<int64_t> DeletePrefix(std::string_view) override {
    return absl::UnimplementedError("not here");
  }
  absl::Status Ping() override { return absl::OkStatus(); }
  absl::Status Reconnect() override { return absl::OkStatus(); }
  absl::StatusOr<std::string> ServerInfo() override { return std::string("memory kv"); }
  absl::StatusOr<std::string> Info(std::string_view) override {
    Evict();
    return absl::StrCat("# Memory\r\nused_memory:", base_ + used_,
                        "\r\nused_memory_dataset:", used_,
                        "\r\nmem_clients_normal:0\r\n# Stats\r\nevicted_keys:", evicted_, "\r\n");
  }
  absl::StatusOr<int64_t> CountPrefix(std::string_view prefix) override {
    int64_t n = 0;
    for (const auto& [key, entry] : keys_) n += key.rfind(prefix, 0) == 0;
    return n;
  }
  absl::StatusOr<std::string> ConfigGet(std::string_view name) override {
    return config_.at(std::string(name));
  }
  absl::Status ConfigSet(std::string_view name, std::string_view value) override {
    config_[std::string(name)] = std::string(value);
    if (name == "maxmemory" &&
        !absl::SimpleAtoi(absl::string_view(value.data(), value.size()), &max_memory_)) {
      return absl::InvalidArgumentError("maxmemory");
    }
    return absl::OkStatus();
  }

  int64_t keys() const { return static_cast<int64_t>(keys_.size()); }
  const std::map<std::string, std::string>& config() const { return config_; }

 private:
  struct Entry {
    std::string value;
    int64_t stamp = 0;
  };
  int64_t Cost(std::string_view key, std::string_view value) const {
    return static_cast<int64_t>(key.size() + value.size()) + overhead_;
  }
  void Evict() {
    while (max_memory_ > 0 && base_ + used_ > max_memory_ && !keys_.empty()) {
      auto oldest = keys_.begin();
      for (auto it = keys_.begin(); it != keys_.end(); ++it) {
        if (it->second.stamp < oldest->second.stamp) oldest = it;
      }
      Erase(oldest->first);
      ++evicted_;
    }
  }
  void Erase(const std::string& key) {
    auto it = keys_.find(key);
    if (it == keys_.end()) return;
    used_ -= Cost(it->first, it->second.value);
    keys_.erase(it);
  }

  const int64_t base_;
  const int64_t overhead_;
  int64_t used_ = 0;
  int64_t max_memory_ = 0;
  int64_t evicted_ = 0;
  int64_t clock_ = 0;
  std::map<std::string, Entry> keys_;
  std::map<std::string, std::string> config_ = {{"maxmemory", "0"},
                                                {"maxmemory-policy", "noeviction"}};
};

Scenario Bounded(int64_t keys_pct) {
  Scenario s;
  s.access = AccessMode::kZipf;
  s.pool_first_id = 1;
  s.pool_size = 3000;
  s.cache_keys_pct = keys_pct;
  s.eviction_policy = "allkeys-lru";
  s.key_prefix = "bound:";
  return s;
}

DataSetInfo Passengers(int64_t n) {
  DataSetInfo ds;
  ds.passengers = n;
  ds.flights = 10;
  return ds;
}

TEST(CacheBoundTest, AShareOfTheKeysIsMeasuredNotGuessed) {
  // Keys cost ~3x the first guess here, and the server uses 1 MB besides:
  // a byte budget computed from the guess would hold a third of the target.
  for (int64_t pct : {1, 5, 20, 50}) {
    MemoryKv kv(/*base=*/1 << 20, /*overhead=*/560);
    FakeSqlClient sql;
    CacheBound bound;
    ASSERT_THAT(bound.Apply(&kv, &sql, Bounded(pct), Passengers(3000), /*threads=*/4), IsOk());
    const int64_t target = 3000 * pct / 100;
    EXPECT_EQ(bound.report().target_keys, target);
    EXPECT_NEAR(static_cast<double>(kv.keys()), static_cast<double>(target),
                std::max(5.0, target * 0.02))
        << pct << "%";
    EXPECT_EQ(bound.report().held_keys, kv.keys());
    EXPECT_LE(bound.report().rounds, CacheBound::kMaxRounds);
    EXPECT_EQ(kv.config().at("maxmemory-policy"), "allkeys-lru");
    EXPECT_EQ(kv.config().at("maxmemory"), absl::StrCat(bound.report().max_memory));
    // The old settings come back.
    ASSERT_THAT(bound.Restore(&kv), IsOk());
    EXPECT_EQ(kv.config().at("maxmemory"), "0");
    EXPECT_EQ(kv.config().at("maxmemory-policy"), "noeviction");
  }
}

TEST(CacheBoundTest, AByteBudgetIsTheRoomPlusWhatTheServerUsesBesidesKeys) {
  MemoryKv kv(/*base=*/500'000, /*overhead=*/50);
  FakeSqlClient sql;
  Scenario s = Bounded(0);
  s.cache_max_memory = 64 * 1024;
  CacheBound bound;
  ASSERT_THAT(bound.Apply(&kv, &sql, s, Passengers(3000), /*threads=*/4), IsOk());
  // 96 KB for each of 4 threads + 2 more connections.
  EXPECT_EQ(bound.report().max_memory, 500'000 + 64 * 1024 + 6 * 96 * 1024);
  EXPECT_EQ(bound.report().target_keys, 0);
  ASSERT_THAT(bound.Restore(&kv), IsOk());
  EXPECT_EQ(kv.config().at("maxmemory"), "0");
}

TEST(CacheBoundTest, AScenarioThatBoundsNothingTouchesNothing) {
  MemoryKv kv(0, 0);
  FakeSqlClient sql;
  Scenario s;
  CacheBound bound;
  ASSERT_THAT(bound.Apply(&kv, &sql, s, Passengers(3000), 4), IsOk());
  EXPECT_EQ(bound.report().max_memory, 0);
  EXPECT_EQ(kv.config().at("maxmemory"), "0");
  ASSERT_THAT(bound.Restore(&kv), IsOk());
}

}  // namespace
}  // namespace cabench
