// Unit tests of the read/write split (read_split.h) on the fakes: which
// connection each call goes to, failures and reconnects of either, and what a
// lagging replica does to the pattern's stale-read check.
#include "lib/clients/read_split.h"

#include <memory>
#include <string>
#include <utility>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/cache_aside/cache_aside.h"
#include "lib/cache_aside/key_versions.h"
#include "lib/testing/fake_kv_client.h"
#include "lib/testing/fake_sql_client.h"
#include "lib/testing/status_matchers.h"

namespace cabench {
namespace {

using ::testing::HasSubstr;

class ReadSplitTest : public ::testing::Test {
 protected:
  ReadSplitTest() {
    auto kv_primary = std::make_unique<FakeKvClient>();
    auto kv_replica = std::make_unique<FakeKvClient>();
    auto sql_primary = std::make_unique<FakeSqlClient>();
    auto sql_replica = std::make_unique<FakeSqlClient>();
    kv_primary_ = kv_primary.get();
    kv_replica_ = kv_replica.get();
    sql_primary_ = sql_primary.get();
    sql_replica_ = sql_replica.get();
    kv_ = std::make_unique<ReadSplitKvClient>(std::move(kv_primary), std::move(kv_replica));
    sql_ = std::make_unique<ReadSplitSqlClient>(std::move(sql_primary), std::move(sql_replica));
  }

  // Copies the primary's value of `key` to the replica (replication caught
  // up), or deletes it there when the primary has none.
  void Replicate(const std::string& key) {
    if (std::optional<std::string> v = kv_primary_->Peek(key)) {
      kv_replica_->Put(key, *v, 60000);
    } else {
      ASSERT_THAT(kv_replica_->Del(key), IsOk());
    }
  }

  // The cache-aside pattern over the split clients, with key versions
  // (versions_ unless given); told that fills may lag unless `fills_may_lag`
  // is false.
  std::unique_ptr<CacheAside> Pattern(WritePolicy policy, bool fills_may_lag = true,
                                      KeyVersions* versions = nullptr) {
    scenario_.ttl_ms = 60000;
    scenario_.write_policy = policy;
    CacheAside::Options options;
    options.versions = versions != nullptr ? versions : &versions_;
    options.fills_may_lag = fills_may_lag;
    return std::make_unique<CacheAside>(kv_.get(), sql_.get(), scenario_, options);
  }

  Scenario scenario_;
  KeyVersions versions_{0, 100};
  FakeKvClient* kv_primary_;
  FakeKvClient* kv_replica_;
  FakeSqlClient* sql_primary_;
  FakeSqlClient* sql_replica_;
  std::unique_ptr<ReadSplitKvClient> kv_;
  std::unique_ptr<ReadSplitSqlClient> sql_;
};

TEST_F(ReadSplitTest, CacheReadsGoToTheReplicaAndWritesToThePrimary) {
  std::string value;
  kv_replica_->Put("k", "on replica", 60000);
  ASSERT_OK_AND_ASSIGN(bool hit, kv_->Get("k", &value));
  EXPECT_TRUE(hit);
  EXPECT_EQ(value, "on replica");
  EXPECT_EQ(kv_primary_->calls(KvMethod::kGet), 0);

  ASSERT_THAT(kv_->Set("a", "1", 1000), IsOk());
  ASSERT_OK_AND_ASSIGN(bool set, kv_->SetIfAbsent("a:lock", "x", 1000));
  EXPECT_TRUE(set);
  ASSERT_THAT(kv_->Del("k"), IsOk());
  ASSERT_OK_AND_ASSIGN(int64_t deleted, kv_->DeletePrefix("a"));
  EXPECT_EQ(deleted, 2);
  EXPECT_EQ(kv_primary_->calls(KvMethod::kSet), 1);
  EXPECT_EQ(kv_primary_->calls(KvMethod::kSetIfAbsent), 1);
  EXPECT_EQ(kv_primary_->calls(KvMethod::kDel), 1);
  EXPECT_EQ(kv_primary_->calls(KvMethod::kDeletePrefix), 1);
  // The replica saw one GET and nothing else; the DEL did not reach it (no
  // replication in the fakes).
  EXPECT_EQ(kv_replica_->total_calls(), 1);
  EXPECT_TRUE(kv_replica_->Contains("k"));

  // Statistics and configuration are the primary's.
  ASSERT_THAT(kv_->Info("stats").status(), IsOk());
  ASSERT_THAT(kv_->DbSize().status(), IsOk());
  ASSERT_THAT(kv_->ConfigGet("maxmemory").status(), IsOk());
  EXPECT_EQ(kv_primary_->calls(KvMethod::kInfo), 1);
  EXPECT_EQ(kv_primary_->calls(KvMethod::kDbSize), 1);
  EXPECT_EQ(kv_replica_->total_calls(), 1);
}

TEST_F(ReadSplitTest, DatabaseSelectsGoToTheReplicaAndWritesToThePrimary) {
  BookingCount row;
  ASSERT_THAT(sql_->QueryBookingCount(5, &row), IsOk());
  EXPECT_EQ(sql_replica_->calls(SqlMethod::kQueryBookingCount), 1);
  EXPECT_EQ(sql_primary_->calls(SqlMethod::kQueryBookingCount), 0);

  ASSERT_THAT(sql_->InsertBooking({.flight_id = 1, .seat = "1A", .passenger_id = 5}).status(),
              IsOk());
  ASSERT_THAT(sql_->Execute("DELETE FROM booking WHERE 0").status(), IsOk());
  ASSERT_THAT(sql_->QueryRow("SELECT GET_LOCK('x', 0)").status(), IsOk());
  EXPECT_EQ(sql_primary_->inserted(), 1);
  EXPECT_EQ(sql_replica_->inserted(), 0);
  EXPECT_EQ(sql_primary_->calls(SqlMethod::kExecute), 1);
  EXPECT_EQ(sql_primary_->calls(SqlMethod::kQueryRow), 1);
  EXPECT_EQ(sql_replica_->total_calls(), 1);
}

TEST_F(ReadSplitTest, AFailureComesFromTheConnectionThatFailed) {
  kv_replica_->FailNext(KvMethod::kGet, 1, absl::UnavailableError("replica down"));
  std::string value;
  EXPECT_THAT(kv_->Get("k", &value).status(),
              StatusIs(absl::StatusCode::kUnavailable, ::testing::_));
  ASSERT_THAT(kv_->Set("k", "v", 1000), IsOk());  // the primary still takes writes

  kv_primary_->FailNext(KvMethod::kSet, 1, absl::UnavailableError("primary down"));
  EXPECT_THAT(kv_->Set("k", "v", 1000), StatusIs(absl::StatusCode::kUnavailable, ::testing::_));
  ASSERT_THAT(kv_->Get("k", &value).status(), IsOk());

  sql_replica_->FailNext(SqlMethod::kQueryBookingCount, 1, absl::UnavailableError("gone"));
  BookingCount row;
  EXPECT_THAT(sql_->QueryBookingCount(1, &row),
              StatusIs(absl::StatusCode::kUnavailable, ::testing::_));
  ASSERT_THAT(sql_->InsertBooking({.flight_id = 1, .seat = "1B", .passenger_id = 1}).status(),
              IsOk());
}

TEST_F(ReadSplitTest, PingAndReconnectTouchBothAndReportEitherFailure) {
  ASSERT_THAT(kv_->Ping(), IsOk());
  EXPECT_EQ(kv_primary_->calls(KvMethod::kPing), 1);
  EXPECT_EQ(kv_replica_->calls(KvMethod::kPing), 1);

  // A replica that cannot reconnect fails the pair's Reconnect, but the
  // primary was still reconnected.
  kv_replica_->FailNext(KvMethod::kReconnect, 1, absl::UnavailableError("replica refused"));
  EXPECT_THAT(kv_->Reconnect(), StatusIs(absl::StatusCode::kUnavailable, HasSubstr("replica")));
  EXPECT_EQ(kv_primary_->calls(KvMethod::kReconnect), 1);
  ASSERT_THAT(kv_->Reconnect(), IsOk());

  // A primary that fails does not keep the replica from reconnecting.
  sql_primary_->FailNext(SqlMethod::kReconnect, 1, absl::UnavailableError("primary refused"));
  EXPECT_THAT(sql_->Reconnect(), StatusIs(absl::StatusCode::kUnavailable, HasSubstr("primary")));
  EXPECT_EQ(sql_replica_->calls(SqlMethod::kReconnect), 1);
  sql_replica_->FailNext(SqlMethod::kPing, 1, absl::UnavailableError("replica gone"));
  EXPECT_THAT(sql_->Ping(), StatusIs(absl::StatusCode::kUnavailable, HasSubstr("replica")));
  EXPECT_EQ(sql_primary_->calls(SqlMethod::kPing), 1);
}

TEST_F(ReadSplitTest, ABrokenReplicaIsMendedByReconnect) {
  kv_replica_->set_emulate_broken(true);
  kv_replica_->FailNext(KvMethod::kGet, 1, absl::UnavailableError("reset"));
  std::string value;
  EXPECT_FALSE(kv_->Get("k", &value).ok());
  EXPECT_THAT(kv_->Get("k", &value).status(),
              StatusIs(absl::StatusCode::kUnavailable, ::testing::_));
  ASSERT_THAT(kv_->Reconnect(), IsOk());
  ASSERT_OK_AND_ASSIGN(bool hit, kv_->Get("k", &value));
  EXPECT_FALSE(hit);
}

// A GET from a cache replica that has not applied the write's DEL returns the
// old value, filled before the write began and read after it was done: the
// pattern counts it as certainly stale. (The fills here read the primary.)
TEST_F(ReadSplitTest, AStaleHitFromALaggingCacheReplicaIsCounted) {
  std::unique_ptr<CacheAside> pattern = Pattern(WritePolicy::kInvalidate, /*fills_may_lag=*/false);
  CacheAside& ca = *pattern;
  const std::string key = std::string(ca.KeyFor(5));

  EXPECT_EQ(ca.Read(5).op_class, OpClass::kCacheMiss);
  Replicate(key);
  OpResult r = ca.Read(5);
  EXPECT_EQ(r.op_class, OpClass::kCacheHit);
  EXPECT_FALSE(r.Has(kEventStale));

  EXPECT_EQ(ca.Write({.flight_id = 3, .seat = "0000", .passenger_id = 5}).op_class,
            OpClass::kWrite);
  EXPECT_FALSE(kv_primary_->Contains(key));  // invalidated on the primary
  r = ca.Read(5);                            // the replica has not applied the DEL
  EXPECT_EQ(r.op_class, OpClass::kCacheHit);
  EXPECT_TRUE(r.Has(kEventStale));
  EXPECT_FALSE(r.Has(kEventStaleUncertain));
  EXPECT_GE(r.stale_age_ns, 0);

  Replicate(key);  // caught up: a miss that refills, then a fresh hit
  EXPECT_EQ(ca.Read(5).op_class, OpClass::kCacheMiss);
  Replicate(key);
  r = ca.Read(5);
  EXPECT_EQ(r.op_class, OpClass::kCacheHit);
  EXPECT_FALSE(r.Has(kEventStale));
}

// A refresh whose SELECT reads a database replica that has not applied the
// INSERT stores the old row. Told that fills may lag, the pattern takes the
// fill to include no write: the later hit is uncertain (in the upper bound),
// not fresh. Not told, it would take the row to include the write done
// before the SELECT, and call the stale hit fresh.
TEST_F(ReadSplitTest, AStaleFillFromALaggingDatabaseReplicaIsUncertain) {
  for (bool told : {true, false}) {
    SCOPED_TRACE(told ? "fills_may_lag" : "not told");
    KeyVersions versions(0, 100);
    std::unique_ptr<CacheAside> pattern = Pattern(WritePolicy::kRefresh, told, &versions);
    CacheAside& ca = *pattern;
    const std::string key = std::string(ca.KeyFor(5));
    const int64_t before = sql_primary_->BookingCountOf(5);

    EXPECT_EQ(
        ca.Write({.flight_id = 3, .seat = told ? "0000" : "0001", .passenger_id = 5}).op_class,
        OpClass::kWrite);
    EXPECT_EQ(sql_primary_->BookingCountOf(5), before + 1);
    EXPECT_EQ(sql_replica_->BookingCountOf(5), 1);
    // lo: 0 when told (nothing certainly included), else the write done.
    EXPECT_EQ(kv_primary_->Peek(key), told ? "0,1#1|First5|Last5" : "1,0#1|First5|Last5");
    Replicate(key);
    const OpResult r = ca.Read(5);
    EXPECT_EQ(r.op_class, OpClass::kCacheHit);
    EXPECT_FALSE(r.Has(kEventStale));
    EXPECT_EQ(r.Has(kEventStaleUncertain), told);
  }
}

}  // namespace
}  // namespace cabench
