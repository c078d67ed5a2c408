#include "lib/servers/own_work.h"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/clients/sql_pool.h"
#include "lib/testing/fake_kv_client.h"
#include "lib/testing/fake_sql_client.h"
#include "lib/testing/null_clients.h"

namespace cabench {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

void Select(SqlClient& sql, int n) {
  BookingCount row;
  for (int i = 0; i < n; ++i) ASSERT_TRUE(sql.QueryBookingCount(i + 1, &row).ok());
}

void Insert(SqlClient& sql, int n) {
  static int seat = 0;
  for (int i = 0; i < n; ++i) {
    ASSERT_TRUE(sql.InsertBooking({1, absl::StrCat("S", ++seat), 1, 100}).ok());
  }
}

std::string DbWhy(const OwnTotals& totals, CounterId id) {
  auto it = totals.db_why.find(id);
  return it == totals.db_why.end() ? "" : it->second;
}

TEST(ReadSessionTest, ReadsTheSessionAndItsFourCountsInOneStatement) {
  FakeSqlClient sql;
  Select(sql, 2);
  Insert(sql, 1);
  const SessionMark mark = ReadSession(sql);
  ASSERT_TRUE(mark.session.has_value());
  EXPECT_EQ(mark.session->server, "fake-db");
  EXPECT_EQ(mark.session->id, 1);
  EXPECT_EQ(mark.questions, 4);  // 2 SELECTs, 1 INSERT and the SHOW itself
  EXPECT_EQ(mark.selects, 2);
  EXPECT_EQ(mark.inserts, 1);
  EXPECT_EQ(mark.rows_read, 2);  // the fake reads one row per SELECT
  EXPECT_TRUE(mark.why.empty());
  EXPECT_EQ(sql.calls(SqlMethod::kQueryPairs), 1);
  EXPECT_THAT(sql.statements(), testing::ElementsAre(HasSubstr("SHOW SESSION STATUS")));
}

TEST(OwnWorkTest, ASessionsWorkBetweenItsMarksIsExactlyWhatItRan) {
  FakeSqlClient sql;
  FakeKvClient kv;
  Select(sql, 4);  // before the run: not counted
  const OwnMark before = MarkOwn(&kv, &sql);
  Select(sql, 3);
  Insert(sql, 2);
  ASSERT_TRUE(kv.Set("k", "v", 1000).ok());
  std::string value;
  ASSERT_TRUE(kv.Get("k", &value).ok());
  const OwnMark after = MarkOwn(&kv, &sql);
  ASSERT_TRUE(kv.Get("k", &value).ok());  // after the run: not counted

  OwnTotals totals;
  AddOwnWork(before, after, &totals);
  EXPECT_EQ(totals.db_sessions, 1);
  // 5 statements and the after-mark's own SHOW SESSION STATUS.
  EXPECT_EQ(totals.db_questions, 6);
  EXPECT_EQ(totals.db_selects, 3);
  EXPECT_EQ(totals.db_inserts, 2);
  EXPECT_EQ(totals.db_rows_read, 3);
  EXPECT_EQ(totals.cache_commands, 2);
  EXPECT_TRUE(totals.db_why.empty());
}

TEST(OwnWorkTest, ThreadsAddUp) {
  FakeSqlClient a, b;
  OwnWork work;
  const OwnMark a0 = MarkOwn(nullptr, &a);
  const OwnMark b0 = MarkOwn(nullptr, &b);
  Select(a, 2);
  Select(b, 5);
  Insert(b, 1);
  work.Add(b0, MarkOwn(nullptr, &b));
  work.Add(a0, MarkOwn(nullptr, &a));
  const OwnTotals totals = work.Totals();
  EXPECT_EQ(totals.db_sessions, 2);
  EXPECT_EQ(totals.db_questions, (2 + 1) + (6 + 1));
  EXPECT_EQ(totals.db_selects, 7);
  EXPECT_EQ(totals.db_inserts, 1);
  EXPECT_EQ(totals.cache_commands, 0);  // no cache client: nothing sent
  work.Reset();
  EXPECT_EQ(work.Totals().db_sessions, 0);
  EXPECT_EQ(work.Totals().db_questions, 0);
}

TEST(OwnWorkTest, AReconnectedSessionMakesTheFiguresAbsentNotWrong) {
  FakeSqlClient sql, other;
  const OwnMark before = MarkOwn(nullptr, &sql);
  Select(sql, 3);
  ASSERT_TRUE(sql.Reconnect().ok());  // a new session: counts from zero
  Select(sql, 1);
  OwnTotals totals;
  AddOwnWork(before, MarkOwn(nullptr, &sql), &totals);
  for (CounterId id : {CounterId::kDbQueries, CounterId::kDbSelects, CounterId::kDbInserts,
                       CounterId::kDbRowsRead}) {
    EXPECT_THAT(DbWhy(totals, id), AllOf(HasSubstr("reconnected"), HasSubstr("session 1 on "
                                                                             "fake-db, then 2")))
        << CounterName(id);
  }
  EXPECT_FALSE(totals.db_questions.has_value());
  EXPECT_FALSE(totals.db_selects.has_value());
  // A later, healthy session does not bring the run's figure back.
  const OwnMark b0 = MarkOwn(nullptr, &other);
  Select(other, 1);
  AddOwnWork(b0, MarkOwn(nullptr, &other), &totals);
  EXPECT_FALSE(totals.db_questions.has_value());
  EXPECT_THAT(DbWhy(totals, CounterId::kDbQueries), HasSubstr("reconnected"));
}

// A client that can run SHOW SESSION STATUS but cannot name its session.
class NamelessSql : public NullSqlClient {
 public:
  absl::StatusOr<std::vector<std::pair<std::string, std::string>>> QueryPairs(
      std::string_view) override {
    ++questions_;
    return std::vector<std::pair<std::string, std::string>>{{"Questions", absl::StrCat(questions_)},
                                                            {"Com_select", "0"},
                                                            {"Com_insert", "0"},
                                                            {"Rows_read", "0"}};
  }

 private:
  int64_t questions_ = 0;
};

TEST(OwnWorkTest, ASessionThatCannotBeNamedIsAbsent) {
  NamelessSql sql;
  const OwnMark before = MarkOwn(nullptr, &sql);
  OwnTotals totals;
  AddOwnWork(before, MarkOwn(nullptr, &sql), &totals);
  EXPECT_FALSE(totals.db_questions.has_value());
  EXPECT_THAT(DbWhy(totals, CounterId::kDbQueries),
              AllOf(HasSubstr("cannot tell whether a database connection of the run reconnected"),
                    HasSubstr("does not name its session")));
}

TEST(OwnWorkTest, UnreadableOrMissingCountsAreAbsentWithTheReason) {
  FakeSqlClient sql;
  const OwnMark before = MarkOwn(nullptr, &sql);
  sql.FailNext(SqlMethod::kQueryPairs, 1, absl::UnavailableError("connection reset"));
  OwnTotals totals;
  AddOwnWork(before, MarkOwn(nullptr, &sql), &totals);
  EXPECT_EQ(DbWhy(totals, CounterId::kDbSelects), "SHOW SESSION STATUS: connection reset");

  NullSqlClient no_rows;  // answers no rows at all
  OwnTotals none;
  AddOwnWork(MarkOwn(nullptr, &no_rows), MarkOwn(nullptr, &no_rows), &none);
  EXPECT_EQ(DbWhy(none, CounterId::kDbInserts), "SHOW SESSION STATUS has no Com_insert");
}

TEST(OwnWorkTest, CacheCommandsLessRefusalsAndUnsureOnesMakeItAbsent) {
  OwnMark before, after;
  before.has_cache = after.has_cache = true;
  before.cache = KvCommands{.sent = 10, .refused = 1, .unsure = 0};
  after.cache = KvCommands{.sent = 30, .refused = 3, .unsure = 0};
  OwnTotals totals;
  AddOwnWork(before, after, &totals);
  EXPECT_EQ(totals.cache_commands, 18);  // 20 sent, 2 refused (MOVED ...)

  after.cache->unsure = 1;
  OwnTotals unsure;
  AddOwnWork(before, after, &unsure);
  EXPECT_FALSE(unsure.cache_commands.has_value());
  EXPECT_THAT(unsure.cache_why, HasSubstr("1 of the run's cache commands got an error reply"));

  OwnMark cannot = after;
  cannot.cache.reset();
  cannot.cache_why = "this KvClient does not count its commands";
  OwnTotals unknown;
  AddOwnWork(before, cannot, &unknown);
  EXPECT_FALSE(unknown.cache_commands.has_value());
  EXPECT_EQ(unknown.cache_why, "this KvClient does not count its commands");
}

TEST(OwnWorkTest, EveryConnectionOfAPoolIsMarked) {
  std::vector<FakeSqlClient*> fakes;
  absl::StatusOr<std::shared_ptr<SqlPool>> pool =
      SqlPool::Create(3,
                      [&fakes]() -> absl::StatusOr<std::unique_ptr<SqlClient>> {
                        auto fake = std::make_unique<FakeSqlClient>();
                        fakes.push_back(fake.get());
                        return std::unique_ptr<SqlClient>(std::move(fake));
                      },
                      {});
  ASSERT_TRUE(pool.ok());
  const OwnMark before = MarkPool(**pool);
  ASSERT_EQ(before.sessions.size(), 3u);
  // Two threads' clients over the pool; the pool lends its connections as
  // it likes, so the fakes' own counts are the truth.
  PooledSqlClient t1(*pool), t2(*pool);
  Select(t1, 4);
  Insert(t2, 2);
  Select(t2, 1);
  OwnTotals totals;
  AddOwnWork(before, MarkPool(**pool), &totals);
  EXPECT_EQ(totals.db_sessions, 3);
  EXPECT_EQ(totals.db_questions, 7 + 3);  // 7 statements, 3 after-marks
  EXPECT_EQ(totals.db_selects, 5);
  EXPECT_EQ(totals.db_inserts, 2);
  int64_t on_fakes = 0;
  for (FakeSqlClient* fake : fakes) on_fakes += fake->calls(SqlMethod::kQueryBookingCount);
  EXPECT_EQ(on_fakes, 5);
}

TEST(OwnWorkTest, APoolInUseCannotBeMarked) {
  FakeSqlClient* fake = nullptr;
  absl::StatusOr<std::shared_ptr<SqlPool>> pool =
      SqlPool::Create(1,
                      [&fake]() -> absl::StatusOr<std::unique_ptr<SqlClient>> {
                        auto made = std::make_unique<FakeSqlClient>();
                        fake = made.get();
                        return std::unique_ptr<SqlClient>(std::move(made));
                      },
                      {});
  ASSERT_TRUE(pool.ok());
  // Mark the pool from inside a call that holds its one connection.
  OwnMark during;
  fake->set_after_query([&](int64_t) { during = MarkPool(**pool); });
  PooledSqlClient client(*pool);
  Select(client, 1);
  fake->set_after_query(nullptr);
  ASSERT_EQ(during.sessions.size(), 1u);
  EXPECT_FALSE(during.sessions[0].questions.has_value());
  EXPECT_THAT(during.sessions[0].why.at(CounterId::kDbQueries), HasSubstr("in use"));
  OwnTotals totals;
  AddOwnWork(during, MarkPool(**pool), &totals);
  EXPECT_FALSE(totals.db_questions.has_value());
}

TEST(OwnWorkTest, DifferentSessionsBeforeAndAfterAreAbsent) {
  OwnMark before, after;
  before.sessions.resize(2);
  after.sessions.resize(1);
  OwnTotals totals;
  AddOwnWork(before, after, &totals);
  EXPECT_FALSE(totals.db_selects.has_value());
  EXPECT_THAT(DbWhy(totals, CounterId::kDbSelects), HasSubstr("2 database sessions before and 1"));
}

}  // namespace
}  // namespace cabench
