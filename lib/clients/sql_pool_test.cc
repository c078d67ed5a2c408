// Unit tests of SqlPool and PooledSqlClient over in-memory fakes. Each pooled
// connection is a TrackedConnection around its own FakeSqlClient: it counts
// how many connections are in use at once, notices two threads on one
// connection, and behaves like the real client after an Unavailable (broken
// until Reconnect()), counting calls that reach it while broken. Its own
// per-connection state is deliberately unsynchronized, so that
// ThreadSanitizer reports any lending that is not ordered by the pool.
#include "lib/clients/sql_pool.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/clients/sql_client.h"
#include "lib/metrics/names.h"
#include "lib/testing/fake_sql_client.h"
#include "lib/testing/status_matchers.h"

namespace cabench {
namespace {

using ::testing::_;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Key;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;

constexpr int64_t kMs = 1'000'000;

// Matches an absl::StatusOr<T> that holds a value equal to `value`.
MATCHER_P(HoldsValue, value, "holds " + ::testing::PrintToString(value)) {
  if (!arg.ok()) {
    *result_listener << "status is " << arg.status();
    return false;
  }
  return *arg == value;
}

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// What every connection of one test saw.
struct Tracker {
  std::atomic<int> in_use{0};
  std::atomic<int> max_in_use{0};
  std::atomic<int> overlaps{0};            // two calls on one connection at once
  std::atomic<int> calls_while_broken{0};  // the pool lent a broken connection
  std::atomic<int64_t> calls{0};           // calls other than Reconnect()
  std::atomic<int> destroyed{0};
  std::mutex mu;
  std::vector<int64_t> order;  // passenger ids of QueryBookingCount, in call order
};

class TrackedConnection : public SqlClient {
 public:
  TrackedConnection(int index, FakeSqlClient* fake, Tracker* tracker)
      : index_(index), fake_(fake), tracker_(tracker) {}
  ~TrackedConnection() override { ++tracker_->destroyed; }

  absl::Status QueryBookingCount(int64_t passenger_id, BookingCount* result) override {
    return Call<absl::Status>([&] {
      {
        std::lock_guard<std::mutex> lock(tracker_->mu);
        tracker_->order.push_back(passenger_id);
      }
      return fake_->QueryBookingCount(passenger_id, result);
    });
  }
  absl::StatusOr<int64_t> InsertBooking(const NewBooking& booking) override {
    return Call<absl::StatusOr<int64_t>>([&] { return fake_->InsertBooking(booking); });
  }
  absl::StatusOr<int64_t> Execute(std::string_view sql) override {
    return Call<absl::StatusOr<int64_t>>([&] { return fake_->Execute(sql); });
  }
  // "SELECT CONNECTION_ID()" answers this connection's index (and a NULL),
  // so that tests can see which connection served them.
  absl::StatusOr<std::optional<std::vector<std::optional<std::string>>>> QueryRow(
      std::string_view sql) override {
    using Row = std::optional<std::vector<std::optional<std::string>>>;
    return Call<absl::StatusOr<Row>>([&]() -> absl::StatusOr<Row> {
      if (sql != "SELECT CONNECTION_ID()") return fake_->QueryRow(sql);
      if (absl::Status s = fake_->Ping(); !s.ok()) return s;
      return Row(std::vector<std::optional<std::string>>{std::to_string(index_), std::nullopt});
    });
  }
  absl::StatusOr<std::vector<std::pair<std::string, std::string>>> QueryPairs(
      std::string_view sql) override {
    return Call<absl::StatusOr<std::vector<std::pair<std::string, std::string>>>>(
        [&] { return fake_->QueryPairs(sql); });
  }
  absl::Status Ping() override {
    return Call<absl::Status>([&] { return fake_->Ping(); });
  }
  absl::StatusOr<std::string> ServerInfo() override {
    return Call<absl::StatusOr<std::string>>([&] { return fake_->ServerInfo(); });
  }
  absl::Status Reconnect() override {
    Enter();
    absl::Status status = fake_->Reconnect();
    if (status.ok()) broken_ = false;
    Leave();
    return status;
  }

 private:
  void Enter() {
    const int now = ++tracker_->in_use;
    int max = tracker_->max_in_use.load();
    while (now > max && !tracker_->max_in_use.compare_exchange_weak(max, now)) {
    }
    if (busy_.exchange(true)) ++tracker_->overlaps;
    ++uses_;  // plain: a race here is a pool bug for TSan to report
  }
  void Leave() {
    busy_.store(false);
    --tracker_->in_use;
  }

  // Runs `call` like the real client would: fast Unavailable while broken.
  template <typename Result, typename F>
  Result Call(F call) {
    Enter();
    ++tracker_->calls;
    Result result = absl::UnavailableError("tracked: broken until Reconnect()");
    if (broken_) {
      ++tracker_->calls_while_broken;
    } else {
      result = call();
      if (absl::IsUnavailable(testing_internal::GetStatus(result))) broken_ = true;
    }
    Leave();
    return result;
  }

  const int index_;
  FakeSqlClient* const fake_;
  Tracker* const tracker_;
  std::atomic<bool> busy_{false};
  bool broken_ = false;
  int64_t uses_ = 0;
};

class SqlPoolTest : public ::testing::Test {
 protected:
  // A pool of `size` TrackedConnections over fakes_[0 .. size-1].
  std::shared_ptr<SqlPool> MakePool(int size, int64_t timeout_ms) {
    for (int i = static_cast<int>(fakes_.size()); i < size; ++i) {
      fakes_.push_back(std::make_unique<FakeSqlClient>());
    }
    int next = 0;
    absl::StatusOr<std::shared_ptr<SqlPool>> pool =
        SqlPool::Create(size,
                        [&]() -> absl::StatusOr<std::unique_ptr<SqlClient>> {
                          const int i = next++;
                          return std::make_unique<TrackedConnection>(
                              i, fakes_[static_cast<size_t>(i)].get(), &tracker_);
                        },
                        {.timeout_ms = timeout_ms});
    EXPECT_THAT(pool, IsOk());
    return pool.ok() ? *pool : nullptr;
  }

  // The index of the connection a call of `client` gets.
  static std::string ConnectionOf(PooledSqlClient& client) {
    auto row = client.QueryRow("SELECT CONNECTION_ID()");
    if (!row.ok() || !row->has_value()) return "?";
    return (**row)[0].value_or("?");
  }

  // Waits (at most 10 s) until `n` connections are in a call.
  void AwaitInUse(int n) {
    const int64_t deadline = NowNs() + 10'000 * kMs;
    while (tracker_.in_use.load() < n && NowNs() < deadline) {
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    ASSERT_GE(tracker_.in_use.load(), n);
  }

  void ExpectNoMisuse(int size) {
    EXPECT_LE(tracker_.max_in_use.load(), size);
    EXPECT_EQ(tracker_.overlaps.load(), 0);
    EXPECT_EQ(tracker_.calls_while_broken.load(), 0);
  }

  Tracker tracker_;
  std::vector<std::unique_ptr<FakeSqlClient>> fakes_;  // outlive the pools
};

TEST_F(SqlPoolTest, CreateRejectsBadArgumentsAndReportsFactoryErrors) {
  auto factory = []() -> absl::StatusOr<std::unique_ptr<SqlClient>> {
    return std::make_unique<FakeSqlClient>();
  };
  EXPECT_THAT(SqlPool::Create(0, factory, {}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("size")));
  EXPECT_THAT(SqlPool::Create(2, factory, {.timeout_ms = 0}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("timeout_ms")));
  EXPECT_THAT(SqlPool::Create(2, nullptr, {}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("factory")));

  fakes_.push_back(std::make_unique<FakeSqlClient>());
  int made = 0;
  EXPECT_THAT(SqlPool::Create(4,
                              [&]() -> absl::StatusOr<std::unique_ptr<SqlClient>> {
                                if (made == 2)
                                  return absl::PermissionDeniedError("mysql 1045: denied");
                                ++made;
                                return std::make_unique<TrackedConnection>(0, fakes_[0].get(),
                                                                           &tracker_);
                              },
                              {}),
              StatusIs(absl::StatusCode::kPermissionDenied,
                       "db pool: connection 3 of 4: mysql 1045: denied"));
  EXPECT_EQ(tracker_.destroyed.load(), 2);  // the two made are closed
  EXPECT_THAT(SqlPool::Create(
                  1, []() -> absl::StatusOr<std::unique_ptr<SqlClient>> { return nullptr; }, {}),
              StatusIs(absl::StatusCode::kInternal, HasSubstr("null")));
}

TEST_F(SqlPoolTest, ResultsPassThroughUnchanged) {
  std::shared_ptr<SqlPool> pool = MakePool(1, 1000);
  ASSERT_NE(pool, nullptr);
  PooledSqlClient sql(pool);

  BookingCount row;
  ASSERT_THAT(sql.QueryBookingCount(5, &row), IsOk());
  EXPECT_TRUE(row.found);
  EXPECT_EQ(row.firstname, "First5");
  EXPECT_EQ(row.lastname, "Last5");
  EXPECT_EQ(row.count, 1);
  ASSERT_THAT(sql.QueryBookingCount(8, &row), IsOk());
  EXPECT_FALSE(row.found);  // every 4th passenger has no booking

  const NewBooking booking{.flight_id = 7, .seat = "12C", .passenger_id = 5, .price_cents = 100};
  EXPECT_THAT(sql.InsertBooking(booking), HoldsValue(1000001));
  EXPECT_EQ(fakes_[0]->BookingCountOf(5), 2);
  // A server error passes through and does not break the connection.
  EXPECT_THAT(sql.InsertBooking(booking),
              StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr("mysql 1062")));
  EXPECT_THAT(sql.InsertBooking({.flight_id = 7, .seat = "12D", .passenger_id = 5}),
              HoldsValue(1000002));

  EXPECT_THAT(sql.Execute("DELETE FROM booking"), HoldsValue(0));
  EXPECT_THAT(sql.QueryRow("SELECT 1"),
              HoldsValue(std::optional<std::vector<std::optional<std::string>>>()));
  EXPECT_THAT(fakes_[0]->statements(), ElementsAre("DELETE FROM booking", "SELECT 1"));
  ASSERT_OK_AND_ASSIGN(auto pairs, sql.QueryPairs("SHOW GLOBAL STATUS"));
  EXPECT_THAT(pairs, Contains(Pair("Com_select", "2")));
  auto id = sql.QueryRow("SELECT CONNECTION_ID()");
  ASSERT_THAT(id, IsOk());
  EXPECT_EQ(*id, (std::vector<std::optional<std::string>>{"0", std::nullopt}));
  EXPECT_THAT(sql.ServerInfo(), HoldsValue(std::string("fake-sql 1.0")));
  EXPECT_THAT(sql.Ping(), IsOk());
  EXPECT_THAT(sql.Reconnect(), IsOk());  // nothing broken: nothing to do
  EXPECT_EQ(fakes_[0]->calls(SqlMethod::kReconnect), 0);

  const SqlPoolStats stats = pool->Stats();
  EXPECT_EQ(stats.size, 1);
  EXPECT_EQ(stats.clients, 1);
  EXPECT_EQ(stats.borrows, 11);
  EXPECT_EQ(stats.wait_ns.Count(), 11);  // zero waits are waits too
  EXPECT_EQ(stats.connections_broken, 0);
  EXPECT_EQ(stats.max_in_use, 1);
}

TEST_F(SqlPoolTest, NThreadsNeverUseMoreThanMConnections) {
  constexpr int kConnections = 4;
  constexpr int kThreads = 16;
  constexpr int kCalls = 100;
  std::shared_ptr<SqlPool> pool = MakePool(kConnections, 10'000);
  ASSERT_NE(pool, nullptr);
  for (auto& fake : fakes_) fake->SetLatencyNs(SqlMethod::kQueryBookingCount, 200'000);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      PooledSqlClient sql(pool);
      BookingCount row;
      for (int i = 0; i < kCalls; ++i) {
        const int64_t id = 1 + (t * kCalls + i) % 999;
        if (!sql.QueryBookingCount(id, &row).ok() || row.found != (id % 4 != 0) ||
            (row.found && row.firstname != "First" + std::to_string(id))) {
          ++failures;
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  ExpectNoMisuse(kConnections);
  EXPECT_EQ(tracker_.max_in_use.load(), kConnections);  // and the pool is used
  const SqlPoolStats stats = pool->Stats();
  EXPECT_EQ(stats.borrows, kThreads * kCalls);
  EXPECT_EQ(stats.wait_ns.Count(), kThreads * kCalls);
  EXPECT_EQ(stats.max_in_use, kConnections);
  EXPECT_EQ(stats.clients, 0);
  // 16 threads on 4 connections of 0.2 ms: most calls wait for about 3 others.
  EXPECT_GT(stats.wait_ns.Mean(), 100'000);
  EXPECT_EQ(stats.timeouts, 0);
}

TEST_F(SqlPoolTest, TheWaitIsRecordedAndInsideTheCall) {
  std::shared_ptr<SqlPool> pool = MakePool(1, 10'000);
  ASSERT_NE(pool, nullptr);
  fakes_[0]->SetLatencyNs(SqlMethod::kQueryBookingCount, 200 * kMs);
  std::thread holder([&] {
    PooledSqlClient sql(pool);
    BookingCount row;
    EXPECT_THAT(sql.QueryBookingCount(1, &row), IsOk());
  });
  AwaitInUse(1);
  PooledSqlClient sql(pool);
  const int64_t start = NowNs();
  EXPECT_THAT(sql.Ping(), IsOk());  // waits for the holder's connection
  const int64_t took = NowNs() - start;
  holder.join();
  const SqlPoolStats stats = pool->Stats();
  EXPECT_EQ(stats.wait_ns.Count(), 2);
  EXPECT_GE(stats.wait_ns.Max(), 100 * kMs);
  EXPECT_LE(stats.wait_ns.Max(), took);
  EXPECT_EQ(stats.timeouts, 0);
}

TEST_F(SqlPoolTest, AWaitLongerThanTheTimeoutFailsWithResourceExhausted) {
  std::shared_ptr<SqlPool> pool = MakePool(1, 50);
  ASSERT_NE(pool, nullptr);
  fakes_[0]->SetLatencyNs(SqlMethod::kQueryBookingCount, 500 * kMs);
  PooledSqlClient waiting(pool);
  std::thread holder([&] {
    PooledSqlClient sql(pool);
    BookingCount row;
    EXPECT_THAT(sql.QueryBookingCount(1, &row), IsOk());  // the holder is not hurt
  });
  AwaitInUse(1);
  const int64_t start = NowNs();
  BookingCount row;
  EXPECT_THAT(waiting.QueryBookingCount(2, &row),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       "db pool: no connection free within 50 ms (1 connection for 2 threads)"));
  const int64_t took = NowNs() - start;
  EXPECT_GE(took, 50 * kMs);
  EXPECT_LT(took, 450 * kMs);
  holder.join();
  const SqlPoolStats stats = pool->Stats();
  EXPECT_EQ(stats.timeouts, 1);
  EXPECT_EQ(stats.borrows, 1);
  EXPECT_EQ(stats.wait_ns.Count(), 2);  // the timeout's wait is recorded
  EXPECT_GE(stats.wait_ns.Max(), 50 * kMs);
  EXPECT_EQ(tracker_.order, std::vector<int64_t>{1});  // the timed-out call ran nothing
  // The pool is fine afterwards.
  EXPECT_THAT(waiting.QueryBookingCount(2, &row), IsOk());
}

TEST_F(SqlPoolTest, WaitersAreServedFirstComeFirstServed) {
  std::shared_ptr<SqlPool> pool = MakePool(1, 10'000);
  ASSERT_NE(pool, nullptr);
  fakes_[0]->SetLatencyNs(SqlMethod::kQueryBookingCount, 150 * kMs);
  // Thread 1 asks again as soon as its first call returns; the two threads
  // that queued meanwhile go first all the same.
  auto run = [&](std::vector<int64_t> ids) {
    PooledSqlClient sql(pool);
    BookingCount row;
    for (int64_t id : ids) EXPECT_THAT(sql.QueryBookingCount(id, &row), IsOk());
  };
  std::thread first(run, std::vector<int64_t>{1, 4});
  AwaitInUse(1);
  std::thread second(run, std::vector<int64_t>{2});
  std::this_thread::sleep_for(std::chrono::milliseconds(40));
  std::thread third(run, std::vector<int64_t>{3});
  first.join();
  second.join();
  third.join();
  EXPECT_EQ(tracker_.order, (std::vector<int64_t>{1, 2, 3, 4}));
}

TEST_F(SqlPoolTest, ABrokenConnectionIsSkippedUntilReconnect) {
  std::shared_ptr<SqlPool> pool = MakePool(2, 1000);
  ASSERT_NE(pool, nullptr);
  PooledSqlClient sql(pool);
  ASSERT_EQ(ConnectionOf(sql), "0");  // the first borrow takes connection 0
  fakes_[0]->FailNext(SqlMethod::kQueryBookingCount, 1,
                      absl::UnavailableError("mysql 2013: Lost connection"));
  BookingCount row;
  EXPECT_THAT(sql.QueryBookingCount(1, &row),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("mysql 2013")));
  // Connection 1 serves everyone; connection 0 is never lent while broken.
  for (int i = 0; i < 5; ++i) EXPECT_EQ(ConnectionOf(sql), "1");
  EXPECT_EQ(pool->Stats().connections_broken, 1);

  ASSERT_THAT(sql.Reconnect(), IsOk());
  EXPECT_EQ(fakes_[0]->calls(SqlMethod::kReconnect), 1);
  EXPECT_EQ(fakes_[1]->calls(SqlMethod::kReconnect), 0);  // it was never broken
  EXPECT_EQ(ConnectionOf(sql), "0");                      // back in service
  EXPECT_THAT(sql.QueryBookingCount(1, &row), IsOk());
  EXPECT_EQ(pool->Stats().reconnects, 1);
  ExpectNoMisuse(2);
}

TEST_F(SqlPoolTest, WhenEveryConnectionIsBrokenCallsFailFastUntilReconnect) {
  std::shared_ptr<SqlPool> pool = MakePool(1, 10'000);
  ASSERT_NE(pool, nullptr);
  PooledSqlClient sql(pool);
  fakes_[0]->FailNext(SqlMethod::kPing, 1, absl::UnavailableError("mysql 2006: gone away"));
  EXPECT_THAT(sql.Ping(), StatusIs(absl::StatusCode::kUnavailable, HasSubstr("mysql 2006")));
  const int64_t calls = fakes_[0]->total_calls();
  BookingCount row;
  EXPECT_THAT(sql.QueryBookingCount(1, &row),
              StatusIs(absl::StatusCode::kUnavailable,
                       "db pool: the connection is broken (last error: mysql 2006: gone away); "
                       "Reconnect() brings them back"));
  EXPECT_EQ(fakes_[0]->total_calls(), calls);  // failed without touching it

  // A failed reconnect leaves it broken and returns the reconnect's error.
  fakes_[0]->FailNext(SqlMethod::kReconnect, 1, absl::UnavailableError("mysql 2002: refused"));
  EXPECT_THAT(sql.Reconnect(), StatusIs(absl::StatusCode::kUnavailable, HasSubstr("mysql 2002")));
  EXPECT_THAT(sql.InsertBooking({.flight_id = 1, .seat = "1A", .passenger_id = 1}),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("broken")));
  ASSERT_THAT(sql.Reconnect(), IsOk());
  EXPECT_THAT(sql.QueryBookingCount(1, &row), IsOk());

  const SqlPoolStats stats = pool->Stats();
  EXPECT_EQ(stats.broken_failures, 2);
  EXPECT_EQ(stats.reconnects, 1);
  EXPECT_EQ(stats.reconnect_failures, 1);
  EXPECT_EQ(stats.wait_ns.Count(), stats.borrows);  // fast failures are no waits
  ExpectNoMisuse(1);
}

TEST_F(SqlPoolTest, WaitersFailFastWhenTheLastConnectionBreaks) {
  std::shared_ptr<SqlPool> pool = MakePool(1, 10'000);
  ASSERT_NE(pool, nullptr);
  fakes_[0]->SetLatencyNs(SqlMethod::kQueryBookingCount, 200 * kMs);
  fakes_[0]->FailNext(SqlMethod::kQueryBookingCount, 1,
                      absl::UnavailableError("mysql 2013: Lost connection"));
  std::thread holder([&] {
    PooledSqlClient sql(pool);
    BookingCount row;
    EXPECT_THAT(sql.QueryBookingCount(1, &row), StatusIs(absl::StatusCode::kUnavailable, _));
  });
  AwaitInUse(1);
  PooledSqlClient sql(pool);
  const int64_t start = NowNs();
  EXPECT_THAT(sql.Ping(), StatusIs(absl::StatusCode::kUnavailable, HasSubstr("broken")));
  EXPECT_LT(NowNs() - start, 5'000 * kMs);  // not the 10 s timeout
  holder.join();
  EXPECT_EQ(pool->Stats().timeouts, 0);
}

TEST_F(SqlPoolTest, ReconnectWaitsForAnotherThreadsReconnect) {
  std::shared_ptr<SqlPool> pool = MakePool(1, 10'000);
  ASSERT_NE(pool, nullptr);
  PooledSqlClient sql(pool);
  fakes_[0]->FailNext(SqlMethod::kPing, 1, absl::UnavailableError("mysql 2013: lost"));
  ASSERT_THAT(sql.Ping(), StatusIs(absl::StatusCode::kUnavailable, _));
  fakes_[0]->SetLatencyNs(SqlMethod::kReconnect, 150 * kMs);
  std::thread other([&] {
    PooledSqlClient mine(pool);
    EXPECT_THAT(mine.Reconnect(), IsOk());
  });
  AwaitInUse(1);  // the other thread is reconnecting the only connection
  const int64_t start = NowNs();
  EXPECT_THAT(sql.Reconnect(), IsOk());
  EXPECT_GE(NowNs() - start, 50 * kMs);
  other.join();
  EXPECT_EQ(fakes_[0]->calls(SqlMethod::kReconnect), 1);
  EXPECT_THAT(sql.Ping(), IsOk());
}

TEST_F(SqlPoolTest, CountersForTheRun) {
  std::shared_ptr<SqlPool> pool = MakePool(3, 1000);
  ASSERT_NE(pool, nullptr);
  EXPECT_THAT(SqlPoolCounters(pool->Stats()),
              UnorderedElementsAre(Key(CounterId::kDbPoolSize), Key(CounterId::kDbPoolTimeouts)));
  PooledSqlClient sql(pool);
  for (int i = 0; i < 10; ++i) ASSERT_THAT(sql.Ping(), IsOk());
  const SqlPoolStats stats = pool->Stats();
  std::map<CounterId, double> counters = SqlPoolCounters(stats);
  EXPECT_EQ(counters.size(), 4u);
  EXPECT_EQ(counters[CounterId::kDbPoolSize], 3);
  EXPECT_EQ(counters[CounterId::kDbPoolTimeouts], 0);
  EXPECT_DOUBLE_EQ(counters[CounterId::kDbPoolWaitAvgUs], stats.wait_ns.Mean() / 1e3);
  EXPECT_DOUBLE_EQ(counters[CounterId::kDbPoolWaitP99Us], stats.wait_ns.Percentile(99) / 1e3);

  pool->ResetStats();
  const SqlPoolStats reset = pool->Stats();
  EXPECT_EQ(reset.size, 3);
  EXPECT_EQ(reset.clients, 1);
  EXPECT_EQ(reset.borrows, 0);
  EXPECT_EQ(reset.wait_ns.Count(), 0);
}

// Many threads, few connections, random outages of single connections and
// short timeouts: the invariants hold and the books balance. Run it under
// ThreadSanitizer too.
TEST_F(SqlPoolTest, StressManyThreadsWithFailuresAndReconnects) {
  constexpr int kConnections = 3;
  constexpr int kThreads = 24;
  constexpr int kCalls = 300;
  std::shared_ptr<SqlPool> pool = MakePool(kConnections, 5);
  ASSERT_NE(pool, nullptr);
  for (auto& fake : fakes_) {
    fake->SetLatencyNs(SqlMethod::kQueryBookingCount, 20'000);
    fake->FailEvery(SqlMethod::kQueryBookingCount, 53, absl::UnavailableError("mysql 2013"));
    fake->FailEvery(SqlMethod::kReconnect, 3, absl::UnavailableError("mysql 2002"));
  }
  std::atomic<int64_t> attempts{0};
  std::atomic<int64_t> ok{0};
  std::atomic<int64_t> exhausted{0};
  std::atomic<int64_t> other_errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      PooledSqlClient sql(pool);
      std::mt19937_64 rng(t);
      BookingCount row;
      for (int i = 0; i < kCalls; ++i) {
        absl::Status status;
        switch (rng() % 4) {
          case 0:
            status =
                sql.InsertBooking(
                       {.flight_id = t, .seat = std::to_string(i), .passenger_id = 1 + i % 999})
                    .status();
            break;
          case 1:
            status = sql.Ping();
            break;
          default:
            status = sql.QueryBookingCount(1 + (i * 7 + t) % 999, &row);
        }
        ++attempts;
        if (status.ok()) {
          ++ok;
        } else if (absl::IsResourceExhausted(status)) {
          ++exhausted;
        } else if (absl::IsUnavailable(status)) {
          // As the Reconnector does: reconnect between operations.
          for (int tries = 0; tries < 100 && !sql.Reconnect().ok(); ++tries) {
            std::this_thread::sleep_for(std::chrono::microseconds(100));
          }
        } else {
          ++other_errors;  // AlreadyExists: each thread books its own flight
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  ExpectNoMisuse(kConnections);
  EXPECT_EQ(other_errors.load(), 0);
  const SqlPoolStats stats = pool->Stats();
  EXPECT_EQ(stats.borrows, tracker_.calls.load());
  EXPECT_EQ(stats.timeouts, exhausted.load());
  EXPECT_EQ(stats.borrows + stats.timeouts + stats.broken_failures, attempts.load());
  EXPECT_EQ(stats.wait_ns.Count(), stats.borrows + stats.timeouts);
  EXPECT_GT(stats.connections_broken, 0);
  EXPECT_GT(stats.reconnects, 0);
  EXPECT_GT(ok.load(), attempts.load() / 2);
  EXPECT_LE(stats.max_in_use, kConnections);
  EXPECT_EQ(stats.clients, 0);
}

}  // namespace
}  // namespace cabench
