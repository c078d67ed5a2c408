// Tests of the in-memory fakes themselves: SetIfAbsent and DelIfEquals on
// FakeKvClient and NullKvClient, FakeKvClient's hooks, and FakeSqlClient's
// stored bookings, interleaving hooks and observer, on which the pattern's
// single-flight and stale-read tests rely.
#include <atomic>
#include <cstdint>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/clients/sql_client.h"
#include "lib/testing/fake_kv_client.h"
#include "lib/testing/fake_sql_client.h"
#include "lib/testing/null_clients.h"
#include "lib/testing/status_matchers.h"
#include "lib/testing/virtual_clock.h"

namespace cabench {
namespace {

using ::testing::_;
using ::testing::HasSubstr;

TEST(FakeKvClientTest, SetIfAbsentSetsOnlyAnAbsentKey) {
  VirtualClock clock;
  FakeKvClient kv(&clock);
  ASSERT_OK_AND_ASSIGN(bool set, kv.SetIfAbsent("lock:1", "a", 100));
  EXPECT_TRUE(set);
  EXPECT_EQ(kv.Peek("lock:1"), "a");
  EXPECT_EQ(kv.LastTtlMs("lock:1"), 100);

  clock.AdvanceMs(40);
  ASSERT_OK_AND_ASSIGN(set, kv.SetIfAbsent("lock:1", "b", 500));
  EXPECT_FALSE(set);
  EXPECT_EQ(kv.Peek("lock:1"), "a") << "a refused SET NX must not overwrite";
  EXPECT_EQ(kv.LastTtlMs("lock:1"), 100) << "nor renew the TTL";
  // Still live at exactly set time + ttl (Redis' rule), gone 1 ns later.
  clock.AdvanceMs(60);
  ASSERT_OK_AND_ASSIGN(set, kv.SetIfAbsent("lock:1", "c", 500));
  EXPECT_FALSE(set);
  clock.AdvanceNs(1);
  ASSERT_OK_AND_ASSIGN(set, kv.SetIfAbsent("lock:1", "d", 500));
  EXPECT_TRUE(set) << "an expired key counts as absent";
  EXPECT_EQ(kv.Peek("lock:1"), "d");

  // A plain SET or a DEL in between behaves as on a server.
  ASSERT_THAT(kv.Del("lock:1"), IsOk());
  ASSERT_OK_AND_ASSIGN(set, kv.SetIfAbsent("lock:1", "e", 500));
  EXPECT_TRUE(set);
  ASSERT_THAT(kv.Set("other", "v", 500), IsOk());
  ASSERT_OK_AND_ASSIGN(set, kv.SetIfAbsent("other", "w", 500));
  EXPECT_FALSE(set);
  EXPECT_EQ(kv.calls(KvMethod::kSetIfAbsent), 6);
  EXPECT_EQ(kv.calls(KvMethod::kSet), 1);
}

TEST(FakeKvClientTest, SetIfAbsentRejectsNonPositiveTtl) {
  FakeKvClient kv;
  for (int64_t ttl : {int64_t{0}, int64_t{-5}}) {
    EXPECT_THAT(kv.SetIfAbsent("k", "v", ttl),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("ttl")));
  }
  EXPECT_FALSE(kv.Contains("k")) << "a rejected SET NX must not write";
}

TEST(FakeKvClientTest, SetIfAbsentHonoursInjectedFaults) {
  FakeKvClient kv;
  kv.FailNext(KvMethod::kSetIfAbsent, 1, absl::InternalError("injected"));
  EXPECT_THAT(kv.SetIfAbsent("k", "v", 100),
              StatusIs(absl::StatusCode::kInternal, HasSubstr("injected")));
  EXPECT_FALSE(kv.Contains("k")) << "a failed call does nothing";
  ASSERT_OK_AND_ASSIGN(bool set, kv.SetIfAbsent("k", "v", 100));
  EXPECT_TRUE(set);
  EXPECT_EQ(kv.calls(KvMethod::kSetIfAbsent), 2) << "failed calls count too";
  EXPECT_EQ(kv.calls(KvMethod::kSet), 0) << "SET NX is counted apart from SET";
  EXPECT_EQ(kv.total_calls(), 2);

  // Faults on Set do not reach SetIfAbsent, and the reverse.
  kv.FailNext(KvMethod::kSet, 1, absl::InternalError("set only"));
  ASSERT_OK_AND_ASSIGN(set, kv.SetIfAbsent("k2", "v", 100));
  EXPECT_TRUE(set);

  // An Unavailable breaks an emulated connection until Reconnect().
  kv.ClearFailures();
  kv.set_emulate_broken(true);
  kv.FailNext(KvMethod::kSetIfAbsent, 1, absl::UnavailableError("reset"));
  EXPECT_THAT(kv.SetIfAbsent("k3", "v", 100), StatusIs(absl::StatusCode::kUnavailable, _));
  EXPECT_THAT(kv.SetIfAbsent("k3", "v", 100),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("broken")));
  ASSERT_THAT(kv.Reconnect(), IsOk());
  ASSERT_OK_AND_ASSIGN(set, kv.SetIfAbsent("k3", "v", 100));
  EXPECT_TRUE(set);
}

TEST(FakeKvClientTest, SetIfAbsentHasOneWinnerAmongRacingThreads) {
  FakeKvClient kv;
  constexpr int kThreads = 8;
  constexpr int kKeys = 200;
  std::vector<std::atomic<int>> winners(kKeys);
  for (auto& w : winners) w = 0;
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int k = 0; k < kKeys; ++k) {
        absl::StatusOr<bool> set = kv.SetIfAbsent(absl::StrCat("lock:", k), absl::StrCat(t), 60000);
        if (!set.ok()) {
          ++errors;
        } else if (*set) {
          ++winners[static_cast<size_t>(k)];
        }
      }
    });
  }
  for (std::thread& th : threads) th.join();
  EXPECT_EQ(errors.load(), 0);
  for (int k = 0; k < kKeys; ++k) EXPECT_EQ(winners[static_cast<size_t>(k)].load(), 1) << k;
  EXPECT_EQ(kv.calls(KvMethod::kSetIfAbsent), kThreads * kKeys);
}

TEST(FakeKvClientTest, DelIfEqualsDeletesOnlyTheGivenValue) {
  VirtualClock clock;
  FakeKvClient kv(&clock);
  ASSERT_OK_AND_ASSIGN(bool set, kv.SetIfAbsent("lock:1", "token-a", 100));
  ASSERT_TRUE(set);
  ASSERT_OK_AND_ASSIGN(bool deleted, kv.DelIfEquals("lock:1", "token-b"));
  EXPECT_FALSE(deleted);
  EXPECT_EQ(kv.Peek("lock:1"), "token-a") << "another value is left alone";
  ASSERT_OK_AND_ASSIGN(deleted, kv.DelIfEquals("lock:1", "token-a"));
  EXPECT_TRUE(deleted);
  EXPECT_FALSE(kv.Contains("lock:1"));
  ASSERT_OK_AND_ASSIGN(deleted, kv.DelIfEquals("lock:1", "token-a"));
  EXPECT_FALSE(deleted) << "absent";
  // An expired key is absent, even with the value.
  ASSERT_THAT(kv.Set("lock:2", "t", 10), IsOk());
  clock.AdvanceMs(11);
  ASSERT_OK_AND_ASSIGN(deleted, kv.DelIfEquals("lock:2", "t"));
  EXPECT_FALSE(deleted);
  kv.FailNext(KvMethod::kDelIfEquals, 1, absl::UnavailableError("reset"));
  ASSERT_THAT(kv.Set("lock:3", "t", 100), IsOk());
  EXPECT_THAT(kv.DelIfEquals("lock:3", "t").status(), StatusIs(absl::StatusCode::kUnavailable, _));
  EXPECT_TRUE(kv.Contains("lock:3")) << "a failed call does nothing";
  EXPECT_EQ(kv.calls(KvMethod::kDelIfEquals), 5);
  EXPECT_EQ(kv.calls(KvMethod::kDel), 0);
}

TEST(FakeKvClientTest, HooksSeeKeyCommandsBeforeTheyRunAndWhatGetReturned) {
  FakeKvClient kv;
  std::vector<std::string> before;
  std::vector<std::string> got;
  kv.set_before([&](KvMethod method, std::string_view key) {
    before.push_back(absl::StrCat(static_cast<int>(method), ":", std::string(key)));
    // The command has not run yet.
    if (method == KvMethod::kDel) {
      EXPECT_TRUE(kv.Contains(key));
    }
  });
  kv.set_after_get([&](std::string_view key, const std::string* value) {
    got.push_back(absl::StrCat(std::string(key), "=", value == nullptr ? "(miss)" : *value));
  });
  std::string value;
  ASSERT_THAT(kv.Get("a", &value).status(), IsOk());
  ASSERT_THAT(kv.Set("a", "1", 100), IsOk());
  ASSERT_THAT(kv.Get("a", &value).status(), IsOk());
  ASSERT_THAT(kv.Del("a"), IsOk());
  ASSERT_THAT(kv.SetIfAbsent("l", "t", 100).status(), IsOk());
  ASSERT_THAT(kv.DelIfEquals("l", "t").status(), IsOk());
  ASSERT_THAT(kv.Ping(), IsOk());  // not a key command
  kv.FailNext(KvMethod::kGet, 1, absl::InternalError("injected"));
  EXPECT_FALSE(kv.Get("a", &value).ok());  // failed by injection: no hook
  const int get = static_cast<int>(KvMethod::kGet);
  EXPECT_EQ(before,
            std::vector<std::string>(
                {absl::StrCat(get, ":a"), absl::StrCat(static_cast<int>(KvMethod::kSet), ":a"),
                 absl::StrCat(get, ":a"), absl::StrCat(static_cast<int>(KvMethod::kDel), ":a"),
                 absl::StrCat(static_cast<int>(KvMethod::kSetIfAbsent), ":l"),
                 absl::StrCat(static_cast<int>(KvMethod::kDelIfEquals), ":l")}));
  EXPECT_EQ(got, std::vector<std::string>({"a=(miss)", "a=1"}));
  kv.set_before(nullptr);
  kv.set_after_get(nullptr);
  ASSERT_THAT(kv.Get("a", &value).status(), IsOk());
  EXPECT_EQ(got.size(), 2u) << "a removed hook is not called";
}

TEST(NullKvClientTest, DelIfEqualsAlwaysDeletes) {
  NullKvClient kv;
  ASSERT_OK_AND_ASSIGN(bool deleted, kv.DelIfEquals("lock:1", "x"));
  EXPECT_TRUE(deleted);
}

TEST(NullKvClientTest, SetIfAbsentAlwaysSets) {
  for (bool hit : {true, false}) {
    NullKvClient kv(hit);
    for (int i = 0; i < 3; ++i) {
      ASSERT_OK_AND_ASSIGN(bool set, kv.SetIfAbsent("lock:1", "x", 100));
      EXPECT_TRUE(set) << "hit=" << hit;
    }
    EXPECT_THAT(kv.SetIfAbsent("lock:1", "x", 0), StatusIs(absl::StatusCode::kInvalidArgument, _));
  }
}

// Passenger 8 has no loaded booking (8 % 4 == 0): the read returns no row.
constexpr int64_t kPassenger = 8;

NewBooking BookingFor(int64_t passenger_id, const char* seat) {
  NewBooking b;
  b.flight_id = 3;
  b.seat = seat;
  b.passenger_id = passenger_id;
  b.price_cents = 100;
  return b;
}

TEST(FakeSqlClientTest, InsertRaisesTheCountALaterQueryReturns) {
  FakeSqlClient sql;
  BookingCount row;
  ASSERT_THAT(sql.QueryBookingCount(kPassenger, &row), IsOk());
  EXPECT_FALSE(row.found);
  EXPECT_EQ(row.count, 0);

  ASSERT_THAT(sql.InsertBooking(BookingFor(kPassenger, "1A")), IsOk());
  ASSERT_THAT(sql.QueryBookingCount(kPassenger, &row), IsOk());
  EXPECT_TRUE(row.found);
  EXPECT_EQ(row.count, 1);
  EXPECT_EQ(row.firstname, "First8");

  ASSERT_THAT(sql.InsertBooking(BookingFor(kPassenger, "1B")), IsOk());
  ASSERT_THAT(sql.QueryBookingCount(kPassenger, &row), IsOk());
  EXPECT_EQ(row.count, 2);
  EXPECT_EQ(sql.BookingCountOf(kPassenger), 2);
  // Passenger 9 (9 % 4 == 1 loaded) is untouched.
  ASSERT_THAT(sql.QueryBookingCount(9, &row), IsOk());
  EXPECT_EQ(row.count, 1);
}

// A thread held in the after-query hook has read the data as it was; an
// insert made meanwhile (the fake stays usable) shows only in a later query.
TEST(FakeSqlClientTest, AfterQueryHookHoldsAReaderWithWhatItRead) {
  FakeSqlClient sql;
  std::promise<void> reader_in_hook;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<int> hook_calls{0};
  sql.set_after_query([&](int64_t passenger_id) {
    ++hook_calls;
    if (passenger_id != kPassenger) return;
    reader_in_hook.set_value();
    released.wait();
  });

  BookingCount held_row;
  absl::Status held_status;
  std::thread reader([&] { held_status = sql.QueryBookingCount(kPassenger, &held_row); });
  reader_in_hook.get_future().wait();
  // The reader is between its SELECT and whatever comes next.
  EXPECT_FALSE(held_row.found) << "the row is read before the hook runs";
  ASSERT_OK_AND_ASSIGN(int64_t booking_id, sql.InsertBooking(BookingFor(kPassenger, "2C")));
  EXPECT_GT(booking_id, 0);
  BookingCount other;
  ASSERT_THAT(sql.QueryBookingCount(9, &other), IsOk()) << "other passengers pass the hook";
  release.set_value();
  reader.join();

  ASSERT_THAT(held_status, IsOk());
  EXPECT_FALSE(held_row.found) << "the held reader saw the data as of its query";
  EXPECT_EQ(held_row.count, 0);
  sql.set_after_query(nullptr);
  BookingCount fresh;
  ASSERT_THAT(sql.QueryBookingCount(kPassenger, &fresh), IsOk());
  EXPECT_TRUE(fresh.found);
  EXPECT_EQ(fresh.count, 1);
  EXPECT_EQ(hook_calls.load(), 2) << "a removed hook is not called";
}

TEST(FakeSqlClientTest, HooksRunOnlyForStatementsThatRan) {
  FakeSqlClient sql;
  std::vector<int64_t> queried;
  std::vector<std::pair<int64_t, int64_t>> inserted;  // passenger, booking id
  sql.set_after_query([&](int64_t id) { queried.push_back(id); });
  sql.set_after_insert([&](const NewBooking& b, int64_t booking_id) {
    inserted.emplace_back(b.passenger_id, booking_id);
    // The booking is stored before the hook runs.
    EXPECT_EQ(sql.BookingCountOf(b.passenger_id), 1);
  });

  sql.FailNext(SqlMethod::kQueryBookingCount, 1, absl::UnavailableError("down"));
  BookingCount row;
  EXPECT_THAT(sql.QueryBookingCount(5, &row), StatusIs(absl::StatusCode::kUnavailable, _));
  ASSERT_THAT(sql.QueryBookingCount(5, &row), IsOk());
  EXPECT_EQ(queried, std::vector<int64_t>({5}));

  ASSERT_OK_AND_ASSIGN(int64_t id, sql.InsertBooking(BookingFor(kPassenger, "7D")));
  EXPECT_THAT(sql.InsertBooking(BookingFor(12, "7d")),
              StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr("Duplicate")));  // the same seat
  sql.FailNext(SqlMethod::kInsertBooking, 1, absl::InternalError("injected"));
  EXPECT_THAT(sql.InsertBooking(BookingFor(12, "7E")),
              StatusIs(absl::StatusCode::kInternal, HasSubstr("injected")));
  ASSERT_EQ(inserted.size(), 1u);
  EXPECT_EQ(inserted[0], std::make_pair(kPassenger, id));

  sql.set_after_insert(nullptr);
  ASSERT_THAT(sql.InsertBooking(BookingFor(12, "7F")), IsOk());
  EXPECT_EQ(inserted.size(), 1u);
}

TEST(FakeSqlClientTest, CountsInsertsPerRun) {
  FakeSqlClient sql;
  NewBooking b = BookingFor(kPassenger, "1A");
  b.run_no = 7;
  ASSERT_THAT(sql.InsertBooking(b), IsOk());
  b.seat = "1B";
  ASSERT_THAT(sql.InsertBooking(b), IsOk());
  b.seat = "1B";  // a duplicate is not inserted
  EXPECT_THAT(sql.InsertBooking(b), StatusIs(absl::StatusCode::kAlreadyExists, _));
  b.seat = "1C";
  b.run_no = 0;
  ASSERT_THAT(sql.InsertBooking(b), IsOk());
  EXPECT_EQ(sql.inserted_by_run(7), 2);
  EXPECT_EQ(sql.inserted_by_run(0), 1);
  EXPECT_EQ(sql.inserted_by_run(8), 0);
  EXPECT_EQ(sql.inserted(), 3);
}

// The before hooks run before the statement reads or stores the bookings;
// the observer sees each read and each stored booking, in order, with the
// count as of that instant.
TEST(FakeSqlClientTest, BeforeHooksAndTheObserverSeeTheInstantsOfEachStatement) {
  FakeSqlClient sql;
  std::vector<std::string> events;
  sql.set_before_query([&](int64_t id) {
    events.push_back(absl::StrCat("before query ", id, " count ", sql.BookingCountOf(id)));
  });
  sql.set_before_insert([&](const NewBooking& b) {
    events.push_back(absl::StrCat("before insert ", b.passenger_id, " count ",
                                  sql.BookingCountOf(b.passenger_id)));
  });
  sql.set_observer([&](const FakeSqlClient::Observed& e) {
    events.push_back(
        absl::StrCat(e.insert ? "stored " : "read ", e.passenger_id, " count ", e.count));
  });
  BookingCount row;
  ASSERT_THAT(sql.QueryBookingCount(kPassenger, &row), IsOk());
  ASSERT_THAT(sql.InsertBooking(BookingFor(kPassenger, "3A")), IsOk());
  EXPECT_THAT(sql.InsertBooking(BookingFor(kPassenger, "3a")).status(),
              StatusIs(absl::StatusCode::kAlreadyExists,
                       _));  // not stored: not observed
  ASSERT_THAT(sql.QueryBookingCount(kPassenger, &row), IsOk());
  EXPECT_EQ(events, std::vector<std::string>({"before query 8 count 0", "read 8 count 0",
                                              "before insert 8 count 0", "stored 8 count 1",
                                              "before insert 8 count 1", "before query 8 count 1",
                                              "read 8 count 1"}));
  sql.set_before_query(nullptr);
  sql.set_before_insert(nullptr);
  sql.set_observer(nullptr);
  ASSERT_THAT(sql.QueryBookingCount(kPassenger, &row), IsOk());
  EXPECT_EQ(events.size(), 7u);
}

}  // namespace
}  // namespace cabench
