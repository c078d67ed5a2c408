// Stale reads and stampedes, measured by the pattern over the in-memory
// fakes: KeyVersions itself, the versioned value, and the races of
// cache-aside made deterministic by holding one reader between its SELECT
// and its SET (FakeSqlClient::set_after_query).
#include "lib/cache_aside/key_versions.h"

#include <atomic>
#include <future>
#include <mutex>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/cache_aside/cache_aside.h"
#include "lib/testing/fake_kv_client.h"
#include "lib/testing/fake_sql_client.h"
#include "lib/testing/status_matchers.h"
#include "lib/testing/virtual_clock.h"

namespace cabench {
namespace {

constexpr char kKey5[] = "cabench:bookings:5";

using Staleness = KeyVersions::Staleness;

// One committed write of `id`, returned at `now_ns`.
void CommitWrite(KeyVersions& v, int64_t id, int64_t now_ns) {
  v.EndWrite(id, v.BeginWrite(id), /*committed=*/true, now_ns);
}

TEST(KeyVersionsTest, CountsWritesBegunAndDone) {
  KeyVersions v(4, 10);
  EXPECT_EQ(v.Begun(5), 0);
  EXPECT_EQ(v.Done(5), 0);
  EXPECT_EQ(v.BeginWrite(5), 1);
  EXPECT_EQ(v.BeginWrite(5), 2);
  EXPECT_EQ(v.Begun(5), 2);
  EXPECT_EQ(v.Done(5), 0);
  v.EndWrite(5, 2, /*committed=*/true, 1'000'000);  // the second returns first
  EXPECT_EQ(v.Done(5), 1);
  v.EndWrite(5, 1, /*committed=*/false,
             2'000'000);  // a failed INSERT counts as done
  EXPECT_EQ(v.Done(5), 2);
  EXPECT_EQ(v.Unsure(5), 1);
  // Other keys are untouched; ids outside the range are never counted.
  EXPECT_EQ(v.Begun(6), 0);
  EXPECT_EQ(v.BeginWrite(100), 0);
  v.EndWrite(100, 0, true, 1);
  EXPECT_EQ(v.Done(100), 0);
  int64_t age = -1;
  EXPECT_EQ(v.Classify(100, 0, 0, 5, 5, 1, &age), Staleness::kFresh);
}

// The three classes, each from the counts a fill and a hit read.
TEST(KeyVersionsTest, ClassifiesByWhatIsCertain) {
  KeyVersions v(0, 10);
  CommitWrite(v, 1, 2'000'000);  // write 1 returned at 2 ms
  CommitWrite(v, 1, 3'000'000);  // write 2 at 3 ms
  int64_t age = -1;
  // A fill whose SELECT began after both were done, a hit after: fresh.
  EXPECT_EQ(v.Classify(1, /*lo=*/2, /*hi=*/2, /*D=*/2, /*B=*/2, 9'000'000, &age),
            Staleness::kFresh);
  // A fill that ended before write 2 began, a hit after it was done: stale
  // since write 2 returned (3 ms) until the GET was sent (9 ms).
  ASSERT_EQ(v.Classify(1, 1, 1, 2, 2, 9'000'000, &age), Staleness::kStale);
  EXPECT_EQ(age, 6'000'000);
  // Both writes lacking: the first one's return (2 ms) gives the age.
  ASSERT_EQ(v.Classify(1, 0, 0, 2, 2, 9'000'000, &age), Staleness::kStale);
  EXPECT_EQ(age, 7'000'000);
  // Write 2 began while the SELECT was in flight: it may be in the row.
  EXPECT_EQ(v.Classify(1, 1, 2, 2, 2, 9'000'000, &age), Staleness::kUncertain);
  // Write 3 begins before the hit's GET returned, not yet done: it may have
  // committed before the GET was sent.
  EXPECT_EQ(v.BeginWrite(1), 3);
  EXPECT_EQ(v.Classify(1, 2, 2, 2, v.Begun(1), 9'000'000, &age), Staleness::kUncertain);
  // ... but a value that lacks a write done before the GET is still stale.
  EXPECT_EQ(v.Classify(1, 1, 1, 2, v.Begun(1), 9'000'000, &age), Staleness::kStale);
}

// A failed INSERT (a lost reply) may or may not have committed: it cannot be
// the write a value certainly lacks, and it does not spoil a certain fresh.
TEST(KeyVersionsTest, AFailedWriteIsNeverTheCertainOne) {
  KeyVersions v(0, 10);
  v.EndWrite(1, v.BeginWrite(1), /*committed=*/false, 1'000'000);
  int64_t age = -1;
  EXPECT_EQ(v.Classify(1, 0, 0, v.Done(1), v.Begun(1), 5'000'000, &age), Staleness::kUncertain);
  EXPECT_EQ(v.Classify(1, 1, 1, v.Done(1), v.Begun(1), 5'000'000, &age), Staleness::kFresh);
  // A later committed write the value lacks makes it certainly stale, aged
  // from that write (the failed one keeps no time).
  CommitWrite(v, 1, 4'000'000);
  ASSERT_EQ(v.Classify(1, 0, 0, v.Done(1), v.Begun(1), 5'000'000, &age), Staleness::kStale);
  EXPECT_EQ(age, 1'000'000);
  // Lacking only the committed one: the counts cannot tell which of the two
  // done writes failed, so uncertain (an upper-bound hit, never a wrong one).
  EXPECT_EQ(v.Classify(1, 1, 1, v.Done(1), v.Begun(1), 5'000'000, &age), Staleness::kUncertain);
}

TEST(KeyVersionsTest, MoreWritesThanTheRingGiveALowerBound) {
  KeyVersions v(0, 1);
  for (int i = 1; i <= 10; ++i) CommitWrite(v, 0, int64_t{i} * 1'000'000);
  int64_t age = -1;
  ASSERT_EQ(v.Classify(0, 0, 0, 10, 10, 20'000'000, &age), Staleness::kStale);
  // Writes 7..10 are kept: the oldest kept the value lacks returned at 7 ms.
  EXPECT_EQ(age, 13'000'000);
  ASSERT_EQ(v.Classify(0, 8, 8, 10, 10, 20'000'000, &age), Staleness::kStale);
  EXPECT_EQ(age, 11'000'000);
  // A send before the kept return (a clock read earlier): 0, never negative.
  ASSERT_EQ(v.Classify(0, 9, 9, 10, 10, 5'000'000, &age), Staleness::kStale);
  EXPECT_EQ(age, 0);
}

TEST(KeyVersionsTest, TheAgeIsFromTheEarliestReturnNotTheLowestNumber) {
  KeyVersions v(0, 1);
  const int64_t first = v.BeginWrite(0);
  const int64_t second = v.BeginWrite(0);
  v.EndWrite(0, second, true, 2'000'000);  // the second write returns first
  v.EndWrite(0, first, true, 6'000'000);
  int64_t age = -1;
  ASSERT_EQ(v.Classify(0, 0, 0, 2, 2, 10'000'000, &age), Staleness::kStale);
  EXPECT_EQ(age, 8'000'000);
}

TEST(KeyVersionsTest, FillsAndReadsInFlight) {
  KeyVersions v(0, 4);
  EXPECT_FALSE(v.BeginFill(1));
  EXPECT_TRUE(v.BeginFill(1));
  EXPECT_FALSE(v.BeginFill(2));
  v.EndFill(1);
  v.EndFill(1);
  EXPECT_FALSE(v.BeginFill(1));
  EXPECT_EQ(v.BeginDbRead(), 1);
  EXPECT_EQ(v.BeginDbRead(), 2);
  v.EndDbRead();
  EXPECT_EQ(v.BeginDbRead(), 2);
  KeyVersions none(0, 0);  // no keys: only reads in flight
  EXPECT_FALSE(none.BeginFill(0));
  EXPECT_FALSE(none.BeginFill(0));
  EXPECT_EQ(none.BeginDbRead(), 1);
}

TEST(CachedValueTest, MetaRoundTrips) {
  BookingCount row;
  row.found = true;
  row.count = 7;
  row.firstname = "Ada#1";
  row.lastname = "Lovelace";
  std::string value;
  EncodeCachedValue(ValueMeta{.lo = 12, .hi = 14}, row, &value);
  EXPECT_EQ(value, "12,2#7|Ada#1|Lovelace");  // hi as hi - lo
  ValueMeta meta;
  ASSERT_TRUE(ParseValueMeta(value, &meta));
  EXPECT_EQ(meta.lo, 12);
  EXPECT_EQ(meta.hi, 14);
  EXPECT_EQ(meta.delta_us, -1);
  EXPECT_EQ(meta.expiry_ms, -1);
  BookingCount back;
  ASSERT_TRUE(DecodeBookingCount(value, &back));
  EXPECT_EQ(back.count, 7);
  EXPECT_EQ(back.firstname, "Ada#1");

  EncodeCachedValue(ValueMeta{.lo = 3, .hi = 3, .delta_us = 250, .expiry_ms = 1700000000123}, row,
                    &value);
  EXPECT_EQ(value, "3,0,250,1700000000123#7|Ada#1|Lovelace");
  ASSERT_TRUE(ParseValueMeta(value, &meta));
  EXPECT_EQ(meta.lo, 3);
  EXPECT_EQ(meta.hi, 3);
  EXPECT_EQ(meta.delta_us, 250);
  EXPECT_EQ(meta.expiry_ms, 1700000000123);

  row.found = false;
  EncodeCachedValue(ValueMeta{}, row, &value);
  EXPECT_EQ(value, "0,0#-");
  ASSERT_TRUE(DecodeBookingCount(value, &back));
  EXPECT_FALSE(back.found);

  // Plain values (no header) and malformed headers: one field, three, five,
  // an empty field, a number too long.
  EXPECT_FALSE(ParseValueMeta("7|Ada#1|Lovelace", &meta));
  EXPECT_FALSE(ParseValueMeta("-", &meta));
  EXPECT_FALSE(ParseValueMeta("x#-", &meta));
  EXPECT_FALSE(ParseValueMeta("1#-", &meta));
  EXPECT_FALSE(ParseValueMeta("1,2,3#-", &meta));
  EXPECT_FALSE(ParseValueMeta("1,2,3,4,5#-", &meta));
  EXPECT_FALSE(ParseValueMeta("1,,3#-", &meta));
  EXPECT_FALSE(ParseValueMeta("1,2222222222222222222#-", &meta));
  ASSERT_TRUE(DecodeBookingCount("7|Ada#1|Lovelace", &back));
  EXPECT_EQ(back.firstname, "Ada#1");
}

// Holds the first call that reaches Reached() on the thread that armed it,
// until released: installed in a fake's hook, it holds one reader at a
// chosen point while other threads go on.
class Hold {
 public:
  void Arm() { armed_ = std::this_thread::get_id(); }
  void Reached() {
    if (std::this_thread::get_id() != armed_) return;
    armed_ = std::thread::id();
    reached_.set_value();
    release_.get_future().wait();
  }
  void WaitReached() { reached_.get_future().wait(); }
  void Release() { release_.set_value(); }

 private:
  std::atomic<std::thread::id> armed_{};
  std::promise<void> reached_;
  std::promise<void> release_;
};

// Holds the armed thread's first query after it read the bookings (inside
// the SELECT call, which has not returned yet), between its SELECT and its
// SET.
class HoldFirstQuery : public Hold {
 public:
  explicit HoldFirstQuery(FakeSqlClient* sql) : sql_(sql) {
    sql->set_after_query([this](int64_t) { Reached(); });
  }
  ~HoldFirstQuery() { sql_->set_after_query(nullptr); }
  void WaitSelected() { WaitReached(); }

 private:
  FakeSqlClient* sql_;
};

class ConsistencyTest : public ::testing::Test {
 protected:
  ConsistencyTest() : versions_(0, 100) { scenario_.ttl_ms = 60000; }

  CacheAside::Options Shared() {
    CacheAside::Options o;
    o.versions = &versions_;
    return o;
  }
  // A booking of `passenger` on a seat no earlier call of this test took.
  NewBooking BookingOf(int64_t passenger) {
    return NewBooking{.flight_id = 3,
                      .seat = absl::StrCat(seats_++),
                      .passenger_id = passenger,
                      .price_cents = 100};
  }

  // Where the slow miss is held while the write runs.
  enum class HeldAt {
    kAfterSelect,   // its SELECT returned; its SET not yet sent
    kInsideSelect,  // its SELECT read the row but has not returned
  };

  // A slow miss of key 5 reads the old row; a write commits meanwhile; the
  // slow miss then stores the old value. Returns the next read's outcome.
  OpResult SlowMissRacesAWrite(HeldAt where) {
    Hold hold;
    if (where == HeldAt::kInsideSelect) {
      sql_.set_after_query([&hold](int64_t) { hold.Reached(); });
    } else {
      kv_.set_before([&hold](KvMethod method, std::string_view) {
        if (method == KvMethod::kSet) hold.Reached();
      });
    }
    CacheAside reader(&kv_, &sql_, scenario_, Shared());
    CacheAside writer(&kv_, &sql_, scenario_, Shared());
    std::thread slow([&] {
      hold.Arm();
      EXPECT_EQ(reader.Read(5).op_class, OpClass::kCacheMiss);
    });
    hold.WaitReached();
    EXPECT_EQ(writer.Write(BookingOf(5)).op_class, OpClass::kWrite);
    hold.Release();
    slow.join();
    sql_.set_after_query(nullptr);
    kv_.set_before(nullptr);
    return writer.Read(5);
  }

  Scenario scenario_;
  KeyVersions versions_;
  FakeKvClient kv_;
  FakeSqlClient sql_;
  int seats_ = 0;
};

TEST_F(ConsistencyTest, ValuesCarryTheWritesDoneBeforeAndBegunAfterTheSelect) {
  CacheAside ca(&kv_, &sql_, scenario_, Shared());
  EXPECT_EQ(ca.Read(5).op_class, OpClass::kCacheMiss);
  EXPECT_EQ(kv_.Peek(kKey5), "0,0#1|First5|Last5");
  EXPECT_EQ(ca.Write(BookingOf(5)).op_class, OpClass::kWrite);  // refresh
  EXPECT_EQ(kv_.Peek(kKey5), "1,0#2|First5|Last5");             // lo 1, hi 1
  const OpResult r = ca.Read(5);
  EXPECT_EQ(r.op_class, OpClass::kCacheHit);
  EXPECT_FALSE(r.Has(kEventStale));
  EXPECT_FALSE(r.Has(kEventStaleUncertain));
  EXPECT_FALSE(r.Has(kEventReadSelect));
}

// The known race, with either policy. When the slow miss's SELECT ended
// before the write began, and the write was done before the next GET, the
// hit is certainly stale. When the write began while the SELECT call was in
// flight (here after its snapshot, so the value is in truth stale), the
// client cannot tell whether the snapshot saw the write: uncertain.
TEST_F(ConsistencyTest, TheSlowMissRaceIsStaleOrUncertainByWhenTheWriteBegan) {
  for (HeldAt where : {HeldAt::kAfterSelect, HeldAt::kInsideSelect}) {
    const bool certain = where == HeldAt::kAfterSelect;
    for (WritePolicy policy : {WritePolicy::kRefresh, WritePolicy::kInvalidate}) {
      SCOPED_TRACE(absl::StrCat(certain ? "after" : "inside", " the SELECT, ",
                                policy == WritePolicy::kRefresh ? "refresh" : "invalidate"));
      scenario_.write_policy = policy;
      ASSERT_THAT(kv_.Del(kKey5), IsOk());
      const int64_t before = sql_.BookingCountOf(5);
      const int64_t writes = versions_.Done(5);
      const OpResult r = SlowMissRacesAWrite(where);
      EXPECT_EQ(r.op_class, OpClass::kCacheHit);
      EXPECT_EQ(r.Has(kEventStale), certain);
      EXPECT_EQ(r.Has(kEventStaleUncertain), !certain);
      EXPECT_GE(r.stale_age_ns, 0);
      // The old count stayed in the cache, though the row has one more; hi
      // - lo is 1 when the write began before the SELECT returned.
      EXPECT_EQ(kv_.Peek(kKey5),
                absl::StrCat(writes, certain ? ",0#" : ",1#", before, "|First5|Last5"));
      EXPECT_EQ(sql_.BookingCountOf(5), before + 1);
    }
  }
}

TEST_F(ConsistencyTest, WithoutTheRaceNoReadIsStale) {
  for (WritePolicy policy : {WritePolicy::kRefresh, WritePolicy::kInvalidate}) {
    scenario_.write_policy = policy;
    FakeKvClient kv;
    CacheAside ca(&kv, &sql_, scenario_, Shared());
    ca.Read(6);
    ca.Write(BookingOf(6));
    ca.Read(6);  // invalidate: a miss that refills
    const OpResult r = ca.Read(6);
    EXPECT_EQ(r.op_class, OpClass::kCacheHit);
    EXPECT_FALSE(r.Has(kEventStale));
  }
}

TEST_F(ConsistencyTest, TtlOnlyLeavesTheOldValueUntilItExpires) {
  scenario_.write_policy = WritePolicy::kTtlOnly;
  CacheAside ca(&kv_, &sql_, scenario_, Shared());
  ca.Read(5);
  const OpResult w = ca.Write(BookingOf(5));
  EXPECT_EQ(w.op_class, OpClass::kWrite);
  EXPECT_FALSE(w.StepRan(Step::kDbSelect));
  EXPECT_FALSE(w.StepRan(Step::kCacheDel));
  std::this_thread::sleep_for(std::chrono::milliseconds(2));
  const OpResult r = ca.Read(5);
  EXPECT_TRUE(r.Has(kEventStale));
  EXPECT_GE(r.stale_age_ns, 2'000'000);
  EXPECT_LT(r.stale_age_ns, 10'000'000'000);
}

TEST_F(ConsistencyTest, ConcurrentFillsOfOneKeyAreDuplicates) {
  HoldFirstQuery hold(&sql_);
  CacheAside first(&kv_, &sql_, scenario_, Shared());
  CacheAside second(&kv_, &sql_, scenario_, Shared());
  OpResult held;
  std::thread slow([&] {
    hold.Arm();
    held = first.Read(5);
  });
  hold.WaitSelected();
  const OpResult dup = second.Read(5);
  hold.Release();
  slow.join();
  EXPECT_EQ(held.op_class, OpClass::kCacheMiss);
  EXPECT_FALSE(held.Has(kEventDupFill));
  EXPECT_EQ(held.db_reads_in_flight, 1);
  EXPECT_EQ(dup.op_class, OpClass::kCacheMiss);
  EXPECT_TRUE(dup.Has(kEventDupFill));
  EXPECT_TRUE(dup.Has(kEventReadSelect));
  EXPECT_EQ(dup.db_reads_in_flight, 2);
}

TEST_F(ConsistencyTest, SingleFlightWaitersReadTheFillInsteadOfTheDatabase) {
  scenario_.single_flight = true;
  scenario_.single_flight_wait_ms = 5000;
  HoldFirstQuery hold(&sql_);
  CacheAside filler(&kv_, &sql_, scenario_, Shared());
  CacheAside waiter(&kv_, &sql_, scenario_, Shared());
  OpResult filled;
  std::thread slow([&] {
    hold.Arm();
    filled = filler.Read(5);
  });
  hold.WaitSelected();
  // The lock holds a token of this acquisition: a per-process prefix, the
  // thread index (0) and the object's first lock.
  EXPECT_THAT(kv_.Peek("cabench:bookings:5:lock").value_or(""),
              ::testing::MatchesRegex("[0-9a-f]+:0:1"));
  auto waited = std::async(std::launch::async, [&] { return waiter.Read(5); });
  // The waiter polls the cache; let it poll a few times, then release.
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  hold.Release();
  slow.join();
  const OpResult w = waited.get();
  EXPECT_EQ(filled.op_class, OpClass::kCacheMiss);
  EXPECT_TRUE(filled.StepRan(Step::kCacheLock));
  EXPECT_TRUE(filled.Has(kEventReadSelect));
  EXPECT_EQ(w.op_class, OpClass::kCacheMiss);
  EXPECT_TRUE(w.Has(kEventFillWait));
  EXPECT_FALSE(w.Has(kEventWaitTimeout));
  EXPECT_FALSE(w.Has(kEventDupFill));
  EXPECT_FALSE(w.Has(kEventReadSelect));
  EXPECT_TRUE(w.StepRan(Step::kFillWait));
  EXPECT_FALSE(w.StepRan(Step::kDbSelect));
  EXPECT_EQ(sql_.calls(SqlMethod::kQueryBookingCount), 1);
  // The lock is released after the fill.
  EXPECT_EQ(kv_.Peek("cabench:bookings:5:lock"), std::nullopt);
}

TEST_F(ConsistencyTest, ASingleFlightWaitThatRunsOutFillsItself) {
  scenario_.single_flight = true;
  scenario_.single_flight_wait_ms = 2;
  HoldFirstQuery hold(&sql_);
  CacheAside filler(&kv_, &sql_, scenario_, Shared());
  CacheAside waiter(&kv_, &sql_, scenario_, Shared());
  std::thread slow([&] {
    hold.Arm();
    filler.Read(5);
  });
  hold.WaitSelected();
  const OpResult w = waiter.Read(5);
  hold.Release();
  slow.join();
  EXPECT_TRUE(w.Has(kEventFillWait));
  EXPECT_TRUE(w.Has(kEventWaitTimeout));
  EXPECT_TRUE(w.Has(kEventDupFill));
  EXPECT_TRUE(w.StepRan(Step::kDbSelect));
  EXPECT_GE(w.step_ns[static_cast<int>(Step::kFillWait)], 2'000'000);
}

TEST_F(ConsistencyTest, EarlyRefreshFollowsBeta) {
  scenario_.ttl_ms = 1000;
  // A huge beta refreshes on the first hit; a tiny one never within 1 s.
  for (double beta : {1e9, 1e-9}) {
    scenario_.early_refresh_beta = beta;
    FakeKvClient kv;
    CacheAside ca(&kv, &sql_, scenario_, Shared());
    ASSERT_EQ(ca.Read(7).op_class, OpClass::kCacheMiss);
    ValueMeta meta;
    ASSERT_TRUE(ParseValueMeta(*kv.Peek("cabench:bookings:7"), &meta));
    EXPECT_GE(meta.delta_us, 1);
    EXPECT_GT(meta.expiry_ms, 0);
    const OpResult r = ca.Read(7);
    EXPECT_EQ(r.op_class, OpClass::kCacheHit);
    EXPECT_EQ(r.Has(kEventEarlyRefresh), beta > 1);
    EXPECT_EQ(r.StepRan(Step::kDbSelect), beta > 1);
    EXPECT_EQ(r.Has(kEventReadSelect), beta > 1);
  }
}

// Holder A's fill outlasts its lock; B finds the lock expired and takes it.
// A's release must leave B's lock alone (a plain DEL deleted it, letting a
// third reader fill too); B's release deletes its own.
TEST_F(ConsistencyTest, SingleFlightReleasesOnlyItsOwnLock) {
  scenario_.single_flight = true;
  scenario_.single_flight_lock_ms = 100;
  VirtualClock clock;
  FakeKvClient kv(&clock);
  Hold hold_a;
  Hold hold_b;
  sql_.set_after_query([&](int64_t) {
    hold_a.Reached();
    hold_b.Reached();
  });
  CacheAside::Options options = Shared();
  options.thread_index = 1;
  CacheAside a(&kv, &sql_, scenario_, options);
  options.thread_index = 2;
  CacheAside b(&kv, &sql_, scenario_, options);
  constexpr char kLock[] = "cabench:bookings:5:lock";
  std::thread ta([&] {
    hold_a.Arm();
    EXPECT_EQ(a.Read(5).op_class, OpClass::kCacheMiss);
  });
  hold_a.WaitReached();
  const std::string token_a = kv.Peek(kLock).value_or("");
  clock.AdvanceMs(101);  // A's lock expires during its fill
  std::thread tb([&] {
    hold_b.Arm();
    EXPECT_EQ(b.Read(5).op_class, OpClass::kCacheMiss);
  });
  hold_b.WaitReached();
  const std::string token_b = kv.Peek(kLock).value_or("");
  EXPECT_NE(token_a, "");
  EXPECT_NE(token_b, "");
  EXPECT_NE(token_a, token_b);
  hold_a.Release();  // A fills and releases: not B's lock
  ta.join();
  EXPECT_EQ(kv.Peek(kLock), token_b);
  hold_b.Release();
  tb.join();
  EXPECT_EQ(kv.Peek(kLock), std::nullopt);
  sql_.set_after_query(nullptr);
  EXPECT_EQ(kv.calls(KvMethod::kDelIfEquals), 2);
  EXPECT_EQ(kv.calls(KvMethod::kDel), 0);
}

// Single flight's other GETs are classified by their own window too: the
// lock holder's second look (a hit on a value another reader just stored)
// and a waiter's poll. Here both find a value filled before a write that
// was done before they looked: certainly stale.
TEST_F(ConsistencyTest, SingleFlightRecheckAndWaiterHitsAreClassified) {
  scenario_.single_flight = true;
  scenario_.single_flight_wait_ms = 5000;
  scenario_.write_policy = WritePolicy::kTtlOnly;
  CacheAside writer(&kv_, &sql_, scenario_, Shared());
  const std::string old_value = "0,0#1|First5|Last5";  // a fill before any write
  ASSERT_EQ(writer.Write(BookingOf(5)).op_class, OpClass::kWrite);

  // The holder: its GET misses; as it takes the lock, another reader's fill
  // lands; its second GET hits that.
  kv_.set_before([&](KvMethod method, std::string_view) {
    if (method == KvMethod::kSetIfAbsent) kv_.Put(kKey5, old_value, 60000);
  });
  CacheAside holder(&kv_, &sql_, scenario_, Shared());
  OpResult r = holder.Read(5);
  kv_.set_before(nullptr);
  EXPECT_EQ(r.op_class, OpClass::kCacheMiss);
  EXPECT_FALSE(r.Has(kEventReadSelect));
  EXPECT_TRUE(r.Has(kEventStale));
  EXPECT_EQ(kv_.Peek("cabench:bookings:5:lock"), std::nullopt);

  // The waiter: the lock is taken; the value lands after a few polls.
  ASSERT_THAT(kv_.Del(kKey5), IsOk());
  kv_.Put("cabench:bookings:5:lock", "someone else", 60000);
  std::atomic<int> polls{0};
  kv_.set_before([&](KvMethod method, std::string_view key) {
    if (method == KvMethod::kGet && key == kKey5 && ++polls == 3) {
      kv_.Put(kKey5, old_value, 60000);
    }
  });
  CacheAside waiter(&kv_, &sql_, scenario_, Shared());
  r = waiter.Read(5);
  kv_.set_before(nullptr);
  EXPECT_EQ(r.op_class, OpClass::kCacheMiss);
  EXPECT_TRUE(r.Has(kEventFillWait));
  EXPECT_FALSE(r.Has(kEventWaitTimeout));
  EXPECT_TRUE(r.Has(kEventStale));
  EXPECT_GE(polls.load(), 3);
}

// XFetch: the hit is classified first, then refreshed; the refresh's value
// carries its own counts.
TEST_F(ConsistencyTest, AnEarlyRefreshClassifiesTheHitThenStoresFreshCounts) {
  scenario_.ttl_ms = 1000;
  scenario_.early_refresh_beta = 1e9;
  scenario_.write_policy = WritePolicy::kTtlOnly;
  CacheAside ca(&kv_, &sql_, scenario_, Shared());
  ASSERT_EQ(ca.Read(5).op_class, OpClass::kCacheMiss);
  ASSERT_EQ(ca.Write(BookingOf(5)).op_class, OpClass::kWrite);
  const OpResult r = ca.Read(5);
  EXPECT_EQ(r.op_class, OpClass::kCacheHit);
  EXPECT_TRUE(r.Has(kEventEarlyRefresh));
  EXPECT_TRUE(r.Has(kEventStale));
  ValueMeta meta;
  ASSERT_TRUE(ParseValueMeta(*kv_.Peek(kKey5), &meta));
  EXPECT_EQ(meta.lo, 1);
  EXPECT_EQ(meta.hi, 1);
  const OpResult again = ca.Read(5);
  EXPECT_FALSE(again.Has(kEventStale));
  EXPECT_FALSE(again.Has(kEventStaleUncertain));
}

// An INSERT whose reply was lost may have committed: a value filled before it
// is then uncertain, not fresh (as it would be had the write not counted)
// nor stale (it may not have committed).
TEST_F(ConsistencyTest, AWriteWithAnUnknownOutcomeMakesLaterHitsUncertain) {
  scenario_.write_policy = WritePolicy::kTtlOnly;
  CacheAside ca(&kv_, &sql_, scenario_, Shared());
  ASSERT_EQ(ca.Read(5).op_class, OpClass::kCacheMiss);
  sql_.FailNext(SqlMethod::kInsertBooking, 1, absl::UnavailableError("lost"));
  EXPECT_EQ(ca.Write(BookingOf(5)).op_class, OpClass::kError);
  EXPECT_EQ(versions_.Done(5), 1);
  EXPECT_EQ(versions_.Unsure(5), 1);
  OpResult r = ca.Read(5);
  EXPECT_EQ(r.op_class, OpClass::kCacheHit);
  EXPECT_FALSE(r.Has(kEventStale));
  EXPECT_TRUE(r.Has(kEventStaleUncertain));
  // A committed write later: the value certainly lacks that one.
  ASSERT_EQ(ca.Write(BookingOf(5)).op_class, OpClass::kWrite);
  r = ca.Read(5);
  EXPECT_TRUE(r.Has(kEventStale));
  EXPECT_FALSE(r.Has(kEventStaleUncertain));
}

TEST_F(ConsistencyTest, WithoutVersionsValuesArePlain) {
  CacheAside ca(&kv_, &sql_, scenario_);
  const OpResult r = ca.Read(5);
  EXPECT_EQ(kv_.Peek(kKey5), "1|First5|Last5");
  EXPECT_EQ(r.db_reads_in_flight, 0);
  EXPECT_TRUE(r.Has(kEventReadSelect));
}

}  // namespace
}  // namespace cabench
