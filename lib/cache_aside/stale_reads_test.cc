// Known-answer tests of the stale-read classification (key_versions.h): a
// hit is STALE when its value lacks a write of the run that committed before
// its GET was sent; the pattern says stale or fresh only when that is
// certain, and uncertain otherwise.
//
//  - Every interleaving of one write, one fill and one hit of one key, run
//    step by step over the fakes (Stepper: each actor on a fiber of its own,
//    switched at the fakes' hooks), is compared with the class computed
//    from the definition alone (Expected): the truth for every placement of
//    the instants the client cannot see -- the commit inside the INSERT
//    call, the snapshot inside each SELECT call, the send inside the GET
//    call -- must be the same for a certain class, and differ for
//    "uncertain".
//  - A randomized run of several threads on a few hot keys, with commits and
//    snapshots at random instants inside their calls and an oracle that
//    records every commit and what every hit's value includes: certain stale
//    implies truly stale, certain fresh implies truly fresh, and
//    stale_reads <= true <= stale_reads + stale_reads_uncertain.
#include <sys/mman.h>
#include <ucontext.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "lib/cache_aside/cache_aside.h"
#include "lib/cache_aside/key_versions.h"
#include "lib/testing/fake_kv_client.h"
#include "lib/testing/fake_sql_client.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif
#if defined(__SANITIZE_THREAD__)
#include <sanitizer/tsan_interface.h>
#endif

namespace cabench {
namespace {

constexpr int64_t kId = 5;  // FakeSqlClient: 5 % 4 = 1 booking to begin with

NewBooking BookingOf(int64_t passenger, std::string seat = "0000") {
  return NewBooking{
      .flight_id = 3, .seat = std::move(seat), .passenger_id = passenger, .price_cents = 100};
}

enum class Class { kMiss, kFresh, kStale, kUncertain };

const char* Name(Class c) {
  switch (c) {
    case Class::kMiss:
      return "miss";
    case Class::kFresh:
      return "fresh";
    case Class::kStale:
      return "stale";
    case Class::kUncertain:
      return "uncertain";
  }
  return "?";
}

// What the pattern said of a read: a miss, or the class of its hit.
Class ClassOf(const OpResult& r) {
  if (r.op_class != OpClass::kCacheHit) return Class::kMiss;
  if (r.Has(kEventStale)) return Class::kStale;
  if (r.Has(kEventStaleUncertain)) return Class::kUncertain;
  return Class::kFresh;
}

// Runs actors one step at a time, each on a fiber (a stack of its own) of
// the test's thread: an actor parks at every hook it passes (Park), and
// Run() resumes the actors in the order given, each from where it parked
// to its next park (or its end). So a step is the code between two hooks,
// and the test decides the order of every step. Fibers, not threads: a
// switch costs well under a microsecond and needs no scheduler, so tens of
// thousands of interleavings take a few seconds even on a loaded machine.
// The sanitizers are told of every switch (their fiber interfaces).
class Stepper {
 public:
  explicit Stepper(int actors) : fibers_(static_cast<size_t>(actors)) {
#if defined(__SANITIZE_THREAD__)
    main_tsan_ = __tsan_get_current_fiber();
    for (Fiber& f : fibers_) f.tsan = __tsan_create_fiber(0);
#endif
    for (Fiber& f : fibers_) {
      f.stack = static_cast<char*>(
          mmap(nullptr, kStackBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
      if (f.stack == MAP_FAILED) std::abort();
    }
  }
  ~Stepper() {
    for (Fiber& f : fibers_) {
#if defined(__SANITIZE_THREAD__)
      __tsan_destroy_fiber(f.tsan);
#endif
#if defined(__SANITIZE_ADDRESS__)
      ASAN_UNPOISON_MEMORY_REGION(f.stack, kStackBytes);
#endif
      munmap(f.stack, kStackBytes);
    }
  }
  Stepper(const Stepper&) = delete;
  Stepper& operator=(const Stepper&) = delete;

  // Called from the hooks: on an actor's fiber, back to Run() until the
  // actor's next step; elsewhere (or once the actors run free), nothing.
  void Park() {
    if (current_ < 0 || free_) return;
    Fiber& f = fibers_[static_cast<size_t>(current_)];
    SwitchOut(&f.asan_fake_stack);
#if defined(__SANITIZE_THREAD__)
    __tsan_switch_to_fiber(main_tsan_,
                           0);  // here: no instrumented return in between
#endif
    swapcontext(&f.ctx, &main_);
    SwitchedIn(f.asan_fake_stack);
  }

  // Starts jobs[a] as actor a, for every a, and runs their steps in the
  // order `order` (actor ids): a step of an actor that already ended (it
  // took a shorter path) is skipped. Then lets every actor run to its end.
  // An actor runs nothing before its first step.
  void Run(const std::vector<std::function<void()>>& jobs, const std::vector<int>& order) {
    for (size_t a = 0; a < fibers_.size(); ++a) Prepare(a, &jobs[a]);
    free_ = false;
    for (int a : order) {
      if (!fibers_[static_cast<size_t>(a)].finished) Resume(a);
    }
    free_ = true;
    for (size_t a = 0; a < fibers_.size(); ++a) {
      if (!fibers_[a].finished) Resume(static_cast<int>(a));
    }
  }

 private:
  static constexpr size_t kStackBytes = size_t{1} << 20;

  // Makes fiber `a` start `job` at its first Resume(). Out of line: no
  // variable of a loop is live across getcontext(), which returns twice
  // (gcc's -Wclobbered, an error in the sanitizer builds).
  __attribute__((noinline)) void Prepare(size_t a, const std::function<void()>* job) {
    Fiber& f = fibers_[a];
    f.job = job;
    f.finished = false;
    getcontext(&f.ctx);
    f.ctx.uc_stack.ss_sp = f.stack;
    f.ctx.uc_stack.ss_size = kStackBytes;
    f.ctx.uc_link = nullptr;
    const auto self = reinterpret_cast<uintptr_t>(this);
    makecontext(&f.ctx, reinterpret_cast<void (*)()>(&Stepper::Entry), 3,
                static_cast<unsigned>(self >> 32), static_cast<unsigned>(self & 0xffffffffu),
                static_cast<unsigned>(a));
  }

  struct Fiber {
    ucontext_t ctx;
    char* stack = nullptr;
    const std::function<void()>* job = nullptr;
    bool finished = false;
    void* tsan = nullptr;
    void* asan_fake_stack = nullptr;
  };

  // From Run() to actor a, until it parks or ends.
  void Resume(int a) {
    Fiber& f = fibers_[static_cast<size_t>(a)];
    current_ = a;
#if defined(__SANITIZE_ADDRESS__)
    __sanitizer_start_switch_fiber(&main_asan_fake_stack_, f.stack, kStackBytes);
#endif
#if defined(__SANITIZE_THREAD__)
    __tsan_switch_to_fiber(f.tsan, 0);
#endif
    swapcontext(&main_, &f.ctx);
#if defined(__SANITIZE_ADDRESS__)
    __sanitizer_finish_switch_fiber(main_asan_fake_stack_, nullptr, nullptr);
#endif
    current_ = -1;
  }

  // AddressSanitizer, on a fiber just before it switches back to Run()
  // (fake_stack: where to keep the fiber's, nullptr when it ends). The
  // ThreadSanitizer switch is made by the caller, right before the switch:
  // a return after it would unwind the wrong shadow stack.
  void SwitchOut([[maybe_unused]] void** fake_stack) {
#if defined(__SANITIZE_ADDRESS__)
    __sanitizer_start_switch_fiber(fake_stack, main_stack_bottom_, main_stack_size_);
#endif
  }
  // AddressSanitizer, on a fiber just after it was switched to.
  void SwitchedIn([[maybe_unused]] void* fake_stack) {
#if defined(__SANITIZE_ADDRESS__)
    __sanitizer_finish_switch_fiber(fake_stack, &main_stack_bottom_, &main_stack_size_);
#endif
  }

  // A fiber's first frame: runs its job, then switches back for good. Not
  // instrumented by ThreadSanitizer, so that a fiber used again starts with
  // an empty shadow stack (this frame never returns).
#if defined(__SANITIZE_THREAD__)
  __attribute__((no_sanitize("thread")))
#endif
  static void
  Entry(unsigned self_hi, unsigned self_lo, unsigned a) {
    auto* self = reinterpret_cast<Stepper*>((static_cast<uintptr_t>(self_hi) << 32) | self_lo);
    Fiber& f = self->fibers_[a];
    self->SwitchedIn(nullptr);
    (*f.job)();
    f.finished = true;
    self->SwitchOut(nullptr);
#if defined(__SANITIZE_THREAD__)
    __tsan_switch_to_fiber(self->main_tsan_, 0);
#endif
    setcontext(&self->main_);
  }

  std::vector<Fiber> fibers_;
  ucontext_t main_;
  int current_ = -1;  // the actor running (-1: Run() itself)
  bool free_ = false;
  void* main_tsan_ = nullptr;
  void* main_asan_fake_stack_ = nullptr;
  const void* main_stack_bottom_ = nullptr;
  size_t main_stack_size_ = 0;
};

// The three actors and their steps. W: INSERT send (begun), commit instant,
// INSERT return (done; a refresh's SELECT is sent in the same step), then
// for refresh: the refresh's snapshot, its SELECT return (+ SET sent), its
// SET; for invalidate: the DEL. F: GET sent, GET (a miss) + SELECT sent,
// snapshot, SELECT return (+ SET sent), SET. H: GET sent, GET + return.
enum Actor : int { kW = 0, kF = 1, kH = 2 };

int WriterSteps(WritePolicy policy) {
  switch (policy) {
    case WritePolicy::kRefresh:
      return 6;
    case WritePolicy::kInvalidate:
      return 4;
    case WritePolicy::kTtlOnly:
      return 3;
  }
  return 0;
}
constexpr int kFillSteps = 5;
constexpr int kHitSteps = 2;

// Every order of the actors' steps (each actor's own steps in order).
std::vector<std::vector<int>> Interleavings(int w, int f, int h) {
  std::vector<int> order;
  order.insert(order.end(), static_cast<size_t>(w), kW);
  order.insert(order.end(), static_cast<size_t>(f), kF);
  order.insert(order.end(), static_cast<size_t>(h), kH);
  std::vector<std::vector<int>> all;
  do {
    all.push_back(order);
  } while (std::next_permutation(order.begin(), order.end()));
  return all;
}

// The class the definition gives a read, from the order of the steps alone.
struct Expectation {
  Class hit;                  // of H
  std::optional<Class> fill;  // of F, when its GET hit (a refresh came first)
};

// Instants strictly inside (a, b) on a grid of quarter steps: three between
// two steps, so that three unknown instants in one gap take every order.
std::vector<double> Inside(int a, int b) {
  std::vector<double> out;
  for (int q = 4 * a + 1; q < 4 * b; ++q) {
    if (q % 4 != 0) out.push_back(q / 4.0);
  }
  return out;
}

// fresh, stale or uncertain: over every placement of the commit c in
// (insert_sent, insert_returned), the value's snapshot s in (select_sent,
// select_returned) and the GET's send g in (get_sent, get_returned), is
// "the value lacks the write (s < c) and the write committed before the
// send (c < g)" always, never, or sometimes true?
Class Truth(int insert_sent, int insert_returned, int select_sent, int select_returned,
            int get_sent, int get_returned) {
  bool can_be_stale = false;
  bool can_be_fresh = false;
  for (double c : Inside(insert_sent, insert_returned)) {
    for (double s : Inside(select_sent, select_returned)) {
      if (s == c) continue;
      for (double g : Inside(get_sent, get_returned)) {
        if (g == c || g == s) continue;
        const bool stale = s < c && c < g;
        (stale ? can_be_stale : can_be_fresh) = true;
      }
    }
  }
  if (can_be_stale && can_be_fresh) return Class::kUncertain;
  return can_be_stale ? Class::kStale : Class::kFresh;
}

Expectation Expected(const std::vector<int>& order, WritePolicy policy) {
  // pos[actor][k]: where the actor's k-th step is in `order`.
  std::vector<int> pos[3];
  for (int i = 0; i < static_cast<int>(order.size()); ++i) {
    pos[order[static_cast<size_t>(i)]].push_back(i);
  }
  const auto at = [&](int actor, int step) { return pos[actor][static_cast<size_t>(step)]; };
  // The value in the cache: which fill's SET (the read's F, or the write's
  // refresh R) is there when each GET runs.
  enum Value { kNone, kValueF, kValueR };
  Value cache = kNone;
  Expectation e;
  bool fill_hit = false;
  Value h_value = kNone;
  Value f_value = kNone;
  std::vector<int> seen(3, 0);
  for (int actor : order) {
    const int step = seen[static_cast<size_t>(actor)]++;
    if (actor == kF && step == 1 && cache != kNone) {
      fill_hit = true;  // F's GET hit: it is a read like H, with no fill
      f_value = cache;
    }
    if (actor == kF && step == 4 && !fill_hit) cache = kValueF;
    if (actor == kW && policy == WritePolicy::kRefresh && step == 5) cache = kValueR;
    if (actor == kW && policy == WritePolicy::kInvalidate && step == 3) cache = kNone;
    if (actor == kH && step == 1) h_value = cache;
  }
  // The SELECT interval of each value: F's from the step that sends it to
  // the step it returns in; R's from the INSERT's return (which sends it).
  const auto truth = [&](Value v, int get_sent, int get_returned) {
    if (v == kValueF) {
      return Truth(at(kW, 0), at(kW, 2), at(kF, 1), at(kF, 3), get_sent, get_returned);
    }
    return Truth(at(kW, 0), at(kW, 2), at(kW, 2), at(kW, 4), get_sent, get_returned);
  };
  e.hit = h_value == kNone ? Class::kMiss : truth(h_value, at(kH, 0), at(kH, 1));
  if (fill_hit) e.fill = truth(f_value, at(kF, 0), at(kF, 1));
  return e;
}

std::string Describe(const std::vector<int>& order, WritePolicy policy) {
  static const char* const kNames[3][6] = {
      {"W:insert_sent", "W:commit", "W:insert_returned", "W:refresh_snapshot", "W:refresh_returned",
       "W:refresh_set"},
      {"F:get_sent", "F:get_miss+select_sent", "F:snapshot", "F:select_returned", "F:set", ""},
      {"H:get_sent", "H:get_returned", "", "", "", ""}};
  std::vector<std::string> steps;
  std::vector<int> seen(3, 0);
  for (int actor : order) {
    const int step = seen[static_cast<size_t>(actor)]++;
    steps.push_back(actor == kW && policy == WritePolicy::kInvalidate && step == 3
                        ? "W:del"
                        : kNames[actor][step]);
  }
  return absl::StrJoin(steps, " ");
}

struct Outcome {
  Class hit = Class::kMiss;
  Class fill = Class::kMiss;  // F's read: a miss unless its GET hit
  int64_t hit_count = 0;      // the booking count in H's value
};

// Runs one interleaving on fresh fakes and returns what the pattern said.
Outcome RunInterleaving(Stepper& stepper, const std::vector<int>& order, WritePolicy policy) {
  Scenario scenario;
  scenario.ttl_ms = 60000;
  scenario.write_policy = policy;
  FakeKvClient kv;
  FakeSqlClient sql;
  KeyVersions versions(0, 100);
  CacheAside::Options options;
  options.versions = &versions;
  CacheAside writer(&kv, &sql, scenario, options);
  CacheAside filler(&kv, &sql, scenario, options);
  CacheAside hitter(&kv, &sql, scenario, options);
  const auto park = [&stepper] { stepper.Park(); };
  kv.set_before([&](KvMethod, std::string_view) { park(); });
  sql.set_before_query([&](int64_t) { park(); });
  sql.set_after_query([&](int64_t) { park(); });
  sql.set_before_insert([&](const NewBooking&) { park(); });
  sql.set_after_insert([&](const NewBooking&, int64_t) { park(); });

  Outcome out;
  OpResult results[3];
  const std::vector<std::function<void()>> jobs = {
      [&] { results[kW] = writer.Write(BookingOf(kId)); },
      [&] { results[kF] = filler.Read(kId); },
      [&] {
        results[kH] = hitter.Read(kId);
        BookingCount row;
        if (results[kH].op_class == OpClass::kCacheHit &&
            DecodeBookingCount(hitter.last_value(), &row)) {
          out.hit_count = row.count;
        }
      },
  };
  // A read that missed goes on to fill after its last step, unscheduled.
  stepper.Run(jobs, order);
  EXPECT_EQ(results[kW].op_class, OpClass::kWrite);
  out.hit = ClassOf(results[kH]);
  out.fill = ClassOf(results[kF]);
  return out;
}

class EveryInterleavingTest : public ::testing::TestWithParam<WritePolicy> {};

TEST_P(EveryInterleavingTest, EachHitIsClassifiedAsTheDefinitionSays) {
  const WritePolicy policy = GetParam();
  const std::vector<std::vector<int>> orders =
      Interleavings(WriterSteps(policy), kFillSteps, kHitSteps);
  std::map<Class, int> seen;
  int failures = 0;
  Stepper stepper(3);
  for (const std::vector<int>& order : orders) {
    const Expectation want = Expected(order, policy);
    const Outcome got = RunInterleaving(stepper, order, policy);
    ++seen[got.hit];
    bool ok = got.hit == want.hit && got.fill == want.fill.value_or(Class::kMiss);
    // What the value holds agrees: a certainly stale one lacks the write.
    if (got.hit == Class::kStale) ok = ok && got.hit_count == 1;
    if (!ok && ++failures <= 10) {
      ADD_FAILURE() << Describe(order, policy) << "\n  hit: want " << Name(want.hit) << ", got "
                    << Name(got.hit) << " (count " << got.hit_count << "); fill: want "
                    << Name(want.fill.value_or(Class::kMiss)) << ", got " << Name(got.fill);
    }
  }
  EXPECT_EQ(failures, 0) << "of " << orders.size() << " interleavings";
  // The enumeration reaches every class (else it would prove little).
  EXPECT_GT(seen[Class::kMiss], 0);
  EXPECT_GT(seen[Class::kFresh], 0);
  EXPECT_GT(seen[Class::kStale], 0);
  EXPECT_GT(seen[Class::kUncertain], 0);
}

// The test name of a policy (WritePolicy's values are 0, 1, 2 in this order).
std::string PolicyName(const ::testing::TestParamInfo<WritePolicy>& policy) {
  static const char* const kNames[] = {"Refresh", "Invalidate", "TtlOnly"};
  return kNames[static_cast<int>(policy.param)];
}

INSTANTIATE_TEST_SUITE_P(Policies, EveryInterleavingTest,
                         ::testing::Values(WritePolicy::kRefresh, WritePolicy::kInvalidate,
                                           WritePolicy::kTtlOnly),
                         PolicyName);

// The definition's computation itself, on orders whose answer is plain.
TEST(ExpectedTest, KnownOrders) {
  // F reads and SETs, then W writes, then H reads: stale (ttl_only).
  EXPECT_EQ(Expected({kF, kF, kF, kF, kF, kW, kW, kW, kH, kH}, WritePolicy::kTtlOnly).hit,
            Class::kStale);
  // W writes, then F fills, then H reads: fresh.
  EXPECT_EQ(Expected({kW, kW, kW, kF, kF, kF, kF, kF, kH, kH}, WritePolicy::kTtlOnly).hit,
            Class::kFresh);
  // The INSERT is in flight while F's SELECT runs: uncertain.
  EXPECT_EQ(Expected({kF, kF, kW, kW, kF, kF, kF, kW, kH, kH}, WritePolicy::kTtlOnly).hit,
            Class::kUncertain);
  // The INSERT is sent inside H's GET call: its commit may precede the send.
  EXPECT_EQ(Expected({kF, kF, kF, kF, kF, kH, kW, kW, kH, kW}, WritePolicy::kTtlOnly).hit,
            Class::kUncertain);
  // H's GET before F's SET: a miss.
  EXPECT_EQ(Expected({kH, kH, kF, kF, kF, kF, kF, kW, kW, kW}, WritePolicy::kTtlOnly).hit,
            Class::kMiss);
}

// --- A randomized run against an oracle. ---

// An oracle of every commit: per passenger, the ticks (one shared counter)
// of its inserts in commit order. What a value includes is its count: the
// first (count - initial) commits.
struct Oracle {
  std::atomic<int64_t> clock{0};
  std::mutex mu;
  std::map<int64_t, std::vector<int64_t>> commits;  // by passenger
};

// One hit as the pattern saw it and as the oracle can judge it.
struct HitRecord {
  int64_t passenger = 0;
  int64_t count = 0;     // bookings in the value
  int64_t get_tick = 0;  // the GET's send (the fake's entry, after D was read)
  Class cls = Class::kFresh;
};

// What this thread's last GET returned, and when it was sent.
thread_local int64_t tl_get_tick = 0;
thread_local bool tl_get_hit = false;
thread_local std::string tl_get_value;
thread_local std::mt19937_64* tl_rng = nullptr;

void RandomPause(int max_us) {
  if (tl_rng == nullptr) return;
  const int us = static_cast<int>((*tl_rng)() % static_cast<uint64_t>(max_us + 1));
  if (us > max_us / 2) std::this_thread::sleep_for(std::chrono::microseconds(us));
}

// A SqlClient over the shared fake that, now and then, loses the reply of
// an INSERT that committed (Unavailable): its outcome is unknown to the
// pattern.
class LossySql : public SqlClient {
 public:
  LossySql(FakeSqlClient* fake, int lose_one_in) : fake_(fake), lose_one_in_(lose_one_in) {}
  absl::Status QueryBookingCount(int64_t id, BookingCount* result) override {
    return fake_->QueryBookingCount(id, result);
  }
  absl::StatusOr<int64_t> InsertBooking(const NewBooking& booking) override {
    absl::StatusOr<int64_t> id = fake_->InsertBooking(booking);
    if (id.ok() && lose_one_in_ > 0 && (*tl_rng)() % static_cast<uint64_t>(lose_one_in_) == 0) {
      return absl::UnavailableError("lost reply");
    }
    return id;
  }
  absl::StatusOr<int64_t> Execute(std::string_view sql) override { return fake_->Execute(sql); }
  absl::StatusOr<std::optional<std::vector<std::optional<std::string>>>> QueryRow(
      std::string_view sql) override {
    return fake_->QueryRow(sql);
  }
  absl::Status Ping() override { return fake_->Ping(); }
  absl::Status Reconnect() override { return fake_->Reconnect(); }
  absl::StatusOr<std::string> ServerInfo() override { return fake_->ServerInfo(); }
  absl::StatusOr<std::vector<std::pair<std::string, std::string>>> QueryPairs(
      std::string_view sql) override {
    return fake_->QueryPairs(sql);
  }

 private:
  FakeSqlClient* fake_;
  int lose_one_in_;
};

struct RandomRun {
  const char* name;
  WritePolicy policy;
  bool single_flight = false;
  double beta = 0;
  int lose_one_in = 0;  // INSERT replies lost (0: none)
};

class RandomizedOracleTest : public ::testing::TestWithParam<RandomRun> {};

TEST_P(RandomizedOracleTest, CertainClassesAreTrueAndTheTotalsBoundTheTruth) {
  const RandomRun run = GetParam();
  constexpr int kThreads = 4;
  constexpr int kOpsPerThread = 600;
  constexpr int64_t kKeys[] = {1, 2, 3};  // hot keys; 1, 2, 3 bookings at first
  Scenario scenario;
  scenario.ttl_ms = run.beta > 0 ? 20 : 60000;
  scenario.write_policy = run.policy;
  scenario.single_flight = run.single_flight;
  scenario.single_flight_wait_ms = 50;
  scenario.single_flight_poll_us = 50;
  scenario.early_refresh_beta = run.beta;
  FakeKvClient kv;
  FakeSqlClient sql;
  KeyVersions versions(0, 10);
  Oracle oracle;

  // Commits and snapshots happen at a random instant inside their calls,
  // GETs and SETs at a random instant inside theirs.
  sql.set_before_query([](int64_t) { RandomPause(40); });
  sql.set_after_query([](int64_t) { RandomPause(40); });
  sql.set_before_insert([](const NewBooking&) { RandomPause(40); });
  sql.set_after_insert([](const NewBooking&, int64_t) { RandomPause(40); });
  sql.set_observer([&oracle](const FakeSqlClient::Observed& e) {
    if (!e.insert) return;
    std::lock_guard<std::mutex> lock(oracle.mu);
    std::vector<int64_t>& c = oracle.commits[e.passenger_id];
    c.push_back(oracle.clock.fetch_add(1));
    EXPECT_EQ(e.count, e.passenger_id + static_cast<int64_t>(c.size()));
  });
  kv.set_before([&oracle](KvMethod method, std::string_view) {
    if (method == KvMethod::kGet) tl_get_tick = oracle.clock.fetch_add(1);
    RandomPause(20);
  });
  kv.set_after_get([](std::string_view, const std::string* value) {
    tl_get_hit = value != nullptr;
    if (value != nullptr) tl_get_value = *value;
    RandomPause(20);
  });

  std::vector<std::vector<HitRecord>> hits(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937_64 rng(1000 + static_cast<uint64_t>(t) * 7919 +
                          static_cast<uint64_t>(run.policy) * 31);
      tl_rng = &rng;
      LossySql lossy(&sql, run.lose_one_in);
      CacheAside::Options options;
      options.versions = &versions;
      options.thread_index = t;
      CacheAside ca(&kv, &lossy, scenario, options);
      for (int i = 0; i < kOpsPerThread; ++i) {
        const int64_t id = kKeys[rng() % 3];
        if (rng() % 10 < 3) {
          ca.Write(BookingOf(id, absl::StrCat(t, i % 1000)));
          continue;
        }
        tl_get_hit = false;
        const OpResult r = ca.Read(id);
        if (!tl_get_hit || r.op_class == OpClass::kError) continue;
        // The read's last GET hit: the one the pattern classified.
        BookingCount row;
        ASSERT_TRUE(DecodeBookingCount(tl_get_value, &row)) << tl_get_value;
        hits[static_cast<size_t>(t)].push_back(HitRecord{.passenger = id,
                                                         .count = row.count,
                                                         .get_tick = tl_get_tick,
                                                         .cls = r.Has(kEventStale) ? Class::kStale
                                                                : r.Has(kEventStaleUncertain)
                                                                    ? Class::kUncertain
                                                                    : Class::kFresh});
      }
      tl_rng = nullptr;
    });
  }
  for (std::thread& th : threads) th.join();
  sql.set_observer(nullptr);

  int64_t total = 0, stale = 0, uncertain = 0, truly = 0;
  int wrong = 0;
  for (const auto& per_thread : hits) {
    for (const HitRecord& h : per_thread) {
      const std::vector<int64_t>& commits = oracle.commits[h.passenger];
      const auto included = static_cast<size_t>(h.count - h.passenger);
      ASSERT_LE(included, commits.size());
      // Stale: the first commit the value lacks came before the GET's send.
      const bool truth = included < commits.size() && commits[included] < h.get_tick;
      ++total;
      truly += truth;
      stale += h.cls == Class::kStale;
      uncertain += h.cls == Class::kUncertain;
      const bool ok = (h.cls != Class::kStale || truth) && (h.cls != Class::kFresh || !truth);
      if (!ok && ++wrong <= 10) {
        ADD_FAILURE() << "passenger " << h.passenger << " count " << h.count << " (includes "
                      << included << " of " << commits.size() << " commits) GET at " << h.get_tick
                      << ": " << Name(h.cls) << ", truly " << (truth ? "stale" : "fresh");
      }
    }
  }
  EXPECT_EQ(wrong, 0);
  EXPECT_LE(stale, truly);
  EXPECT_LE(truly, stale + uncertain);
  // The run is contended enough to say something.
  EXPECT_GT(total, 200);
  EXPECT_GT(truly, 0);
  EXPECT_GT(stale + uncertain, 0);
  std::printf("%s: %lld hits, %lld stale, %lld uncertain, %lld truly stale\n", run.name,
              static_cast<long long>(total), static_cast<long long>(stale),
              static_cast<long long>(uncertain), static_cast<long long>(truly));
}

INSTANTIATE_TEST_SUITE_P(
    Runs, RandomizedOracleTest,
    ::testing::Values(
        RandomRun{.name = "Refresh", .policy = WritePolicy::kRefresh},
        RandomRun{.name = "Invalidate", .policy = WritePolicy::kInvalidate},
        RandomRun{.name = "TtlOnly", .policy = WritePolicy::kTtlOnly},
        RandomRun{
            .name = "SingleFlight", .policy = WritePolicy::kInvalidate, .single_flight = true},
        RandomRun{.name = "EarlyRefresh", .policy = WritePolicy::kRefresh, .beta = 1e6},
        RandomRun{.name = "LostReplies", .policy = WritePolicy::kInvalidate, .lose_one_in = 8}),
    [](const ::testing::TestParamInfo<RandomRun>& param) { return std::string(param.param.name); });

}  // namespace
}  // namespace cabench
