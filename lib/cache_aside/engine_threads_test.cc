// Four threads, each with its own Workload and CacheAside, over one shared
// (internally locked) pair of fakes: the engine's per-thread state must not
// race (run under ThreadSanitizer: -DCABENCH_SANITIZE=thread), and seats from
// different threads must never collide.
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "lib/cache_aside/cache_aside.h"
#include "lib/testing/fake_kv_client.h"
#include "lib/testing/fake_sql_client.h"
#include "lib/workload/workload.h"

namespace cabench {
namespace {

struct ThreadCounts {
  int64_t reads = 0, writes = 0, hits = 0, misses = 0, errors = 0, retries = 0;
};

TEST(EngineThreadsTest, FourThreadsShareTheServers) {
  constexpr int kThreads = 4;
  Scenario s;
  s.queries_per_thread = 5000;
  s.pool_size = 500;
  s.read_pct = 70;
  DataSetInfo ds;
  ds.passengers = 1000;
  ds.flights = 3;  // few flights: seats of different threads meet on them
  FakeKvClient kv;
  FakeSqlClient::Options sql_options;
  sql_options.passengers = ds.passengers;
  FakeSqlClient sql(sql_options);

  std::vector<ThreadCounts> counts(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      Workload w(s, ds, t);
      CacheAside::Options options;
      options.thread_index = t;
      options.seat_source = &w;
      CacheAside ca(&kv, &sql, s, options);
      ThreadCounts& c = counts[static_cast<size_t>(t)];
      for (int64_t i = 0; i < s.queries_per_thread; ++i) {
        const Op& op = w.Next();
        const OpResult r = ca.Run(op);
        (op.kind == OpKind::kRead ? c.reads : c.writes)++;
        c.hits += r.op_class == OpClass::kCacheHit;
        c.misses += r.op_class == OpClass::kCacheMiss;
        c.errors += r.op_class == OpClass::kError;
      }
      c.retries = ca.insert_retries();
    });
  }
  for (std::thread& th : threads) th.join();

  ThreadCounts total;
  for (const ThreadCounts& c : counts) {
    total.reads += c.reads;
    total.writes += c.writes;
    total.hits += c.hits;
    total.misses += c.misses;
    total.errors += c.errors;
    total.retries += c.retries;
  }
  EXPECT_EQ(total.reads + total.writes, kThreads * s.queries_per_thread);
  EXPECT_EQ(total.hits + total.misses, total.reads);
  EXPECT_EQ(total.errors, 0);
  EXPECT_EQ(total.retries, 0);
  EXPECT_EQ(sql.inserted(), total.writes);
  // 20,000 ops over 500 keys: nearly every read after the first few hits.
  EXPECT_GT(total.hits, total.reads * 9 / 10);
  EXPECT_LE(kv.size(), 500);
}

}  // namespace
}  // namespace cabench
