#include "lib/model/hit_rate_model.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/cache_aside/cache_aside.h"
#include "lib/engine/thread_loop.h"
#include "lib/model/sim_clients.h"
#include "lib/testing/fake_kv_client.h"
#include "lib/testing/fake_sql_client.h"
#include "lib/testing/virtual_clock.h"
#include "lib/workload/workload.h"

namespace cabench {
namespace {

ModelInput Reference() {
  ModelInput in;  // concurrency: 10,000 keys, 40,000 ops, 80% reads, 300 s
  in.ops_per_s = 4791;
  return in;
}

TEST(HitRateModelTest, ReferenceConcurrency) {
  EXPECT_NEAR(PredictHitRatePct(Reference()), 75.5, 0.5);
}

TEST(HitRateModelTest, ReferenceReadHeavyAfterConcurrency) {
  ModelInput in = Reference();
  in.read_fraction = 0.99;
  in.initial_cached_fraction = 1 - std::exp(-4.0);
  in.ops_per_s = 22818;
  EXPECT_NEAR(PredictHitRatePct(in), 99.5, 0.5);
  // The same state reached by a 40,000-read warm-up of a flushed cache.
  in.initial_cached_fraction = 0;
  in.warmup_ops = 40000;
  EXPECT_NEAR(PredictHitRatePct(in), 99.5, 0.5);
}

TEST(HitRateModelTest, ReferenceRandomBalanced) {
  ModelInput in = Reference();
  in.key_universe = 34996;
  in.read_fraction = 0.6;
  in.ops_per_s = 3477;
  EXPECT_NEAR(PredictHitRatePct(in), 40.4, 0.5);
}

TEST(HitRateModelTest, ReferenceShortTtl) {
  ModelInput in = Reference();
  in.key_universe = 36000;
  in.read_fraction = 0.9;
  in.ttl_ms = 100;
  in.ops_per_s = 4500;
  EXPECT_NEAR(PredictHitRatePct(in), 1.2, 0.5);
  // Unknown throughput means "TTL never expires": a very different answer.
  in.ops_per_s = 0;
  EXPECT_GT(PredictHitRatePct(in), 30);
}

TEST(HitRateModelTest, EdgeCases) {
  ModelInput in = Reference();
  in.cache = false;
  EXPECT_EQ(PredictHitRatePct(in), 0);
  in = Reference();
  in.read_fraction = 0;
  EXPECT_EQ(PredictHitRatePct(in), 0);
  in = Reference();
  in.key_universe = 1;  // one key: only the very first read misses
  in.total_ops = 1000;
  EXPECT_NEAR(PredictHitRatePct(in), 99.9, 0.01);
  in.ttl_ms = 0;  // expires before the next op
  EXPECT_EQ(PredictHitRatePct(in), 0);
  // Invalidate never beats refresh.
  in = Reference();
  in.write_policy = WritePolicy::kInvalidate;
  EXPECT_LT(PredictHitRatePct(in), PredictHitRatePct(Reference()));
}

TEST(HitRateModelTest, ModelInputForFollowsTheScenario) {
  Scenario s;
  s.read_pct = 60;
  s.access = AccessMode::kRandom;
  s.ttl_ms = 100;
  s.warmup_ops = 7;
  s.write_policy = WritePolicy::kInvalidate;
  DataSetInfo ds;
  ds.passengers = 36000;
  ds.flights = 10;
  const ModelInput in = ModelInputFor(s, ds, 8, 1234.5);
  EXPECT_EQ(in.key_universe, 36000);
  EXPECT_DOUBLE_EQ(in.read_fraction, 0.6);
  EXPECT_EQ(in.total_ops, 80000);
  EXPECT_EQ(in.ttl_ms, 100);
  EXPECT_EQ(in.warmup_ops, 7);
  EXPECT_EQ(in.write_policy, WritePolicy::kInvalidate);
  EXPECT_DOUBLE_EQ(in.ops_per_s, 1234.5);
  s.access = AccessMode::kPool;
  EXPECT_EQ(ModelInputFor(s, ds, 8, 0).key_universe, 10000);
}

// Moves the fakes' clock to the simulation's time of each operation.
class SimSchedule : public Schedule {
 public:
  SimSchedule(VirtualClock* clock, double ops_per_s) : clock_(clock), ops_per_s_(ops_per_s) {}
  int64_t WaitNext() override {
    clock_->SetNs(SimOpTimeNs(tick_++, ops_per_s_));
    return -1;  // virtual time: no intended start to record
  }

 private:
  VirtualClock* clock_;
  double ops_per_s_;
  int64_t tick_ = 0;
};

// Runs thread 0 of `s` over the lib/testing fakes, through the engine's
// loop, on the simulation's clock schedule, and counts hits and misses.
SimulationResult RunOnFakes(const Scenario& s, const DataSetInfo& ds, double ops_per_s) {
  VirtualClock clock;
  FakeKvClient kv(&clock);
  FakeSqlClient::Options sql_options;
  sql_options.passengers = ds.passengers;
  FakeSqlClient sql(sql_options);
  SimSchedule schedule(&clock, ops_per_s);
  EXPECT_TRUE(WarmUp(&kv, &sql, s, ds, {.schedule = &schedule}).ok());
  ThreadLoop::Options options;
  options.schedule = &schedule;
  ThreadLoop loop(&kv, &sql, s, ds, options);
  EXPECT_TRUE(loop.Run(s.queries_per_thread).ok());
  const LatencyRecorder& r = loop.result().recorder;
  SimulationResult out;
  out.reads = r.reads();
  out.writes = r.writes();
  out.hits = r.cache_hits();
  out.misses = r.cache_misses();
  out.errors = r.errors();
  return out;
}

TEST(HitRateModelTest, SimulationMatchesTheFakesExactly) {
  DataSetInfo ds;
  ds.passengers = 3000;
  ds.flights = 50;
  Scenario s;
  s.pool_size = 2000;
  s.queries_per_thread = 20000;
  s.ttl_ms = 400;
  s.ttl_jitter_pct = 10;
  s.warmup_ops = 300;
  for (WritePolicy policy : {WritePolicy::kRefresh, WritePolicy::kInvalidate}) {
    s.write_policy = policy;
    const SimulationResult sim = SimulateHitRate(s, ds, 1, 3000);
    const SimulationResult fake = RunOnFakes(s, ds, 3000);
    EXPECT_EQ(sim.hits, fake.hits);
    EXPECT_EQ(sim.misses, fake.misses);
    EXPECT_EQ(sim.reads, fake.reads);
    EXPECT_EQ(fake.errors, 0);
    // The TTL matters here: neither all hits nor all misses.
    EXPECT_GT(sim.hits, 1000);
    EXPECT_GT(sim.misses, 1000);
  }
}

TEST(HitRateModelTest, ClosedFormAgreesWithSimulationColdPool) {
  Scenario s;  // the concurrency scenario: 4 x 10,000, pool of 10,000
  DataSetInfo ds;
  ds.passengers = 36000;
  ds.flights = 1000;
  const double predicted = PredictHitRatePct(ModelInputFor(s, ds, 4, 4791));
  EXPECT_NEAR(SimulateHitRatePct(s, ds, 4, 4791), predicted, 1.0);
  s.write_policy = WritePolicy::kInvalidate;
  EXPECT_NEAR(SimulateHitRatePct(s, ds, 4, 4791), PredictHitRatePct(ModelInputFor(s, ds, 4, 4791)),
              1.0);
}

TEST(HitRateModelTest, ShortTtlAndWarmupAgreeWithSimulation) {
  DataSetInfo ds;
  ds.passengers = 36000;
  ds.flights = 1000;
  Scenario s;
  s.access = AccessMode::kRandom;
  s.read_pct = 90;
  s.ttl_ms = 100;
  const double predicted = PredictHitRatePct(ModelInputFor(s, ds, 4, 4500));
  EXPECT_NEAR(SimulateHitRatePct(s, ds, 4, 4500), predicted, 0.3);

  Scenario warm;  // read_heavy from a 40,000-read warm-up
  warm.read_pct = 99;
  warm.warmup_ops = 40000;
  EXPECT_NEAR(SimulateHitRatePct(warm, ds, 4, 22818),
              PredictHitRatePct(ModelInputFor(warm, ds, 4, 22818)), 0.5);
}


// --- Skewed popularity and a bounded cache, against an exact simulation ---

// The data set and a zipf scenario (over the default 10,000-key pool) of the
// tests below.
DataSetInfo ZipfDataSet() {
  DataSetInfo ds;
  ds.passengers = 36000;
  ds.flights = 1000;
  return ds;
}

Scenario ZipfScenario(double zipf_s, int read_pct) {
  Scenario s;
  s.access = AccessMode::kZipf;
  s.zipf_s = zipf_s;
  s.read_pct = read_pct;
  return s;
}

// The model against the exact simulation of the real Workload (zipf over the
// 10,000-key pool, 4 threads, 40,000 timed ops from a flushed cache) for
// LRU and random eviction at 0.1%, 1% and 10% of the keys, and for TTL
// caches without a capacity, within 1 point (issue 12).
TEST(HitRateModelTest, SkewedPopularityAgreesWithExactSimulation) {
  const DataSetInfo ds = ZipfDataSet();
  struct Case {
    int64_t ttl_ms;
    Eviction eviction;
    int64_t capacity;
  };
  std::vector<Case> cases;
  for (Eviction ev : {Eviction::kLru, Eviction::kRandom}) {
    for (int64_t c : {10, 100, 1000}) cases.push_back({300000, ev, c});
  }
  for (int64_t ttl : {100, 1000, 10000}) cases.push_back({ttl, Eviction::kLru, 0});
  for (const Case& c : cases) {
    for (double z : {0.6, 1.0, 1.2}) {
      for (int rp : {100, 80}) {
        Scenario s = ZipfScenario(z, rp);
        s.ttl_ms = c.ttl_ms;
        s.queries_per_thread = 10000;
        const double sim = SimulateHitRatePct(s, ds, 4, 5000, c.capacity, c.eviction);
        ModelInput in = ModelInputFor(s, ds, 4, 5000, c.capacity);
        in.eviction = c.eviction;
        const HitRatePrediction pr = PredictHitRate(in);
        EXPECT_NEAR(pr.hit_rate_pct, sim, 1.0)
            << "ttl " << c.ttl_ms << " " << EvictionName(c.eviction) << " C " << c.capacity
            << " s " << z << " read " << rp;
        EXPECT_EQ(pr.method, HitRatePrediction::Method::kRenewal);
        // O(groups): never one evaluation per key of a large universe.
        EXPECT_LE(pr.groups, 4096);
      }
    }
  }
}

// TTL jitter keeps the mean TTL, and the TTL-cache hit rate depends only on
// the mean: the prediction does not move, and the simulation agrees with it
// with and without jitter.
TEST(HitRateModelTest, TtlJitterDoesNotChangeTheHitRate) {
  const DataSetInfo ds = ZipfDataSet();
  Scenario s = ZipfScenario(0.99, 100);
  s.ttl_ms = 500;
  s.queries_per_thread = 20000;
  const double predicted = PredictHitRatePct(ModelInputFor(s, ds, 4, 5000));
  const double steady = SimulateHitRatePct(s, ds, 4, 5000);
  s.ttl_jitter_pct = 50;
  EXPECT_DOUBLE_EQ(PredictHitRatePct(ModelInputFor(s, ds, 4, 5000)), predicted);
  const double jittered = SimulateHitRatePct(s, ds, 4, 5000);
  EXPECT_NEAR(steady, predicted, 1.0);
  EXPECT_NEAR(jittered, predicted, 1.0);
}

// LFU's prediction is an upper bound (the most popular keys always cached);
// perfect LFU comes close to it, and it is never below LRU's.
TEST(HitRateModelTest, LfuIsAnUpperBound) {
  const DataSetInfo ds = ZipfDataSet();
  Scenario s = ZipfScenario(0.99, 100);
  s.queries_per_thread = 10000;
  for (int64_t c : {100, 1000}) {
    ModelInput in = ModelInputFor(s, ds, 4, 5000, c);
    in.eviction = Eviction::kLfu;
    const double bound = PredictHitRatePct(in);
    in.eviction = Eviction::kLru;
    EXPECT_GE(bound, PredictHitRatePct(in));
    EXPECT_LE(SimulateHitRatePct(s, ds, 4, 5000, c, Eviction::kLfu), bound + 0.5) << c;
  }
}

// A zipf pool of 50 million keys costs no more groups than one of 10,000.
TEST(HitRateModelTest, LargeUniverseCostsGroupsNotKeys) {
  DataSetInfo ds;
  ds.passengers = 55000000;
  ds.flights = 1000;
  Scenario s;
  s.access = AccessMode::kZipf;
  s.pool_size = 50000000;
  s.read_pct = 100;
  const HitRatePrediction pr = PredictHitRate(ModelInputFor(s, ds, 4, 5000, 500000));
  EXPECT_LE(pr.groups, 4096);
  EXPECT_LE(pr.group_evaluations, 4096 * 200);
  EXPECT_GT(pr.hit_rate_pct, 0);
  EXPECT_LT(pr.hit_rate_pct, 100);
}

TEST(EvictionTest, PolicyNames) {
  EXPECT_EQ(*EvictionFromPolicy("allkeys-lru"), Eviction::kLru);
  EXPECT_EQ(*EvictionFromPolicy("volatile-lru"), Eviction::kLru);
  EXPECT_EQ(*EvictionFromPolicy("allkeys-lfu"), Eviction::kLfu);
  EXPECT_EQ(*EvictionFromPolicy("allkeys-random"), Eviction::kRandom);
  EXPECT_EQ(*EvictionFromPolicy("volatile-ttl"), Eviction::kTtl);
  EXPECT_EQ(*EvictionFromPolicy("noeviction"), Eviction::kNone);
  EXPECT_EQ(*EvictionFromPolicy(""), Eviction::kNone);
  EXPECT_FALSE(EvictionFromPolicy("allkeys-LRU").ok());
  EXPECT_FALSE(EvictionFromPolicy("lru").ok());
  EXPECT_STREQ(EvictionName(Eviction::kRandom), "random");
}

}  // namespace
}  // namespace cabench
