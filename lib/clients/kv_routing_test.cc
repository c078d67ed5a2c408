#include "lib/clients/kv_routing.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace cabench {
namespace {

using ::testing::Contains;
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

}  // namespace
}  // namespace cabench
