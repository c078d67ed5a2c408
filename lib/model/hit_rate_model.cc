#include "lib/model/hit_rate_model.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <numeric>
#include <vector>

#include "lib/cache_aside/cache_aside.h"
#include "lib/engine/thread_loop.h"
#include "lib/model/sim_clients.h"
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

constexpr double kInf = std::numeric_limits<double>::infinity();

// The integral of e^(-beta t) over [0, len).
double ExpIntegral(double beta, double len) {
  if (len <= 0) return 0;
  if (beta <= 0) return len;
  if (std::isinf(len)) return 1.0 / beta;
  return -std::expm1(-beta * len) / beta;
}

// The time from an event of a Poisson process of rate u (per op) to the end
// of its first gap of length a: what the header calls a gap clock.
struct GapClock {
  double a = kInf;  // infinity: no such clock
  double u = 0;
};

// E[G] - a: the mean of what follows the first a ops, (e^(ua) - 1) / u - a.
double GapTailMean(const GapClock& c) {
  const double ua = c.u * c.a;
  if (ua <= 0) return 0;
  if (ua < 1e-4) return c.a * ua * (0.5 + ua / 6);  // no cancellation
  if (ua > 700) return kInf;
  return std::expm1(ua) / c.u - c.a;
}

// E[min(G, Exp(s))] = (1 - L_G(s)) / s, with the Laplace transform
// L_G(s) = (u + s) E / (s + u E), E = e^(-(u + s) a): exact.
double OneClockLife(const GapClock& c, double s) {
  if (std::isinf(c.a)) return s > 0 ? 1.0 / s : kInf;
  const double k = (c.u + s) * c.a;
  if (k <= 0) return c.a;  // u = s = 0: the clock alone
  const double denom = s + c.u * std::exp(-k);
  if (denom <= 0) return kInf;  // s = 0 and E underflows: e^(ua) / u
  return -std::expm1(-k) / denom;
}

// E[min(G1, G2, Exp(s))] with each G taken as a shifted exponential: a,
// then an exponential tail with G's exact mean (GapTailMean). Exact when a
// clock is deterministic (u = 0) and has the smaller a, and in the limits
// where either clock never binds.
double TwoClockLife(GapClock c1, GapClock c2, double s) {
  if (c2.a < c1.a) std::swap(c1, c2);
  auto tail_rate = [](const GapClock& c) {
    const double m = GapTailMean(c);
    return m <= 0 ? kInf : 1.0 / m;  // 1/inf = 0: a tail that never ends
  };
  double life = ExpIntegral(s, c1.a);
  const double r1 = tail_rate(c1);
  if (std::isinf(r1)) return life;
  const double between = c2.a - c1.a;
  life += std::exp(-s * c1.a) * ExpIntegral(s + r1, between);
  const double r2 = tail_rate(c2);
  if (std::isinf(r2)) return life;
  const double rate = s + r1 + r2;
  if (rate <= 0) return kInf;
  return life + std::exp(-s * c2.a - between * r1) / rate;
}

// The per-key renewal model of the header, for one scenario.
class RenewalModel {
 public:
  RenewalModel(double read_fraction, WritePolicy policy, double ttl_ops, Eviction eviction)
      : r_(read_fraction),
        refresh_(policy == WritePolicy::kRefresh),
        ttl_ops_(ttl_ops),
        eviction_(eviction) {}

  // h of a key requested with probability p per op, when the capacity's
  // clock has time `t` (infinity: no capacity clock): both its hit fraction
  // and its chance of being cached.
  double Hit(double p, double t) const {
    if (p <= 0) return 0;
    const double w = (1 - r_) * p;
    GapClock ttl{ttl_ops_, refresh_ ? w : 0};
    GapClock lru;
    double kill = refresh_ ? 0 : w;
    if (!std::isinf(t)) {
      switch (eviction_) {
        case Eviction::kLru:
        case Eviction::kNone:
          lru = GapClock{t, refresh_ ? p : r_ * p};
          break;
        case Eviction::kRandom:
          kill += 1 / t;
          break;
        case Eviction::kTtl:
          ttl.a = std::min(ttl.a, t);
          break;
        case Eviction::kLfu:
          break;
      }
    }
    double life;
    if (!std::isinf(ttl.a) && !std::isinf(lru.a)) {
      life = TwoClockLife(ttl, lru, kill);
    } else if (!std::isinf(lru.a)) {
      life = OneClockLife(lru, kill);
    } else {
      life = OneClockLife(ttl, kill);
    }
    if (std::isinf(life)) return 1;
    const double x = (refresh_ ? p : r_ * p) * life;
    return x / (1 + x);
  }

  // The long-run fraction of a key's possible states that allow it to be
  // cached with neither TTL nor capacity: its last request SET it.
  double rho() const { return refresh_ ? 1 : r_; }

 private:
  double r_;
  bool refresh_;
  double ttl_ops_;
  Eviction eviction_;
};

// Sum over i in [i1, i2) of rho + d (1 - p)^i.
double SumBound(double rho, double d, double log_q, double p, double i1, double i2) {
  const double n = i2 - i1;
  if (n <= 0) return 0;
  const double geo = std::exp(i1 * log_q) * -std::expm1(n * log_q) / p;
  return rho * n + d * geo;
}

// The sum over timed ops i in [i1, i2) of min(h, F(i)), F(i) = rho + (A -
// rho) (1 - p)^i: the cold-start bound of the header, which is monotone in i.
double SumWithColdStart(double h, double p, double rho, double a0, double i1, double i2) {
  if (i2 <= i1) return 0;
  const double log_q = std::log1p(-p);
  const double d = a0 - rho;
  if (h >= std::max(a0, rho)) return SumBound(rho, d, log_q, p, i1, i2);
  if (h <= std::min(a0, rho)) return h * (i2 - i1);
  // F crosses h once, between ops floor(i*) and ceil(i*).
  const double cross = std::log((h - rho) / d) / log_q;
  const double k = std::clamp(std::ceil(cross), i1, i2);
  if (d < 0) return SumBound(rho, d, log_q, p, i1, k) + h * (i2 - k);  // rising
  return h * (k - i1) + SumBound(rho, d, log_q, p, k, i2);             // falling
}

struct Group {
  double p = 0;
  double count = 0;
};

// The renewal prediction of the header over `groups` (p > 0, count > 0).
HitRatePrediction RenewalPrediction(const ModelInput& in, const std::vector<Group>& groups,
                                    double r) {
  HitRatePrediction out;
  out.method = HitRatePrediction::Method::kRenewal;
  out.groups = static_cast<int64_t>(groups.size());
  out.characteristic_ops = kInf;
  const double ttl_ops =
      in.ops_per_s > 0 ? static_cast<double>(in.ttl_ms) * in.ops_per_s / 1000.0 : kInf;
  const bool bounded = in.capacity_keys > 0;
  const RenewalModel model(r, in.write_policy, ttl_ops, bounded ? in.eviction : Eviction::kLru);
  const double capacity = static_cast<double>(in.capacity_keys);
  double mass = 0;
  for (const Group& g : groups) mass += g.p * g.count;

  auto occupancy = [&](double t) {
    out.group_evaluations += out.groups;
    double sum = 0;
    for (const Group& g : groups) sum += g.count * model.Hit(g.p, t);
    return sum;
  };

  // Steady-state h per group.
  std::vector<double> h(groups.size());
  if (bounded && in.eviction == Eviction::kLfu) {
    // The most popular keys fill the cache, each with its TTL-only chance.
    std::vector<size_t> order(groups.size());
    std::iota(order.begin(), order.end(), size_t{0});
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t x, size_t y) { return groups[x].p > groups[y].p; });
    double room = capacity;
    for (size_t i : order) {
      const double alone = model.Hit(groups[i].p, kInf);
      const double need = groups[i].count * alone;
      h[i] = need <= room ? alone : (need > 0 ? alone * room / need : 0);
      room = std::max(0.0, room - need);
    }
    out.group_evaluations += out.groups;
  } else {
    double t = kInf;
    if (bounded && occupancy(kInf) > capacity) {
      // occupancy(t) <= t * mass (h <= p t), so the bracket starts below C.
      double lo = 0.5 * capacity / mass;
      double hi = lo;
      while (occupancy(hi) < capacity && hi < 1e300) {
        lo = hi;
        hi *= 4;
      }
      if (hi < 1e300) {
        while (hi / lo - 1 > 1e-12) {
          const double mid = std::sqrt(lo * hi);
          (occupancy(mid) < capacity ? lo : hi) = mid;
        }
        t = std::sqrt(lo * hi);
      }
    }
    out.characteristic_ops = t;
    for (size_t i = 0; i < groups.size(); ++i) h[i] = model.Hit(groups[i].p, t);
    out.group_evaluations += out.groups;
  }

  // Cold start, averaged over the timed ops.
  const double ops = static_cast<double>(in.total_ops);
  const double warm = static_cast<double>(std::max<int64_t>(0, in.warmup_ops));
  const double c0 = Clamp01(in.initial_cached_fraction);
  // Before the first entry can expire (warm-up and run shorter than the
  // TTL) and with no capacity binding, nothing has left the cache: there
  // the bound F(i) is exact, not only a bound, and the steady state (which
  // counts expiries) does not apply yet.
  const double unexpired =
      std::isinf(out.characteristic_ops) ? std::clamp(ttl_ops - warm, 0.0, ops) : 0.0;
  double hits = 0;
  for (size_t i = 0; i < groups.size(); ++i) {
    const double p = std::min(groups[i].p, 1 - 1e-12);
    const double a0 = 1 - (1 - c0) * std::exp(warm * std::log1p(-p));
    const double sum = SumWithColdStart(1.0, p, model.rho(), a0, 0, unexpired) +
                       SumWithColdStart(h[i], p, model.rho(), a0, unexpired, ops);
    hits += groups[i].count * groups[i].p * sum / ops;
  }
  out.hit_rate_pct = 100.0 * Clamp01(hits / mass);
  return out;
}

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

HitRatePrediction PredictHitRate(const ModelInput& in) {
  HitRatePrediction out;
  const double r = Clamp01(in.read_fraction);
  if (!in.cache || r <= 0 || in.total_ops <= 0) return out;
  if (in.write_policy == WritePolicy::kTtlOnly && r < 1) {
    // Writes leave the cache alone: to the cache, the run is its reads alone.
    ModelInput reads = in;
    reads.read_fraction = 1;
    reads.write_policy = WritePolicy::kRefresh;
    reads.total_ops = std::max<int64_t>(1, std::llround(static_cast<double>(in.total_ops) * r));
    reads.ops_per_s = in.ops_per_s * r;
    return PredictHitRate(reads);
  }

  std::vector<Group> groups;
  for (const PopularityGroup& g : in.popularity) {
    if (g.p > 0 && g.count > 0) groups.push_back(Group{g.p, static_cast<double>(g.count)});
  }
  const bool uniform = std::all_of(groups.begin(), groups.end(), [&](const Group& g) {
    return std::abs(g.p - groups[0].p) <= 1e-9 * g.p;
  });
  int64_t universe = std::max<int64_t>(1, in.key_universe);
  if (!groups.empty() && uniform) {
    universe = 0;
    for (const Group& g : groups) universe += static_cast<int64_t>(g.count);
  }
  if (!uniform || (in.capacity_keys > 0 && in.capacity_keys < universe)) {
    if (groups.empty() || uniform) {
      groups.assign(1, Group{1.0 / static_cast<double>(universe), static_cast<double>(universe)});
    }
    return RenewalPrediction(in, groups, r);
  }

  out.method = HitRatePrediction::Method::kUniform;
  out.groups = 1;
  out.characteristic_ops = kInf;
  const double n_keys = static_cast<double>(universe);
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
  out.hit_rate_pct = 100.0 * Clamp01(fraction);
  return out;
}

double PredictHitRatePct(const ModelInput& in) { return PredictHitRate(in).hit_rate_pct; }

ModelInput ModelInputFor(const Scenario& scenario, const DataSetInfo& data_set, int threads,
                         double measured_ops_per_s, int64_t capacity_keys) {
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
  if (scenario.access != AccessMode::kPool && scenario.access != AccessMode::kRandom) {
    in.popularity = KeyPopularity(scenario, data_set);
  }
  in.capacity_keys = std::max<int64_t>(0, capacity_keys);
  in.eviction = EvictionFromPolicy(scenario.eviction_policy).value_or(Eviction::kLru);
  return in;
}

int64_t SimOpTimeNs(int64_t i, double ops_per_s) {
  if (ops_per_s <= 0) return 0;
  return static_cast<int64_t>(std::floor(static_cast<double>(i) * (1e9 / ops_per_s)));
}

SimulationResult SimulateHitRate(const Scenario& scenario, const DataSetInfo& data_set, int threads,
                                 double ops_per_s, int64_t capacity_keys, Eviction eviction) {
  threads = std::max(threads, 1);
  int64_t now_ns = 0;
  SimKv::Options kv_options;
  kv_options.capacity_keys = std::max<int64_t>(0, capacity_keys);
  kv_options.eviction = eviction;
  kv_options.seed = scenario.seed;
  SimKv kv(&now_ns, kv_options);
  SimSql sql;
  // One clock for the warm-up and every simulated thread: op k of the whole
  // simulation runs at SimOpTimeNs(k).
  VirtualClock clock(&now_ns, ops_per_s);
  WarmUp(&kv, &sql, scenario, data_set, {.schedule = &clock})
      .IgnoreError();  // the fakes never fail

  std::vector<std::unique_ptr<ThreadLoop>> loops;
  for (int t = 0; t < threads; ++t) {
    ThreadLoop::Options options;
    options.thread_index = t;
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
                          double ops_per_s, int64_t capacity_keys, Eviction eviction) {
  return SimulateHitRate(scenario, data_set, threads, ops_per_s, capacity_keys, eviction)
      .hit_rate_pct();
}

}  // namespace cabench
