#include "lib/cache_aside/reconnector.h"

#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/testing/fake_kv_client.h"
#include "lib/testing/fake_sql_client.h"
#include "lib/testing/status_matchers.h"
#include "lib/testing/virtual_clock.h"

namespace cabench {
namespace {

using ::testing::HasSubstr;

constexpr int64_t kMs = 1'000'000;

class ReconnectorTest : public ::testing::Test {
 protected:
  ReconnectorTest() : kv_(&clock_) {
    scenario_.ttl_ms = 1000;
    kv_.set_emulate_broken(true);
  }

  Reconnector::Options Options(bool fallback = false) {
    Reconnector::Options o;
    o.cache_fallback = fallback;
    o.now_ns = [this] { return clock_.NowNs(); };
    o.sleep_ns = [this](int64_t ns) {
      sleeps_.push_back(ns);
      clock_.AdvanceNs(ns);
    };
    return o;
  }

  Scenario scenario_;
  VirtualClock clock_{1000 * kMs};
  FakeKvClient kv_;
  FakeSqlClient sql_;
  std::vector<int64_t> sleeps_;
};

TEST_F(ReconnectorTest, CacheUnavailableRaisesTheBitAndAReconnectClearsIt) {
  CacheAside ca(&kv_, &sql_, scenario_);
  Reconnector r(&kv_, &sql_, Options());
  kv_.FailNext(KvMethod::kGet, 1, absl::UnavailableError("reset"));
  EXPECT_EQ(ca.Read(5).op_class, OpClass::kError);
  EXPECT_EQ(ca.unavailable(), CacheAside::kCacheUnavailable);
  // Broken: fails fast until reconnected.
  EXPECT_EQ(ca.Read(6).op_class, OpClass::kError);
  EXPECT_THAT(r.Recover(ca), IsOk());
  EXPECT_EQ(ca.unavailable(), 0);
  EXPECT_EQ(r.stats().reconnects, 1);
  EXPECT_TRUE(sleeps_.empty());  // the first attempt is immediate
  EXPECT_EQ(ca.Read(5).op_class, OpClass::kCacheMiss);
}

TEST_F(ReconnectorTest, NonUnavailableErrorsDoNotFlagTheClient) {
  CacheAside ca(&kv_, &sql_, scenario_);
  kv_.FailNext(KvMethod::kGet, 1, absl::InternalError("WRONGTYPE"));
  EXPECT_EQ(ca.Read(5).op_class, OpClass::kError);
  EXPECT_EQ(ca.unavailable(), 0);
}

TEST_F(ReconnectorTest, DatabaseUnavailableRaisesTheDbBit) {
  CacheAside ca(&kv_, &sql_, scenario_);
  sql_.FailNext(SqlMethod::kQueryBookingCount, 1,
                absl::UnavailableError("mysql 2013"));
  EXPECT_EQ(ca.Read(5).op_class, OpClass::kError);
  EXPECT_EQ(ca.unavailable(), CacheAside::kDbUnavailable);
}

TEST_F(ReconnectorTest, BackoffDoublesUpToTheCapAndResetsOnSuccess) {
  CacheAside ca(&kv_, &sql_, scenario_);
  Reconnector r(&kv_, &sql_, Options());
  kv_.FailNext(KvMethod::kGet, 1, absl::UnavailableError("reset"));
  ca.Read(5);
  kv_.FailNext(KvMethod::kReconnect, 9, absl::UnavailableError("refused"));
  for (int i = 0; i < 10; ++i) EXPECT_THAT(r.Recover(ca), IsOk());
  // Attempt 1 at once, then 10, 20, 40, ..., capped at 500 ms.
  EXPECT_THAT(sleeps_, ::testing::ElementsAre(10 * kMs, 20 * kMs, 40 * kMs,
                                              80 * kMs, 160 * kMs, 320 * kMs,
                                              500 * kMs, 500 * kMs, 500 * kMs));
  EXPECT_EQ(r.stats().reconnect_failures, 9);
  EXPECT_EQ(r.stats().reconnects, 1);
  EXPECT_EQ(ca.unavailable(), 0);
  // A new outage starts again from an immediate attempt.
  sleeps_.clear();
  kv_.FailNext(KvMethod::kGet, 1, absl::UnavailableError("reset"));
  ca.Read(5);
  EXPECT_THAT(r.Recover(ca), IsOk());
  EXPECT_TRUE(sleeps_.empty());
  EXPECT_EQ(r.stats().reconnects, 2);
}

TEST_F(ReconnectorTest, WithFallbackACacheOutageNeverWaits) {
  CacheAside::Options options;
  options.fallback_to_db_on_cache_error = true;
  CacheAside ca(&kv_, &sql_, scenario_, options);
  Reconnector r(&kv_, &sql_, Options(/*fallback=*/true));
  kv_.FailNext(KvMethod::kGet, 1, absl::UnavailableError("reset"));
  EXPECT_EQ(ca.Read(5).op_class,
            OpClass::kFallback);  // served by the database
  EXPECT_EQ(ca.unavailable(), CacheAside::kCacheUnavailable);
  kv_.FailNext(KvMethod::kReconnect, 1, absl::UnavailableError("refused"));
  EXPECT_THAT(r.Recover(ca), IsOk());  // fails; next attempt in 10 ms
  EXPECT_THAT(r.Recover(ca), IsOk());  // not due: returns without sleeping
  EXPECT_TRUE(sleeps_.empty());
  EXPECT_EQ(ca.Read(6).op_class, OpClass::kFallback);
  clock_.AdvanceMs(10);
  EXPECT_THAT(r.Recover(ca), IsOk());
  EXPECT_EQ(ca.unavailable(), 0);
  EXPECT_EQ(r.stats().reconnects, 1);
}

TEST_F(ReconnectorTest, AnOutageLongerThanAllowedFails) {
  CacheAside ca(&kv_, &sql_, scenario_);
  Reconnector::Options options = Options();
  options.max_outage_ms = 2000;
  Reconnector r(&kv_, &sql_, options);
  kv_.FailNext(KvMethod::kGet, 1, absl::UnavailableError("reset"));
  ca.Read(5);
  kv_.FailEvery(KvMethod::kReconnect, 1, absl::UnavailableError("refused"));
  absl::Status s;
  int calls = 0;
  while (s.ok() && calls < 100) {
    s = r.Recover(ca);
    ++calls;
  }
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kUnavailable,
                          HasSubstr("cache server unavailable for")));
  EXPECT_THAT(s,
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("refused")));
  // Attempts at 0, 10, 30, 70, 150, 310, 630, 1130, 1630 and 2130 ms: the
  // tenth is past the 2 s allowed.
  EXPECT_EQ(calls, 10);
}

TEST_F(ReconnectorTest, WithFallbackACacheOutageNeverFails) {
  CacheAside::Options ca_options;
  ca_options.fallback_to_db_on_cache_error = true;
  CacheAside ca(&kv_, &sql_, scenario_, ca_options);
  Reconnector::Options options = Options(/*fallback=*/true);
  options.max_outage_ms = 100;
  Reconnector r(&kv_, &sql_, options);
  kv_.FailNext(KvMethod::kGet, 1, absl::UnavailableError("reset"));
  ca.Read(5);
  kv_.FailEvery(KvMethod::kReconnect, 1, absl::UnavailableError("refused"));
  for (int i = 0; i < 50; ++i) {
    EXPECT_THAT(r.Recover(ca), IsOk());
    clock_.AdvanceMs(100);
  }
  EXPECT_TRUE(sleeps_.empty());
}

TEST_F(ReconnectorTest, ReconnectDbGivesUpAfterItsPatience) {
  CacheAside ca(&kv_, &sql_, scenario_);
  Reconnector r(&kv_, &sql_, Options());
  sql_.FailEvery(SqlMethod::kReconnect, 1, absl::UnavailableError("refused"));
  EXPECT_THAT(r.ReconnectDb(ca, 1000),
              StatusIs(absl::StatusCode::kUnavailable, "refused"));
  // 0, 10, 20, 40, 80, 160, 320 ms: the next (500 ms later) would pass 1 s.
  EXPECT_EQ(r.stats().reconnect_failures, 7);
  sql_.ClearFailures();
  EXPECT_THAT(r.ReconnectDb(ca, 1000), IsOk());
}

}  // namespace
}  // namespace cabench
