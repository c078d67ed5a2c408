#include "lib/cache_aside/cache_aside.h"

#include <chrono>
#include <set>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/testing/fake_kv_client.h"
#include "lib/testing/fake_sql_client.h"
#include "lib/testing/null_clients.h"
#include "lib/testing/status_matchers.h"
#include "lib/testing/virtual_clock.h"

namespace cabench {
namespace {

using ::testing::HasSubstr;

constexpr char kKey5[] = "cabench:bookings:5";

class CacheAsideTest : public ::testing::Test {
 protected:
  CacheAsideTest() : kv_(&clock_) { scenario_.ttl_ms = 1000; }

  CacheAside Make(CacheAside::Options options = {}) {
    return CacheAside(&kv_, &sql_, scenario_, options);
  }

  Scenario scenario_;
  VirtualClock clock_;
  FakeKvClient kv_;
  FakeSqlClient sql_;
};

TEST_F(CacheAsideTest, MissFillsThenHits) {
  CacheAside ca(&kv_, &sql_, scenario_);
  OpResult r = ca.Read(5);
  EXPECT_EQ(r.op_class, OpClass::kCacheMiss);
  EXPECT_EQ(r.kind, OpKind::kRead);
  EXPECT_TRUE(r.StepRan(Step::kCacheGet));
  EXPECT_TRUE(r.StepRan(Step::kDbSelect));
  EXPECT_TRUE(r.StepRan(Step::kCacheSet));
  EXPECT_FALSE(r.StepRan(Step::kDbInsert));
  EXPECT_EQ(kv_.Peek(kKey5), "1|First5|Last5");
  EXPECT_EQ(kv_.LastTtlMs(kKey5), 1000);

  r = ca.Read(5);
  EXPECT_EQ(r.op_class, OpClass::kCacheHit);
  EXPECT_TRUE(r.StepRan(Step::kCacheGet));
  EXPECT_FALSE(r.StepRan(Step::kDbSelect));
  EXPECT_EQ(ca.last_value(), "1|First5|Last5");
  EXPECT_EQ(sql_.calls(SqlMethod::kQueryBookingCount), 1);
  EXPECT_EQ(ca.errors(), 0);
  EXPECT_THAT(ca.last_error(), IsOk());
}

TEST_F(CacheAsideTest, EmptyResultIsCachedAndHits) {
  CacheAside ca(&kv_, &sql_, scenario_);
  // 8 % 4 == 0: the fake's passenger 8 has no booking, the join no row.
  EXPECT_EQ(ca.Read(8).op_class, OpClass::kCacheMiss);
  EXPECT_EQ(kv_.Peek("cabench:bookings:8"), "-");
  EXPECT_EQ(ca.Read(8).op_class, OpClass::kCacheHit);
  EXPECT_EQ(sql_.calls(SqlMethod::kQueryBookingCount), 1);
  // An empty string stored by someone else is a hit too.
  kv_.Put("cabench:bookings:9", "", 1000);
  EXPECT_EQ(ca.Read(9).op_class, OpClass::kCacheHit);
}

TEST_F(CacheAsideTest, RefreshRewritesTheKeyAfterInsert) {
  CacheAside ca(&kv_, &sql_, scenario_);
  ca.Read(5);
  NewBooking b{.flight_id = 3, .seat = "0000", .passenger_id = 5, .price_cents = 100};
  const OpResult r = ca.Write(b);
  EXPECT_EQ(r.op_class, OpClass::kWrite);
  EXPECT_EQ(r.kind, OpKind::kWrite);
  EXPECT_TRUE(r.StepRan(Step::kDbInsert));
  EXPECT_TRUE(r.StepRan(Step::kDbSelect));
  EXPECT_TRUE(r.StepRan(Step::kCacheSet));
  EXPECT_FALSE(r.StepRan(Step::kCacheDel));
  EXPECT_EQ(kv_.Peek(kKey5), "2|First5|Last5");
  EXPECT_EQ(ca.Read(5).op_class, OpClass::kCacheHit);
  EXPECT_EQ(ca.last_value(), "2|First5|Last5");
}

TEST_F(CacheAsideTest, InvalidateDeletesTheKeyAfterInsert) {
  scenario_.write_policy = WritePolicy::kInvalidate;
  CacheAside ca(&kv_, &sql_, scenario_);
  ca.Read(5);
  ASSERT_TRUE(kv_.Contains(kKey5));
  NewBooking b{.flight_id = 3, .seat = "0000", .passenger_id = 5, .price_cents = 100};
  const OpResult r = ca.Write(b);
  EXPECT_EQ(r.op_class, OpClass::kWrite);
  EXPECT_TRUE(r.StepRan(Step::kCacheDel));
  EXPECT_FALSE(r.StepRan(Step::kCacheSet));
  EXPECT_FALSE(kv_.Contains(kKey5));
  EXPECT_EQ(ca.Read(5).op_class, OpClass::kCacheMiss);
  EXPECT_EQ(kv_.Peek(kKey5), "2|First5|Last5");
}

TEST_F(CacheAsideTest, EntriesExpireOnTheVirtualClock) {
  CacheAside ca(&kv_, &sql_, scenario_);
  EXPECT_EQ(ca.Read(5).op_class, OpClass::kCacheMiss);
  clock_.AdvanceMs(999);
  EXPECT_EQ(ca.Read(5).op_class, OpClass::kCacheHit);
  // A hit does not extend the TTL: only SET does.
  clock_.AdvanceMs(2);
  EXPECT_EQ(ca.Read(5).op_class, OpClass::kCacheMiss);
  EXPECT_EQ(ca.Read(5).op_class, OpClass::kCacheHit);
}

TEST_F(CacheAsideTest, JitterStaysWithinBounds) {
  scenario_.ttl_jitter_pct = 20;
  CacheAside ca(&kv_, &sql_, scenario_);
  int64_t lo = 1 << 30, hi = 0;
  std::set<int64_t> distinct;
  for (int id = 1; id <= 2000; ++id) {
    ASSERT_EQ(ca.Read(id).op_class, OpClass::kCacheMiss);
    const int64_t ttl = *kv_.LastTtlMs("cabench:bookings:" + std::to_string(id));
    lo = std::min(lo, ttl);
    hi = std::max(hi, ttl);
    distinct.insert(ttl);
  }
  EXPECT_GE(lo, 800);
  EXPECT_LE(hi, 1200);
  EXPECT_LT(lo, 820);  // the whole range is used
  EXPECT_GT(hi, 1180);
  EXPECT_GT(distinct.size(), 300u);
}

TEST_F(CacheAsideTest, NoCacheModeNeverTouchesTheCache) {
  scenario_.cache = false;
  CacheAside ca(&kv_, &sql_, scenario_);
  for (int i = 0; i < 3; ++i) {
    const OpResult r = ca.Read(5);
    EXPECT_EQ(r.op_class, OpClass::kDbRead);
    EXPECT_TRUE(r.StepRan(Step::kDbSelect));
    EXPECT_FALSE(r.StepRan(Step::kCacheGet));
  }
  NewBooking b{.flight_id = 3, .seat = "0000", .passenger_id = 5, .price_cents = 100};
  const OpResult w = ca.Write(b);
  EXPECT_EQ(w.op_class, OpClass::kWrite);
  EXPECT_EQ(w.steps_run, 1u << static_cast<int>(Step::kDbInsert));
  EXPECT_EQ(kv_.total_calls(), 0);
  EXPECT_EQ(sql_.calls(SqlMethod::kQueryBookingCount), 3);

  // And the cache client may be absent.
  CacheAside no_kv(nullptr, &sql_, scenario_);
  EXPECT_EQ(no_kv.Read(5).op_class, OpClass::kDbRead);
}

TEST_F(CacheAsideTest, MissingClientIsAnErrorNotACrash) {
  CacheAside no_kv(nullptr, &sql_, scenario_);
  OpResult r = no_kv.Read(5);
  EXPECT_EQ(r.op_class, OpClass::kError);
  EXPECT_EQ(r.error_source, ErrorSource::kCache);
  EXPECT_THAT(no_kv.last_error(),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("missing")));
  CacheAside no_sql(&kv_, nullptr, scenario_);
  r = no_sql.Write(NewBooking{});
  EXPECT_EQ(r.op_class, OpClass::kError);
  EXPECT_EQ(r.error_source, ErrorSource::kDb);
}

TEST_F(CacheAsideTest, CacheDownIsACacheError) {
  CacheAside ca(&kv_, &sql_, scenario_);
  kv_.FailNext(KvMethod::kGet, 1, absl::UnavailableError("connection reset"));
  const OpResult r = ca.Read(5);
  EXPECT_EQ(r.op_class, OpClass::kError);
  EXPECT_EQ(r.error_source, ErrorSource::kCache);
  EXPECT_TRUE(r.StepRan(Step::kCacheGet));
  EXPECT_THAT(ca.last_error(), StatusIs(absl::StatusCode::kUnavailable, "connection reset"));
  EXPECT_EQ(ca.errors(), 1);
  EXPECT_EQ(sql_.calls(SqlMethod::kQueryBookingCount), 0);
  // The next read works again.
  EXPECT_EQ(ca.Read(5).op_class, OpClass::kCacheMiss);
}

TEST_F(CacheAsideTest, CacheDownFallsBackToTheDatabaseWhenAsked) {
  CacheAside::Options options;
  options.fallback_to_db_on_cache_error = true;
  CacheAside ca = Make(options);
  kv_.FailNext(KvMethod::kGet, 2, absl::UnavailableError("connection reset"));
  for (int i = 0; i < 2; ++i) {
    const OpResult r = ca.Read(5);
    EXPECT_EQ(r.op_class, OpClass::kFallback);
    EXPECT_TRUE(r.StepRan(Step::kCacheGet));
    EXPECT_TRUE(r.StepRan(Step::kDbSelect));
    EXPECT_FALSE(r.StepRan(Step::kCacheSet));
  }
  EXPECT_EQ(ca.errors(), 0);
  EXPECT_EQ(kv_.calls(KvMethod::kSet), 0);
  EXPECT_EQ(sql_.calls(SqlMethod::kQueryBookingCount), 2);
  EXPECT_THAT(ca.last_error(), StatusIs(absl::StatusCode::kUnavailable, "connection reset"));
}

TEST_F(CacheAsideTest, DatabaseDownIsADatabaseError) {
  CacheAside ca(&kv_, &sql_, scenario_);
  sql_.FailNext(SqlMethod::kQueryBookingCount, 1, absl::UnavailableError("mysql 2013: lost"));
  OpResult r = ca.Read(5);
  EXPECT_EQ(r.op_class, OpClass::kError);
  EXPECT_EQ(r.error_source, ErrorSource::kDb);
  EXPECT_FALSE(r.StepRan(Step::kCacheSet));
  EXPECT_FALSE(kv_.Contains(kKey5));
  EXPECT_THAT(ca.last_error(), StatusIs(absl::StatusCode::kUnavailable, HasSubstr("2013")));

  sql_.FailNext(SqlMethod::kInsertBooking, 1, absl::InternalError("mysql 1205: lock wait"));
  r = ca.Write(NewBooking{.flight_id = 1, .seat = "0000", .passenger_id = 5, .price_cents = 1});
  EXPECT_EQ(r.op_class, OpClass::kError);
  EXPECT_EQ(r.error_source, ErrorSource::kDb);
  EXPECT_FALSE(r.StepRan(Step::kDbSelect));
  EXPECT_EQ(ca.errors(), 2);
}

TEST_F(CacheAsideTest, FailedSetOrDelIsACacheError) {
  CacheAside ca(&kv_, &sql_, scenario_);
  kv_.FailNext(KvMethod::kSet, 1, absl::InternalError("OOM"));
  OpResult r = ca.Read(5);
  EXPECT_EQ(r.op_class, OpClass::kError);
  EXPECT_EQ(r.error_source, ErrorSource::kCache);
  EXPECT_TRUE(r.StepRan(Step::kCacheSet));

  scenario_.write_policy = WritePolicy::kInvalidate;
  CacheAside inv(&kv_, &sql_, scenario_);
  kv_.FailEvery(KvMethod::kDel, 1, absl::UnavailableError("gone"));
  r = inv.Write(NewBooking{.flight_id = 1, .seat = "0000", .passenger_id = 5, .price_cents = 1});
  EXPECT_EQ(r.op_class, OpClass::kError);
  EXPECT_EQ(r.error_source, ErrorSource::kCache);
  EXPECT_EQ(sql_.inserted(), 1);  // the INSERT itself was committed
}

TEST_F(CacheAsideTest, SeatCollisionIsRetriedAndCounted) {
  Scenario s = scenario_;
  s.read_pct = 0;
  DataSetInfo ds;
  ds.passengers = 1000;
  ds.flights = 10;
  Workload w(s, ds, 0);
  w.set_run_no(31);
  CacheAside::Options options;
  options.seat_source = &w;
  CacheAside ca = Make(options);
  const Op& op = w.Next();
  ASSERT_EQ(op.booking.seat, "0000");
  // Thread 0's seats step by 36 (base 36 "10"): 0000, 0010, 0020, ...
  sql_.TakeSeat(op.booking.flight_id, "0000");
  sql_.TakeSeat(op.booking.flight_id, "0010");  // the next seat is taken too
  const OpResult r = ca.Write(op.booking);
  EXPECT_EQ(r.op_class, OpClass::kWrite);
  EXPECT_EQ(ca.insert_retries(), 2);
  EXPECT_EQ(sql_.calls(SqlMethod::kInsertBooking), 3);
  EXPECT_EQ(sql_.inserted(), 1);
  EXPECT_EQ(sql_.inserted_by_run(31), 1);    // the retry keeps the run number
  EXPECT_EQ(w.Next().booking.seat, "0030");  // "0020" went to the retry

  // Retries are bounded: then AlreadyExists is a database error.
  options.max_insert_retries = 1;
  CacheAside bounded = Make(options);
  const Op& op2 = w.Next();
  sql_.TakeSeat(op2.booking.flight_id, op2.booking.seat);
  sql_.TakeSeat(op2.booking.flight_id, "0050");
  const OpResult e = bounded.Write(op2.booking);
  EXPECT_EQ(e.op_class, OpClass::kError);
  EXPECT_EQ(e.error_source, ErrorSource::kDb);
  EXPECT_EQ(bounded.insert_retries(), 1);
  EXPECT_THAT(bounded.last_error(), StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr("1062")));

  // Without a seat source there is no retry.
  CacheAside no_source = Make();
  EXPECT_EQ(no_source.Write(op2.booking).op_class, OpClass::kError);
  EXPECT_EQ(no_source.insert_retries(), 0);
}

TEST_F(CacheAsideTest, StepsAreTimedWithinTheTotal) {
  CacheAside ca(&kv_, &sql_, scenario_);
  kv_.SetLatencyNs(KvMethod::kGet, 2000000);  // 2 ms of real time
  const auto before = std::chrono::system_clock::now();
  const OpResult r = ca.Read(5);
  const auto after = std::chrono::system_clock::now();
  EXPECT_GE(r.step_ns[static_cast<int>(Step::kCacheGet)], 2000000);
  int64_t sum = 0;
  for (int64_t ns : r.step_ns) sum += ns;
  EXPECT_LE(sum, r.total_ns);
  EXPECT_GT(r.step_ns[static_cast<int>(Step::kDbSelect)], 0);
  // The epoch start lies between the wall-clock readings around the call
  // (with slack for the once-measured monotonic offset).
  const int64_t start = ca.last_start_epoch_ns();
  const auto ns = [](auto t) {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
  };
  EXPECT_GE(start, ns(before) - 50000000);
  EXPECT_LE(start, ns(after) + 50000000);
}

TEST(BookingValueTest, RoundTrips) {
  BookingCount row{.found = true, .firstname = "Ann", .lastname = "Lee", .count = 1234};
  std::string value;
  EncodeBookingCount(row, &value);
  EXPECT_EQ(value, "1234|Ann|Lee");
  BookingCount back;
  ASSERT_TRUE(DecodeBookingCount(value, &back));
  EXPECT_TRUE(back.found);
  EXPECT_EQ(back.count, 1234);
  EXPECT_EQ(back.firstname, "Ann");
  EXPECT_EQ(back.lastname, "Lee");

  EncodeBookingCount(BookingCount{}, &value);
  EXPECT_EQ(value, "-");
  ASSERT_TRUE(DecodeBookingCount(value, &back));
  EXPECT_FALSE(back.found);
  EXPECT_FALSE(DecodeBookingCount("x|y", &back));
  EXPECT_FALSE(DecodeBookingCount("1x|a|b", &back));
}

TEST(NullClientsTest, ServeTheHotPath) {
  NullKvClient kv;
  NullSqlClient sql;
  Scenario s;
  CacheAside ca(&kv, &sql, s);
  EXPECT_EQ(ca.Read(1).op_class, OpClass::kCacheHit);
  kv.set_hit(false);
  EXPECT_EQ(ca.Read(1).op_class, OpClass::kCacheMiss);
  EXPECT_EQ(ca.last_value(), "3|First|Last");
  EXPECT_EQ(
      ca.Write(NewBooking{.flight_id = 1, .seat = "0000", .passenger_id = 1, .price_cents = 1})
          .op_class,
      OpClass::kWrite);
}

}  // namespace
}  // namespace cabench
