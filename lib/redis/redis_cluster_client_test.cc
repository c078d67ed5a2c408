// Unit tests of the cluster client's pure parts: the key hash, redirect
// parsing, the slot map and INFO merging. The client itself runs against a
// real local cluster in redis_cluster_client_integration_test.cc.
#include "lib/redis/redis_cluster_client.h"

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/testing/status_matchers.h"

namespace cabench::internal {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(Crc16Test, MatchesTheClusterSpecification) {
  // The test vector of the Redis Cluster specification (CRC16/XMODEM).
  EXPECT_EQ(Crc16("123456789"), 0x31C3);
  EXPECT_EQ(Crc16(""), 0);
  EXPECT_EQ(Crc16("A"), 0x58E5);
}

TEST(KeySlotTest, HashesTheWholeKeyWithoutATag) {
  // Slots as `redis-cli CLUSTER KEYSLOT` reports them.
  EXPECT_EQ(KeySlot("foo"), 12182);
  EXPECT_EQ(KeySlot("bar"), 5061);
  EXPECT_EQ(KeySlot("123456789"), 0x31C3 % kClusterSlots);
  EXPECT_EQ(KeySlot(""), 0);
}

TEST(KeySlotTest, HashesOnlyANonEmptyHashTag) {
  EXPECT_EQ(KeySlot("{user1000}.following"), KeySlot("user1000"));
  EXPECT_EQ(KeySlot("{user1000}.followers"), KeySlot("{user1000}.following"));
  // Only the first '{' and the first '}' after it count.
  EXPECT_EQ(KeySlot("foo{bar}{zap}"), KeySlot("bar"));
  EXPECT_EQ(KeySlot("foo{{bar}}zap"), KeySlot("{bar"));
  // An empty tag, or no closing brace: the whole key.
  EXPECT_EQ(KeySlot("foo{}{bar}"), Crc16("foo{}{bar}") % kClusterSlots);
  EXPECT_EQ(KeySlot("foo{bar"), Crc16("foo{bar") % kClusterSlots);
  EXPECT_EQ(KeySlot("}foo{"), Crc16("}foo{") % kClusterSlots);
}

TEST(ParseRedirectTest, ParsesMovedAndAsk) {
  struct Case {
    const char* text;
    bool ask;
    int slot;
    const char* host;  // empty: the replying node's
    int port;
  };
  for (const Case& c : {Case{"MOVED 3999 127.0.0.1:6381", false, 3999, "127.0.0.1", 6381},
                        Case{"ASK 16383 ::1:26402", true, 16383, "::1", 26402},
                        Case{"MOVED 0 :7000", false, 0, "", 7000}}) {
    SCOPED_TRACE(c.text);
    std::optional<Redirect> r = ParseRedirect(c.text);
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->ask, c.ask);
    EXPECT_EQ(r->slot, c.slot);
    EXPECT_EQ(r->host, c.host);
    EXPECT_EQ(r->port, c.port);
  }
}

TEST(ParseRedirectTest, RejectsOtherErrorsAndMalformedRedirects) {
  for (const char* text :
       {"ERR unknown command", "TRYAGAIN Multiple keys request during rehashing",
        "CLUSTERDOWN The cluster is down", "MOVED", "MOVED 3999", "MOVED x 127.0.0.1:6381",
        "MOVED 16384 127.0.0.1:6381", "MOVED -1 127.0.0.1:6381", "ASK 1 127.0.0.1",
        "ASK 1 127.0.0.1:0", "ASK 1 127.0.0.1:70000", "ASK 1 127.0.0.1:x", "moved 1 h:1", ""}) {
    SCOPED_TRACE(text);
    EXPECT_FALSE(ParseRedirect(text).has_value());
  }
}

SlotRange Range(int first, int last, const char* host, int port) {
  return SlotRange{first, last, CacheNode{host, port}};
}

TEST(BuildSlotMapTest, MapsEverySlotToItsPrimary) {
  ASSERT_OK_AND_ASSIGN(SlotMap map, BuildSlotMap({Range(0, 5460, "127.0.0.1", 26401),
                                                  Range(10923, 16383, "127.0.0.1", 26403),
                                                  Range(5461, 10922, "127.0.0.1", 26402)}));
  ASSERT_EQ(map.primaries.size(), 3u);
  EXPECT_EQ(map.primaries[1].port, 26403);
  ASSERT_EQ(map.owner.size(), static_cast<size_t>(kClusterSlots));
  EXPECT_EQ(map.primaries[map.owner[0]].port, 26401);
  EXPECT_EQ(map.primaries[map.owner[5460]].port, 26401);
  EXPECT_EQ(map.primaries[map.owner[5461]].port, 26402);
  EXPECT_EQ(map.primaries[map.owner[16383]].port, 26403);
}

TEST(BuildSlotMapTest, ANodeWithSeveralRangesIsOnePrimary) {
  ASSERT_OK_AND_ASSIGN(SlotMap map, BuildSlotMap({Range(0, 99, "h", 1), Range(100, 199, "h", 2),
                                                  Range(200, 16383, "h", 1)}));
  ASSERT_EQ(map.primaries.size(), 2u);
  EXPECT_EQ(map.owner[0], map.owner[16383]);
  EXPECT_NE(map.owner[0], map.owner[150]);
}

TEST(BuildSlotMapTest, HolesAreFailedPreconditionNamingTheFirst) {
  EXPECT_THAT(BuildSlotMap({Range(0, 5460, "h", 1), Range(10923, 16383, "h", 3)}),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("5462 of 16384 slots have no node (first: slots 5461-10922)")));
  EXPECT_THAT(BuildSlotMap({Range(1, 16383, "h", 1)}),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("first: slot 0)")));
  EXPECT_THAT(BuildSlotMap({}), StatusIs(absl::StatusCode::kFailedPrecondition,
                                         HasSubstr("16384 of 16384 slots have no node")));
}

TEST(BuildSlotMapTest, BadRangesAreInternal) {
  EXPECT_THAT(BuildSlotMap({Range(0, 16384, "h", 1)}),
              StatusIs(absl::StatusCode::kInternal, HasSubstr("bad slot range 0-16384")));
  EXPECT_THAT(BuildSlotMap({Range(10, 5, "h", 1)}),
              StatusIs(absl::StatusCode::kInternal, HasSubstr("bad slot range")));
  EXPECT_THAT(BuildSlotMap({Range(0, 100, "h", 1), Range(100, 16383, "h", 2)}),
              StatusIs(absl::StatusCode::kInternal, HasSubstr("slot 100 is in two ranges")));
}

TEST(MergeInfoTest, SumsCountsKeepsTheFirstServerSection) {
  const std::vector<std::string> infos = {
      "# Server\r\nredis_version:7.0.15\r\nprocess_id:100\r\ntcp_port:26401\r\n"
      "uptime_in_seconds:50\r\narch_bits:64\r\n\r\n# Stats\r\nkeyspace_hits:10\r\n"
      "keyspace_misses:1\r\ninstantaneous_input_kbps:0.50\r\n# Memory\r\nused_memory:1000\r\n",
      "# Server\r\nredis_version:7.0.15\r\nprocess_id:200\r\ntcp_port:26402\r\n"
      "uptime_in_seconds:7\r\narch_bits:64\r\n\r\n# Stats\r\nkeyspace_hits:20\r\n"
      "keyspace_misses:2\r\ninstantaneous_input_kbps:0.25\r\n# Memory\r\nused_memory:3000\r\n"};
  const std::string merged = MergeInfo(infos);
  EXPECT_EQ(merged,
            "# Server\r\nredis_version:7.0.15\r\nuptime_in_seconds:7\r\narch_bits:64\r\n"
            "# Stats\r\nkeyspace_hits:30\r\nkeyspace_misses:3\r\n"
            "instantaneous_input_kbps:0.50\r\n# Memory\r\nused_memory:4000\r\n");
  EXPECT_THAT(merged, Not(HasSubstr("process_id")));
  EXPECT_EQ(MergeInfo({}), "");
  EXPECT_EQ(MergeInfo({"# Stats\nexpired_keys:4\n"}), "# Stats\r\nexpired_keys:4\r\n");
}

TEST(MergeInfoTest, SumsTheIntegerFieldsOfCommandStats) {
  const std::vector<std::string> infos = {
      "# Stats\r\ntotal_commands_processed:100\r\n# Commandstats\r\n"
      "cmdstat_get:calls=7,usec=70,usec_per_call=10.00,rejected_calls=1,failed_calls=0\r\n"
      "cmdstat_replconf:calls=3,usec=3,usec_per_call=1.00,rejected_calls=0,failed_calls=0\r\n",
      "# Stats\r\ntotal_commands_processed:50\r\n# Commandstats\r\n"
      "cmdstat_replconf:calls=2,usec=4,usec_per_call=2.00,rejected_calls=0,failed_calls=0\r\n"
      "cmdstat_set:calls=9,usec=9,usec_per_call=1.00,rejected_calls=0,failed_calls=0\r\n"};
  // Calls on both primaries are summed (not the mean, usec_per_call); a
  // command only the second ran comes after the first primary's lines.
  EXPECT_EQ(MergeInfo(infos),
            "# Stats\r\ntotal_commands_processed:150\r\n# Commandstats\r\n"
            "cmdstat_get:calls=7,usec=70,usec_per_call=10.00,rejected_calls=1,failed_calls=0\r\n"
            "cmdstat_replconf:calls=5,usec=7,usec_per_call=1.00,rejected_calls=0,failed_calls=0\r\n"
            "cmdstat_set:calls=9,usec=9,usec_per_call=1.00,rejected_calls=0,failed_calls=0\r\n");
}

}  // namespace
}  // namespace cabench::internal
