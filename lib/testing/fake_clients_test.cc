// Tests of the in-memory fakes themselves: SetIfAbsent on FakeKvClient and
// NullKvClient, on which the pattern's single-flight tests rely.
#include <atomic>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/testing/fake_kv_client.h"
#include "lib/testing/null_clients.h"
#include "lib/testing/status_matchers.h"
#include "lib/testing/virtual_clock.h"

namespace cabench {
namespace {

using ::testing::_;
using ::testing::HasSubstr;

TEST(FakeKvClientTest, SetIfAbsentSetsOnlyAnAbsentKey) {
  VirtualClock clock;
  FakeKvClient kv(&clock);
  ASSERT_OK_AND_ASSIGN(bool set, kv.SetIfAbsent("lock:1", "a", 100));
  EXPECT_TRUE(set);
  EXPECT_EQ(kv.Peek("lock:1"), "a");
  EXPECT_EQ(kv.LastTtlMs("lock:1"), 100);

  clock.AdvanceMs(40);
  ASSERT_OK_AND_ASSIGN(set, kv.SetIfAbsent("lock:1", "b", 500));
  EXPECT_FALSE(set);
  EXPECT_EQ(kv.Peek("lock:1"), "a") << "a refused SET NX must not overwrite";
  EXPECT_EQ(kv.LastTtlMs("lock:1"), 100) << "nor renew the TTL";
  // Still live at exactly set time + ttl (Redis' rule), gone 1 ns later.
  clock.AdvanceMs(60);
  ASSERT_OK_AND_ASSIGN(set, kv.SetIfAbsent("lock:1", "c", 500));
  EXPECT_FALSE(set);
  clock.AdvanceNs(1);
  ASSERT_OK_AND_ASSIGN(set, kv.SetIfAbsent("lock:1", "d", 500));
  EXPECT_TRUE(set) << "an expired key counts as absent";
  EXPECT_EQ(kv.Peek("lock:1"), "d");

  // A plain SET or a DEL in between behaves as on a server.
  ASSERT_THAT(kv.Del("lock:1"), IsOk());
  ASSERT_OK_AND_ASSIGN(set, kv.SetIfAbsent("lock:1", "e", 500));
  EXPECT_TRUE(set);
  ASSERT_THAT(kv.Set("other", "v", 500), IsOk());
  ASSERT_OK_AND_ASSIGN(set, kv.SetIfAbsent("other", "w", 500));
  EXPECT_FALSE(set);
  EXPECT_EQ(kv.calls(KvMethod::kSetIfAbsent), 6);
  EXPECT_EQ(kv.calls(KvMethod::kSet), 1);
}

TEST(FakeKvClientTest, SetIfAbsentRejectsNonPositiveTtl) {
  FakeKvClient kv;
  for (int64_t ttl : {int64_t{0}, int64_t{-5}}) {
    EXPECT_THAT(kv.SetIfAbsent("k", "v", ttl),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("ttl")));
  }
  EXPECT_FALSE(kv.Contains("k")) << "a rejected SET NX must not write";
}

TEST(FakeKvClientTest, SetIfAbsentHonoursInjectedFaults) {
  FakeKvClient kv;
  kv.FailNext(KvMethod::kSetIfAbsent, 1, absl::InternalError("injected"));
  EXPECT_THAT(kv.SetIfAbsent("k", "v", 100),
              StatusIs(absl::StatusCode::kInternal, HasSubstr("injected")));
  EXPECT_FALSE(kv.Contains("k")) << "a failed call does nothing";
  ASSERT_OK_AND_ASSIGN(bool set, kv.SetIfAbsent("k", "v", 100));
  EXPECT_TRUE(set);
  EXPECT_EQ(kv.calls(KvMethod::kSetIfAbsent), 2) << "failed calls count too";
  EXPECT_EQ(kv.calls(KvMethod::kSet), 0) << "SET NX is counted apart from SET";
  EXPECT_EQ(kv.total_calls(), 2);

  // Faults on Set do not reach SetIfAbsent, and the reverse.
  kv.FailNext(KvMethod::kSet, 1, absl::InternalError("set only"));
  ASSERT_OK_AND_ASSIGN(set, kv.SetIfAbsent("k2", "v", 100));
  EXPECT_TRUE(set);

  // An Unavailable breaks an emulated connection until Reconnect().
  kv.ClearFailures();
  kv.set_emulate_broken(true);
  kv.FailNext(KvMethod::kSetIfAbsent, 1, absl::UnavailableError("reset"));
  EXPECT_THAT(kv.SetIfAbsent("k3", "v", 100), StatusIs(absl::StatusCode::kUnavailable, _));
  EXPECT_THAT(kv.SetIfAbsent("k3", "v", 100),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("broken")));
  ASSERT_THAT(kv.Reconnect(), IsOk());
  ASSERT_OK_AND_ASSIGN(set, kv.SetIfAbsent("k3", "v", 100));
  EXPECT_TRUE(set);
}

TEST(FakeKvClientTest, SetIfAbsentHasOneWinnerAmongRacingThreads) {
  FakeKvClient kv;
  constexpr int kThreads = 8;
  constexpr int kKeys = 200;
  std::vector<std::atomic<int>> winners(kKeys);
  for (auto& w : winners) w = 0;
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int k = 0; k < kKeys; ++k) {
        absl::StatusOr<bool> set = kv.SetIfAbsent(absl::StrCat("lock:", k), absl::StrCat(t), 60000);
        if (!set.ok()) {
          ++errors;
        } else if (*set) {
          ++winners[static_cast<size_t>(k)];
        }
      }
    });
  }
  for (std::thread& th : threads) th.join();
  EXPECT_EQ(errors.load(), 0);
  for (int k = 0; k < kKeys; ++k) EXPECT_EQ(winners[static_cast<size_t>(k)].load(), 1) << k;
  EXPECT_EQ(kv.calls(KvMethod::kSetIfAbsent), kThreads * kKeys);
}

TEST(NullKvClientTest, SetIfAbsentAlwaysSets) {
  for (bool hit : {true, false}) {
    NullKvClient kv(hit);
    for (int i = 0; i < 3; ++i) {
      ASSERT_OK_AND_ASSIGN(bool set, kv.SetIfAbsent("lock:1", "x", 100));
      EXPECT_TRUE(set) << "hit=" << hit;
    }
    EXPECT_THAT(kv.SetIfAbsent("lock:1", "x", 0), StatusIs(absl::StatusCode::kInvalidArgument, _));
  }
}

}  // namespace
}  // namespace cabench
