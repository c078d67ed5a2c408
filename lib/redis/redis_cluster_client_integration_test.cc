// Integration tests of the cluster KvClient against a real local cluster.
// They run when CABENCH_CACHE_URL is a redis-cluster:// URL, as
// bench/cluster_integration_test.py sets it after `tools/servers start
// --cache-cluster=3` on ports of its own; against one server (tools/test's
// usual servers) only the "not a cluster" test runs, the others skip. Every
// test writes keys under its own prefix (with the pid) and deletes them; a
// slot a test moves is moved back. Nothing here flushes a database.
#include <unistd.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/config/endpoints.h"
#include "lib/redis/raw_redis_testing.h"
#include "lib/redis/redis_client.h"
#include "lib/redis/redis_cluster_client.h"
#include "lib/servers/server_stats.h"
#include "lib/testing/status_matchers.h"

namespace cabench {
namespace {

using ::testing::AllOf;
using ::testing::AnyOf;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr int64_t kTtlMs = 10 * 60 * 1000;

// Seed `i` of a cluster endpoint, as one server.
CacheEndpoint NodeEndpoint(const CacheEndpoint& endpoint, size_t i) {
  CacheEndpoint one = endpoint;
  one.cluster = false;
  one.host = endpoint.seeds[i].host;
  one.port = endpoint.seeds[i].port;
  return one;
}

class ClusterClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(endpoint_, CacheEndpointFromEnv());
    if (!endpoint_.cluster) {
      GTEST_SKIP() << "CABENCH_CACHE_URL is one server; bench/cluster_integration_test.py runs "
                      "these against a cluster";
    }
    ASSERT_OK_AND_ASSIGN(client_, NewRedisClusterClient(endpoint_));
    prefix_ = absl::StrCat("cabench:clustertest:", getpid(), ":");
  }
  void TearDown() override {
    if (client_ != nullptr) {
      EXPECT_THAT(client_->DeletePrefix(prefix_), IsOk());
    }
  }

  RawRedis Node(size_t i) const { return RawRedis(NodeEndpoint(endpoint_, i)); }

  // The value of `key` through the client: "(miss)" or "(error ...)" else.
  std::string Value(const std::string& key) {
    std::string value;
    absl::StatusOr<bool> hit = client_->Get(key, &value);
    if (!hit.ok()) return absl::StrCat("(error ", hit.status().ToString(), ")");
    return *hit ? value : "(miss)";
  }

  CacheEndpoint endpoint_;
  std::unique_ptr<KvClient> client_;
  std::string prefix_;
};

TEST_F(ClusterClientTest, RoutesEveryKeyToItsNodeAndScansEveryPrimary) {
  ASSERT_GE(endpoint_.seeds.size(), 3u);
  constexpr int kKeys = 300;
  for (int i = 0; i < kKeys; ++i) {
    ASSERT_THAT(client_->Set(absl::StrCat(prefix_, i), absl::StrCat("v", i), kTtlMs), IsOk());
  }
  std::string value;
  for (int i = 0; i < kKeys; ++i) {
    ASSERT_OK_AND_ASSIGN(bool hit, client_->Get(absl::StrCat(prefix_, i), &value));
    ASSERT_TRUE(hit) << i;
    EXPECT_EQ(value, absl::StrCat("v", i));
  }
  ASSERT_OK_AND_ASSIGN(bool hit, client_->Get(prefix_ + "absent", &value));
  EXPECT_FALSE(hit);
  // Each key sits on the node of its slot: a raw GET there finds it.
  for (int i = 0; i < 20; ++i) {
    const std::string key = absl::StrCat(prefix_, i);
    int found = 0;
    for (size_t n = 0; n < endpoint_.seeds.size(); ++n) {
      std::optional<RawRedis::Reply> r = Node(n).Command({"GET", key});
      ASSERT_TRUE(r.has_value());
      if (r->type == REDIS_REPLY_STRING) ++found;
    }
    EXPECT_EQ(found, 1) << key;
  }
  ASSERT_OK_AND_ASSIGN(KvRouting routing, client_->Routing());
  EXPECT_EQ(routing.primaries, 3);
  EXPECT_EQ(routing.moved_redirects, 0);
  EXPECT_EQ(routing.ask_redirects, 0);
  ASSERT_EQ(routing.node_ops.size(), 3u);
  int64_t sent = 0;
  for (const auto& [node, ops] : routing.node_ops) {
    EXPECT_GT(ops, kKeys / 6) << node;  // about a third each
    sent += ops;
  }
  // One command per call, plus one per retry: a node that answers
  // CLUSTERDOWN or TRYAGAIN (as one does for a moment after a restart or a
  // change of its slots) is asked again, and each attempt is counted.
  EXPECT_EQ(sent, 2 * kKeys + 1 + routing.retries);

  ASSERT_OK_AND_ASSIGN(int64_t counted, client_->CountPrefix(prefix_));
  EXPECT_EQ(counted, kKeys);
  ASSERT_OK_AND_ASSIGN(int64_t keys, client_->DbSize());
  EXPECT_GE(keys, kKeys);
  ASSERT_OK_AND_ASSIGN(std::string info, client_->Info("keyspace"));
  EXPECT_THAT(info, HasSubstr("# Keyspace"));
  ASSERT_OK_AND_ASSIGN(std::string stats, client_->Info(""));
  EXPECT_THAT(stats, AllOf(HasSubstr("keyspace_hits:"), Not(HasSubstr("process_id:"))));
  ASSERT_OK_AND_ASSIGN(int64_t deleted, client_->DeletePrefix(prefix_));
  EXPECT_EQ(deleted, kKeys);
  ASSERT_OK_AND_ASSIGN(counted, client_->CountPrefix(prefix_));
  EXPECT_EQ(counted, 0);
  EXPECT_THAT(client_->Ping(), IsOk());
  ASSERT_OK_AND_ASSIGN(std::string server, client_->ServerInfo());
  EXPECT_THAT(server, AnyOf(HasSubstr("redis "), HasSubstr("valkey ")));
}

TEST_F(ClusterClientTest, SetIfAbsentAndDelFollowTheSlot) {
  const std::string key = prefix_ + "lock";
  ASSERT_OK_AND_ASSIGN(bool set, client_->SetIfAbsent(key, "a", kTtlMs));
  EXPECT_TRUE(set);
  ASSERT_OK_AND_ASSIGN(set, client_->SetIfAbsent(key, "b", kTtlMs));
  EXPECT_FALSE(set);
  EXPECT_THAT(client_->Del(key), IsOk());
  std::string value;
  ASSERT_OK_AND_ASSIGN(bool hit, client_->Get(key, &value));
  EXPECT_FALSE(hit);
  // The compare-and-delete script is routed by its key's slot too.
  for (int i = 0; i < 8; ++i) {  // keys over several slots (nodes)
    const std::string lock = absl::StrCat(prefix_, "lock:", i);
    ASSERT_OK_AND_ASSIGN(set, client_->SetIfAbsent(lock, "mine", kTtlMs));
    ASSERT_TRUE(set);
    ASSERT_OK_AND_ASSIGN(bool deleted, client_->DelIfEquals(lock, "not mine"));
    EXPECT_FALSE(deleted);
    ASSERT_OK_AND_ASSIGN(deleted, client_->DelIfEquals(lock, "mine"));
    EXPECT_TRUE(deleted);
  }
}

TEST_F(ClusterClientTest, MaxMemoryIsTheClustersTotalPlacedWhereEachPrimarysMemoryIs) {
  // Each primary a value of its own (put back as it was at the end).
  std::vector<std::unique_ptr<KvClient>> nodes;
  std::vector<std::string> saved;
  for (size_t n = 0; n < 3; ++n) {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<KvClient> one, NewRedisClient(NodeEndpoint(endpoint_, n)));
    ASSERT_OK_AND_ASSIGN(std::string v, one->ConfigGet("maxmemory"));
    saved.push_back(v);
    nodes.push_back(std::move(one));
  }
  absl::Cleanup put_back = [&] {
    for (size_t n = 0; n < 3; ++n) EXPECT_THAT(nodes[n]->ConfigSet("maxmemory", saved[n]), IsOk());
  };
  const int64_t own[3] = {100000000, 200000000, 300000000};
  for (size_t n = 0; n < 3; ++n) {
    ASSERT_THAT(nodes[n]->ConfigSet("maxmemory", absl::StrCat(own[n])), IsOk());
  }
  ASSERT_OK_AND_ASSIGN(std::string old_total, client_->ConfigGet("maxmemory"));
  EXPECT_EQ(old_total, "600000000");

  // A total: each primary gets what it uses now and a third of the rest.
  auto used = [&](size_t n) {
    absl::StatusOr<std::string> info = nodes[n]->Info("memory");
    EXPECT_TRUE(info.ok()) << info.status();
    return info.ok() ? InfoInt(*info, "used_memory").value_or(-1) : -1;
  };
  int64_t used_total = 0;
  for (size_t n = 0; n < 3; ++n) used_total += used(n);
  const int64_t total = used_total + 3 * 50000000;
  ASSERT_THAT(client_->ConfigSet("maxmemory", absl::StrCat(total)), IsOk());
  for (size_t n = 0; n < 3; ++n) {
    ASSERT_OK_AND_ASSIGN(std::string each, nodes[n]->ConfigGet("maxmemory"));
    int64_t bytes = 0;
    ASSERT_TRUE(absl::SimpleAtoi(each, &bytes)) << each;
    // Within what the primary's memory moved since it was read.
    EXPECT_NEAR(static_cast<double>(bytes - used(n)), 50000000, 1e6) << n;
  }
  ASSERT_OK_AND_ASSIGN(std::string got, client_->ConfigGet("maxmemory"));
  int64_t got_total = 0;
  ASSERT_TRUE(absl::SimpleAtoi(got, &got_total)) << got;
  EXPECT_NEAR(static_cast<double>(got_total), static_cast<double>(total), 1e6);

  // The total they had puts each back as it was.
  ASSERT_THAT(client_->ConfigSet("maxmemory", old_total), IsOk());
  for (size_t n = 0; n < 3; ++n) {
    ASSERT_OK_AND_ASSIGN(std::string each, nodes[n]->ConfigGet("maxmemory"));
    EXPECT_EQ(each, absl::StrCat(own[n])) << n;
  }
}

// Moves `slot` from node `from` to node `to` as redis-cli --cluster reshard
// does: IMPORTING on the target, MIGRATING on the source, then `between`
// (the keys still on the source answer there, others with ASK), MIGRATE of
// the keys, and the new owner set on every node.
class SlotMove {
 public:
  SlotMove(const CacheEndpoint& endpoint, int slot)
      : endpoint_(endpoint), slot_(absl::StrCat(slot)) {}

  RawRedis Node(size_t i) const { return RawRedis(NodeEndpoint(endpoint_, i)); }

  std::string Id(size_t i) const { return Node(i).Command({"CLUSTER", "MYID"})->str; }

  // The seed index that holds `key` (EXISTS elsewhere answers MOVED).
  std::optional<size_t> OwnerOf(const std::string& key) const {
    for (size_t n = 0; n < endpoint_.seeds.size(); ++n) {
      std::optional<RawRedis::Reply> r = Node(n).Command({"EXISTS", key});
      if (r.has_value() && r->type == REDIS_REPLY_INTEGER && r->integer == 1) return n;
    }
    return std::nullopt;
  }

  void Begin(size_t from, size_t to) {
    RawRedis target = Node(to);
    RawRedis source = Node(from);
    ASSERT_EQ(target.Command({"CLUSTER", "SETSLOT", slot_, "IMPORTING", Id(from)})->type,
              REDIS_REPLY_STATUS);
    ASSERT_EQ(source.Command({"CLUSTER", "SETSLOT", slot_, "MIGRATING", Id(to)})->type,
              REDIS_REPLY_STATUS);
  }

  // Moves every key of the slot (other runs' keys too, as a reshard does)
  // to `to`, which then owns the slot on every node.
  void Finish(size_t from, size_t to) {
    RawRedis source = Node(from);
    for (;;) {
      std::optional<RawRedis::Reply> batch =
          source.Command({"CLUSTER", "GETKEYSINSLOT", slot_, "100"});
      ASSERT_TRUE(batch.has_value());
      if (batch->elements.empty()) break;
      std::vector<std::string> migrate = {"MIGRATE",
                                          endpoint_.seeds[to].host,
                                          absl::StrCat(endpoint_.seeds[to].port),
                                          "",
                                          "0",
                                          "5000",
                                          "KEYS"};
      migrate.insert(migrate.end(), batch->elements.begin(), batch->elements.end());
      std::optional<RawRedis::Reply> r = source.Command(migrate);
      ASSERT_TRUE(r.has_value());
      ASSERT_NE(r->type, REDIS_REPLY_ERROR) << r->str;
    }
    const std::string owner = Id(to);
    for (size_t n = 0; n < endpoint_.seeds.size(); ++n) {
      std::optional<RawRedis::Reply> r =
          Node(n).Command({"CLUSTER", "SETSLOT", slot_, "NODE", owner});
      ASSERT_TRUE(r.has_value());
      ASSERT_EQ(r->type, REDIS_REPLY_STATUS) << r->str;
    }
  }

 private:
  const CacheEndpoint endpoint_;
  const std::string slot_;
};

TEST_F(ClusterClientTest, FollowsAskDuringAMigrationAndMovedAfterIt) {
  // Both keys share a hash tag, so a slot: one written before the move
  // starts, one during it.
  const std::string tag = absl::StrCat("{", prefix_, "}");
  const std::string old_key = tag + "old";
  const std::string new_key = tag + "new";
  const int slot = internal::KeySlot(old_key);
  ASSERT_THAT(client_->Set(old_key, "before", kTtlMs), IsOk());
  SlotMove move(endpoint_, slot);
  std::optional<size_t> from = move.OwnerOf(old_key);
  ASSERT_TRUE(from.has_value());
  const size_t to = (*from + 1) % endpoint_.seeds.size();

  move.Begin(*from, to);
  // Whatever happens below, the slot goes back to its owner.
  absl::Cleanup move_back = [&] {
    move.Begin(to, *from);
    move.Finish(to, *from);
  };
  // A key not on the source during the move: ASK, then ASKING + SET on the target.
  ASSERT_THAT(client_->Set(new_key, "during", kTtlMs), IsOk());
  EXPECT_EQ(Value(new_key), "during");
  // A key still on the source is served there.
  EXPECT_EQ(Value(old_key), "before");
  ASSERT_OK_AND_ASSIGN(KvRouting during, client_->Routing());
  EXPECT_EQ(during.ask_redirects, 2);
  EXPECT_EQ(during.moved_redirects, 0);

  move.Finish(*from, to);
  // The source now answers MOVED; the map is updated once for the slot.
  for (int i = 0; i < 3; ++i) EXPECT_EQ(Value(old_key), "before");
  ASSERT_OK_AND_ASSIGN(KvRouting after, client_->Routing());
  EXPECT_EQ(after.moved_redirects, 1);
  EXPECT_EQ(after.ask_redirects, 2);
}

TEST_F(ClusterClientTest, ReconnectReadsTheMapAgainAndKeepsWorking) {
  // (A node killed mid-run: bench/cluster_integration_test.py.)
  ASSERT_THAT(client_->Set(prefix_ + "a", "1", kTtlMs), IsOk());
  ASSERT_THAT(client_->Reconnect(), IsOk());
  EXPECT_EQ(Value(prefix_ + "a"), "1");
}

// Against one server (tools/test's usual servers): a cluster URL that names
// it is refused with one clear line.
TEST(ClusterClientOnOneServerTest, NotAClusterIsFailedPrecondition) {
  ASSERT_OK_AND_ASSIGN(CacheEndpoint endpoint, CacheEndpointFromEnv());
  if (endpoint.cluster) GTEST_SKIP() << "CABENCH_CACHE_URL is a cluster";
  endpoint.cluster = true;
  endpoint.seeds = {{endpoint.host, endpoint.port}};
  endpoint.db = 0;
  EXPECT_THAT(NewRedisClusterClient(endpoint),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       AllOf(HasSubstr("is not a cluster"), HasSubstr("cluster support disabled"),
                             Not(HasSubstr("\n")))));
  endpoint.db = 1;
  EXPECT_THAT(NewRedisClusterClient(endpoint),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("only database 0")));
}

}  // namespace
}  // namespace cabench
