// SimKv::SetIfAbsent: SET NX on the simulated cache, expiry and eviction
// included.
#include "lib/model/sim_clients.h"

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/testing/status_matchers.h"

namespace cabench {
namespace {

using ::testing::_;
using ::testing::HasSubstr;

constexpr int64_t kMs = 1000000;

SimKv::Options Bounded(int64_t capacity, Eviction eviction) {
  SimKv::Options o;
  o.capacity_keys = capacity;
  o.eviction = eviction;
  return o;
}

TEST(SimKvTest, SetIfAbsentSetsOnlyAnAbsentOrExpiredKey) {
  int64_t now = 0;
  SimKv kv(&now, SimKv::Options());
  ASSERT_OK_AND_ASSIGN(bool set, kv.SetIfAbsent("lock:1", "x", 100));
  EXPECT_TRUE(set);
  EXPECT_TRUE(kv.IsLive("lock:1"));
  now = 100 * kMs;  // live while now <= set time + ttl
  ASSERT_OK_AND_ASSIGN(set, kv.SetIfAbsent("lock:1", "x", 100));
  EXPECT_FALSE(set);
  now += 1;
  ASSERT_OK_AND_ASSIGN(set, kv.SetIfAbsent("lock:1", "x", 100));
  EXPECT_TRUE(set) << "an expired key counts as absent";
  now += 100 * kMs;
  ASSERT_OK_AND_ASSIGN(set, kv.SetIfAbsent("lock:1", "x", 500));
  EXPECT_FALSE(set);
  now += 1;
  EXPECT_FALSE(kv.IsLive("lock:1")) << "a refused SET NX must not renew the TTL";

  ASSERT_THAT(kv.Set("k", "v", 100), IsOk());
  ASSERT_OK_AND_ASSIGN(set, kv.SetIfAbsent("k", "v", 100));
  EXPECT_FALSE(set);
  ASSERT_THAT(kv.Del("k"), IsOk());
  ASSERT_OK_AND_ASSIGN(set, kv.SetIfAbsent("k", "v", 100));
  EXPECT_TRUE(set);
}

TEST(SimKvTest, SetIfAbsentRejectsNonPositiveTtl) {
  int64_t now = 0;
  SimKv kv(&now, SimKv::Options());
  EXPECT_THAT(kv.SetIfAbsent("k", "v", 0),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("ttl")));
  EXPECT_THAT(kv.SetIfAbsent("k", "v", -1), StatusIs(absl::StatusCode::kInvalidArgument, _));
  EXPECT_EQ(kv.held_keys(), 0);
}

// A refused SET NX is a use (Redis' NX looks the key up for writing); a
// successful one evicts like Set.
TEST(SimKvTest, SetIfAbsentUsesAndEvictsUnderLru) {
  int64_t now = 0;
  SimKv kv(&now, Bounded(2, Eviction::kLru));
  ASSERT_THAT(kv.Set("a", "v", 1000), IsOk());
  ASSERT_THAT(kv.Set("b", "v", 1000), IsOk());
  ASSERT_OK_AND_ASSIGN(bool set, kv.SetIfAbsent("a", "v", 1000));
  EXPECT_FALSE(set);  // now "b" is the least recently used
  ASSERT_OK_AND_ASSIGN(set, kv.SetIfAbsent("c", "v", 1000));
  EXPECT_TRUE(set);
  EXPECT_EQ(kv.evictions(), 1);
  EXPECT_TRUE(kv.IsLive("a"));
  EXPECT_FALSE(kv.IsLive("b"));
  EXPECT_TRUE(kv.IsLive("c"));
  EXPECT_EQ(kv.held_keys(), 2);
}

TEST(SimKvTest, SetIfAbsentOnAFullNoEvictionCacheIsOom) {
  int64_t now = 0;
  SimKv kv(&now, Bounded(1, Eviction::kNone));
  ASSERT_THAT(kv.Set("a", "v", 1000), IsOk());
  EXPECT_THAT(kv.SetIfAbsent("b", "v", 1000),
              StatusIs(absl::StatusCode::kInternal, HasSubstr("OOM")));
  ASSERT_OK_AND_ASSIGN(bool set, kv.SetIfAbsent("a", "v", 1000));
  EXPECT_FALSE(set) << "a held key needs no room";
  // An expired key is dropped first, so there is room again.
  now = 1001 * kMs;
  ASSERT_OK_AND_ASSIGN(set, kv.SetIfAbsent("b", "v", 1000));
  EXPECT_TRUE(set);
  EXPECT_EQ(kv.evictions(), 0);
}

// The release of a fill lock: only the value SetIfAbsent stored deletes it.
TEST(SimKvTest, DelIfEqualsDeletesOnlyTheLockItsTokenHolds) {
  int64_t now = 0;
  SimKv kv(&now, SimKv::Options());
  ASSERT_OK_AND_ASSIGN(bool set, kv.SetIfAbsent("lock:x", "a", 100));
  ASSERT_TRUE(set);
  ASSERT_OK_AND_ASSIGN(bool deleted, kv.DelIfEquals("lock:x", "b"));
  EXPECT_FALSE(deleted);
  EXPECT_TRUE(kv.IsLive("lock:x"));
  now += 101'000'000;  // a expires; b takes the lock
  ASSERT_OK_AND_ASSIGN(set, kv.SetIfAbsent("lock:x", "b", 100));
  ASSERT_TRUE(set);
  ASSERT_OK_AND_ASSIGN(deleted, kv.DelIfEquals("lock:x", "a"));
  EXPECT_FALSE(deleted) << "a's release leaves b's lock";
  EXPECT_TRUE(kv.IsLive("lock:x"));
  ASSERT_OK_AND_ASSIGN(deleted, kv.DelIfEquals("lock:x", "b"));
  EXPECT_TRUE(deleted);
  EXPECT_FALSE(kv.IsLive("lock:x"));
  // A value stored by Set is not kept: it never equals.
  ASSERT_THAT(kv.Set("k", "v", 100), IsOk());
  ASSERT_OK_AND_ASSIGN(deleted, kv.DelIfEquals("k", "v"));
  EXPECT_FALSE(deleted);
  EXPECT_TRUE(kv.IsLive("k"));
}

// In a single-flight fill (GET miss, SET NX of a lock key, SET of the data,
// DEL of the lock) the data SET is still the fill of the missed key, not a
// request: under perfect LFU the filled key keeps one request.
TEST(SimKvTest, LockOnAnotherKeyKeepsTheFillAFill) {
  int64_t now = 0;
  SimKv kv(&now, Bounded(3, Eviction::kLfu));
  std::string value;
  ASSERT_THAT(kv.Set("z", "v", 1000), IsOk());  // z: 1 request
  ASSERT_OK_AND_ASSIGN(bool hit, kv.Get("z", &value));
  ASSERT_TRUE(hit);  // z: 2 requests
  ASSERT_OK_AND_ASSIGN(hit, kv.Get("x", &value));
  ASSERT_FALSE(hit);  // x: 1 request
  ASSERT_OK_AND_ASSIGN(bool set, kv.SetIfAbsent("lock:x", "1", 1000));
  ASSERT_TRUE(set);
  ASSERT_THAT(kv.Set("x", "v", 1000), IsOk());  // the fill: x stays at 1
  ASSERT_THAT(kv.Del("lock:x"), IsOk());
  ASSERT_THAT(kv.Set("v", "v", 1000), IsOk());  // v: 1 request, more recent than x
  ASSERT_THAT(kv.Set("u", "v", 1000), IsOk());  // full: evicts the least requested
  EXPECT_EQ(kv.evictions(), 1);
  EXPECT_FALSE(kv.IsLive("x")) << "the fill was counted as a request";
  EXPECT_TRUE(kv.IsLive("z"));
  EXPECT_TRUE(kv.IsLive("v"));
  EXPECT_TRUE(kv.IsLive("u"));
}

}  // namespace
}  // namespace cabench
