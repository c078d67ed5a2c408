#include "lib/clients/kv_routing.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace cabench {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Key;
using ::testing::Not;

KvRouting Make(int64_t moved, int64_t ask, int64_t retries, int64_t primaries,
               std::map<std::string, int64_t> node_ops) {
  KvRouting r;
  r.moved_redirects = moved;
  r.ask_redirects = ask;
  r.retries = retries;
  r.primaries = primaries;
  r.node_ops = std::move(node_ops);
  return r;
}

TEST(KvRoutingTest, SinceSubtractsAndAddSums) {
  const KvRouting before = Make(1, 2, 3, 3, {{"a", 10}, {"b", 5}});
  const KvRouting after = Make(4, 2, 5, 4, {{"a", 30}, {"b", 5}, {"c", 7}});
  const KvRouting since = RoutingSince(before, after);
  EXPECT_EQ(since.moved_redirects, 3);
  EXPECT_EQ(since.ask_redirects, 0);
  EXPECT_EQ(since.retries, 2);
  EXPECT_EQ(since.primaries, 4);
  EXPECT_EQ(since.node_ops, (std::map<std::string, int64_t>{{"a", 20}, {"b", 0}, {"c", 7}}));

  KvRouting total = Make(1, 1, 0, 3, {{"a", 1}});
  AddRouting(since, &total);
  EXPECT_EQ(total.moved_redirects, 4);
  EXPECT_EQ(total.ask_redirects, 1);
  EXPECT_EQ(total.retries, 2);
  EXPECT_EQ(total.primaries, 4);
  EXPECT_EQ(total.node_ops, (std::map<std::string, int64_t>{{"a", 21}, {"b", 0}, {"c", 7}}));
}

TEST(KvRoutingTest, CountersGiveTheNodesShares) {
  std::map<CounterId, double> c =
      RoutingCounters(Make(5, 2, 1, 3, {{"a", 50}, {"b", 30}, {"c", 20}}));
  EXPECT_EQ(c[CounterId::kClusterNodes], 3);
  EXPECT_EQ(c[CounterId::kMovedRedirects], 5);
  EXPECT_EQ(c[CounterId::kAskRedirects], 2);
  EXPECT_EQ(c[CounterId::kClusterRetries], 1);
  EXPECT_DOUBLE_EQ(c[CounterId::kNodeOpsMinPct], 20);
  EXPECT_DOUBLE_EQ(c[CounterId::kNodeOpsMaxPct], 50);
  // No command sent: no shares.
  EXPECT_THAT(RoutingCounters(Make(0, 0, 0, 3, {{"a", 0}})),
              Not(Contains(Key(CounterId::kNodeOpsMaxPct))));
}

TEST(KvRoutingTest, TheLogLineNamesEachNodesShare) {
  EXPECT_EQ(
      NodeOpsLine(Make(0, 0, 0, 3,
                       {{"10.0.0.2:7001", 1500}, {"10.0.0.1:7000", 3500}, {"10.0.0.3:7002", 0}})),
      "commands per node: 10.0.0.1:7000 3,500 (70.0%), 10.0.0.2:7001 1,500 (30.0%), "
      "10.0.0.3:7002 0 (0.0%)");
  EXPECT_EQ(NodeOpsLine(Make(0, 0, 0, 1, {{"a:1", 0}})), "commands per node: a:1 0");
}

TEST(KvRoutingTest, TextRoundTripsAndRecordsAddUp) {
  const KvRouting one = Make(5, 2, 1, 3, {{"127.0.0.1:7000", 50}, {"[::1]:7001", 30}});
  absl::StatusOr<KvRouting> back = ParseRoutingText(RoutingText(one));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->moved_redirects, 5);
  EXPECT_EQ(back->ask_redirects, 2);
  EXPECT_EQ(back->retries, 1);
  EXPECT_EQ(back->primaries, 3);
  EXPECT_EQ(back->node_ops, one.node_ops);
  // Two shards' records: each node's commands summed, so the shares are the
  // whole run's (one shard alone would say 62.5% and 37.5%).
  KvRouting total = *back;
  AddRouting(*ParseRoutingText(RoutingText(Make(0, 0, 0, 3, {{"[::1]:7001", 20}}))), &total);
  const std::map<CounterId, double> c = RoutingCounters(total);
  EXPECT_DOUBLE_EQ(c.at(CounterId::kNodeOpsMinPct), 50);
  EXPECT_DOUBLE_EQ(c.at(CounterId::kNodeOpsMaxPct), 50);
}

TEST(KvRoutingTest, BadTextSaysWhichWord) {
  EXPECT_FALSE(ParseRoutingText("").ok());
  EXPECT_FALSE(ParseRoutingText("cabench-routing 2 primaries=1 moved=0 ask=0 retries=0").ok());
  EXPECT_THAT(
      ParseRoutingText("cabench-routing 1 primaries=1 moved=x ask=0 retries=0").status().message(),
      HasSubstr("'moved=x'"));
  EXPECT_THAT(ParseRoutingText("cabench-routing 1 primaries=1 moved=0 ask=0 retries=0 node=a:1")
                  .status()
                  .message(),
              HasSubstr("'node=a:1'"));
  EXPECT_FALSE(ParseRoutingText("cabench-routing 1 primaries=1 moved=0 moved=0 retries=0").ok());
  EXPECT_TRUE(
      ParseRoutingText("cabench-routing 1 primaries=1 moved=0 ask=0 retries=0 node=a:1,4").ok());
}

}  // namespace
}  // namespace cabench
