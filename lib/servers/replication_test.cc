// Unit tests of replication.h: SHOW SLAVE STATUS parsing, the replica checks
// and the cache's offset lag, and the run's replica-lag counters
// (RunServerCounters).
#include "lib/servers/replication.h"

#include <optional>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/servers/server_stats.h"
#include "lib/testing/fake_kv_client.h"
#include "lib/testing/status_matchers.h"

namespace cabench {
namespace {

using ::testing::HasSubstr;
using Row = std::vector<std::optional<std::string>>;

Row SlaveRow(const char* io, const char* sql, std::optional<std::string> behind) {
  Row row(54, std::string("x"));
  row[10] = io;
  row[11] = sql;
  row[32] = std::move(behind);
  return row;
}

TEST(ParseSlaveStatusTest, ReadsTheRunningColumnsAndTheLag) {
  ASSERT_OK_AND_ASSIGN(DbReplicaStatus s, ParseSlaveStatus(SlaveRow("Yes", "Yes", "3")));
  EXPECT_TRUE(s.replicating());
  EXPECT_EQ(s.seconds_behind, 3);
  ASSERT_OK_AND_ASSIGN(s, ParseSlaveStatus(SlaveRow("Connecting", "Yes", std::nullopt)));
  EXPECT_FALSE(s.replicating());
  EXPECT_FALSE(s.seconds_behind.has_value());
}

TEST(ParseSlaveStatusTest, RefusesNoRowAndRowsItDoesNotUnderstand) {
  EXPECT_THAT(ParseSlaveStatus(std::nullopt),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("not a replica")));
  EXPECT_THAT(ParseSlaveStatus(Row(20, std::string("Yes"))),
              StatusIs(absl::StatusCode::kInternal, HasSubstr("20 columns")));
  EXPECT_THAT(ParseSlaveStatus(SlaveRow("maybe", "Yes", "0")),
              StatusIs(absl::StatusCode::kInternal, HasSubstr("Slave_IO_Running")));
  EXPECT_THAT(ParseSlaveStatus(SlaveRow("Yes", "Yes", "soon")),
              StatusIs(absl::StatusCode::kInternal, HasSubstr("Seconds_Behind_Master")));
}

// A fake cache whose INFO replication is given.
class ReplicaInfoKv : public FakeKvClient {
 public:
  explicit ReplicaInfoKv(std::string info) : info_(std::move(info)) {}
  absl::StatusOr<std::string> Info(std::string_view) override { return info_; }

 private:
  std::string info_;
};

TEST(CheckCacheReplicatingTest, WantsASlaveWithItsLinkUp) {
  ReplicaInfoKv up(
      "# Replication\r\nrole:slave\r\nmaster_host:127.0.0.1\r\n"
      "master_link_status:up\r\n");
  EXPECT_THAT(CheckCacheReplicating(up), IsOk());
  ReplicaInfoKv master("# Replication\r\nrole:master\r\nconnected_slaves:0\r\n");
  EXPECT_THAT(CheckCacheReplicating(master),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("role:master")));
  ReplicaInfoKv down("role:slave\r\nmaster_link_status:down\r\n");
  EXPECT_THAT(CheckCacheReplicating(down),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("link_status:down")));
}

TEST(CacheReplicaOffsetLagTest, TheLargestGapOverTheReplicas) {
  EXPECT_EQ(CacheReplicaOffsetLag("role:master\r\nconnected_slaves:2\r\n"
                                  "slave0:ip=127.0.0.1,port=1,state=online,offset=900,lag=0\r\n"
                                  "slave1:ip=127.0.0.1,port=2,state=online,offset=990,lag=1\r\n"
                                  "master_repl_offset:1000\r\n"),
            100);
  EXPECT_EQ(CacheReplicaOffsetLag("connected_slaves:0\r\nmaster_repl_offset:1000\r\n"),
            std::nullopt);
  EXPECT_EQ(CacheReplicaOffsetLag("slave0:ip=x,port=1,state=online,offset=5,lag=0\r\n"),
            std::nullopt);
}

TEST(ReplicaLagCountersTest, TheMostOfAllSnapshotsOrNothingWithoutReplicas) {
  ServerSnapshot before, sample, after;
  ServerCounters none = RunServerCounters(before, after, {sample}, OwnTotals(), 10, 1);
  EXPECT_EQ(none.values.count(CounterId::kDbReplicaLagMaxS), 0);
  EXPECT_EQ(none.absent.count(CounterId::kDbReplicaLagMaxS), 0);
  EXPECT_EQ(none.absent.count(CounterId::kCacheReplicaOffsetLagMax), 0);

  before.db_replica_lag_s = 0;
  sample.db_replica_lag_s = 4;
  after.db_replica_lag_s = 1;
  before.cache_replica_offset_lag = 10;
  after.absent[CounterId::kCacheReplicaOffsetLagMax] = "no replica";
  ServerCounters c = RunServerCounters(before, after, {sample}, OwnTotals(), 10, 1);
  EXPECT_EQ(c.values.at(CounterId::kDbReplicaLagMaxS), 4);
  EXPECT_EQ(c.values.at(CounterId::kCacheReplicaOffsetLagMax), 10);

  ServerSnapshot lost;
  lost.absent[CounterId::kDbReplicaLagMaxS] = "SHOW SLAVE STATUS: gone";
  c = RunServerCounters(lost, lost, {}, OwnTotals(), 10, 1);
  EXPECT_EQ(c.absent.at(CounterId::kDbReplicaLagMaxS), "SHOW SLAVE STATUS: gone");
}

}  // namespace
}  // namespace cabench
