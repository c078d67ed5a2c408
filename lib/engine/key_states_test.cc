#include "lib/engine/key_states.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/engine/thread_loop.h"
#include "lib/testing/fake_kv_client.h"
#include "lib/testing/fake_sql_client.h"
#include "lib/testing/status_matchers.h"

namespace cabench {
namespace {

constexpr int64_t kMs = 1'000'000;

TEST(KeyStatesTest, Classify) {
  EXPECT_EQ(KeyStates::Classify(0, 5 * kMs), MissCause::kCold);
  EXPECT_EQ(KeyStates::Classify(-7, 5 * kMs), MissCause::kInvalidated);
  // Expires at 100 ms: a miss sent from 99 ms on (the margin) is expired.
  EXPECT_EQ(KeyStates::Classify(100 * kMs, 50 * kMs), MissCause::kEvicted);
  EXPECT_EQ(KeyStates::Classify(100 * kMs, 99 * kMs), MissCause::kExpired);
  EXPECT_EQ(KeyStates::Classify(100 * kMs, 300 * kMs), MissCause::kExpired);
}

TEST(KeyStatesTest, IdsOutsideTheRangeAreNotTracked) {
  KeyStates states(/*first_id=*/10, /*count=*/5);
  states.Store(12, 42);
  states.Store(9, 42);
  states.Store(15, 42);
  EXPECT_EQ(states.Load(12), 42);
  EXPECT_EQ(states.Load(9), 0);
  EXPECT_EQ(states.Load(15), 0);
}

// Drives one MissCauses through a key's life with hand-made results.
TEST(MissCausesTest, FollowsAKeysLife) {
  KeyStates states(1, 10);
  MissCauses causes(&states);
  Op read;
  read.kind = OpKind::kRead;
  read.passenger_id = 3;
  Op write = read;
  write.kind = OpKind::kWrite;

  auto miss_then_set = [](int64_t ttl_ms) {
    OpResult r;
    r.op_class = OpClass::kCacheMiss;
    r.total_ns = 2 * kMs;
    r.SetStep(Step::kCacheSet, kMs);
    r.ttl_ms = ttl_ms;
    return r;
  };
  // Cold: never cached. The SET is sent 1 ms after the start (2 ms total,
  // the SET's step 1 ms): the entry expires at 0 + 1 + 1000 ms.
  causes.BeforeOp(read);
  OpResult r = miss_then_set(1000);
  causes.OnOp(read, r, 0);
  EXPECT_EQ(r.miss_cause, MissCause::kCold);
  EXPECT_EQ(states.Load(3), 1001 * kMs);
  // A miss well before the expiry: the server dropped it.
  causes.BeforeOp(read);
  r = miss_then_set(1000);
  causes.OnOp(read, r, 500 * kMs);
  EXPECT_EQ(r.miss_cause, MissCause::kEvicted);
  // That miss SET it again (expiry 1501 ms); a miss after it: expired.
  causes.BeforeOp(read);
  r = miss_then_set(1000);
  causes.OnOp(read, r, 1600 * kMs);
  EXPECT_EQ(r.miss_cause, MissCause::kExpired);
  // A write that deletes it (invalidate): the next miss is invalidated.
  causes.BeforeOp(write);
  OpResult del;
  del.op_class = OpClass::kWrite;
  del.SetStep(Step::kCacheDel, kMs);
  causes.OnOp(write, del, 1700 * kMs);
  EXPECT_LT(states.Load(3), 0);
  causes.BeforeOp(read);
  r = miss_then_set(1000);
  causes.OnOp(read, r, 1800 * kMs);
  EXPECT_EQ(r.miss_cause, MissCause::kInvalidated);
  // A hit is not classified; a DEL of a key never cached leaves it cold.
  read.passenger_id = 4;
  write.passenger_id = 4;
  causes.BeforeOp(write);
  causes.OnOp(write, del, 1900 * kMs);
  EXPECT_EQ(states.Load(4), 0);
  causes.BeforeOp(read);
  OpResult hit;
  hit.op_class = OpClass::kCacheHit;
  causes.OnOp(read, hit, 2000 * kMs);
  EXPECT_EQ(hit.miss_cause, MissCause::kNone);
}

int64_t CauseSum(const LatencyRecorder& rec) {
  int64_t sum = 0;
  for (MissCause c :
       {MissCause::kCold, MissCause::kExpired, MissCause::kInvalidated, MissCause::kEvicted}) {
    sum += rec.miss_cause_count(c);
  }
  return sum;
}

// The real loop over the fakes: every miss gets exactly one cause; a key is
// cold at most once; writes under invalidate show as invalidated misses; keys
// dropped behind the run's back (as the server's eviction does) as evicted.
TEST(MissCausesTest, LoopClassifiesEveryMiss) {
  Scenario s;
  s.pool_size = 100;
  s.read_pct = 70;
  s.write_policy = WritePolicy::kInvalidate;
  FakeKvClient kv;
  FakeSqlClient sql;
  DataSetInfo ds;
  ds.passengers = 1000;
  ds.flights = 10;
  KeyStates states(1, ds.passengers);
  ThreadLoop::Options options;
  options.key_states = &states;
  ThreadLoop loop(&kv, &sql, s, ds, options);
  ASSERT_THAT(loop.Run(3000), IsOk());
  const LatencyRecorder& first = loop.result().recorder;
  EXPECT_GT(first.cache_misses(), 0);
  EXPECT_EQ(CauseSum(first), first.cache_misses());
  EXPECT_LE(first.miss_cause_count(MissCause::kCold), 100);
  EXPECT_GT(first.miss_cause_count(MissCause::kCold), 50);
  EXPECT_GT(first.miss_cause_count(MissCause::kInvalidated), 0);
  EXPECT_EQ(first.miss_cause_count(MissCause::kExpired), 0);
  EXPECT_EQ(first.miss_cause_count(MissCause::kEvicted), 0);

  // Drop every cached key behind the loop's back, then read only.
  for (int64_t id = 1; id <= ds.passengers; ++id) {
    ASSERT_THAT(kv.Del(s.key_prefix + std::to_string(id)), IsOk());
  }
  Scenario reads = s;
  reads.read_pct = 100;
  ThreadLoop again(&kv, &sql, reads, ds, options);
  ASSERT_THAT(again.Run(2000), IsOk());
  const LatencyRecorder& second = again.result().recorder;
  EXPECT_EQ(CauseSum(second), second.cache_misses());
  EXPECT_GT(second.miss_cause_count(MissCause::kEvicted), 0);
  EXPECT_EQ(second.miss_cause_count(MissCause::kExpired), 0);
}

}  // namespace
}  // namespace cabench
