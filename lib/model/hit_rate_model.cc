#include "lib/model/hit_rate_model.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "lib/cache_aside/cache_aside.h"
#include "lib/clients/kv_client.h"
#include "lib/clients/sql_client.h"
#include "lib/engine/thread_loop.h"
#include "lib/workload/workload.h"

namespace cabench {
namespace {

// Ring entries of the short-TTL recurrence (16 bytes each): beyond this many
// ops per TTL window, ops are grouped into blocks.
constexpr int64_t kMaxRing = int64_t{1} << 21;

double Clamp01(double x) { return std::min(1.0, std::max(0.0, x)); }

// q^n for q = 1 - p, accurately for small p.
double PowQ(double p, double n) { return n <= 0 ? 1.0 : std::exp(n * std::log1p(-p)); }

double LongTtlHitFraction(const ModelInput& in, double n_keys, double r, double c0) {
  const double p = 1.0 / n_keys;
  const double c = 1.0 - (1.0 - c0) * PowQ(p, static_cast<double>(in.warmup_ops));
  const double t = static_cast<double>(in.total_ops);
  // N (1 - q^T) / T = (1/T) sum_{i<T} q^i: the mean chance a key is untouched.
  const double untouched = n_keys * -std::expm1(t * std::log1p(-p)) / t;
  if (in.write_policy == WritePolicy::kRefresh) return 1.0 - (1.0 - c) * untouched;
  return r + (c - r) * untouched;
}

// The sliding-sum recurrence of the header, in steps of `block` ops.
double ShortTtlHitFraction(const ModelInput& in, double n_keys, double r, double c0,
                           int64_t window_ops) {
  const int64_t block = std::max<int64_t>(1, (window_ops + kMaxRing - 1) / kMaxRing);
  const int64_t window = window_ops / block;  // L, in blocks
  if (window <= 0) return 0;
  const double p1 = 1.0 / n_keys;
  const double p = -std::expm1(static_cast<double>(block) * std::log1p(-p1));

  struct Cohort {
    double born = 0;      // b_j
    double log_surv = 0;  // log of the survival product through step j
  };
  std::vector<Cohort> ring(static_cast<size_t>(window + 1));
  auto slot = [&](int64_t j) -> Cohort& {
    return ring[static_cast<size_t>((j + 1) % (window + 1))];
  };
  slot(-1) = Cohort{c0, 0};  // initial entries count as SET just before

  const int64_t warm_steps = (in.warmup_ops + block - 1) / block;
  const int64_t run_steps = (in.total_ops + block - 1) / block;
  double cached = c0;
  double log_surv = 0;  // through the previous step
  double hit_sum = 0;
  for (int64_t s = 0; s < warm_steps + run_steps; ++s) {
    const bool warm = s < warm_steps;
    const double rs = warm ? 1.0 : r;
    if (!warm) {
      const int64_t done = (s - warm_steps) * block;
      const double weight = static_cast<double>(std::min(block, in.total_ops - done));
      hit_sum += cached * weight;
    }
    double born = p * rs * (1.0 - cached);
    if (in.write_policy == WritePolicy::kRefresh) born += p * (1.0 - rs);
    const double surv = 1.0 - p * (1.0 - rs);
    // Drop the cohort that expires now (born at s - L), then age the rest.
    double remaining = cached;
    if (s - window >= -1) {
      const Cohort& old = slot(s - window);
      remaining -= old.born * std::exp(log_surv - old.log_surv);
    }
    log_surv += std::log(surv);
    cached = Clamp01(surv * std::max(0.0, remaining) + born);
    slot(s) = Cohort{born, log_surv};
  }
  return hit_sum / static_cast<double>(in.total_ops);
}

// The in-memory cache of the simulation: a key is live while now <= expiry
// (Redis' rule, as FakeKvClient). Values are not kept: only hit/miss matters.
class SimKv : public KvClient {
 public:
  explicit SimKv(const int64_t* now_ns) : now_ns_(now_ns) {}

  absl::StatusOr<bool> Get(std::string_view key, std::string* value) override {
    auto it = expiry_.find(key);
    const bool live = it != expiry_.end() && *now_ns_ <= it->second;
    // Any value is a hit to CacheAside; the content is irrelevant here.
    value->clear();
    if (live) value->push_back('-');
    return live;
  }
  absl::Status Set(std::string_view key, std::string_view, int64_t ttl_ms) override {
    const int64_t expire = *now_ns_ + ttl_ms * 1000000;
    auto it = expiry_.find(key);
    if (it == expiry_.end()) {
      expiry_.emplace(std::string(key), expire);
    } else {
      it->second = expire;
    }
    return absl::OkStatus();
  }
  absl::Status Del(std::string_view key) override {
    auto it = expiry_.find(key);
    if (it != expiry_.end()) expiry_.erase(it);
    return absl::OkStatus();
  }
  absl::StatusOr<int64_t> DeletePrefix(std::string_view) override { return 0; }
  absl::Status Ping() override { return absl::OkStatus(); }
  absl::Status Reconnect() override { return absl::OkStatus(); }
  absl::StatusOr<std::string> ServerInfo() override { return std::string("sim"); }

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };
  const int64_t* now_ns_;
  std::unordered_map<std::string, int64_t, Hash, std::equal_to<>> expiry_;
};

// The simulation's database: every passenger has one booking; every insert
// succeeds (seats are unique per thread for 46,656 writes anyway).
class SimSql : public SqlClient {
 public:
  absl::Status QueryBookingCount(int64_t, BookingCount* result) override {
    result->found = true;
    result->count = 1;
    return absl::OkStatus();
  }
  absl::StatusOr<int64_t> InsertBooking(const NewBooking&) override { return ++next_id_; }
  absl::StatusOr<int64_t> Execute(std::string_view) override { return 0; }
  absl::StatusOr<std::optional<std::vector<std::optional<std::string>>>> QueryRow(
      std::string_view) override {
    return std::optional<std::vector<std::optional<std::string>>>();
  }
  absl::Status Ping() override { return absl::OkStatus(); }
  absl::Status Reconnect() override { return absl::OkStatus(); }
  absl::StatusOr<std::string> ServerInfo() override { return std::string("sim"); }

 private:
  int64_t next_id_ = 0;
};

// The simulation's time: every operation, of any simulated thread, moves the
// virtual clock to its own slot.
class VirtualClock : public Schedule {
 public:
  VirtualClock(int64_t* now_ns, double ops_per_s) : now_ns_(now_ns), ops_per_s_(ops_per_s) {}
  int64_t WaitNext() override {
    *now_ns_ = SimOpTimeNs(next_op_++, ops_per_s_);
    return -1;  // virtual time: no intended start to record
  }

 private:
  int64_t* now_ns_;
  double ops_per_s_;
  int64_t next_op_ = 0;
};

}  // namespace

double PredictHitRatePct(const ModelInput& in) {
  const double r = Clamp01(in.read_fraction);
  if (!in.cache || r <= 0 || in.total_ops <= 0) return 0;
  const double n_keys = static_cast<double>(std::max<int64_t>(1, in.key_universe));
  const double c0 = Clamp01(in.initial_cached_fraction);
  const int64_t warmup = std::max<int64_t>(0, in.warmup_ops);
  ModelInput m = in;
  m.warmup_ops = warmup;

  const double steps = static_cast<double>(warmup) + static_cast<double>(in.total_ops);
  const double window = in.ops_per_s > 0
                            ? std::floor(static_cast<double>(in.ttl_ms) * in.ops_per_s / 1000.0)
                            : INFINITY;
  double fraction;
  if (window >= steps) {
    fraction = LongTtlHitFraction(m, n_keys, r, c0);
  } else {
    fraction = ShortTtlHitFraction(m, n_keys, r, c0, static_cast<int64_t>(window));
  }
  return 100.0 * Clamp01(fraction);
}

ModelInput ModelInputFor(const Scenario& scenario, const DataSetInfo& data_set, int threads,
                         double measured_ops_per_s) {
  ModelInput in;
  in.cache = scenario.cache;
  in.key_universe = EffectivePassengerRange(scenario, data_set).count;
  in.read_fraction = std::clamp(scenario.read_pct, 0, 100) / 100.0;
  in.write_policy = scenario.write_policy;
  in.ttl_ms = scenario.ttl_ms;
  in.total_ops = static_cast<int64_t>(std::max(threads, 0)) * scenario.queries_per_thread;
  in.ops_per_s = measured_ops_per_s;
  in.initial_cached_fraction = 0;
  in.warmup_ops = scenario.warmup_ops;
  return in;
}

int64_t SimOpTimeNs(int64_t i, double ops_per_s) {
  if (ops_per_s <= 0) return 0;
  return static_cast<int64_t>(std::floor(static_cast<double>(i) * (1e9 / ops_per_s)));
}

SimulationResult SimulateHitRate(const Scenario& scenario, const DataSetInfo& data_set, int threads,
                                 double ops_per_s) {
  threads = std::max(threads, 1);
  int64_t now_ns = 0;
  SimKv kv(&now_ns);
  SimSql sql;
  // One clock for the warm-up and every simulated thread: op k of the whole
  // simulation runs at SimOpTimeNs(k).
  VirtualClock clock(&now_ns, ops_per_s);
  WarmUp(&kv, &sql, scenario, data_set, &clock).IgnoreError();  // the fakes never fail

  std::vector<std::unique_ptr<ThreadLoop>> loops;
  for (int t = 0; t < threads; ++t) {
    ThreadLoop::Options options;
    options.thread_index = t;
    options.keep_inserted_ids = false;
    options.reconnect = false;
    options.schedule = &clock;
    loops.push_back(std::make_unique<ThreadLoop>(&kv, &sql, scenario, data_set, options));
  }
  // Round robin: op i belongs to thread i % threads.
  for (int64_t i = 0; i < scenario.queries_per_thread; ++i) {
    for (auto& loop : loops) loop->Run(1).IgnoreError();
  }
  SimulationResult result;
  for (auto& loop : loops) {
    const LatencyRecorder& r = loop->result().recorder;
    result.reads += r.reads();
    result.writes += r.writes();
    result.hits += r.cache_hits();
    result.misses += r.cache_misses() + r.class_count(OpClass::kDbRead);
    result.errors += r.errors();
  }
  return result;
}

double SimulateHitRatePct(const Scenario& scenario, const DataSetInfo& data_set, int threads,
                          double ops_per_s) {
  return SimulateHitRate(scenario, data_set, threads, ops_per_s).hit_rate_pct();
}

}  // namespace cabench
