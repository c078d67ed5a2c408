// Stale reads and stampedes, measured by the pattern over the in-memory
// fakes: KeyVersions itself, the versioned value, and the races of
// cache-aside made deterministic by holding one reader between its SELECT
// and its SET (FakeSqlClient::set_after_query).
#include "lib/cache_aside/key_versions.h"

#include <atomic>
#include <future>
#include <mutex>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/cache_aside/cache_aside.h"
#include "lib/testing/fake_kv_client.h"
#include "lib/testing/fake_sql_client.h"
#include "lib/testing/status_matchers.h"

namespace cabench {
namespace {

constexpr char kKey5[] = "cabench:bookings:5";

TEST(KeyVersionsTest, CommitsAndStaleness) {
  KeyVersions v(4, 10);
  EXPECT_EQ(v.Version(5), 0);
  int64_t age = -1;
  EXPECT_FALSE(v.IsStale(5, 0, 1'000'000, &age));
  EXPECT_EQ(v.Commit(5, 2'000'000), 1);
  EXPECT_EQ(v.Commit(5, 3'000'000), 2);
  EXPECT_EQ(v.Version(5), 2);
  EXPECT_FALSE(v.IsStale(5, 2, 9'000'000, &age));
  // Version 0 is out of date since the first newer commit (2 ms).
  ASSERT_TRUE(v.IsStale(5, 0, 9'000'000, &age));
  EXPECT_EQ(age, 7'000'000);
  ASSERT_TRUE(v.IsStale(5, 1, 9'000'000, &age));
  EXPECT_EQ(age, 6'000'000);
  // Other keys are untouched; ids outside the range are never stale.
  EXPECT_EQ(v.Version(6), 0);
  EXPECT_EQ(v.Commit(100, 1), 0);
  EXPECT_FALSE(v.IsStale(100, -5, 1, &age));
}

TEST(KeyVersionsTest, MoreCommitsThanTheRingGiveALowerBound) {
  KeyVersions v(0, 1);
  for (int i = 1; i <= 10; ++i) v.Commit(0, int64_t{i} * 1'000'000);
  int64_t age = -1;
  ASSERT_TRUE(v.IsStale(0, 0, 20'000'000, &age));
  // Versions 7..10 are kept: the oldest newer one kept committed at 7 ms.
  EXPECT_EQ(age, 13'000'000);
  ASSERT_TRUE(v.IsStale(0, 8, 20'000'000, &age));
  EXPECT_EQ(age, 11'000'000);
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
  EncodeCachedValue(ValueMeta{.version = 12}, row, &value);
  EXPECT_EQ(value, "12#7|Ada#1|Lovelace");
  ValueMeta meta;
  ASSERT_TRUE(ParseValueMeta(value, &meta));
  EXPECT_EQ(meta.version, 12);
  EXPECT_EQ(meta.delta_us, -1);
  BookingCount back;
  ASSERT_TRUE(DecodeBookingCount(value, &back));
  EXPECT_EQ(back.count, 7);
  EXPECT_EQ(back.firstname, "Ada#1");

  EncodeCachedValue(ValueMeta{.version = 3, .delta_us = 250, .expiry_ms = 1700000000123}, row,
                    &value);
  EXPECT_EQ(value, "3,250,1700000000123#7|Ada#1|Lovelace");
  ASSERT_TRUE(ParseValueMeta(value, &meta));
  EXPECT_EQ(meta.delta_us, 250);
  EXPECT_EQ(meta.expiry_ms, 1700000000123);

  row.found = false;
  EncodeCachedValue(ValueMeta{.version = 0}, row, &value);
  EXPECT_EQ(value, "0#-");
  ASSERT_TRUE(DecodeBookingCount(value, &back));
  EXPECT_FALSE(back.found);

  // Plain values (no header) and malformed headers.
  EXPECT_FALSE(ParseValueMeta("7|Ada#1|Lovelace", &meta));
  EXPECT_FALSE(ParseValueMeta("-", &meta));
  EXPECT_FALSE(ParseValueMeta("x#-", &meta));
  EXPECT_FALSE(ParseValueMeta("1,2#-", &meta));
  ASSERT_TRUE(DecodeBookingCount("7|Ada#1|Lovelace", &back));
  EXPECT_EQ(back.firstname, "Ada#1");
}

// Holds the first query of the thread that arms it, between its SELECT and
// its SET, until released.
class HoldFirstQuery {
 public:
  explicit HoldFirstQuery(FakeSqlClient* sql) {
    sql->set_after_query([this](int64_t) {
      if (std::this_thread::get_id() != armed_) return;
      armed_ = std::thread::id();
      selected_.set_value();
      release_.get_future().wait();
    });
  }
  void Arm() { armed_ = std::this_thread::get_id(); }
  void WaitSelected() { selected_.get_future().wait(); }
  void Release() { release_.set_value(); }

 private:
  std::atomic<std::thread::id> armed_{};
  std::promise<void> selected_;
  std::promise<void> release_;
};

class ConsistencyTest : public ::testing::Test {
 protected:
  ConsistencyTest() : versions_(0, 100) { scenario_.ttl_ms = 60000; }

  CacheAside::Options Shared() {
    CacheAside::Options o;
    o.versions = &versions_;
    return o;
  }
  static NewBooking BookingOf(int64_t passenger) {
    return NewBooking{
        .flight_id = 3, .seat = "0000", .passenger_id = passenger, .price_cents = 100};
  }

  // A slow miss of key 5 reads the old row; a write commits meanwhile; the
  // slow miss then stores the old value. Returns the next read's outcome.
  OpResult SlowMissRacesAWrite() {
    HoldFirstQuery hold(&sql_);
    CacheAside reader(&kv_, &sql_, scenario_, Shared());
    CacheAside writer(&kv_, &sql_, scenario_, Shared());
    std::thread slow([&] {
      hold.Arm();
      EXPECT_EQ(reader.Read(5).op_class, OpClass::kCacheMiss);
    });
    hold.WaitSelected();
    EXPECT_EQ(writer.Write(BookingOf(5)).op_class, OpClass::kWrite);
    hold.Release();
    slow.join();
    return writer.Read(5);
  }

  Scenario scenario_;
  KeyVersions versions_;
  FakeKvClient kv_;
  FakeSqlClient sql_;
};

TEST_F(ConsistencyTest, ValuesCarryTheVersionReadBeforeTheSelect) {
  CacheAside ca(&kv_, &sql_, scenario_, Shared());
  EXPECT_EQ(ca.Read(5).op_class, OpClass::kCacheMiss);
  EXPECT_EQ(kv_.Peek(kKey5), "0#1|First5|Last5");
  EXPECT_EQ(ca.Write(BookingOf(5)).op_class, OpClass::kWrite);  // refresh
  EXPECT_EQ(kv_.Peek(kKey5), "1#2|First5|Last5");
  const OpResult r = ca.Read(5);
  EXPECT_EQ(r.op_class, OpClass::kCacheHit);
  EXPECT_FALSE(r.Has(kEventStale));
  EXPECT_FALSE(r.Has(kEventReadSelect));
}

TEST_F(ConsistencyTest, TheSlowMissRaceIsCaughtWithRefresh) {
  const OpResult r = SlowMissRacesAWrite();
  EXPECT_EQ(r.op_class, OpClass::kCacheHit);
  EXPECT_TRUE(r.Has(kEventStale));
  EXPECT_GE(r.stale_age_ns, 0);
  // The old count (1) stayed in the cache, though the row now has 2.
  EXPECT_EQ(kv_.Peek(kKey5), "0#1|First5|Last5");
  EXPECT_EQ(sql_.BookingCountOf(5), 2);
}

TEST_F(ConsistencyTest, TheSlowMissRaceIsCaughtWithInvalidate) {
  scenario_.write_policy = WritePolicy::kInvalidate;
  const OpResult r = SlowMissRacesAWrite();
  EXPECT_EQ(r.op_class, OpClass::kCacheHit);
  EXPECT_TRUE(r.Has(kEventStale));
  EXPECT_EQ(kv_.Peek(kKey5), "0#1|First5|Last5");
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
  EXPECT_EQ(kv_.Peek("cabench:bookings:5:lock"), "1");
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

TEST_F(ConsistencyTest, WithoutVersionsValuesArePlain) {
  CacheAside ca(&kv_, &sql_, scenario_);
  const OpResult r = ca.Read(5);
  EXPECT_EQ(kv_.Peek(kKey5), "1|First5|Last5");
  EXPECT_EQ(r.db_reads_in_flight, 0);
  EXPECT_TRUE(r.Has(kEventReadSelect));
}

}  // namespace
}  // namespace cabench
